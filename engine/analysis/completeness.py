"""Completeness of a pack's classes: can a valid submission reach no class, can a class never be
reached? The search behind `lanhmanh check --completeness`.

Per level, the leaves of every condition (atoms) are found, the indicators are joined into groups
that atoms and constraints read together, each group's boundary values are reduced to one
representative per truth vector of its atoms, and the product of the groups is searched. What is
searched, and the proof that the search is exhaustive when every group is regular:
docs/auditing.md, "How the completeness search works".
"""
from __future__ import annotations

import itertools
import math
import random
import time
import warnings
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from lanhmanh.engine.evaluation.outcome import EngineRefused
from lanhmanh.engine.evaluation.python_backend import Compiler, PythonBackend, eval_bool
from lanhmanh.engine.evaluation.scoring import make_backend
from lanhmanh.engine.evaluation.validate import MAX_MAGNITUDE, Validator, shown
from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.engine.model.pack import UNCLASSIFIED, Indicator, Level, Pack, ratio_of, references
from lanhmanh.i18n import _

SHARES = "__shares__"  # the pseudo-indicator of the province's class counts
DEFAULT_BUDGET = 200_000
SEED = 28_2025
GROUP_LIMIT = 100_000  # candidate assignments generated for one group of linked indicators


# ---- atoms -------------------------------------------------------------------------------------

@dataclass
class Atom:
    node: nodes.Node
    kind: str  # cmp | bool | given
    reads: tuple[str, ...]  # input indicators (SHARES for share())
    lin: Optional[tuple[dict, Fraction, str]] = None  # Σ c·x + k OP 0, when linear
    rate: Optional[tuple[str, str, Fraction]] = None  # (derived or share key, op, constant)
    opaque: bool = False  # neither linear nor a rate against a constant


FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


Linear = tuple[dict, Fraction]  # Σ coeff·indicator + constant: ({indicator: coeff}, constant)


class _LinearForm(Visitor[Optional[Linear]]):
    """A numeric expression as a linear form, or None when it is not linear in indicators."""

    def __init__(self, level: Level):
        self.level = level

    def visit_Num(self, node: nodes.Num) -> Optional[Linear]:
        return {}, Fraction(node.value)

    def visit_Name(self, node: nodes.Name) -> Optional[Linear]:
        indicator = self.level.indicators.get(node.id)
        if indicator is not None and indicator.numeric:
            return {node.id: Fraction(1)}, Fraction(0)
        return None

    def visit_Neg(self, node: nodes.Neg) -> Optional[Linear]:
        inner = self.visit(node.operand)
        return None if inner is None else ({k: -c for k, c in inner[0].items()}, -inner[1])

    def visit_Arith(self, node: nodes.Arith) -> Optional[Linear]:
        if node.op not in ("+", "-", "*"):
            return None
        a, b = self.visit(node.left), self.visit(node.right)
        if a is None or b is None:
            return None
        if node.op == "*":
            if a[0] and b[0]:
                return None
            (_unused, factor), (coeffs, constant) = (a, b) if not a[0] else (b, a)
            return {k: c * factor for k, c in coeffs.items()}, factor * constant
        sign = 1 if node.op == "+" else -1
        out = dict(a[0])
        for k, c in b[0].items():
            out[k] = out.get(k, 0) + sign * c
        return {k: c for k, c in out.items() if c}, a[1] + sign * b[1]

    def generic_visit(self, node: nodes.Node) -> Optional[Linear]:
        return None


def _linear(node: nodes.Node, level: Level) -> Optional[Linear]:
    return _LinearForm(level).visit(node)


def _ratio_key(node: nodes.Node, level: Level) -> Optional[str]:
    if isinstance(node, nodes.Name) and node.id in level.derived:
        return node.id
    if isinstance(node, nodes.Call) and node.fn == "share":
        return nodes.to_text(node)
    return None


def _reads(node: nodes.Node, level: Level) -> tuple[set, bool]:
    """Input indicators a numeric expression reads (derived values expanded), and whether it reads
    `total` (a computed value, not an input)."""
    out: set = set()
    special = False
    for x in nodes.walk(node):
        if isinstance(x, nodes.Name):
            if x.id in level.indicators:
                out.add(x.id)
            elif x.id in level.derived:
                out.update(level.derived[x.id].reads)
            elif x.id == "total":
                special = True
        elif isinstance(x, nodes.Call) and x.fn == "share":
            out.add(SHARES)
    return out, special


def _atom_of_compare(node: nodes.Compare, level: Level) -> Optional[Atom]:
    reads, special = _reads(node, level)
    if not reads:
        return None  # total >= 90: computed from the other atoms
    if special:
        return Atom(node, "cmp", tuple(sorted(reads)), opaque=True)
    for side, other, op in ((node.left, node.right, node.op), (node.right, node.left, FLIP[node.op])):
        key = _ratio_key(side, level)
        if key is not None and isinstance(other, nodes.Num):
            return Atom(node, "cmp", tuple(sorted(reads)), rate=(key, op, Fraction(other.value)))
    a, b = _linear(node.left, level), _linear(node.right, level)
    if a is None or b is None:
        return Atom(node, "cmp", tuple(sorted(reads)), opaque=True)
    coeffs = dict(a[0])
    for k, c in b[0].items():
        coeffs[k] = coeffs.get(k, 0) - c
    coeffs = {k: c for k, c in coeffs.items() if c}
    return Atom(node, "cmp", tuple(sorted(reads)), lin=(coeffs, a[1] - b[1], node.op))


class _AtomCollector(Visitor[None]):
    """Appends the atoms of a condition to `out`: comparisons of numbers, yes/no indicators,
    `given(x)`. Criteria, vetoes, `vetoed`, `total` and constants are computed, not atoms."""

    def __init__(self, level: Level, out: list):
        self.level = level
        self.out = out

    def visit_BoolOp(self, node: nodes.BoolOp) -> None:
        for x in node.items:
            self.visit(x)

    def visit_Not(self, node: nodes.Not) -> None:
        self.visit(node.operand)

    def visit_Call(self, node: nodes.Call) -> None:
        if node.fn == "at_least":
            for x in node.args[1:]:
                self.visit(x)
        elif node.fn in ("all", "any"):
            for x in node.args:
                self.visit(x)
        elif node.fn == "given":
            self.out.append(Atom(node, "given", (node.args[0].id,)))

    def visit_Name(self, node: nodes.Name) -> None:
        indicator = self.level.indicators.get(node.id)
        if indicator is not None and not indicator.numeric:
            self.out.append(Atom(node, "bool", (node.id,)))

    def visit_Compare(self, node: nodes.Compare) -> None:
        if self.level.is_condition(node.left):
            self.visit(node.left)
            self.visit(node.right)
        else:
            atom = _atom_of_compare(node, self.level)
            if atom is not None:
                self.out.append(atom)

    def generic_visit(self, node: nodes.Node) -> None:
        return None


def collect_atoms(level: Level, node: nodes.Node, out: list) -> None:
    """The leaves of a condition (atoms), appended to `out`."""
    _AtomCollector(level, out).visit(node)


def level_atoms(level: Level) -> list[Atom]:
    out: list[Atom] = []
    for c in level.criteria.values():
        for b in c.bands:
            collect_atoms(level, b.cond, out)
    for v in level.vetoes.values():
        collect_atoms(level, v.cond, out)
    for cls in level.classes:
        if cls.cond is not None:
            collect_atoms(level, cls.cond, out)
    seen, uniq = set(), []
    for a in out:
        key = nodes.to_text(a.node)
        if key not in seen:
            seen.add(key)
            uniq.append(a)
    return uniq


def constraint_atoms(level: Level) -> list[Atom]:
    out: list[Atom] = []
    for c in level.constraints:
        collect_atoms(level, c.cond, out)
    return out


# ---- number domains ------------------------------------------------------------------------------

def _step(ind: Indicator) -> Fraction:
    return Fraction(1) if ind.type == "integer" else Fraction(1, 10 ** ind.decimals)


def _bounds(ind: Indicator) -> tuple[Fraction, Fraction, bool]:
    """(lo, hi, hi_given) of a numeric indicator, within the validator's magnitude limit."""
    lo = Fraction(ind.min) if ind.min is not None else Fraction(-MAX_MAGNITUDE)
    hi = Fraction(ind.max) if ind.max is not None else Fraction(MAX_MAGNITUDE)
    return max(lo, Fraction(-MAX_MAGNITUDE)), min(hi, Fraction(MAX_MAGNITUDE)), ind.max is not None


def _value(ind: Indicator, x: Fraction):
    """A representable Fraction → the value a validated row holds (int, or Decimal)."""
    if ind.type == "integer":
        return int(x)
    if x.denominator == 1:
        return Decimal(int(x))
    d = Decimal(x.numerator) / Decimal(x.denominator)
    return d.quantize(Decimal(1).scaleb(-ind.decimals)).normalize()


def boundary_values(ind: Indicator, thresholds, plain: list, hi_cap: Optional[Fraction] = None,
                    extra=()) -> list:
    """Representable values of a numeric indicator around every threshold (the value itself and
    its neighbours just below and above), its bounds, 0, and the extra values; plain first."""
    step = _step(ind)
    lo, hi, hi_given = _bounds(ind)
    if hi_cap is not None:
        hi = min(hi, hi_cap)
    ts = sorted(set(thresholds))
    xs: list[Fraction] = []
    for t in ts:
        q = t / step
        below = (math.ceil(q) - 1) * step
        above = (math.floor(q) + 1) * step
        if q.denominator == 1:
            xs.append(t)
        xs.extend((below, above))
    xs.extend((lo, Fraction(0)))
    top = max([abs(t) for t in ts] + [Fraction(1)])
    large = hi if (hi_given or hi_cap is not None) else min(hi, max(Fraction(10 ** 6), top * 10))
    xs.append(large)
    xs.extend(Fraction(e) for e in extra)
    ordered = [Fraction(p) for p in plain if p is not None] + sorted(set(xs))
    out, seen = [], set()
    for x in ordered:
        if lo <= x <= hi and (x / step).denominator == 1 and x not in seen:
            seen.add(x)
            out.append(_value(ind, x))
    return out


def round_multiple(m: int, lo: Fraction, hi: Fraction) -> Optional[int]:
    """The smallest 1, 2 or 5 × 10^k that is a multiple of m within [lo, hi]; else a multiple of m."""
    best = None
    for k in range(13):
        for f in (1, 2, 5):
            x = f * 10 ** k
            if x % m == 0 and lo <= x <= hi and (best is None or x < best):
                best = x
    if best is not None:
        return best
    x = m * max(1, math.ceil(lo / m))
    return x if x <= hi else None


# ---- groups --------------------------------------------------------------------------------------

@dataclass
class Group:
    names: list[str]  # indicators (or SHARES), in the order they are chosen
    atoms: list[Atom]
    constraints: list
    reps: list[dict] = field(default_factory=list)  # one assignment per distinct truth vector
    regular: bool = False
    why: str = ""
    generated: int = 0  # candidate assignments generated, before constraints and dedupe
    values: dict = field(default_factory=dict)  # indicator → set of values tried


class _UnionFind:
    """Disjoint sets of names: `join` puts names in one set, `find` names the set of a name."""

    def __init__(self, names):
        self.parent = {n: n for n in names}

    def find(self, x):
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def join(self, names):
        names = list(names)
        for n in names[1:]:
            self.parent[self.find(n)] = self.find(names[0])


class LevelSearch:
    """The candidate space of one level, as groups of representatives (docs/auditing.md, "How the
    completeness search works")."""

    def __init__(self, pack: Pack, level: Level, available_classes: Optional[list[str]] = None):
        self.pack, self.level = pack, level
        self.is_province = level.name == "province"
        self.atoms = level_atoms(level)
        self.compiler = Compiler(level)
        self.available = available_classes or []
        names = list(level.indicators) + ([SHARES] if level.shares else [])
        uf = _UnionFind(names)
        for a in self.atoms + constraint_atoms(level):
            uf.join(a.reads)
        for d in level.derived.values():
            uf.join(d.reads)
        for c in level.constraints:
            uf.join([n.id for n in nodes.names_in(c.cond) if n.id in level.indicators])
        dens = {k for d in level.derived.values() for k in d.den}
        members: dict[str, list[str]] = {}
        for n in names:
            members.setdefault(uf.find(n), []).append(n)
        self.groups: list[Group] = []
        for root, ms in members.items():
            order = [n for n in ms if n in dens] + [n for n in ms if n not in dens]
            atoms = [a for a in self.atoms if a.reads and uf.find(a.reads[0]) == root]
            cons = [c for c in level.constraints
                    if any(n.id in ms for n in nodes.names_in(c.cond))]
            self.groups.append(Group(order, atoms, cons))
        self.atom_fns = {id(a): self.compiler.condition(a.node) for a in self.atoms}
        self.plain = self._plain_values()
        self.validator_failures: list[str] = []
        for g in self.groups:
            self._regularity(g)
            self._generate(g)
        self.base = {k: v for g in self.groups for k, v in (g.reps[0] if g.reps else {}).items()}
        self._confirm_reps()

    # -- plain values: what a counterexample is shrunk towards -------------------------------------
    def _plain_values(self) -> dict[str, list]:
        defaults = dict(self.pack_case_defaults())
        out: dict[str, list] = {}
        for k, ind in self.level.indicators.items():
            if not ind.numeric:
                first = [defaults[k]] if isinstance(defaults.get(k), bool) else []
                rest = ([None] if not ind.required else []) + [False, True]
                out[k] = first + [x for x in rest if x not in first]
                continue
            cands: list[Optional[Fraction]] = []
            if not ind.required:
                cands.append(None)
            if k in defaults and defaults[k] is not None and not isinstance(defaults[k], bool):
                try:
                    cands.append(Fraction(str(defaults[k])))
                except (ValueError, ZeroDivisionError):
                    pass
            lo, hi, _given = _bounds(ind)
            cands.extend(x for x in (Fraction(0), lo) if lo <= x <= hi)
            out[k] = cands
        return out

    def pack_case_defaults(self) -> dict:
        """The commune values the pack's cases start from: per indicator, the value most commune
        cases give (the loader merges `case_defaults` into every case, so it is that value)."""
        if self.is_province:
            return {}
        out = {}
        cases = [c.given for c in self.pack.cases if c.level == "commune"]
        for k in self.level.indicators:
            vals = [repr(g[k]) for g in cases if k in g]
            if vals:
                best = max(sorted(set(vals)), key=vals.count)
                out[k] = next(g[k] for g in cases if k in g and repr(g[k]) == best)
        return out

    # -- regularity (R1–R3 in docs/auditing.md) ---------------------------------------------------
    def _regularity(self, g: Group) -> None:
        level = self.level
        if any(a.opaque for a in g.atoms):
            g.why = _("a comparison that is neither linear nor a rate against a constant")
            return
        if g.names == [SHARES]:
            g.regular = len(level.shares) == 1
            g.why = "" if g.regular else _("several share(...) values over the same communes")
            return
        if len(g.names) == 1:
            constraint_forms = [_linear_of(c.cond, level) for c in g.constraints]
            g.regular = all(a.rate is None for a in g.atoms) and all(
                len(form[0]) <= 1 for form in constraint_forms if form)
            g.why = "" if g.regular else _("a rate or a constraint with another indicator")
            return
        rates = [d for d in level.derived.values() if set(d.reads) <= set(g.names)]
        dens = {d.den for d in rates}
        if not rates or len(dens) != 1 or len(next(iter(dens))) != 1:
            g.why = _("values compared with each other (not one denominator shared by rates)")
            return
        den = next(iter(dens))[0]
        nums = set()
        for d in rates:
            if len(d.num) != 1 or d.num[0] == den:
                g.why = _("a rate whose numerator is not one indicator")
                return
            nums.add(d.num[0])
        # a capped count (R2): outside the rates, compared with constants only, and `x <= den`
        extra = set(g.names) - nums - {den}
        own = [a for a in g.atoms if a.rate is None and a.lin is not None and set(a.reads) <= extra
               and len(a.reads) == 1]
        if any(a.rate is None and a not in own for a in g.atoms):
            g.why = _("a numerator or denominator also compared on its own")
            return
        capped = set()
        for c in g.constraints:
            lin = _linear_of(c.cond, level)
            ok = lin is not None and len(lin[0]) == 2 and lin[1] == 0 and den in lin[0] and \
                any(k in nums | extra for k in lin[0]) and _is_cap(lin, den)
            if not ok or lin is None:
                g.why = _("a constraint other than numerator <= {den}").format(den=den)
                return
            capped |= set(lin[0]) - {den}
        if extra - capped:
            g.why = _("an indicator outside the rates")
            return
        for n in nums | extra:
            lo, _hi, hi_given = _bounds(level.indicators[n])
            if lo != 0 or hi_given:
                g.why = _("{name} has a minimum other than 0 or a maximum").format(name=n)
                return
        lo = _bounds(level.indicators[den])[0]
        dstar = self._dstar(g)
        if lo < 0 or dstar is None:
            g.why = _("{den} cannot take a round multiple of the thresholds' denominators").format(den=den)
            return
        if any(-lin[1] / c >= dstar for lin in (a.lin for a in own) if lin is not None for c in lin[0].values()):
            g.why = _("a threshold of a count capped by {den} is not below {dstar}").format(den=den, dstar=dstar)
            return
        g.regular = True

    # -- candidate generation ----------------------------------------------------------------------
    def _rate_thresholds(self, g: Group) -> list[Fraction]:
        return [a.rate[2] for a in g.atoms if a.rate is not None]

    def _dstar(self, g: Group, ind: Optional[Indicator] = None) -> Optional[int]:
        ps = self._rate_thresholds(g)
        m = 2
        for p in ps:
            m = m * p.denominator // math.gcd(m, p.denominator)
        if ind is None:
            dens = {k for d in self.level.derived.values() if set(d.reads) <= set(g.names) for k in d.den}
            if len(dens) != 1:
                return None
            ind = self.level.indicators[next(iter(dens))]
        lo, hi, _given = _bounds(ind)
        return round_multiple(m, max(lo, Fraction(1)), hi)

    def _linears(self, g: Group) -> list[tuple[dict, Fraction]]:
        """Linear forms (Σ c·x + k) whose sign change flips an atom or a constraint of the group;
        a rate atom n/d OP p gives n - p·d (meaningful when d > 0)."""
        out = []
        for a in g.atoms:
            if a.lin is not None:
                out.append((a.lin[0], a.lin[1]))
            elif a.rate is not None and a.rate[0] in self.level.derived:
                d = self.level.derived[a.rate[0]]
                coeffs: dict[str, Fraction] = {}
                for k in d.num:
                    coeffs[k] = coeffs.get(k, Fraction(0)) + 1
                for k in d.den:
                    coeffs[k] = coeffs.get(k, Fraction(0)) - a.rate[2]
                out.append(({k: c for k, c in coeffs.items() if c}, Fraction(0)))
        for c in g.constraints:
            lin = _linear_of(c.cond, self.level)
            if lin is not None:
                out.append((lin[0], lin[1]))
        return out

    def _generate(self, g: Group) -> None:
        if g.names == [SHARES]:
            cands = self._share_candidates(g)
        else:
            cands = self._indicator_candidates(g)
        seen: dict[tuple, dict] = {}
        for cand in cands:
            if g.generated >= GROUP_LIMIT:
                g.regular = False
                g.why = _("more than {limit} value combinations in one group: the first were kept").format(
                    limit=GROUP_LIMIT)
                break
            g.generated += 1
            for k, v in cand.items():
                g.values.setdefault(k, set()).add(v)
            if not self._locally_valid(g, cand):
                continue
            sig = self.signature(g, cand)
            if sig not in seen:
                seen[sig] = cand
        g.reps = list(seen.values())

    def _indicator_candidates(self, g: Group):
        level = self.level
        linears = self._linears(g)
        pos = {n: i for i, n in enumerate(g.names)}
        dens = {k for d in level.derived.values() for k in d.den}
        caps = {}
        for c in g.constraints:  # n <= D: the numerator never goes above its denominator
            lin = _linear_of(c.cond, level)
            if lin is not None and len(lin[0]) == 2 and lin[1] == 0:
                for den in lin[0]:
                    if _is_cap(lin, den):
                        caps[next(k for k in lin[0] if k != den)] = den

        def choices(name: str, chosen: dict) -> list:
            ind = level.indicators[name]
            if not ind.numeric:
                return list(self.plain[name])
            ts = []
            for coeffs, k in linears:
                if name not in coeffs or max(coeffs, key=lambda n: pos.get(n, -1)) != name:
                    continue
                rest = k
                for other, c in coeffs.items():
                    if other == name:
                        continue
                    val = chosen.get(other)
                    if val is None:
                        break
                    rest += c * Fraction(val)
                else:
                    ts.append(-rest / coeffs[name])
            extra = []
            if name in dens:
                ds = self._dstar(g, ind)
                if ds is not None:
                    extra.append(ds)
            cap = caps.get(name)
            hi_cap = Fraction(chosen[cap]) if cap is not None and chosen.get(cap) is not None else None
            plain = self.plain.get(name, [])
            vals = boundary_values(ind, ts, [p for p in plain if p is not None], hi_cap, extra)
            if not ind.required:
                vals = [None] + vals
            return vals

        def walk(i: int, chosen: dict):
            if i == len(g.names):
                yield dict(chosen)
                return
            name = g.names[i]
            for v in choices(name, chosen):
                chosen[name] = v
                yield from walk(i + 1, chosen)
            chosen.pop(name, None)

        return walk(0, {})

    def _share_candidates(self, g: Group):
        """Class counts of the province's communes: D* communes (and 1), split between the classes
        inside and outside the share(s) at every threshold and next to it."""
        level = self.level
        classes = self.available or [c.id for c in self.pack.commune.classes]
        keys = list(level.shares)
        regions: dict[tuple, list[str]] = {}
        for c in classes:
            regions.setdefault(tuple(c in level.shares[k] for k in keys), []).append(c)
        regs = list(regions.items())
        ps = {k: [a.rate[2] for a in g.atoms if a.rate is not None and a.rate[0] == k] for k in keys}
        m = 2
        for p in (p for v in ps.values() for p in v):
            m = m * p.denominator // math.gcd(m, p.denominator)
        dstar = round_multiple(m, Fraction(1), Fraction(10 ** 6)) or m
        for d in (dstar, 1):
            def counts_for(i: int, left: int, acc: list, d: int = d):
                if i == len(regs) - 1:
                    yield acc + [left]
                    return
                member = regs[i][0]
                opts = {0, 1, left}
                for j, k in enumerate(keys):
                    if member[j]:
                        for p in ps[k]:
                            t = p * d
                            opts.update((math.floor(t) - 1, math.floor(t), math.ceil(t), math.ceil(t) + 1))
                for x in sorted(o for o in opts if 0 <= o <= left):
                    yield from counts_for(i + 1, left - x, acc + [x], d)

            for counts in counts_for(0, d, []):
                yield {SHARES: tuple((regs[i][1][0], n) for i, n in enumerate(counts) if n)}

    # -- validity and signatures -------------------------------------------------------------------
    def _locally_valid(self, g: Group, cand: dict) -> bool:
        """The validator's cross-field checks restricted to the group (every constraint and derived
        value reads one group only): constraints with no blank value hold, no `reject` rate has a
        zero denominator. Bounds and types hold by construction."""
        if self.is_province or g.names == [SHARES]:
            return True
        for c in g.constraints:
            reads = [n.id for n in nodes.names_in(c.cond)]
            if any(cand.get(n) is None for n in reads):
                continue
            if not eval_bool(c.cond, cand, self.level):
                return False
        for d in self.level.derived.values():
            if d.zero == "reject" and set(d.reads) <= set(g.names):
                r = ratio_of(cand, d.num, d.den)
                if r is not None and r[1] == 0:
                    return False
        return True

    def prepared(self, values: dict) -> dict:
        v = {k: val for k, val in values.items() if k != SHARES}
        for d in self.level.derived.values():
            v[d.id] = ratio_of(v, d.num, d.den)
        if self.level.shares:
            v.update(self.share_ratios(values))
        return v

    def share_ratios(self, values: dict) -> dict:
        counts = dict(values.get(SHARES, ()))
        total = sum(counts.values())
        return {k: (sum(counts.get(c, 0) for c in ids), total) for k, ids in self.level.shares.items()}

    def signature(self, g: Group, cand: dict) -> tuple:
        v = self.prepared(cand)
        return tuple(bool(self.atom_fns[id(a)](v)) for a in g.atoms)

    # -- the real validator ------------------------------------------------------------------------
    def validate(self, values: dict):
        """Validate a candidate as a submitted row; returns (unit or None, reasons)."""
        v = Validator(self.pack)
        if self.is_province:
            record = {"unit_code": "", "unit_name": "Tỉnh", "unit_type": "tỉnh", "province_code": "01"}
        else:
            record = {"unit_code": "00001", "unit_name": "Xã 00001", "unit_type": "xã", "province_code": "01"}
        record.update({k: val for k, val in values.items() if k != SHARES})
        unit = v.row("completeness", 1, record)
        reasons = [f"{r.column}={shown(r.value)}: {r.reason}" for r in v.rejected]
        return unit, reasons

    def _confirm_reps(self) -> None:
        unit, reasons = self.validate(self.base)
        if unit is None:
            raise RuntimeError(f"the search's base row is not valid: {'; '.join(reasons)}")
        for g in self.groups:
            kept = []
            for rep in g.reps:
                unit, reasons = self.validate({**self.base, **rep})
                if unit is None:
                    self.validator_failures.append("; ".join(reasons))
                else:
                    kept.append(rep)
            g.reps = kept

    @property
    def product_size(self) -> int:
        n = 1
        for g in self.groups:
            n *= max(1, len(g.reps))
        return n


def _linear_of(node: nodes.Node, level: Level) -> Optional[tuple[dict, Fraction, str]]:
    if not isinstance(node, nodes.Compare) or level.is_condition(node.left):
        return None
    a, b = _linear(node.left, level), _linear(node.right, level)
    if a is None or b is None:
        return None
    coeffs = dict(a[0])
    for k, c in b[0].items():
        coeffs[k] = coeffs.get(k, 0) - c
    return {k: c for k, c in coeffs.items() if c}, a[1] - b[1], node.op


def _is_cap(lin, den: str) -> bool:
    """`n <= den` (or `den >= n`, `n < den`…): the constraint caps the other indicator by den."""
    coeffs, k, op = lin
    other = [x for x in coeffs if x != den]
    if len(other) != 1 or k != 0:
        return False
    n = other[0]
    c_n, c_d = coeffs[n], coeffs[den]
    if op in ("<=", "<"):
        return c_n > 0 and c_d == -c_n
    if op in (">=", ">"):
        return c_n < 0 and c_d == -c_n
    return False


# ---- the search ----------------------------------------------------------------------------------

@dataclass
class Counterexample:
    values: dict
    class_id: str
    met: list[str]
    vetoes: list[str]
    total: Optional[int]
    durable_class: Optional[str] = None
    durable_note: str = ""


@dataclass
class LevelResult:
    level: str
    classes: list[str]
    residual: Optional[str]
    searched: int = 0
    exhaustive: bool = False
    complete_product: bool = False
    method: str = ""
    irregular: list[str] = field(default_factory=list)
    boundary_values: int = 0
    indicators_searched: int = 0
    reached: dict = field(default_factory=dict)  # class → count
    fell_through: int = 0
    counterexample: Optional[Counterexample] = None
    unreached: list[str] = field(default_factory=list)
    budget_spent: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    search: Optional["LevelSearch"] = None  # the groups and their representatives

    @property
    def problem(self) -> bool:
        return self.counterexample is not None or bool(self.unreached)


class _Evaluator:
    def __init__(self, search: LevelSearch):
        self.search = search
        self.backend = PythonBackend(search.level)

    def __call__(self, values: dict):
        shares = self.search.share_ratios(values) if self.search.level.shares else None
        return self.backend.evaluate({k: v for k, v in values.items() if k != SHARES}, shares)

    def class_truths(self, values: dict):
        """(outcome, [does class i's condition hold] for every class, first match or not)."""
        v = self.search.prepared(values)
        out = self.backend.evaluate_prepared(v)
        return out, [True if cond is None else bool(cond(v)) for _cls, cond in self.backend.classes]


def search_level(pack: Pack, level: Level, budget: int = DEFAULT_BUDGET,
                 available: Optional[list[str]] = None) -> LevelResult:
    t0 = time.perf_counter()
    search = LevelSearch(pack, level, available)
    residual = next((c.id for c in level.classes if c.residual), None)
    res = LevelResult(level.name, [c.id for c in level.classes], residual)
    res.irregular = [f"{', '.join(g.names)} ({g.why})" for g in search.groups if g.atoms and not g.regular]
    res.boundary_values = sum(len(vals) for g in search.groups if len(g.reps) > 1 for vals in g.values.values())
    res.indicators_searched = sum(len(g.names) for g in search.groups if len(g.reps) > 1)
    res.notes.extend(_("a candidate the validator rejected was left out: {reasons}").format(reasons=f)
                     for f in search.validator_failures)
    evaluate = _Evaluator(search)
    reached: dict[str, int] = {}
    first_fall: Optional[dict] = None
    want = set(res.classes)

    def done() -> bool:
        # without a residual class the whole space is searched (the count of units falling through
        # and the proof need it); with one, nothing can fall through: stop once every class is seen
        return residual is not None and want <= set(reached)

    def visit(values: dict) -> None:
        nonlocal first_fall
        out = evaluate(values)
        reached[out.class_id] = reached.get(out.class_id, 0) + 1
        if out.class_id == UNCLASSIFIED and first_fall is None:
            first_fall = dict(values)

    order = [g for g in search.groups if g.reps]
    if search.product_size <= budget:
        res.method = _("every combination of the groups' representatives")
        stopped = False
        for combo in itertools.product(*(g.reps for g in order)):
            values: dict = {}
            for part in combo:
                values.update(part)
            visit(values)
            res.searched += 1
            if done():
                stopped = True
                break
        res.complete_product = not stopped
    else:
        res.method = _("the base row with every pair of groups varied, a hill-climb towards each missing outcome, "
                       "then random combinations (seed {seed}) up to the budget of {budget}").format(seed=SEED,
                                                                                                budget=budget)
        for values in _pairs(search.base, order):
            if res.searched >= budget or done():
                break
            visit(values)
            res.searched += 1
        rng = random.Random(SEED)
        goals = ([] if residual else [None]) + [c for c in res.classes if c not in reached]
        share = (budget - res.searched) // (2 * max(1, len(goals)))
        for goal in goals:
            if done() or (goal is None and first_fall is not None) or goal in reached:
                continue
            for values in _targeted(evaluate, order, search.base, res.classes, goal, share, rng):
                visit(values)
                res.searched += 1
                if res.searched >= budget or done():
                    break
        while res.searched < budget and not done():
            values = {}
            for g in order:
                values.update(g.reps[rng.randrange(len(g.reps))])
            visit(values)
            res.searched += 1
        res.budget_spent = res.searched >= budget
    res.exhaustive = res.complete_product and not res.irregular and not search.validator_failures
    res.reached = {c: reached[c] for c in res.classes if c in reached}
    res.fell_through = reached.get(UNCLASSIFIED, 0)
    res.unreached = [c for c in res.classes if c not in reached]
    if first_fall is not None:
        res.counterexample = _counterexample(search, shrink(search, evaluate, first_fall))
    res.seconds = time.perf_counter() - t0
    res.search = search
    return res


def _pairs(base: dict, groups: list[Group]):
    yield dict(base)
    for g in groups:
        for rep in g.reps[1:]:
            yield {**base, **rep}
    for i, g in enumerate(groups):
        for h in groups[i + 1:]:
            for a in g.reps[1:]:
                for b in h.reps[1:]:
                    yield {**base, **a, **b}


def _targeted(evaluate: _Evaluator, groups: list[Group], base: dict, classes: list[str],
              goal: Optional[str], steps: int, rng: random.Random):
    """Hill-climb over the groups' representatives towards a goal: no class condition holding
    (goal None: a unit falling through), or class `goal` reached (its condition holds and no earlier
    class's does). Restarts from random combinations; yields every row it evaluates."""
    def distance(values: dict) -> int:
        _out, holds = evaluate.class_truths(values)
        if goal is None:
            return sum(holds)
        i = classes.index(goal)
        return sum(holds[:i]) + (0 if holds[i] else 1)

    used = 0
    start = dict(base)
    while used < steps:
        cur, best = start, distance(start)
        used += 1
        yield cur
        improved = True
        while improved and best > 0 and used < steps:
            improved = False
            for g in groups:
                for rep in g.reps:
                    trial = {**cur, **rep}
                    if trial == cur:
                        continue
                    d = distance(trial)
                    used += 1
                    yield trial
                    if d < best:
                        cur, best, improved = trial, d, True
                        break
                    if used >= steps:
                        return
                if improved:
                    break
        if best == 0:
            return
        start = {}
        for g in groups:
            start.update(g.reps[rng.randrange(len(g.reps))])


def shrink(search: LevelSearch, evaluate, values: dict) -> dict:
    """Replace values by plainer ones (the pack's case defaults, 0, the minimum, blank, false)
    while the row stays valid and still reaches no class."""
    cur = dict(values)
    for _round in range(2):
        changed = False
        for name in [n for g in search.groups for n in g.names if n != SHARES]:
            ind = search.level.indicators[name]
            for p in search.plain.get(name, []):
                cand_val = p if (p is None or isinstance(p, bool)) else _value(ind, p)
                if cand_val == cur.get(name) or (p is not None and not isinstance(p, bool) and
                                                 (p / _step(ind)).denominator != 1):
                    continue
                trial = {**cur, name: cand_val}
                if evaluate(trial).class_id != UNCLASSIFIED:
                    continue
                if search.validate(trial)[0] is None:
                    continue
                cur, changed = trial, True
                break
        if not changed:
            break
    return cur


def _counterexample(search: LevelSearch, values: dict) -> Counterexample:

    unit, reasons = search.validate(values)
    if unit is None:
        raise RuntimeError(f"a counterexample failed validation: {'; '.join(reasons)}")
    vals = dict(unit.values)
    shares = search.share_ratios(values) if search.level.shares else None
    out = PythonBackend(search.level).evaluate(dict(vals), shares)
    ids = list(search.level.criteria)
    ce = Counterexample(dict(values), out.class_id, [ids[i] for i, o in enumerate(out.outcomes) if o[0]],
                        list(out.vetoes), out.total)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        durable = make_backend("durable", search.level)
    if caught or getattr(durable, "name", "") != "durable":  # not installed, or the pack is beyond it
        # the warning's reason, without what it goes on to say ("; using the pure-Python backend…")
        said = str(caught[0].message) if caught else ""
        why = said.split("; using")[0] if "; using" in said else said.rsplit(";", 1)[0]
        ce.durable_note = _("{reason}: checked on the Python backend only").format(
            reason=why or _("durable_rules is not installed"))
        return ce
    try:
        d = durable.evaluate(dict(vals), shares)
        ce.durable_class = d.class_id
    except EngineRefused as e:  # a value beyond what durable_rules holds exactly
        ce.durable_note = _("the durable backend refused the row: {error}").format(error=e)
    return ce


@dataclass
class PackResult:
    pack: Pack
    levels: list[LevelResult]

    @property
    def problem(self) -> bool:
        return any(level.problem for level in self.levels)


def check_completeness(pack: Pack, budget: int = DEFAULT_BUDGET) -> PackResult:
    levels = [search_level(pack, pack.commune, budget)]
    if pack.province is not None:
        c = levels[0]
        if c.exhaustive:
            avail = list(c.reached)
        else:
            avail = c.classes + ([] if c.residual else [UNCLASSIFIED])
        if c.fell_through and UNCLASSIFIED not in avail:
            avail.append(UNCLASSIFIED)
        levels.append(search_level(pack, pack.province, budget, avail))
    return PackResult(pack, levels)


# ---- the report ----------------------------------------------------------------------------------

def show_value(v: Any) -> str:
    if v is None:
        return _("(blank)")
    if v is True:
        return "có (true)"
    if v is False:
        return "không (false)"
    return str(v)


def show_rate(n, d) -> str:
    """50/10000 = 0.5%: exact; the percentage only when it is a terminating decimal."""
    if d == 0:
        return f"{n}/{d}"
    fr = Fraction(n) / Fraction(d)
    pct = fr * 100
    den = pct.denominator
    while den % 2 == 0:
        den //= 2
    while den % 5 == 0:
        den //= 5
    text = f"{_num(n)}/{_num(d)}"
    if den == 1:
        dec = Decimal(pct.numerator) / Decimal(pct.denominator)
        s = format(dec.normalize(), "f")
        return f"{text} = {s}%"
    return _("{rate} (≈ {percent}%, compared exactly)").format(rate=text, percent=f"{float(pct):.4g}")


def _num(x) -> str:
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else str(x)
    return str(x)


def describe_class(level: Level, cls, v: dict) -> str:
    """`class: condition` with the criteria and vetoes it reads that hold."""
    if cls.cond is None:
        return _("{id}: residual").format(id=cls.id)

    refs = [r for r in list(level.criteria) + list(level.vetoes) if r in references(cls.cond, level)]
    held = [r for r in refs if v.get(r) is True]
    bits = []
    if refs:
        bits.append(_("met: {criteria}").format(criteria=", ".join(held) if held else _("none")))
    if "total" in {n.id for n in nodes.names_in(cls.cond)}:
        bits.append(_("total {total}").format(total=v.get("total")))
    if "vetoed" in {n.id for n in nodes.names_in(cls.cond)}:
        bits.append(_("vetoed") if v.get("vetoed") else _("not vetoed"))
    if bits:
        return _("{id}: `{condition}` is false ({details})").format(id=cls.id, condition=cls.text,
                                                                     details="; ".join(bits))
    return _("{id}: `{condition}` is false").format(id=cls.id, condition=cls.text)


def _yaml_scalar(v: Any) -> str:
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Decimal):
        return format(v, "f")
    return str(v)


def yaml_case(pack: Pack, ce: Counterexample) -> list[str]:
    """The counterexample as a scenario case for the pack's `cases:` (commune level)."""
    inds = pack.commune.indicators
    given = ", ".join(f"{k}: {_yaml_scalar(ce.values.get(k))}" for k in inds)
    met = ", ".join(ce.met)
    case = (f"- {{name: không xếp được loại (lanhmanh check --completeness), given: {{{given}}}, "
            f"expect: {{class: {UNCLASSIFIED}}}}}")
    comment = _("# completeness: reaches no class (meets {criteria})").format(criteria=met) if met else \
        _("# completeness: reaches no class (meets no criterion)")
    return [comment, case]


def render(result: PackResult) -> list[str]:
    pack = result.pack
    lines = [_("{path}: completeness of {pack} {version}:").format(path=pack.path, pack=pack.id, version=pack.version)]
    for level_result in result.levels:
        lines.extend("  " + x for x in _render_level(pack, level_result))
    return lines


def _render_level(pack: Pack, result: LevelResult) -> list[str]:
    level = pack.commune if result.level == "commune" else pack.province
    search = result.search
    if level is None or search is None:
        raise ValueError(f"the pack has no {result.level} level, or it was not searched")
    n = result.searched
    province = result.level == "province"
    out = []
    said = {"n": n, "values": result.boundary_values, "indicators": result.indicators_searched}
    scope = (_("searched {n} candidate province(s); {values} boundary value(s) of {indicators} indicator(s)")
             if province else
             _("searched {n} candidate submission(s); {values} boundary value(s) of {indicators} indicator(s)")
             ).format(**said)
    if result.residual:
        verdict = (_("no province can fall through every class (a residual class catches it); {scope}") if province
                   else _("no commune can fall through every class (a residual class catches it); {scope}"))
    elif result.counterexample is None:
        verdict = (_("no province falls through every class ({scope})") if province
                   else _("no submission falls through every class ({scope})"))
    else:
        verdict = (_("FALLS THROUGH: a province reaches no class ({scope}; {k} reach no class)") if province
                   else _("FALLS THROUGH: a valid submission reaches no class ({scope}; {k} reach no class)"))
    verdict = verdict.format(scope=scope, k=result.fell_through)
    if result.residual:
        head = (_("province level ({n} classes, residual class {residual}): {verdict}") if province
                else _("commune level ({n} classes, residual class {residual}): {verdict}"))
    else:
        head = (_("province level ({n} classes, no residual class): {verdict}") if province
                else _("commune level ({n} classes, no residual class): {verdict}"))
    out.append(head.format(n=len(result.classes), residual=result.residual, verdict=verdict))
    matters = not result.residual or bool(result.unreached)  # is there a claim that needs the whole space?
    if result.exhaustive and matters:
        out.append("  " + _("exhaustive: every combination of the atoms' truth values that a valid submission "
                            "can give was searched (the proof is in docs/auditing.md)"))
    elif result.complete_product and matters:
        out.append("  " + _("not a proof: every combination of the groups' boundary values was searched, but "
                            "these groups' values are compared with each other: {groups}").format(
            groups="; ".join(result.irregular)))
    elif result.budget_spent:
        out.append("  " + _("not exhaustive: {n} combinations exceed the budget; searched {method}").format(
            n=search.product_size, method=result.method))
    elif not result.complete_product:
        out.append("  " + _("stopped once every class was reached ({n} combinations in all)").format(
            n=search.product_size))
    if result.counterexample is not None:
        out.extend("  " + x for x in _render_counterexample(pack, level, search, result, result.counterexample))
    for cid in result.unreached:
        cls = next(c for c in level.classes if c.id == cid)
        if result.exhaustive:
            out.append("  " + _("class {id} can never be reached: no combination of the atoms' truth values "
                                "reaches it (condition: {condition})").format(id=cid, condition=cls.text))
        else:
            out.append("  " + _("class {id} was never reached in {n} candidates: possible problem "
                                "(condition: {condition})").format(id=cid, n=n, condition=cls.text))
    counts = ", ".join(f"{c} {k}" for c, k in result.reached.items())
    out.append("  " + (_("every class reached: {counts}").format(counts=counts) if not result.unreached
                       else _("classes reached: {counts}").format(counts=counts or _("none"))))
    out.extend("  " + _("note: {note}").format(note=x) for x in result.notes)
    return out


def _render_counterexample(pack: Pack, level: Level, search: LevelSearch, result: LevelResult,
                           ce: Counterexample) -> list[str]:
    out = [_("counterexample:")]
    vals = ce.values
    for k in level.indicators:
        if search.is_province and k not in vals:
            continue
        out.append(f"  {k} = {show_value(vals.get(k))}")
    for d in level.derived.values():
        r = ratio_of(vals, d.num, d.den)
        if r is not None:
            out.append(f"  {d.id} = {d.text} = {show_rate(*r)}")
    if SHARES in vals:
        counts = dict(vals[SHARES])
        for key, (num, den) in search.share_ratios(vals).items():
            out.append("  " + _("{share} = {rate} (communes: {counts})").format(
                share=key, rate=show_rate(num, den), counts=", ".join(f"{c} {k}" for c, k in counts.items())))
    parts = [_("criteria met: {criteria}").format(criteria=", ".join(ce.met) if ce.met else _("none"))]
    if ce.vetoes:
        parts.append(_("vetoes: {vetoes}").format(vetoes=", ".join(ce.vetoes)))
    if ce.total is not None:
        parts.append(_("total {total}").format(total=ce.total))
    out.append("  " + "; ".join(parts))
    v = search.prepared(vals)
    PythonBackend(level).evaluate_prepared(v)
    for cls in level.classes:
        out.append("  " + _("class {description}").format(description=describe_class(level, cls, v)))
    if ce.durable_class is not None:
        said = _("durable backend: {cls} (the same class)") if ce.durable_class == ce.class_id else \
            _("durable backend: {cls} (A DIFFERENT CLASS)")
        out.append("  " + said.format(cls=ce.durable_class))
    elif ce.durable_note:
        out.append(f"  {ce.durable_note}")
    if result.level == "commune":
        out.append(_("paste into the pack's `cases:` to keep this example:"))
        out.extend("  " + x for x in yaml_case(pack, ce))
    return out
