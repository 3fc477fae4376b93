"""The durable backend: a pack level compiled into durable_rules rulesets given as data.

Criteria and vetoes are asserted as facts in layers, classes as one event (first match wins by
rule priority); rates are never divided and decimals travel as scaled integers. How, and which
limits of durable_rules it keeps to: docs/durable-backend.md.
"""
from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
import os
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

# the C extension and its Python host, without type stubs; an ImportError means the python backend
import durable_rules_engine  # type: ignore[import-not-found]
from durable import engine as durable_engine  # type: ignore[import-untyped]

from lanhmanh.engine.evaluation.outcome import EngineRefused, Outcome
from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.engine.model.pack import UNCLASSIFIED, Level, higher_than, references

TRUE, FALSE = True, False
MARK = {"$eq": {"_t": 1}}


class DurableError(RuntimeError):
    """durable_rules did something the adapter does not accept; never swallowed."""


class ValueTooLarge(EngineRefused):
    """A value would overflow the 64-bit arithmetic of durable_rules."""


class _Host(durable_engine.Host):
    """One host per process, without the background dispatch threads: we drive it ourselves."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.Lock()
        self.registered: dict[str, Any] = {}

    def _run(self):  # the stock Host starts timer threads that dispatch concurrently; we do not
        pass

    def get_action(self, action_name):
        def never(c):  # actions are read from the engine's messages, never run as callbacks
            raise DurableError(f"action {action_name} was dispatched by a background thread")
        return never

    def handle(self, name: str, definition: dict) -> Any:
        with self.lock:
            if name not in self.registered:
                self.register_rulesets({name: copy.deepcopy(definition)})  # `run` is popped: pass a copy
                self.registered[name] = self.get_ruleset(name)._handle
            return self.registered[name]


_HOST: Optional[_Host] = None
_HOST_PID: Optional[int] = None


def host() -> _Host:
    global _HOST, _HOST_PID
    if _HOST is None or _HOST_PID != os.getpid():
        _HOST, _HOST_PID = _Host(), os.getpid()
    return _HOST


# ---- polynomials with exact coefficients --------------------------------------------------------
# A polynomial is {monomial: Fraction}; a monomial is a sorted tuple of atoms; an atom is a fact
# field name, or ("R", ratio name) for a rate that is substituted case by case.

def _poly_add(a: dict, b: dict, sign: int = 1) -> dict:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0) + sign * c
        if out[m] == 0:
            del out[m]
    return out


def _poly_mul(a: dict, b: dict) -> dict:
    out: dict = {}
    for m1, c1 in a.items():
        for m2, c2 in b.items():
            m = tuple(sorted(m1 + m2, key=repr))
            out[m] = out.get(m, 0) + c1 * c2
            if out[m] == 0:
                del out[m]
    return out


def _poly_constant(c) -> dict:
    return {(): Fraction(c)} if c else {}


def _and(*items):
    items = [x for x in items if x is not TRUE]
    if any(x is FALSE for x in items):
        return FALSE
    if not items:
        return TRUE
    return items[0] if len(items) == 1 else {"$and": list(items)}


def _or(*items):
    items = [x for x in items if x is not FALSE]
    if any(x is TRUE for x in items):
        return TRUE
    if not items:
        return FALSE
    return items[0] if len(items) == 1 else {"$or": list(items)}


FLIP = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "!=", "!=": "=="}
# P op 0  ⇔  _z  op'  P
ZOP = {">=": "$lte", ">": "$lt", "<=": "$gte", "<": "$gt", "==": "$eq", "!=": "$neq"}
FOP = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt", "==": "$eq", "!=": "$neq"}


class _Polynomial(Visitor[dict]):
    """Numeric expression AST → polynomial (see above); a rate is an atom ("R", name)."""

    def __init__(self, compiler: "_Compiler"):
        self.compiler = compiler

    def visit_Num(self, node: nodes.Num) -> dict:
        return _poly_constant(node.value)

    def visit_Name(self, node: nodes.Name) -> dict:
        compiler, name = self.compiler, node.id
        if name in compiler.ratios:
            return {(("R", name),): Fraction(1)}
        if name in compiler.level.indicators or name == "total":
            field_name = compiler.fields[name]
            return {(field_name,): Fraction(1, compiler.field_scale.get(field_name, 1))}
        raise DurableError(f"cannot compile number {name!r}")

    def visit_Call(self, node: nodes.Call) -> dict:
        if node.fn == "share":
            return {(("R", nodes.to_text(node)),): Fraction(1)}
        return self.generic_visit(node)

    def visit_Neg(self, node: nodes.Neg) -> dict:
        return _poly_add({}, self.visit(node.operand), -1)

    def visit_Arith(self, node: nodes.Arith) -> dict:
        left, right = self.visit(node.left), self.visit(node.right)
        if node.op == "+":
            return _poly_add(left, right)
        if node.op == "-":
            return _poly_add(left, right, -1)
        if node.op == "*":
            return _poly_mul(left, right)
        return self.generic_visit(node)

    def generic_visit(self, node: nodes.Node) -> dict:
        raise DurableError(f"cannot compile number {nodes.to_text(node)}")


class _Compiler(Visitor[Any]):
    """Condition AST → durable_rules condition (a dict, or TRUE / FALSE), with `not` pushed down
    to the comparisons: `visit(node, negated)` compiles `not node` when `negated`."""

    def __init__(self, level: Level, fields: dict, known: set):
        self.level = level
        self.fields = fields  # indicator / ratio-part name → fact field name
        self.known = known  # criteria / vetoes already decided by an earlier stage: 0/1 fields
        self.scale = {k: 10 ** ind.decimals for k, ind in level.indicators.items() if ind.type == "decimal"}
        self.optional = {fields[k] for k, ind in level.indicators.items() if not ind.required}
        self.ratios: dict[str, tuple] = {}  # ratio name → (num fields, den fields, zero policy)
        for d in level.derived.values():
            self.ratios[d.id] = (tuple(fields[k] for k in d.num), tuple(fields[k] for k in d.den), d.zero)
        for key in level.shares:
            self.ratios[key] = ((fields[key + "#n"],), (fields[key + "#d"],), "unknown")
        self.field_scale = {fields[k]: s for k, s in self.scale.items()}
        self.polys: list[tuple[int, int]] = []  # (degree, sum of |coefficients|) of each emitted P
        self.polynomial = _Polynomial(self)

    # -- conditions --------------------------------------------------------------------------
    def cond(self, node: nodes.Node, neg: bool = False):
        return self.visit(node, neg)

    def visit_Bool(self, node: nodes.Bool, neg: bool = False):
        return TRUE if node.value != neg else FALSE

    def visit_Not(self, node: nodes.Not, neg: bool = False):
        return self.visit(node.operand, not neg)

    def visit_BoolOp(self, node: nodes.BoolOp, neg: bool = False):
        parts = [self.visit(x, neg) for x in node.items]
        return (_and if (node.op == "and") != neg else _or)(*parts)

    def visit_Name(self, node: nodes.Name, neg: bool = False):
        level, name = self.level, node.id
        if name in level.indicators:
            field_name = self.fields[name]
            if not neg:
                return {"$eq": {field_name: 1}}
            if field_name in self.optional:
                return {"$or": [{"$nex": {field_name: 1}}, {"$eq": {field_name: 0}}]}
            return {"$eq": {field_name: 0}}
        if name in self.known:
            return {"$eq": {self.fields[name]: 0 if neg else 1}}
        if name in level.criteria:
            bands = [self.visit(b.cond, neg) for b in level.criteria[name].bands]
            return _and(*bands) if neg else _or(*bands)
        if name in level.vetoes:
            return self.visit(level.vetoes[name].cond, neg)
        raise DurableError(f"cannot compile name {name!r}")

    def generic_visit(self, node: nodes.Node, neg: bool = False):
        raise DurableError(f"not a condition: {nodes.to_text(node)}")

    def visit_Call(self, node: nodes.Call, neg: bool = False):
        fn, args = node.fn, node.args
        if fn in ("all", "any"):
            parts = [self.visit(a, neg) for a in args]
            return (_and if (fn == "all") != neg else _or)(*parts)
        if fn == "given":
            field_name = self.fields[args[0].id]
            return {"$nex": {field_name: 1}} if neg else {"$ex": {field_name: 1}}
        if fn == "or_higher":
            ids = higher_than(self.level, args[0].id)
            if len(ids) > 1 and all(i in self.known for i in ids):  # c_a + c_b + ... >= 1
                return self._emit(_poly_add(self._sum_fields(ids), _poly_constant(-1)), "<" if neg else ">=")
            parts = [self.visit(nodes.Name(i, node.pos), neg) for i in ids]
            return _and(*parts) if neg else _or(*parts)
        if fn == "at_least":
            needed = int(args[0].value)
            items = list(args[1:])
            if all(isinstance(a, nodes.Name) and a.id in self.known for a in items):
                # sum of 0/1 result fields: at_least(k) ⇔ sum - k >= 0
                total = self._sum_fields([a.id for a in items])
                return self._emit(_poly_add(total, _poly_constant(-needed)), "<" if neg else ">=")
            if neg:  # fewer than k hold ⇔ at least n-k+1 fail
                want, parts = len(items) - needed + 1, [self.visit(a, True) for a in items]
            else:
                want, parts = needed, [self.visit(a, False) for a in items]
            return _or(*[_and(*combo) for combo in itertools.combinations(parts, want)])
        raise DurableError(f"cannot compile function {fn!r}")

    def _sum_fields(self, ids) -> dict:
        total: dict = {}
        for i in ids:
            total = _poly_add(total, {(self.fields[i],): Fraction(1)})
        return total

    # -- numbers -------------------------------------------------------------------------------
    def poly(self, node: nodes.Node) -> dict:
        return self.polynomial.visit(node)

    def visit_Compare(self, node: nodes.Compare, neg: bool = False):
        if self.level.is_condition(node.left):  # a == b over true/false: (a and b) or (not a and not b)
            same = (node.op == "==") != neg
            a, b = node.left, node.right
            if same:
                return _or(_and(self.visit(a), self.visit(b)), _and(self.visit(a, True), self.visit(b, True)))
            return _or(_and(self.visit(a), self.visit(b, True)), _and(self.visit(a, True), self.visit(b)))
        p = _poly_add(self.poly(node.left), self.poly(node.right), -1)
        # the rates and blank-able values are taken from the comparison as written, not from P:
        # `r >= r` or `a + o - o >= a` cancel out in P, yet are false when r or o is unknown
        ratios: list[str] = []
        optional: list[str] = []
        for side in (node.left, node.right):
            for x in nodes.walk(side):
                key = nodes.to_text(x) if isinstance(x, nodes.Call) and x.fn == "share" else \
                    x.id if isinstance(x, nodes.Name) else None
                if key in self.ratios and key not in ratios:
                    ratios.append(key)
                elif key in self.level.indicators and self.fields[key] in self.optional \
                        and self.fields[key] not in optional:
                    optional.append(self.fields[key])
        return self._cases(p, node.op, neg, ratios, optional)

    def _cases(self, p: dict, op: str, neg: bool, ratios: list, optional: list):
        """Split on each rate read: zero denominator (its policy) or positive denominator."""
        if not ratios:
            return self._leaf(p, op, neg, optional)
        ratio, rest_ratios = ratios[0], ratios[1:]
        num, den, zero = self.ratios[ratio]
        den_poly: dict = {}
        for field_name in den:
            den_poly = _poly_add(den_poly, {(field_name,): Fraction(1, self.field_scale.get(field_name, 1))})
        num_poly: dict = {}
        for field_name in num:
            num_poly = _poly_add(num_poly, {(field_name,): Fraction(1, self.field_scale.get(field_name, 1))})
        atom = ("R", ratio)
        deg = max((m.count(atom) for m in p), default=0)
        # denominator zero
        if zero in ("unknown", "reject"):
            zero_case = TRUE if neg else FALSE
        else:
            substituted: dict = {}
            for m, c in p.items():
                k = m.count(atom)
                rest = tuple(a for a in m if a != atom)
                substituted = _poly_add(substituted, {rest: c * Fraction(zero) ** k})
            zero_case = self._cases(substituted, op, neg, rest_ratios, optional)
        # denominator positive: multiply through by den^deg
        positive: dict = {}
        for m, c in p.items():
            k = m.count(atom)
            rest = tuple(a for a in m if a != atom)
            term = {rest: c}
            for _ in range(k):
                term = _poly_mul(term, num_poly)
            for _ in range(deg - k):
                term = _poly_mul(term, den_poly)
            positive = _poly_add(positive, term)
        pos_case = self._cases(positive, op, neg, rest_ratios, optional)
        den_zero = self._emit(den_poly, "==")
        den_pos = self._emit(den_poly, ">")
        return _or(_and(den_zero, zero_case), _and(den_pos, pos_case))

    def _leaf(self, p: dict, op: str, neg: bool, optional: list):
        effective = FLIP[op] if neg else op
        comp = self._emit(p, effective)
        if neg and optional and comp is not TRUE:
            # not(comparison on a blank value) holds: the comparison itself was false
            return _or(*[{"$nex": {f: 1}} for f in optional], comp)
        if not neg and optional:
            # a blank optional value makes the comparison false: say so explicitly, because
            # durable_rules evaluates arithmetic over a missing field rather than failing the test
            return _and(*[{"$ex": {f: 1}} for f in optional], comp)
        return comp

    def _emit(self, p: dict, op: str):
        """The durable condition for `P op 0`, with integer coefficients."""
        if not p or all(m == () for m in p):
            c = p.get((), Fraction(0))
            return TRUE if {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0,
                            "==": c == 0, "!=": c != 0}[op] else FALSE
        lcm = 1
        for c in p.values():
            lcm = lcm * c.denominator // math.gcd(lcm, c.denominator)
        integral = {m: int(c * lcm) for m, c in p.items()}
        # one field, degree one: a plain threshold (the fast path of the Rete alpha network)
        terms = [m for m in integral if m != ()]
        if len(terms) == 1 and len(terms[0]) == 1:
            field_name = terms[0][0]
            a, b = integral[terms[0]], integral.get((), 0)  # a*F + b op 0
            threshold = Fraction(-b, a)
            field_op = op
            if a < 0:
                field_op = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}[op]
            if threshold.denominator == 1:
                return {FOP[field_op]: {field_name: int(threshold)}}
            if field_op in (">=", ">"):
                return {"$gt": {field_name: math.floor(threshold)}}
            if field_op in ("<=", "<"):
                return {"$lt": {field_name: math.ceil(threshold)}}
            return FALSE if field_op == "==" else {"$ex": {field_name: 1}}
        deg = max(len(m) for m in integral)
        self.polys.append((deg, sum(abs(c) for c in integral.values())))
        return {ZOP[op]: {"_z": self._expr(integral)}}

    def _expr(self, integral: dict) -> Any:
        """A polynomial with integer coefficients as a durable_rules arithmetic expression."""
        def monomial(m: tuple, c: int) -> Any:
            node: Any = None
            for field_name in m:
                node = {"$m": field_name} if node is None else {"$mul": {"$l": node, "$r": {"$m": field_name}}}
            if node is None:
                return c
            return node if c == 1 else {"$mul": {"$l": node, "$r": c}}

        out: Any = None
        for m in sorted(integral, key=repr):
            c = integral[m]
            if out is None:
                out = monomial(m, c) if c > 0 or m == () else {"$sub": {"$l": 0, "$r": monomial(m, -c)}}
            elif c > 0:
                out = {"$add": {"$l": out, "$r": monomial(m, c)}}
            else:
                out = {"$sub": {"$l": out, "$r": monomial(m, -c)}}
        return out


MAX_TERMS = 4096  # disjuncts of one rule after splitting; beyond that the pack is refused
MAX_EXPRESSIONS = 24  # durable_rules allows 31 expressions per rule (MAX_SEQUENCE_EXPRESSIONS 32)


def _dnf(cond) -> list[list]:
    """A condition as a list of conjunctions of atomic tests (disjunctive normal form)."""
    if cond is TRUE:
        return [[]]
    if cond is FALSE:
        return []
    if "$or" in cond:
        out = []
        for alternative in cond["$or"]:
            out.extend(_dnf(alternative))
        return out
    if "$and" in cond:
        terms: list[list] = [[]]
        for part in cond["$and"]:
            alternatives = _dnf(part)
            terms = [t + a for t in terms for a in alternatives]
            if len(terms) > MAX_TERMS:
                raise DurableError("a condition expands into more than "
                                   f"{MAX_TERMS} alternatives; use --engine python for this pack")
        return terms
    return [[cond]]


def _rules(name: str, cond, pri: Optional[int] = None) -> dict[str, dict]:
    """One rule per alternative of the condition: durable_rules caps the expressions of one rule
    at 31, so an `or` is split into sibling rules (`name`, `name~1`, ...) that mean the same."""
    out: dict[str, dict] = {}
    seen = set()
    for k, term in enumerate(_dnf(cond)):
        uniq = list({json.dumps(a, sort_keys=True): a for a in term}.values())
        key = json.dumps(sorted(json.dumps(a, sort_keys=True) for a in uniq))
        if key in seen:
            continue
        seen.add(key)
        if len(uniq) + 3 > MAX_EXPRESSIONS:
            raise DurableError(f"rule {name} has {len(uniq)} tests in one alternative, more than "
                               "durable_rules accepts; use --engine python for this pack")
        match = MARK if not uniq else {"$and": [MARK] + uniq}
        rule: dict[str, Any] = {"all": [{"m": match}], "run": "noop"}
        if pri is not None:
            rule["pri"] = pri
        out[name if k == 0 else f"{name}~{len(out)}"] = rule
    return out


def _cap(deg: int, coef_sum: int) -> int:
    """The largest x with coef_sum * x**deg < 2**63: keeps every product exact in int64."""
    limit = (2 ** 63 - 1) // max(coef_sum, 1)
    lo, hi = 0, 2 ** 62
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid ** deg <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


class DurableBackend:
    name = "durable"

    def __init__(self, level: Level):
        self.level = level
        fields: dict[str, str] = {}
        for i, k in enumerate(level.indicators):
            fields[k] = f"i{i}"
        for i, key in enumerate(level.shares):
            fields[key + "#n"], fields[key + "#d"] = f"s{i}n", f"s{i}d"
        self.in_fields = dict(fields)
        self.crit_ids = list(level.criteria)
        for i, cid in enumerate(self.crit_ids):
            fields[cid] = f"c{i}"
        for i, vid in enumerate(level.vetoes):
            fields[vid] = f"v{i}"
        fields["vetoed"], fields["total"] = "_vetoed", "_total"
        self.fields = fields
        self.scale = {fields[k]: 10 ** ind.decimals for k, ind in level.indicators.items() if ind.type == "decimal"}
        self.bools = {fields[k] for k, ind in level.indicators.items() if ind.type == "boolean"}

        # criteria and vetoes in layers: a layer reads only the 0/1 results of earlier layers,
        # so no rule has to write out another criterion's condition (durable_rules caps a rule
        # at 31 expressions, and small rules keep the Rete network small)
        depth = _depths(level)
        layers = sorted(set(depth.values()) | {0})
        # (handle, band_of, veto_of, criteria indexes, veto indexes) per layer
        self.stages: list[tuple[Any, dict, dict, list[int], list[int]]] = []
        defs: dict[str, dict] = {}
        polys: list = []
        known: set = set()
        for layer in layers:
            compiler = _Compiler(level, fields, set(known))
            rules: dict[str, dict] = {}
            for i, cid in enumerate(self.crit_ids):
                if depth[cid] == layer:
                    for j, band in enumerate(level.criteria[cid].bands):
                        rules.update(_rules(f"c{i}_{j}", compiler.cond(band.cond)))
            for i, (vid, veto) in enumerate(level.vetoes.items()):
                if depth[vid] == layer:
                    rules.update(_rules(f"v{i}", compiler.cond(veto.cond)))
            rules.update(_rules("seen", TRUE))  # every fact is handled
            defs[f"criteria{layer}"] = rules
            polys += compiler.polys
            known |= {n for n, x in depth.items() if x == layer}
        compiler = _Compiler(level, fields, set(level.criteria) | set(level.vetoes) | {"vetoed"})
        classes: dict[str, dict] = {}
        for i, cls in enumerate(level.classes):
            condition = TRUE if cls.residual or cls.cond is None else compiler.cond(cls.cond)
            classes.update(_rules(f"k{i}", condition, pri=i))
        classes.update(_rules("none", TRUE, pri=len(level.classes)))
        defs["classes"] = classes
        polys += compiler.polys
        # the largest value a field may hold so that no compiled product leaves 64-bit integers
        self.cap = min([2 ** 62] + [_cap(deg, coef_sum) for deg, coef_sum in polys])
        self.definitions = defs

        digest = hashlib.sha256(json.dumps(defs, sort_keys=True).encode()).hexdigest()[:16]
        the_host = host()
        veto_ids = list(level.vetoes)
        for layer in layers:
            rules = defs[f"criteria{layer}"]
            band_of: dict[str, tuple[int, int]] = {}
            veto_of: dict[str, str] = {}
            for name in rules:
                base = name.split("~")[0]
                if base.startswith("c"):
                    i_text, j_text = base[1:].split("_")
                    band_of[name] = (int(i_text), int(j_text))
                elif base.startswith("v"):
                    veto_of[name] = veto_ids[int(base[1:])]
            crit_idx = [i for i, cid in enumerate(self.crit_ids) if depth[cid] == layer]
            veto_idx = [i for i, vid in enumerate(veto_ids) if depth[vid] == layer]
            handle = the_host.handle(f"lm-{digest}-criteria{layer}", rules)
            self.stages.append((handle, band_of, veto_of, crit_idx, veto_idx))
        self.h_classes = the_host.handle(f"lm-{digest}-classes", classes)
        self.class_of = {name: (level.classes[int(name[1:].split("~")[0])].id if name.startswith("k")
                                else UNCLASSIFIED) for name in classes}
        self.points = [[b.points for b in level.criteria[cid].bands] for cid in self.crit_ids]
        self.scored = level.scored
        self.sid = itertools.count()
        self.lock = the_host.lock
        self.fact_fields = [(k, name) for k, name in self.in_fields.items() if "#" not in k]
        self.veto_ids = veto_ids

    def fact(self, values: dict, extra_ratios: Optional[dict] = None) -> dict:
        fact: dict[str, Any] = {"_t": 1, "_z": 0}
        for k, name in self.fact_fields:
            v = values.get(k)
            if v is None:
                continue
            if name in self.bools:
                fact[name] = 1 if v else 0
            elif name in self.scale:
                scaled = Decimal(v) * self.scale[name]
                if scaled != scaled.to_integral_value():
                    raise DurableError(f"{k}={v} has more decimal places than the pack allows")
                fact[name] = int(scaled)
            elif isinstance(v, int):
                fact[name] = v
            else:
                raise DurableError(f"{k}={v!r} is not an integer; refusing to hand it to durable_rules")
        for key, (n, d) in (extra_ratios or {}).items():
            fact[self.in_fields[key + "#n"]], fact[self.in_fields[key + "#d"]] = n, d
        return fact

    def _fire(self, handle, fact: dict, as_event: bool) -> list[str]:
        sid = f"u{next(self.sid)}"
        fact["sid"] = sid
        payload = json.dumps(fact)
        assert_ = durable_rules_engine.assert_event if as_event else durable_rules_engine.assert_fact
        result = assert_(handle, payload)
        if result[0] != 0:
            raise DurableError(f"durable_rules did not accept the unit (code {result[0]}): {payload}")
        state = result[1]
        names = []
        try:
            started = durable_rules_engine.start_action_for_state(handle, state)
            msg = started[1] if started else None
            while msg:
                names.append(msg[2:msg.index('"', 2)])
                msg = durable_rules_engine.complete_and_start_action(handle, state)
        finally:
            durable_rules_engine.delete_state(handle, sid)
        return names

    def evaluate(self, values: dict, extra_ratios: Optional[dict] = None) -> Outcome:
        fact = self.fact(values, extra_ratios)
        for x in fact.values():
            if isinstance(x, int) and abs(x) > self.cap:
                raise ValueTooLarge(f"a value of {x} is too large for exact 64-bit arithmetic in durable_rules "
                                    f"(at most {self.cap} for this pack); use --engine python")
        outcomes: list = [(False, 0, None)] * len(self.crit_ids)
        total = 0
        hit: set = set()
        with self.lock:
            for handle, band_of, veto_of, crit_idx, veto_idx in self.stages:
                fired = self._fire(handle, dict(fact), as_event=False)
                bands: dict[int, int] = {}
                seen = False
                for name in fired:
                    b = band_of.get(name)
                    if b is not None:
                        i, j = b
                        if i not in bands or j < bands[i]:
                            bands[i] = j
                    elif name in veto_of:
                        hit.add(veto_of[name])
                    elif name == "seen":
                        seen = True
                    else:
                        raise DurableError(f"unknown rule fired: {name}")
                if not seen:
                    raise DurableError(f"the catch-all rule did not fire: {fired}")
                for i in crit_idx:
                    if i in bands:
                        pts = self.points[i][bands[i]]
                        outcomes[i] = (True, pts, bands[i])
                        total += pts
                        fact[f"c{i}"] = 1
                    else:
                        fact[f"c{i}"] = 0
                for i in veto_idx:
                    fact[f"v{i}"] = 1 if self.veto_ids[i] in hit else 0
            fact["_vetoed"] = 1 if hit else 0
            fact["_total"] = total
            fired = self._fire(self.h_classes, fact, as_event=True)
        if len(fired) != 1 or fired[0] not in self.class_of:
            raise DurableError(f"class ruleset fired {fired}, expected exactly one class")
        veto_list = [vid for vid in self.veto_ids if vid in hit]
        return Outcome(self.class_of[fired[0]], total if self.scored else None, veto_list, outcomes)


def _depths(level: Level) -> dict[str, int]:
    """0 for a criterion or veto that reads only indicators, else 1 + the depth of what it reads."""
    deps: dict[str, set] = {}
    for cid, c in level.criteria.items():
        deps[cid] = set()
        for b in c.bands:
            deps[cid] |= references(b.cond, level)
    for vid, v in level.vetoes.items():
        deps[vid] = references(v.cond, level)
    depth: dict[str, int] = {}

    def visit(n: str) -> int:
        if n not in depth:
            depth[n] = 0  # the loader has rejected cycles
            depth[n] = 1 + max((visit(m) for m in deps[n] if m != n), default=-1)
        return depth[n]

    for n in deps:
        visit(n)
    return depth
