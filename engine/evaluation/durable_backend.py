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
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any, Optional

# the C extension and its Python host, without type stubs; an ImportError means the python backend
import durable_rules_engine  # type: ignore[import-not-found]
from durable import engine as durable_engine  # type: ignore[import-untyped]

from lanhmanh.engine.evaluation.outcome import EngineRefused, Outcome
from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.engine.model.pack import UNCLASSIFIED, Level, higher_than, references
from lanhmanh.i18n import _

TRUE, FALSE = True, False
MARK = {"$eq": {"_t": 1}}


class DurableError(RuntimeError):
    """durable_rules did something the adapter does not accept, or cannot take a rule; never
    swallowed. `what` names the rule it is about ("criterion 'I.a'"), `rule` its id, when known."""

    def __init__(self, message: str, what: str = "", rule: str = ""):
        super().__init__(f"{what}: {message}" if what else message)
        self.reason, self.what, self.rule = message, what, rule


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
            raise DurableError(_("action {action} was dispatched by a background thread").format(action=action_name))
        return never

    def handle(self, name: str, definition: dict) -> Any:
        with self.lock:
            if name not in self.registered:
                try:
                    self.register_rulesets({name: copy.deepcopy(definition)})  # `run` is popped: pass a copy
                except Exception as e:  # durable_rules_engine.error (e.g. 106), or its Python host's
                    raise DurableError(_("durable_rules could not create the ruleset ({error})").format(
                        error=e)) from e
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


MAX_MONOMIALS = 4096  # terms of one compared polynomial once multiplied out


def _poly_mul(a: dict, b: dict) -> dict:
    if len(a) * len(b) > MAX_MONOMIALS:
        raise DurableError(_("a product multiplies out to more than {n} terms").format(n=MAX_MONOMIALS))
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
        raise DurableError(_("cannot compile number {expression}").format(expression=repr(name)))

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
        raise DurableError(_("cannot compile number {expression}").format(expression=nodes.to_text(node)))


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
        raise DurableError(_("cannot compile name {name}").format(name=repr(name)))

    def generic_visit(self, node: nodes.Node, neg: bool = False):
        raise DurableError(_("not a condition: {expression}").format(expression=nodes.to_text(node)))

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
            want = len(items) - needed + 1 if neg else needed  # fewer than k hold ⇔ n-k+1 fail
            if math.comb(len(items), want) > MAX_TERMS:
                raise DurableError(_("at_least({needed}, ...) of {n} conditions is more than {limit} combinations "
                                     "once written out").format(needed=needed, n=len(items), limit=MAX_TERMS))
            parts = [self.visit(a, neg) for a in items]
            return _or(*[_and(*combo) for combo in itertools.combinations(parts, want)])
        raise DurableError(_("cannot compile function {name}").format(name=repr(fn)))

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
            for _k in range(k):
                term = _poly_mul(term, num_poly)
            for _k in range(deg - k):
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
            if len(out) > MAX_TERMS:
                raise DurableError(_("a condition expands into more than {n} alternatives").format(n=MAX_TERMS))
        return out
    if "$and" in cond:
        terms: list[list] = [[]]
        for part in cond["$and"]:
            alternatives = _dnf(part)
            terms = [t + a for t in terms for a in alternatives]
            if len(terms) > MAX_TERMS:
                raise DurableError(_("a condition expands into more than {n} alternatives").format(n=MAX_TERMS))
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
            raise DurableError(_("rule {name} has {n} tests in one alternative, more than durable_rules accepts "
                                 "in one rule").format(name=name, n=len(uniq)))
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
        self.scale = {fields[k]: 10 ** ind.decimals for k, ind in level.indicators.items() if ind.type == "decimal"}
        self.bools = {fields[k] for k, ind in level.indicators.items() if ind.type == "boolean"}

        # `at_least(k, A, B, ...)` over conditions that are not criteria: each condition becomes an
        # auxiliary 0/1 result (`x<n>`) decided a layer earlier, and at_least the sum of those
        # fields; written out instead, it is every k-combination (12,870 rules for 8 of 16)
        lift = _Lift(level)
        bands = {cid: [lift.condition(b.cond, _criterion(cid), cid) for b in level.criteria[cid].bands]
                 for cid in self.crit_ids}
        veto_conds = {vid: lift.condition(v.cond, _veto(vid), vid) for vid, v in level.vetoes.items()}
        class_conds = [None if c.residual or c.cond is None else
                       lift.condition(c.cond, _class(c.id), c.id, in_class=True) for c in level.classes]
        self.aux_ids = list(lift.aux)
        for n, aid in enumerate(self.aux_ids):
            fields[aid] = f"x{n}"
        self.fields = fields

        # criteria, vetoes and auxiliary results in layers: a layer reads only the 0/1 results of
        # earlier layers, so no rule writes out another criterion's condition (durable_rules caps
        # a rule at 31 expressions, and small rules keep the Rete network small)
        deps: dict[str, set] = {}
        for cid in self.crit_ids:
            deps[cid] = set().union(*(_reads(c, level, lift) for c in bands[cid]))
        for vid, cond in veto_conds.items():
            deps[vid] = _reads(cond, level, lift)
        for aid, cond in lift.aux.items():
            deps[aid] = _reads(cond, level, lift)
        depth = _depths(deps)
        layers = sorted(set(depth.values()) | {0})
        defs: dict[str, dict] = {}
        polys: list = []
        known: set = set()
        veto_ids = list(level.vetoes)
        # per layer: its rulesets as (handle, fields read) and the ids the layer decides
        self.stages: list[tuple[list[tuple[Any, tuple]], list[int], list[int], list[int]]] = []
        layer_rules: list[tuple[int, dict]] = []
        for layer in layers:
            compiler = _Compiler(level, fields, set(known))
            rules: dict[str, dict] = {}
            for i, cid in enumerate(self.crit_ids):
                if depth[cid] == layer:
                    for j, cond in enumerate(bands[cid]):
                        with _about(_criterion(cid), cid):
                            rules.update(_rules(f"c{i}_{j}", compiler.cond(cond)))
            for i, vid in enumerate(veto_ids):
                if depth[vid] == layer:
                    with _about(_veto(vid), vid):
                        rules.update(_rules(f"v{i}", compiler.cond(veto_conds[vid])))
            for n, aid in enumerate(self.aux_ids):
                if depth[aid] == layer:
                    what, rule = lift.owner[aid]
                    with _about(what, rule):
                        rules.update(_rules(f"x{n}", compiler.cond(lift.aux[aid])))
            polys += compiler.polys
            known |= {n for n, x in depth.items() if x == layer}
            layer_rules.append((layer, rules))
        compiler = _Compiler(level, fields, set(level.criteria) | set(level.vetoes) | set(self.aux_ids) | {"vetoed"})
        classes: dict[str, dict] = {}
        for i, kcond in enumerate(class_conds):
            with _about(_class(level.classes[i].id), level.classes[i].id):
                classes.update(_rules(f"k{i}", TRUE if kcond is None else compiler.cond(kcond), pri=i))
        polys += compiler.polys
        # the largest value a field may hold so that no compiled product leaves 64-bit integers
        self.cap = min([2 ** 62] + [_cap(deg, coef_sum) for deg, coef_sum in polys])

        # each layer, and the classes, split into rulesets of at most RULES_PER_RULESET rules:
        # durable_rules walks the matching tests of one fact on a stack of 64 entries (error 303
        # past it), and caps the children of one test and the rules of one ruleset (error 106)
        for layer, rules in layer_rules:
            for part, chunk in enumerate(_chunks(rules)):
                chunk["seen"] = {"all": [{"m": MARK}], "run": "noop"}  # every fact is handled
                defs[f"criteria{layer}.{part}"] = chunk
        for part, chunk in enumerate(_chunks(classes)):
            chunk["none"] = {"all": [{"m": MARK}], "run": "noop", "pri": len(level.classes)}
            defs[f"classes.{part}"] = chunk
        if not any(name.startswith("classes.") for name in defs):
            defs["classes.0"] = {"none": {"all": [{"m": MARK}], "run": "noop", "pri": len(level.classes)}}
        self.definitions = defs

        digest = hashlib.sha256(json.dumps(defs, sort_keys=True).encode()).hexdigest()[:16]
        the_host = host()
        self.band_of: dict[str, tuple[int, int]] = {}
        self.veto_of: dict[str, int] = {}
        self.aux_of: dict[str, int] = {}
        for name in itertools.chain.from_iterable(defs.values()):
            base = name.split("~")[0]
            if base.startswith("c"):
                i_text, j_text = base[1:].split("_")
                self.band_of[name] = (int(i_text), int(j_text))
            elif base.startswith("v"):
                self.veto_of[name] = int(base[1:])
            elif base.startswith("x"):
                self.aux_of[name] = int(base[1:])
        for layer, _defs in layer_rules:
            handles = [(self._register(f"lm-{digest}-{name}", rules), _fields_read(rules))
                       for name, rules in defs.items() if name.startswith(f"criteria{layer}.")]
            self.stages.append((
                handles,
                [i for i, cid in enumerate(self.crit_ids) if depth[cid] == layer],
                [i for i, vid in enumerate(veto_ids) if depth[vid] == layer],
                [n for n, aid in enumerate(self.aux_ids) if depth[aid] == layer],
            ))
        self.class_stages = [(self._register(f"lm-{digest}-{name}", rules), _fields_read(rules))
                             for name, rules in defs.items() if name.startswith("classes.")]
        self.class_of = {name: level.classes[int(name[1:].split("~")[0])].id
                         for name in classes}
        self.points = [[b.points for b in level.criteria[cid].bands] for cid in self.crit_ids]
        self.scored = level.scored
        self.sid = itertools.count()
        self.lock = the_host.lock
        self.fact_fields = [(k, name) for k, name in self.in_fields.items() if "#" not in k]
        self.veto_ids = veto_ids

    def _register(self, name: str, rules: dict) -> Any:
        """The handle of a ruleset; a refusal names the first rule of the ruleset it is about."""
        try:
            return host().handle(name, rules)
        except DurableError as e:
            what, rule = self._named(next(iter(rules)))
            raise DurableError(e.reason, what, rule) from e

    def _named(self, rule_name: str) -> tuple[str, str]:
        """(what, id) of the criterion, veto or class a compiled rule comes from."""
        base = rule_name.split("~")[0]
        if base.startswith("c"):
            cid = self.crit_ids[int(base[1:].split("_")[0])]
            return _criterion(cid), cid
        if base.startswith("v"):
            vid = list(self.level.vetoes)[int(base[1:])]
            return _veto(vid), vid
        if base.startswith("k"):
            cls = self.level.classes[int(base[1:])].id
            return _class(cls), cls
        return "", ""

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
                    raise DurableError(_("{name}={value} has more decimal places than the pack allows").format(
                        name=k, value=v))
                fact[name] = int(scaled)
            elif isinstance(v, int):
                fact[name] = v
            else:
                raise DurableError(_("{name}={value} is not an integer; refusing to hand it to durable_rules").format(
                    name=k, value=repr(v)))
        for key, (n, d) in (extra_ratios or {}).items():
            fact[self.in_fields[key + "#n"]], fact[self.in_fields[key + "#d"]] = n, d
        return fact

    def _fire(self, handle, fact: dict, read: tuple, as_event: bool) -> list[str]:
        sid = f"u{next(self.sid)}"
        payload = fact_payload(fact, read, sid)
        assert_ = durable_rules_engine.assert_event if as_event else durable_rules_engine.assert_fact
        try:
            result = assert_(handle, payload)
        except durable_rules_engine.error as e:  # e.g. 303: more tests matched than its stack holds
            raise DurableError(_("durable_rules did not accept the unit ({error})").format(error=e)) from e
        if result[0] != 0:
            raise DurableError(_("durable_rules did not accept the unit (code {code}): {payload}").format(
                code=result[0], payload=payload))
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
                raise ValueTooLarge(_("a value of {value} is too large for exact 64-bit arithmetic in durable_rules "
                                      "(at most {cap} for this pack); use --engine python").format(
                                          value=x, cap=self.cap))
        outcomes: list = [(False, 0, None)] * len(self.crit_ids)
        total = 0
        hit: set = set()
        with self.lock:
            for handles, crit_idx, veto_idx, aux_idx in self.stages:
                bands: dict[int, int] = {}
                aux: set = set()
                for handle, read in handles:
                    fired = self._fire(handle, fact, read, as_event=False)
                    if "seen" not in fired:
                        raise DurableError(_("the catch-all rule did not fire: {fired}").format(fired=fired))
                    for name in fired:
                        if name in self.band_of:
                            i, j = self.band_of[name]
                            if i not in bands or j < bands[i]:
                                bands[i] = j
                        elif name in self.veto_of:
                            hit.add(self.veto_of[name])
                        elif name in self.aux_of:
                            aux.add(self.aux_of[name])
                        elif name != "seen":
                            raise DurableError(_("unknown rule fired: {name}").format(name=name))
                for i in crit_idx:
                    if i in bands:
                        pts = self.points[i][bands[i]]
                        outcomes[i] = (True, pts, bands[i])
                        total += pts
                        fact[f"c{i}"] = 1
                    else:
                        fact[f"c{i}"] = 0
                for i in veto_idx:
                    fact[f"v{i}"] = 1 if i in hit else 0
                for n in aux_idx:
                    fact[f"x{n}"] = 1 if n in aux else 0
            fact["_vetoed"] = 1 if hit else 0
            fact["_total"] = total
            class_id = UNCLASSIFIED
            for handle, read in self.class_stages:  # in class order: the first class met wins
                fired = self._fire(handle, fact, read, as_event=True)
                if len(fired) != 1 or (fired[0] != "none" and fired[0] not in self.class_of):
                    raise DurableError(_("class ruleset fired {fired}, expected exactly one rule").format(
                        fired=fired))
                if fired[0] != "none":
                    class_id = self.class_of[fired[0]]
                    break
        veto_list = [vid for i, vid in enumerate(self.veto_ids) if i in hit]
        return Outcome(class_id, total if self.scored else None, veto_list, outcomes)


_TEMPLATES: dict[tuple, tuple[str, list[tuple[str, str]]]] = {}  # fields read by a ruleset → how to write them


def fact_payload(fact: dict, read: tuple, sid: str) -> str:
    """`json.dumps` of the fields of `fact` the ruleset reads, then "sid" (the text handed to
    durable_rules), written out directly when every value sent is an int: the same text,
    without an encoder built per call. Anything else goes through json.dumps."""
    plan = _TEMPLATES.get(read)
    if plan is None:
        keys = [(name, json.dumps(name) + ": ") for name in read]
        template = "{" + "".join(key.replace("%", "%%") + "%d, " for _field, key in keys) + '"sid": %s}'
        plan = _TEMPLATES[read] = (template, keys)
    template, keys = plan
    sid_text = encode_basestring_ascii(sid)  # what json.dumps does with a str
    try:
        sent = [fact[name] for name in read]
    except KeyError:  # a blank value is not sent: the fields one by one
        parts = []
        for name, key in keys:
            if name in fact:
                v = fact[name]
                if type(v) is not int:
                    return _dumped(fact, read, sid)
                parts.append(key + int.__repr__(v))
        parts.append('"sid": ' + sid_text)
        return "{" + ", ".join(parts) + "}"
    for v in sent:
        if type(v) is not int:
            return _dumped(fact, read, sid)
    sent.append(sid_text)
    return template % tuple(sent)


def _dumped(fact: dict, read: tuple, sid: str) -> str:
    sent = {name: fact[name] for name in read if name in fact}  # only what this ruleset reads
    sent["sid"] = sid
    return json.dumps(sent)


def _criterion(cid: str) -> str:
    return _("criterion {id}").format(id=repr(cid))


def _veto(vid: str) -> str:
    return _("veto {id}").format(id=repr(vid))


def _class(cls: str) -> str:
    return _("class {id}").format(id=repr(cls))


class _about:
    """Gives a DurableError raised inside the block the rule it is about (what, id)."""

    def __init__(self, what: str, rule: str):
        self.what, self.rule = what, rule

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, error, trace) -> None:
        if isinstance(error, DurableError) and not error.what:
            raise DurableError(error.reason, self.what, self.rule) from error


RULES_PER_RULESET = 48  # rules (alternatives) in one ruleset, catch-all excluded; see _chunks
FIELDS_PER_FACT = 200  # durable_rules holds at most 255 properties in one fact


def _chunks(rules: dict[str, dict]) -> list[dict[str, dict]]:
    """The rules in order, in groups of at most RULES_PER_RULESET rules reading together at most
    FIELDS_PER_FACT fields. durable_rules keeps the tests of a ruleset as a tree (a rule is a chain
    of tests from the marker `_t == 1`); matching a fact pushes every matching child of a test on a
    stack of 64 entries, so the stack never holds more entries than the tree has leaves, which is
    at most the number of rules."""
    out: list[dict[str, dict]] = []
    current: dict[str, dict] = {}
    read: set = set()
    for name, rule in rules.items():
        mine = set(_fields_read({name: rule}))
        if len(mine) > FIELDS_PER_FACT:
            raise DurableError(_("rule {name} reads {n} values, more than durable_rules holds in one fact").format(
                name=name, n=len(mine)))
        if current and (len(current) >= RULES_PER_RULESET or len(read | mine) > FIELDS_PER_FACT):
            out.append(current)
            current, read = {}, set()
        current[name] = rule
        read |= mine
    if current:
        out.append(current)
    return out


def _fields_read(rules: dict[str, dict]) -> tuple:
    """The fact fields the tests of these rules name (always `_t` and `_z`), sorted."""
    found = {"_t", "_z"}
    stack: list = list(rules.values())
    while stack:
        x = stack.pop()
        if isinstance(x, dict):
            for k, v in x.items():
                if k == "$m" and isinstance(v, str):
                    found.add(v)
                elif not k.startswith("$") and k not in ("all", "m", "run", "pri"):
                    found.add(k)
                stack.append(v)
        elif isinstance(x, list):
            stack.extend(x)
    return tuple(sorted(found))


class _Lift:
    """`at_least` arguments that are not criteria or vetoes, taken out as auxiliary conditions
    (named `#x<n>`, a name no rule file can write); the same text is taken out once."""

    def __init__(self, level: Level):
        self.level = level
        self.aux: dict[str, nodes.Node] = {}  # aux id → its condition (with its own at_least lifted)
        self.owner: dict[str, tuple[str, str]] = {}  # aux id → (what, id) of the rule it was taken from
        self.by_text: dict[str, str] = {}
        self.current = ("", "")

    def condition(self, node: nodes.Node, what: str, rule: str, in_class: bool = False) -> nodes.Node:
        self.current = (what, rule)
        return self._rewrite(node, in_class)

    def _rewrite(self, node: nodes.Node, in_class: bool) -> nodes.Node:
        if isinstance(node, nodes.Call):
            args = tuple(self._rewrite(a, in_class) for a in node.args)
            if node.fn == "at_least":
                args = (args[0],) + tuple(self._aux(a, in_class) for a in args[1:])
            return nodes.Call(node.fn, args, node.pos)
        if isinstance(node, nodes.Not):
            return nodes.Not(self._rewrite(node.operand, in_class), node.pos)
        if isinstance(node, nodes.BoolOp):
            return nodes.BoolOp(node.op, tuple(self._rewrite(a, in_class) for a in node.items), node.pos)
        if isinstance(node, nodes.Compare) and self.level.is_condition(node.left):
            return nodes.Compare(node.op, self._rewrite(node.left, in_class), self._rewrite(node.right, in_class),
                                 node.pos)
        return node

    def _aux(self, arg: nodes.Node, in_class: bool) -> nodes.Node:
        level = self.level
        if isinstance(arg, nodes.Name) and (arg.id in level.criteria or arg.id in level.vetoes or
                                            arg.id.startswith("#")):
            return arg
        if in_class and any(n.id in ("total", "vetoed") for n in nodes.names_in(arg)):
            return arg  # known only once every criterion is decided: written out in the class rule
        key = nodes.to_text(arg)
        if key not in self.by_text:
            aid = f"#x{len(self.aux)}"
            self.by_text[key] = aid
            self.aux[aid] = arg
            self.owner[aid] = self.current
        return nodes.Name(self.by_text[key], arg.pos)


def _reads(cond: nodes.Node, level: Level, lift: _Lift) -> set:
    """Criteria, vetoes and auxiliary conditions a (lifted) condition reads."""
    return references(cond, level) | {n.id for n in nodes.names_in(cond) if n.id in lift.aux}


def _depths(deps: dict[str, set]) -> dict[str, int]:
    """0 for what reads only indicators, else 1 + the depth of what it reads (no cycles: the
    loader has rejected them, and an auxiliary condition reads only what its owner reads)."""
    depth: dict[str, int] = {}
    for first in deps:
        path: set = set()  # the ones being worked out, each below the one that reads it
        stack: list[tuple[str, bool]] = [(first, False)]
        while stack:  # without recursion: a chain of criteria may be long
            n, done = stack.pop()
            if done:
                depth[n] = 1 + max((depth[m] for m in deps[n] if m != n), default=-1)
                path.discard(n)
                continue
            if n in depth:
                continue
            if n in path:
                raise DurableError(_("{name} reads itself").format(name=n))
            path.add(n)
            stack.append((n, True))
            stack.extend((m, False) for m in deps[n] if m != n and m not in depth)
    return depth
