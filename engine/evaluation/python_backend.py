"""The pure-Python backend: a pack level compiled into plain closures (no eval, no exec).

Numbers stay exact: integer thresholds become integer comparisons, rates are compared by cross
multiplication (n/d >= p/q as n*q >= d*p), decimals are Fractions. A comparison that reads a blank
optional value, or a rate whose zero-denominator policy is `unknown`, is not met.
"""
from __future__ import annotations

import math
import operator
from fractions import Fraction
from typing import Callable, Optional

from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.engine.model.pack import UNCLASSIFIED, ClassDef, Level, higher_than, ratio_of, references
from lanhmanh.i18n import _

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
        criterion = level.criteria[cid]
        for band in criterion.bands:
            for ref in sorted(references(band.cond, level)):
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


def _ratio_value(name: str, zero) -> Callable:
    """A closure giving the rate `name` as a Fraction; None when blank or (policy) undefined."""
    def ratio(v):
        r = v.get(name)
        if r is None:
            return None
        n, d = r
        if d == 0:
            return None if zero in ("unknown", "reject") else zero
        return Fraction(n, d)
    return ratio


class _NumberCompiler(Visitor[Callable]):
    """Numeric expression AST → closure giving its exact value, or None when it reads a blank."""

    def __init__(self, level: Level):
        self.level = level

    def visit_Num(self, node: nodes.Num) -> Callable:
        constant = node.value if node.value.denominator != 1 else int(node.value)
        return lambda v: constant

    def visit_Name(self, node: nodes.Name) -> Callable:
        level, name = self.level, node.id
        if name in level.derived:
            return _ratio_value(name, level.derived[name].zero)
        if name in level.indicators and level.indicators[name].type == "decimal":
            return lambda v: None if (x := v.get(name)) is None else Fraction(x)
        return lambda v: v.get(name)

    def visit_Call(self, node: nodes.Call) -> Callable:
        if node.fn == "share":
            return _ratio_value(nodes.to_text(node), "unknown")
        return self.generic_visit(node)

    def visit_Neg(self, node: nodes.Neg) -> Callable:
        operand = self.visit(node.operand)
        return lambda v: None if (x := operand(v)) is None else -x

    def visit_Arith(self, node: nodes.Arith) -> Callable:
        left, right = self.visit(node.left), self.visit(node.right)
        op = {"+": operator.add, "-": operator.sub, "*": operator.mul}[node.op]

        def arith(v):
            x = left(v)
            if x is None:
                return None
            y = right(v)
            return None if y is None else op(x, y)
        return arith

    def generic_visit(self, node: nodes.Node) -> Callable:
        raise TypeError(_("not a number: {expression}").format(expression=nodes.to_text(node)))


class Compiler(Visitor[Callable]):
    """Condition AST → closure over a dict of values (indicators, ratios, met criteria) that
    tells whether the condition holds."""

    def __init__(self, level: Level):
        self.level = level
        self.numbers = _NumberCompiler(level)

    def condition(self, node: nodes.Node) -> Callable:
        return self.visit(node)

    def visit_Bool(self, node: nodes.Bool) -> Callable:
        constant = node.value
        return lambda v: constant

    def visit_Name(self, node: nodes.Name) -> Callable:
        name = node.id
        return lambda v: v.get(name) is True

    def visit_Not(self, node: nodes.Not) -> Callable:
        operand = self.visit(node.operand)
        return lambda v: not operand(v)

    def visit_BoolOp(self, node: nodes.BoolOp) -> Callable:
        tests = [self.visit(x) for x in node.items]
        if node.op == "and":
            if len(tests) == 2:
                first, second = tests
                return lambda v: first(v) and second(v)
            return lambda v: all(test(v) for test in tests)
        if len(tests) == 2:
            first, second = tests
            return lambda v: first(v) or second(v)
        return lambda v: any(test(v) for test in tests)

    def visit_Call(self, node: nodes.Call) -> Callable:
        fn, args = node.fn, node.args
        if fn == "at_least":
            needed = int(args[0].value)
            tests = [self.visit(a) for a in args[1:]]

            def at_least(v):
                hits = 0
                for test in tests:
                    if test(v):
                        hits += 1
                        if hits >= needed:
                            return True
                return False
            return at_least
        if fn in ("all", "any"):
            tests = [self.visit(a) for a in args]
            if fn == "all":
                return lambda v: all(test(v) for test in tests)
            return lambda v: any(test(v) for test in tests)
        if fn == "given":
            name = args[0].id
            return lambda v: v.get(name) is not None
        if fn == "or_higher":
            ids = higher_than(self.level, args[0].id)
            if len(ids) == 1:
                only = ids[0]
                return lambda v: v.get(only) is True
            if len(ids) == 2:
                first_id, second_id = ids
                return lambda v: v.get(first_id) is True or v.get(second_id) is True
            return lambda v: any(v.get(i) is True for i in ids)
        return self.generic_visit(node)

    def visit_Compare(self, node: nodes.Compare) -> Callable:
        level = self.level
        op = OPS[node.op]
        left, right = node.left, node.right
        # x OP constant, x an integer indicator: an integer comparison
        if isinstance(left, nodes.Name) and isinstance(right, nodes.Num) and left.id in level.indicators \
                and level.indicators[left.id].type == "integer":
            name, constant = left.id, right.value
            if constant.denominator == 1:
                return _INT_CMP[node.op](name, int(constant))
            # x >= 2.5 ⇔ x >= 3 ; x > 2.5 ⇔ x > 2 ; x == 2.5 never
            if node.op in (">=", ">"):
                floor = math.floor(constant)
                return lambda v: (x := v.get(name)) is not None and x > floor
            if node.op in ("<=", "<"):
                ceiling = math.ceil(constant)
                return lambda v: (x := v.get(name)) is not None and x < ceiling
            unequal = node.op == "!="
            return lambda v: v.get(name) is not None and unequal
        # decimal OP constant: Decimal compares exactly with a Fraction
        if isinstance(left, nodes.Name) and isinstance(right, nodes.Num) and left.id in level.indicators \
                and level.indicators[left.id].type == "decimal":
            name, constant = left.id, right.value
            return lambda v: (x := v.get(name)) is not None and op(x, constant)
        # rate OP constant: cross multiplication, no Fraction built
        ratio_name, zero = self._ratio(left)
        if ratio_name is not None and isinstance(right, nodes.Num):
            p, q = right.value.numerator, right.value.denominator
            zero_result = None if zero in ("unknown", "reject") else op(zero, right.value)
            return _RATE_CMP[node.op](ratio_name, p, q, bool(zero_result))
        # booleans compare with == / !=
        if level.is_condition(left):
            left_test, right_test = self.visit(left), self.visit(right)
            return lambda v: op(left_test(v), right_test(v))
        left_value, right_value = self.numbers.visit(left), self.numbers.visit(right)

        def general(v):
            x = left_value(v)
            if x is None:
                return False
            y = right_value(v)
            return y is not None and op(x, y)
        return general

    def generic_visit(self, node: nodes.Node) -> Callable:
        raise TypeError(_("not a condition: {expression}").format(expression=nodes.to_text(node)))

    def _ratio(self, node: nodes.Node) -> tuple:
        """(rate name, zero-denominator policy) when `node` is a rate; (None, None) otherwise."""
        if isinstance(node, nodes.Name) and node.id in self.level.derived:
            return node.id, self.level.derived[node.id].zero
        if isinstance(node, nodes.Call) and node.fn == "share":
            return nodes.to_text(node), "unknown"
        return None, None


def prepare(level: Level, values: dict, extra_ratios: Optional[dict] = None) -> dict:
    """Validated values → the evaluation dict, with every rate as an exact (num, den) pair."""
    prepared = dict(values)
    for d in level.derived.values():
        prepared[d.id] = ratio_of(prepared, d.num, d.den)
    if extra_ratios:
        prepared.update(extra_ratios)
    return prepared


def _ratio_fn(level: Level, num: tuple, den: tuple) -> Callable:
    """A fast (num, den) reader for the common case of one integer over one integer."""
    indicators = level.indicators
    if len(num) == 1 and len(den) == 1 and all(indicators[k].type == "integer" for k in num + den):
        numerator, denominator = num[0], den[0]

        def one_over_one(v):
            x = v.get(numerator)
            y = v.get(denominator)
            return None if x is None or y is None else (x, y)
        return one_over_one
    return lambda v: ratio_of(v, num, den)


_NOT_MET = (False, 0, None)


def _class_test(compiler: Compiler, cls: ClassDef) -> Optional[Callable]:
    """The compiled condition of a class; None for the residual class, which takes every unit."""
    if cls.residual or cls.cond is None:
        return None
    return compiler.condition(cls.cond)


class PythonBackend:
    name = "python"

    def __init__(self, level: Level):
        self.level = level
        compiler = Compiler(level)
        ids = list(level.criteria)
        self.index = {cid: i for i, cid in enumerate(ids)}
        # (position, id, [(condition, points)]), every criterion after those it reads
        self.plan: list[tuple[int, str, list[tuple[Callable, int]]]] = []
        for cid in criteria_order(level):
            criterion = level.criteria[cid]
            bands = [(compiler.condition(b.cond), b.points) for b in criterion.bands]
            self.plan.append((self.index[cid], cid, bands))
        self.vetoes = [(vid, compiler.condition(veto.cond)) for vid, veto in level.vetoes.items()]
        self.classes = [(cls.id, _class_test(compiler, cls)) for cls in level.classes]
        self.scored = level.scored
        self.n_criteria = len(ids)
        self.ratios = [(d.id, _ratio_fn(level, d.num, d.den)) for d in level.derived.values()]

    def evaluate(self, values: dict, extra_ratios: Optional[dict] = None) -> Outcome:
        v = dict(values)
        for name, ratio in self.ratios:
            v[name] = ratio(v)
        if extra_ratios:
            v.update(extra_ratios)
        return self.evaluate_prepared(v)

    def evaluate_prepared(self, v: dict) -> Outcome:
        outcomes: list = [None] * self.n_criteria
        total = 0
        for pos, cid, bands in self.plan:
            if len(bands) == 1:
                cond, points = bands[0]
                if cond(v):
                    v[cid] = True
                    outcomes[pos] = (True, points, 0)
                    total += points
                else:
                    v[cid] = False
                    outcomes[pos] = _NOT_MET
                continue
            met, earned, band = False, 0, None
            for i, (cond, points) in enumerate(bands):
                if cond(v):
                    met, earned, band = True, points, i
                    break
            v[cid] = met
            outcomes[pos] = (met, earned, band)
            total += earned
        vetoes = []
        for vid, cond in self.vetoes:
            hit = cond(v)
            v[vid] = hit
            if hit:
                vetoes.append(vid)
        v["vetoed"] = bool(vetoes)
        v["total"] = total
        class_id = UNCLASSIFIED
        for cid, class_test in self.classes:
            if class_test is None or class_test(v):
                class_id = cid
                break
        return Outcome(class_id, total if self.scored else None, vetoes, outcomes)


def eval_bool(node: nodes.Node, values: dict, level: Optional[Level] = None) -> bool:
    """Evaluate one condition over plain indicator values (used for cross-field constraints)."""
    scope = level or Level("adhoc", {}, {}, {}, {}, [])
    return Compiler(scope).condition(node)(prepare(scope, values))
