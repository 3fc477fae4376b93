"""The pure-Python backend: a pack level compiled into plain closures (no eval, no exec).

Numbers stay exact: integer thresholds become integer comparisons, rates are compared by cross
multiplication (n/d >= p/q as n*q >= d*p), decimals are Fractions. A comparison that reads a blank
optional value, or a rate whose zero-denominator policy is `unknown`, is not met.
"""
from __future__ import annotations

import math
import operator
from decimal import Decimal
from fractions import Fraction
from typing import Callable, Optional

from . import expr as E
from .loader import higher_than, references
from .outcome import Outcome
from .pack import UNCLASSIFIED, Level

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
       "==": operator.eq, "!=": operator.ne}


def criteria_order(level: Level) -> list[str]:
    """Criteria in an order where every criterion comes after those it reads."""
    order: list[str] = []
    done: set[str] = set()

    def visit(cid: str) -> None:
        if cid in done:
            return
        done.add(cid)
        c = level.criteria[cid]
        for b in c.bands:
            for ref in sorted(references(b.cond, level)):
                if ref != cid and ref in level.criteria:
                    visit(ref)
        order.append(cid)

    for cid in level.criteria:
        visit(cid)
    return order


_INT_CMP = {
    "<": lambda n, t: lambda v: (x := v.get(n)) is not None and x < t,
    "<=": lambda n, t: lambda v: (x := v.get(n)) is not None and x <= t,
    ">": lambda n, t: lambda v: (x := v.get(n)) is not None and x > t,
    ">=": lambda n, t: lambda v: (x := v.get(n)) is not None and x >= t,
    "==": lambda n, t: lambda v: v.get(n) == t,
    "!=": lambda n, t: lambda v: (x := v.get(n)) is not None and x != t,
}


def _rate(test):
    """(name, p, q, result when the denominator is 0) → closure testing n*q against d*p."""
    def make(name, p, q, zero):
        def rate_cmp(v):
            r = v.get(name)
            if r is None:
                return False
            n, d = r
            if d == 0:
                return zero
            return test(n * q, d * p)
        return rate_cmp
    return make


_RATE_CMP = {op: _rate(f) for op, f in OPS.items()}
# the common rate tests without an operator call per unit
_RATE_CMP[">="] = lambda name, p, q, zero: (
    lambda v: False if (r := v.get(name)) is None else (zero if r[1] == 0 else r[0] * q >= r[1] * p))
_RATE_CMP["<"] = lambda name, p, q, zero: (
    lambda v: False if (r := v.get(name)) is None else (zero if r[1] == 0 else r[0] * q < r[1] * p))


class Compiler:
    """Expression AST → closure over a dict of values (indicators, ratios, met criteria)."""

    def __init__(self, level: Level):
        self.level = level

    def ratio_value(self, name: str, zero) -> Callable:
        def f(v):
            r = v.get(name)
            if r is None:
                return None
            n, d = r
            if d == 0:
                return None if zero in ("unknown", "reject") else zero
            return Fraction(n, d)
        return f

    def num(self, node: E.Node) -> Callable:
        lv = self.level
        if isinstance(node, E.Num):
            c = node.value if node.value.denominator != 1 else int(node.value)
            return lambda v: c
        if isinstance(node, E.Name):
            n = node.id
            if n in lv.derived:
                return self.ratio_value(n, lv.derived[n].zero)
            if n in lv.indicators and lv.indicators[n].type == "decimal":
                return lambda v: None if (x := v.get(n)) is None else Fraction(x)
            return lambda v: v.get(n)
        if isinstance(node, E.Call) and node.fn == "share":
            return self.ratio_value(E.to_text(node), "unknown")
        if isinstance(node, E.Neg):
            f = self.num(node.operand)
            return lambda v: None if (x := f(v)) is None else -x
        if isinstance(node, E.Arith):
            a, b = self.num(node.left), self.num(node.right)
            op = {"+": operator.add, "-": operator.sub, "*": operator.mul}[node.op]

            def arith(v):
                x = a(v)
                if x is None:
                    return None
                y = b(v)
                return None if y is None else op(x, y)
            return arith
        raise TypeError(f"not a number: {E.to_text(node)}")

    def bool_(self, node: E.Node) -> Callable:
        lv = self.level
        if isinstance(node, E.Bool):
            c = node.value
            return lambda v: c
        if isinstance(node, E.Name):
            n = node.id
            return lambda v: v.get(n) is True
        if isinstance(node, E.Not):
            f = self.bool_(node.operand)
            return lambda v: not f(v)
        if isinstance(node, E.BoolOp):
            fs = [self.bool_(x) for x in node.items]
            if node.op == "and":
                if len(fs) == 2:
                    a, b = fs
                    return lambda v: a(v) and b(v)
                return lambda v: all(f(v) for f in fs)
            if len(fs) == 2:
                a, b = fs
                return lambda v: a(v) or b(v)
            return lambda v: any(f(v) for f in fs)
        if isinstance(node, E.Compare):
            return self.compare(node)
        if isinstance(node, E.Call):
            fn, args = node.fn, node.args
            if fn == "at_least":
                k = int(args[0].value)
                fs = [self.bool_(a) for a in args[1:]]

                def at_least(v):
                    hits = 0
                    for f in fs:
                        if f(v):
                            hits += 1
                            if hits >= k:
                                return True
                    return False
                return at_least
            if fn in ("all", "any"):
                fs = [self.bool_(a) for a in args]
                return (lambda v: all(f(v) for f in fs)) if fn == "all" else (lambda v: any(f(v) for f in fs))
            if fn == "given":
                n = args[0].id
                return lambda v: v.get(n) is not None
            if fn == "or_higher":
                ids = higher_than(lv, args[0].id)
                if len(ids) == 1:
                    a = ids[0]
                    return lambda v: v.get(a) is True
                if len(ids) == 2:
                    a, b = ids
                    return lambda v: v.get(a) is True or v.get(b) is True
                return lambda v: any(v.get(i) is True for i in ids)
        raise TypeError(f"not a condition: {E.to_text(node)}")

    def compare(self, node: E.Compare) -> Callable:
        lv = self.level
        op = OPS[node.op]
        left, right = node.left, node.right
        # x OP constant, x an integer indicator: an integer comparison
        if isinstance(left, E.Name) and isinstance(right, E.Num) and left.id in lv.indicators \
                and lv.indicators[left.id].type == "integer":
            n, c = left.id, right.value
            if c.denominator == 1:
                return _INT_CMP[node.op](n, int(c))
            # x >= 2.5 ⇔ x >= 3 ; x > 2.5 ⇔ x > 2 ; x == 2.5 never
            if node.op in (">=", ">"):
                t = math.floor(c)
                return lambda v: (x := v.get(n)) is not None and x > t
            if node.op in ("<=", "<"):
                t = math.ceil(c)
                return lambda v: (x := v.get(n)) is not None and x < t
            const = node.op == "!="
            return lambda v: v.get(n) is not None and const
        # decimal OP constant: Decimal compares exactly with a Fraction
        if isinstance(left, E.Name) and isinstance(right, E.Num) and left.id in lv.indicators \
                and lv.indicators[left.id].type == "decimal":
            n, c = left.id, right.value
            return lambda v: (x := v.get(n)) is not None and op(x, c)
        # rate OP constant: cross multiplication, no Fraction built
        ratio_name, zero = self._ratio(left)
        if ratio_name is not None and isinstance(right, E.Num):
            p, q = right.value.numerator, right.value.denominator
            zero_result = None if zero in ("unknown", "reject") else op(zero, right.value)

            return _RATE_CMP[node.op](ratio_name, p, q, bool(zero_result))
        # booleans compare with == / !=
        lt = self.level.is_condition(left)
        if lt:
            a, b = self.bool_(left), self.bool_(right)
            return lambda v: op(a(v), b(v))
        a, b = self.num(left), self.num(right)

        def general(v):
            x = a(v)
            if x is None:
                return False
            y = b(v)
            return y is not None and op(x, y)
        return general

    def _ratio(self, node: E.Node):
        if isinstance(node, E.Name) and node.id in self.level.derived:
            return node.id, self.level.derived[node.id].zero
        if isinstance(node, E.Call) and node.fn == "share":
            return E.to_text(node), "unknown"
        return None, None


def prepare(level: Level, values: dict, extra_ratios: Optional[dict] = None) -> dict:
    """Validated values → the evaluation dict, with every rate as an exact (num, den) pair."""
    v = dict(values)
    for d in level.derived.values():
        v[d.id] = ratio_of(v, d.num, d.den)
    if extra_ratios:
        v.update(extra_ratios)
    return v


def ratio_of(v: dict, num: tuple, den: tuple):
    """(sum of num, sum of den), exact (Decimals become Fractions); None when a value is blank."""
    n = d = 0
    for k in num:
        x = v.get(k)
        if x is None:
            return None
        n += Fraction(x) if isinstance(x, Decimal) else x
    for k in den:
        x = v.get(k)
        if x is None:
            return None
        d += Fraction(x) if isinstance(x, Decimal) else x
    return n, d


def _ratio_fn(level: Level, num: tuple, den: tuple) -> Callable:
    """A fast (num, den) reader for the common case of one integer over one integer."""
    inds = level.indicators
    if len(num) == 1 and len(den) == 1 and all(inds[k].type == "integer" for k in num + den):
        a, b = num[0], den[0]

        def one_over_one(v):
            x = v.get(a)
            y = v.get(b)
            return None if x is None or y is None else (x, y)
        return one_over_one
    return lambda v: ratio_of(v, num, den)


_NOT_MET = (False, 0, None)


class PythonBackend:
    name = "python"

    def __init__(self, level: Level):
        self.level = level
        comp = Compiler(level)
        ids = list(level.criteria)
        self.index = {cid: i for i, cid in enumerate(ids)}
        self.plan = []  # (position, id, [(cond, points)])
        for cid in criteria_order(level):
            c = level.criteria[cid]
            self.plan.append((self.index[cid], cid, [(comp.bool_(b.cond), b.points) for b in c.bands]))
        self.vetoes = [(vid, comp.bool_(x.cond)) for vid, x in level.vetoes.items()]
        self.classes = [(c.id, None if c.residual else comp.bool_(c.cond)) for c in level.classes]
        self.scored = level.scored
        self.n = len(ids)
        self.ratios = [(d.id, _ratio_fn(level, d.num, d.den)) for d in level.derived.values()]

    def evaluate(self, values: dict, extra_ratios: Optional[dict] = None) -> Outcome:
        v = dict(values)
        for name, f in self.ratios:
            v[name] = f(v)
        if extra_ratios:
            v.update(extra_ratios)
        return self.evaluate_prepared(v)

    def evaluate_prepared(self, v: dict) -> Outcome:
        outcomes: list = [None] * self.n
        total = 0
        for pos, cid, bands in self.plan:
            if len(bands) == 1:
                cond, p = bands[0]
                if cond(v):
                    v[cid] = True
                    outcomes[pos] = (True, p, 0)
                    total += p
                else:
                    v[cid] = False
                    outcomes[pos] = _NOT_MET
                continue
            met, pts, band = False, 0, None
            for i, (cond, p) in enumerate(bands):
                if cond(v):
                    met, pts, band = True, p, i
                    break
            v[cid] = met
            outcomes[pos] = (met, pts, band)
            total += pts
        vetoes = []
        for vid, cond in self.vetoes:
            hit = cond(v)
            v[vid] = hit
            if hit:
                vetoes.append(vid)
        v["vetoed"] = bool(vetoes)
        v["total"] = total
        cls = UNCLASSIFIED
        for cid, cond in self.classes:
            if cond is None or cond(v):
                cls = cid
                break
        return Outcome(cls, total if self.scored else None, vetoes, outcomes)


def eval_bool(node: E.Node, values: dict, level: Optional[Level] = None) -> bool:
    """Evaluate one condition over plain indicator values (used for cross-field constraints)."""
    lv = level or Level("adhoc", {}, {}, {}, {}, [])
    return Compiler(lv).bool_(node)(prepare(lv, values))

