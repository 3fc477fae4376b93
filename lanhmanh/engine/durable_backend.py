"""The durable backend: a pack level compiled into durable_rules rulesets given as data.

Two rulesets per level (see docs/durable-backend.md):
- stage 1 (`…-criteria`), asserted as a fact: one rule per criterion band and per veto, every
  criterion's condition written out over the indicators (references to other criteria inlined);
  every rule whose condition holds fires, which gives met / not met for every criterion.
- stage 2 (`…-classes`), posted as an event: one rule per class with `pri` = its position, over
  the criteria results, the total and the indicators. An event is consumed by the first rule that
  fires, so "first match wins" is decided by the engine; a lowest-priority rule catches the rest.

Exactness: rates are never divided. `n/d >= p/q` is compiled to the integer comparison
`n*q - d*p >= 0`, written as `_z <= n*q - d*p` with `_z = 0` in the fact (durable_rules only
allows a field name on the left). Decimals travel as scaled integers. Zero denominators and blank
optional values are compiled as explicit cases. Limits of durable_rules respected here
(../shared/spec/durable-rules-notes.md): one sid per unit, deleted after scoring; one Host per
process, never shared by threads, with its timer threads disabled; only pri >= 0; no raw floats
or strings reach the engine; every fact and event is handled (a catch-all rule), because
`delete_state` on a sid that no rule ever saw crashes the process; every rule is anchored on a
marker field, because the sid's own state object is matched as a fact too.
"""
from __future__ import annotations

import itertools
import json
import math
import threading
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

import durable_rules_engine as C  # noqa: N812  (the C extension; ImportError → python backend)
from durable import engine as durable_engine

from . import expr as E
from .loader import higher_than, references
from .outcome import Outcome
from .pack import UNCLASSIFIED, Level
from .scoring import EngineRefused

TRUE, FALSE = True, False
MARK = {"$eq": {"_t": 1}}


class DurableError(RuntimeError):
    """durable_rules did something the adapter does not accept; never swallowed."""


class ValueTooLarge(EngineRefused):
    """A value would overflow the 64-bit arithmetic of durable_rules."""


class _Host(durable_engine.Host):
    """One host per process, without the background dispatch threads: we drive it ourselves."""

    def __init__(self):
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
                import copy

                self.register_rulesets({name: copy.deepcopy(definition)})  # `run` is popped: pass a copy
                self.registered[name] = self.get_ruleset(name)._handle
            return self.registered[name]


_HOST: Optional[_Host] = None
_HOST_PID: Optional[int] = None


def host() -> _Host:
    global _HOST, _HOST_PID
    import os

    if _HOST is None or _HOST_PID != os.getpid():
        _HOST, _HOST_PID = _Host(), os.getpid()
    return _HOST


# ---- polynomials with exact coefficients --------------------------------------------------------
# A polynomial is {monomial: Fraction}; a monomial is a sorted tuple of atoms; an atom is a fact
# field name, or ("R", ratio name) for a rate that is substituted case by case.

def _padd(a: dict, b: dict, sign: int = 1) -> dict:
    out = dict(a)
    for m, c in b.items():
        out[m] = out.get(m, 0) + sign * c
        if out[m] == 0:
            del out[m]
    return out


def _pmul(a: dict, b: dict) -> dict:
    out: dict = {}
    for m1, c1 in a.items():
        for m2, c2 in b.items():
            m = tuple(sorted(m1 + m2, key=repr))
            out[m] = out.get(m, 0) + c1 * c2
            if out[m] == 0:
                del out[m]
    return out


def _const(c) -> dict:
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


class _Compiler:
    def __init__(self, level: Level, fields: dict, known: set):
        self.level = level
        self.f = fields  # indicator / ratio-part name → fact field name
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

    # -- conditions --------------------------------------------------------------------------
    def cond(self, node: E.Node, neg: bool = False):
        lv = self.level
        if isinstance(node, E.Bool):
            return TRUE if node.value != neg else FALSE
        if isinstance(node, E.Not):
            return self.cond(node.operand, not neg)
        if isinstance(node, E.BoolOp):
            parts = [self.cond(x, neg) for x in node.items]
            return (_and if (node.op == "and") != neg else _or)(*parts)
        if isinstance(node, E.Name):
            n = node.id
            if n in lv.indicators:
                f = self.f[n]
                if not neg:
                    return {"$eq": {f: 1}}
                if f in self.optional:
                    return {"$or": [{"$nex": {f: 1}}, {"$eq": {f: 0}}]}
                return {"$eq": {f: 0}}
            if n in self.known:
                return {"$eq": {self.f[n]: 0 if neg else 1}}
            if n in lv.criteria:
                bands = [self.cond(b.cond, neg) for b in lv.criteria[n].bands]
                return _and(*bands) if neg else _or(*bands)
            if n in lv.vetoes:
                return self.cond(lv.vetoes[n].cond, neg)
            raise DurableError(f"cannot compile name {n!r}")
        if isinstance(node, E.Call):
            return self.call(node, neg)
        if isinstance(node, E.Compare):
            return self.compare(node, neg)
        raise DurableError(f"not a condition: {E.to_text(node)}")

    def call(self, node: E.Call, neg: bool):
        fn, args = node.fn, node.args
        if fn in ("all", "any"):
            parts = [self.cond(a, neg) for a in args]
            return (_and if (fn == "all") != neg else _or)(*parts)
        if fn == "given":
            f = self.f[args[0].id]
            return {"$nex": {f: 1}} if neg else {"$ex": {f: 1}}
        if fn == "or_higher":
            ids = higher_than(self.level, args[0].id)
            if len(ids) > 1 and all(i in self.known for i in ids):  # c_a + c_b + ... >= 1
                return self._emit(_padd(self._sum_fields(ids), _const(-1)), "<" if neg else ">=")
            parts = [self.cond(E.Name(i, node.pos), neg) for i in ids]
            return _and(*parts) if neg else _or(*parts)
        if fn == "at_least":
            k = int(args[0].value)
            items = list(args[1:])
            n = len(items)
            if all(isinstance(a, E.Name) and a.id in self.known for a in items):
                # sum of 0/1 result fields: at_least(k) ⇔ sum - k >= 0
                s = self._sum_fields([a.id for a in items])
                return self._emit(_padd(s, _const(-k)), "<" if neg else ">=")
            if neg:  # fewer than k hold ⇔ at least n-k+1 fail
                want, parts = n - k + 1, [self.cond(a, True) for a in items]
            else:
                want, parts = k, [self.cond(a, False) for a in items]
            return _or(*[_and(*combo) for combo in itertools.combinations(parts, want)])
        raise DurableError(f"cannot compile function {fn!r}")

    def _sum_fields(self, ids) -> dict:
        s: dict = {}
        for i in ids:
            s = _padd(s, {(self.f[i],): Fraction(1)})
        return s

    # -- numbers -------------------------------------------------------------------------------
    def poly(self, node: E.Node) -> dict:
        lv = self.level
        if isinstance(node, E.Num):
            return _const(node.value)
        if isinstance(node, E.Name):
            n = node.id
            if n in self.ratios:
                return {(("R", n),): Fraction(1)}
            if n in lv.indicators or n == "total":
                f = self.f[n]
                return {(f,): Fraction(1, self.field_scale.get(f, 1))}
            raise DurableError(f"cannot compile number {n!r}")
        if isinstance(node, E.Call) and node.fn == "share":
            return {(("R", E.to_text(node)),): Fraction(1)}
        if isinstance(node, E.Neg):
            return _padd({}, self.poly(node.operand), -1)
        if isinstance(node, E.Arith):
            a, b = self.poly(node.left), self.poly(node.right)
            if node.op == "+":
                return _padd(a, b)
            if node.op == "-":
                return _padd(a, b, -1)
            if node.op == "*":
                return _pmul(a, b)
        raise DurableError(f"cannot compile number {E.to_text(node)}")

    def compare(self, node: E.Compare, neg: bool):
        lt_bool = self.level.is_condition(node.left)
        if lt_bool:  # a == b over true/false: (a and b) or (not a and not b)
            same = node.op == "=="
            if neg:
                same = not same
            a, b = node.left, node.right
            if same:
                return _or(_and(self.cond(a), self.cond(b)), _and(self.cond(a, True), self.cond(b, True)))
            return _or(_and(self.cond(a), self.cond(b, True)), _and(self.cond(a, True), self.cond(b)))
        p = _padd(self.poly(node.left), self.poly(node.right), -1)
        # the rates and blank-able values are taken from the comparison as written, not from P:
        # `r >= r` or `a + o - o >= a` cancel out in P, yet are false when r or o is unknown
        ratios, optional = [], []
        for side in (node.left, node.right):
            for x in E.walk(side):
                key = E.to_text(x) if isinstance(x, E.Call) and x.fn == "share" else \
                    x.id if isinstance(x, E.Name) else None
                if key in self.ratios and key not in ratios:
                    ratios.append(key)
                elif key in self.level.indicators and self.f[key] in self.optional and self.f[key] not in optional:
                    optional.append(self.f[key])
        return self._cases(p, node.op, neg, ratios, optional)

    def _cases(self, p: dict, op: str, neg: bool, ratios: list, optional: list):
        """Split on each rate read: zero denominator (its policy) or positive denominator."""
        if not ratios:
            return self._leaf(p, op, neg, optional)
        ratio, rest_ratios = ratios[0], ratios[1:]
        num, den, zero = self.ratios[ratio]
        den_poly = {}
        for f in den:
            den_poly = _padd(den_poly, {(f,): Fraction(1, self.field_scale.get(f, 1))})
        num_poly = {}
        for f in num:
            num_poly = _padd(num_poly, {(f,): Fraction(1, self.field_scale.get(f, 1))})
        atom = ("R", ratio)
        deg = max((m.count(atom) for m in p), default=0)
        # denominator zero
        if zero in ("unknown", "reject"):
            zero_case = TRUE if neg else FALSE
        else:
            sub = {}
            for m, c in p.items():
                k = m.count(atom)
                rest = tuple(a for a in m if a != atom)
                sub = _padd(sub, {rest: c * Fraction(zero) ** k})
            zero_case = self._cases(sub, op, neg, rest_ratios, optional)
        # denominator positive: multiply through by den^deg
        pos = {}
        for m, c in p.items():
            k = m.count(atom)
            rest = tuple(a for a in m if a != atom)
            term = {rest: c}
            for _ in range(k):
                term = _pmul(term, num_poly)
            for _ in range(deg - k):
                term = _pmul(term, den_poly)
            pos = _padd(pos, term)
        pos_case = self._cases(pos, op, neg, rest_ratios, optional)
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
        ip = {m: int(c * lcm) for m, c in p.items()}
        # one field, degree one: a plain threshold (the fast path of the Rete alpha network)
        terms = [m for m in ip if m != ()]
        if len(terms) == 1 and len(terms[0]) == 1:
            f = terms[0][0]
            a, b = ip[terms[0]], ip.get((), 0)  # a*F + b op 0
            t = Fraction(-b, a)
            o = op
            if a < 0:
                o = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "==", "!=": "!="}[op]
            if t.denominator == 1:
                return {FOP[o]: {f: int(t)}}
            if o in (">=", ">"):
                return {"$gt": {f: math.floor(t)}}
            if o in ("<=", "<"):
                return {"$lt": {f: math.ceil(t)}}
            return FALSE if o == "==" else {"$ex": {f: 1}}
        deg = max(len(m) for m in ip)
        self.polys.append((deg, sum(abs(c) for c in ip.values())))
        return {ZOP[op]: {"_z": self._expr(ip)}}

    def _expr(self, ip: dict):
        def mono(m, c):
            node: Any = None
            for f in m:
                node = {"$m": f} if node is None else {"$mul": {"$l": node, "$r": {"$m": f}}}
            if node is None:
                return c
            return node if c == 1 else {"$mul": {"$l": node, "$r": c}}

        out: Any = None
        for m in sorted(ip, key=repr):
            c = ip[m]
            if out is None:
                out = mono(m, c) if c > 0 or m == () else {"$sub": {"$l": 0, "$r": mono(m, -c)}}
            elif c > 0:
                out = {"$add": {"$l": out, "$r": mono(m, c)}}
            else:
                out = {"$sub": {"$l": out, "$r": mono(m, -c)}}
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
        for c in cond["$or"]:
            out.extend(_dnf(c))
        return out
    if "$and" in cond:
        terms: list[list] = [[]]
        for c in cond["$and"]:
            sub = _dnf(c)
            terms = [t + s for t in terms for s in sub]
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
        m = MARK if not uniq else {"$and": [MARK] + uniq}
        rule: dict[str, Any] = {"all": [{"m": m}], "run": "noop"}
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
        lv = level
        fields: dict[str, str] = {}
        for i, k in enumerate(lv.indicators):
            fields[k] = f"i{i}"
        for i, key in enumerate(lv.shares):
            fields[key + "#n"], fields[key + "#d"] = f"s{i}n", f"s{i}d"
        self.in_fields = dict(fields)
        self.crit_ids = list(lv.criteria)
        for i, cid in enumerate(self.crit_ids):
            fields[cid] = f"c{i}"
        for i, vid in enumerate(lv.vetoes):
            fields[vid] = f"v{i}"
        fields["vetoed"], fields["total"] = "_vetoed", "_total"
        self.fields = fields
        self.scale = {fields[k]: 10 ** ind.decimals for k, ind in lv.indicators.items() if ind.type == "decimal"}
        self.bools = {fields[k] for k, ind in lv.indicators.items() if ind.type == "boolean"}

        # criteria and vetoes in layers: a layer reads only the 0/1 results of earlier layers,
        # so no rule has to write out another criterion's condition (durable_rules caps a rule
        # at 31 expressions, and small rules keep the Rete network small)
        depth = _depths(lv)
        layers = sorted(set(depth.values()) | {0})
        self.stages = []  # (handle, band_of, veto_of, criteria indexes, veto indexes)
        defs: dict[str, dict] = {}
        polys: list = []
        known: set = set()
        for d in layers:
            comp = _Compiler(lv, fields, set(known))
            rules: dict[str, dict] = {}
            for i, cid in enumerate(self.crit_ids):
                if depth[cid] == d:
                    for j, band in enumerate(lv.criteria[cid].bands):
                        rules.update(_rules(f"c{i}_{j}", comp.cond(band.cond)))
            for i, (vid, v) in enumerate(lv.vetoes.items()):
                if depth[vid] == d:
                    rules.update(_rules(f"v{i}", comp.cond(v.cond)))
            rules.update(_rules("seen", TRUE))  # every fact is handled
            defs[f"criteria{d}"] = rules
            polys += comp.polys
            known |= {n for n, x in depth.items() if x == d}
        comp = _Compiler(lv, fields, set(lv.criteria) | set(lv.vetoes) | {"vetoed"})
        classes: dict[str, dict] = {}
        for i, k in enumerate(lv.classes):
            classes.update(_rules(f"k{i}", TRUE if k.residual else comp.cond(k.cond), pri=i))
        classes.update(_rules("none", TRUE, pri=len(lv.classes)))
        defs["classes"] = classes
        polys += comp.polys
        # the largest value a field may hold so that no compiled product leaves 64-bit integers
        self.cap = min([2 ** 62] + [_cap(deg, s) for deg, s in polys])
        self.definitions = defs
        import hashlib

        digest = hashlib.sha256(json.dumps(defs, sort_keys=True).encode()).hexdigest()[:16]
        h = host()
        veto_ids = list(lv.vetoes)
        for d in layers:
            rules = defs[f"criteria{d}"]
            band_of, veto_of = {}, {}
            for name in rules:
                base = name.split("~")[0]
                if base.startswith("c"):
                    i, j = base[1:].split("_")
                    band_of[name] = (int(i), int(j))
                elif base.startswith("v"):
                    veto_of[name] = veto_ids[int(base[1:])]
            crit_idx = [i for i, cid in enumerate(self.crit_ids) if depth[cid] == d]
            veto_idx = [i for i, vid in enumerate(veto_ids) if depth[vid] == d]
            self.stages.append((h.handle(f"lm-{digest}-criteria{d}", rules), band_of, veto_of, crit_idx, veto_idx))
        self.h_classes = h.handle(f"lm-{digest}-classes", classes)
        self.class_of = {name: (lv.classes[int(name[1:].split("~")[0])].id if name.startswith("k")
                                else UNCLASSIFIED) for name in classes}
        self.n_rules = tuple(len(r) for r in defs.values())
        self.points = [[b.points for b in lv.criteria[cid].bands] for cid in self.crit_ids]
        self.scored = lv.scored
        self.sid = itertools.count()
        self.lock = h.lock
        self.fact_fields = [(k, name) for k, name in self.in_fields.items() if "#" not in k]
        self.veto_ids = veto_ids

    def fact(self, values: dict, extra_ratios: Optional[dict] = None) -> dict:
        f: dict[str, Any] = {"_t": 1, "_z": 0}
        for k, name in self.fact_fields:
            v = values.get(k)
            if v is None:
                continue
            if name in self.bools:
                f[name] = 1 if v else 0
            elif name in self.scale:
                scaled = Decimal(v) * self.scale[name]
                if scaled != scaled.to_integral_value():
                    raise DurableError(f"{k}={v} has more decimal places than the pack allows")
                f[name] = int(scaled)
            elif isinstance(v, int):
                f[name] = v
            else:
                raise DurableError(f"{k}={v!r} is not an integer; refusing to hand it to durable_rules")
        for key, (n, d) in (extra_ratios or {}).items():
            f[self.in_fields[key + "#n"]], f[self.in_fields[key + "#d"]] = n, d
        return f

    def _fire(self, handle, fact: dict, as_event: bool) -> list[str]:
        sid = f"u{next(self.sid)}"
        fact["sid"] = sid
        payload = json.dumps(fact)
        res = (C.assert_event if as_event else C.assert_fact)(handle, payload)
        if res[0] != 0:
            raise DurableError(f"durable_rules did not accept the unit (code {res[0]}): {payload}")
        state = res[1]
        names = []
        try:
            r = C.start_action_for_state(handle, state)
            msg = r[1] if r else None
            while msg:
                names.append(msg[2:msg.index('"', 2)])
                msg = C.complete_and_start_action(handle, state)
        finally:
            C.delete_state(handle, sid)
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
