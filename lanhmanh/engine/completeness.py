"""Completeness of a pack's classes: can a valid submission reach no class, can a class never be
reached? The search behind `lanhmanh check --completeness`.

What is searched, per level (communes; provinces too when the pack has a province level):

* The inputs the vocabulary allows. A commune submission is one value per indicator within its
  type and bounds (blank too for an optional indicator) that the pack's `Validator` accepts (the
  cross-field constraints and the zero-denominator policy `reject`). A province is the figures its
  criteria read: every summed commune indicator (the province row may supply any of them, within
  the commune indicator's bounds), the province-only indicators, and for `share(...)` the number of
  communes in each commune class.

* Atoms. Every leaf of every criterion, band, veto and class condition is an atom: a comparison of
  numbers (`x >= 3000`, `user_rate < 0.5%`, `new < prev`, `share(type_1) >= 3%`), a yes/no
  indicator, or `given(x)`. A unit's class is a function of the truth values of the atoms alone:
  criteria, vetoes, `total` and `vetoed` are computed from them.

* Groups. Indicators are joined into one group when an atom, a derived rate or a constraint reads
  them together (population, users_with_records and drug_arrests make one group through the two
  rates); every other indicator is a group of its own. Every atom and every constraint reads one
  group only, so (a) the truth values of the atoms of one group depend on that group's values
  alone, and (b) a row is valid exactly when each of its groups is valid.

* Candidate values, per group. Indicators are chosen one after the other (denominators first);
  an indicator gets, for every comparison it closes (it is the last value the comparison reads),
  the value at which the comparison flips and the representable values just below and above it
  (`x >= t`: t and t-1 for a whole number, t - 0.01 at 2 decimals; `n / d >= p` with d chosen:
  p*d, and the whole numbers around it, computed exactly with Fractions), plus 0, its minimum, its
  maximum or a large value, and blank when optional. A denominator also gets D*, a round multiple
  of twice the least common denominator of every threshold of its rates (20000 for thresholds
  0.05%, 0.1%, 0.5%), and 0 when its minimum allows it (the zero-denominator policy decides then).
  Each candidate is checked with the pack's constraints (as `validate.py` checks them), then the
  candidates are reduced to one per distinct truth vector of the group's atoms (the first, most
  plain one). Every representative is confirmed by the real `Validator` on a full row.

* Combinations. When the product of the groups' representatives fits in the budget, every
  combination is evaluated (by the Python backend, which `lanhmanh test` holds identical to the
  durable one); otherwise the base row with every pair of groups varied, a hill-climb towards each
  outcome not seen yet (a unit falling through; each class not reached), then random combinations
  from a fixed seed, until the budget is spent. The search is deterministic. A level with a
  residual class cannot fall through, so its search stops once every class has been reached; a
  level without one is searched whole (within the budget).

A counterexample is shrunk (each value replaced by a plainer one while the row stays valid and
still reaches no class), validated by the `Validator` as a submitted row is, and scored again on
the durable backend.

**When the search is exhaustive.** Call a group *regular* when it is

(R1) one indicator whose atoms and constraints compare it with constants only (or a yes/no
     indicator, or `given(x)`); or
(R2) one denominator indicator D (minimum ≥ 0, no other atom or constraint reads it) shared by
     rates n_j / D compared with constants, each numerator n_j a single indicator with minimum 0
     and no maximum, read by nothing else but its rates and a constraint `n_j <= D`; or
(R3) at province level, a single `share(...)` over the number of communes.

Claim: if every group is regular and the whole product is evaluated, every truth vector of the
atoms that some valid submission realizes is realized by a searched candidate; so a class never
reached can never be reached, and if none falls through, no valid submission falls through.

Proof. By (a) and (b), the set of realizable truth vectors is the product over groups of each
group's realizable vectors, and the search takes that product; it remains to show that each group's
candidates realize each vector the group can realize.
(R1) The thresholds t_1 < ... < t_k of the indicator cut its domain [lo, hi] (representable values:
whole numbers, or multiples of 10^-decimals) into points {t_i} and open intervals; every atom is
constant on each piece. A point piece holds t_i, a candidate when representable. An open piece
(a, b) ∩ [lo, hi] holding a representable value v: if lo lies in it, lo is a candidate; otherwise
lo <= a, so a is a threshold, and next(a), the least representable value above a, satisfies
a < next(a) <= v < b and next(a) <= hi: a candidate in the piece. Blank is a candidate of an
optional indicator.
(R2) D = 0 (when allowed) is a candidate, and every rate atom then takes the policy's value
whatever n_j is. For D > 0: every threshold p is a multiple of 1/L, and D* a multiple of 2L, so
p*D* is a whole number and two consecutive thresholds are at least 2 apart on the numerator
scale. With D fixed, the numerator n_j is an (R1) indicator with thresholds p*D* and domain
[0, 10^12] (or [0, D*] under `n_j <= D`), so every piece of the rate axis that holds a value k/D*
is realized, and the numerators are chosen independently, giving every combination. Any other
D > 0 realizes no more: a rate value k/D in [0, cap] (cap = 1 under the constraint) lies in a
point piece p (then p*D* is a candidate), or in the open piece above a threshold a, where
a*D* + 1 lies in the same piece (the next threshold is at least 2 above, and a < k/D <= cap keeps
a*D* + 1 <= cap*D*), or below the lowest threshold, where 0 lies (the rate is never negative).
(R3) is (R2) with D = the number of communes (at least 1) and the numerator the communes of the
share's classes (capped by D); each side of the share takes its count from any class that the
commune level can reach. ∎
"""
from __future__ import annotations

import itertools
import math
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from . import expr as E
from .pack import UNCLASSIFIED, Indicator, Level, Pack
from .python_backend import Compiler, PythonBackend, eval_bool, ratio_of
from .validate import MAX_MAGNITUDE, Validator

SHARES = "__shares__"  # the pseudo-indicator of the province's class counts
DEFAULT_BUDGET = 200_000
SEED = 28_2025
GROUP_LIMIT = 100_000  # candidate assignments generated for one group of linked indicators


# ---- atoms -------------------------------------------------------------------------------------

@dataclass
class Atom:
    node: E.Node
    kind: str  # cmp | bool | given
    reads: tuple[str, ...]  # input indicators (SHARES for share())
    lin: Optional[tuple[dict, Fraction, str]] = None  # Σ c·x + k OP 0, when linear
    rate: Optional[tuple[str, str, Fraction]] = None  # (derived or share key, op, constant)
    opaque: bool = False  # neither linear nor a rate against a constant


FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}


def _linear(node: E.Node, level: Level) -> Optional[tuple[dict, Fraction]]:
    """Σ coeff·indicator + constant, or None when the expression is not linear in indicators."""
    if isinstance(node, E.Num):
        return {}, Fraction(node.value)
    if isinstance(node, E.Name) and node.id in level.indicators and level.indicators[node.id].numeric:
        return {node.id: Fraction(1)}, Fraction(0)
    if isinstance(node, E.Neg):
        inner = _linear(node.operand, level)
        return None if inner is None else ({k: -c for k, c in inner[0].items()}, -inner[1])
    if isinstance(node, E.Arith) and node.op in "+-*":
        a, b = _linear(node.left, level), _linear(node.right, level)
        if a is None or b is None:
            return None
        if node.op == "*":
            if a[0] and b[0]:
                return None
            (_, ka), (cb, kb) = (a, b) if not a[0] else (b, a)
            return {k: c * ka for k, c in cb.items()}, ka * kb
        sign = 1 if node.op == "+" else -1
        out = dict(a[0])
        for k, c in b[0].items():
            out[k] = out.get(k, 0) + sign * c
        return {k: c for k, c in out.items() if c}, a[1] + sign * b[1]
    return None


def _ratio_key(node: E.Node, level: Level) -> Optional[str]:
    if isinstance(node, E.Name) and node.id in level.derived:
        return node.id
    if isinstance(node, E.Call) and node.fn == "share":
        return E.to_text(node)
    return None


def _reads(node: E.Node, level: Level) -> tuple[set, bool]:
    """Input indicators a numeric expression reads (derived values expanded), and whether it reads
    `total` (a computed value, not an input)."""
    out: set = set()
    special = False
    for x in E.walk(node):
        if isinstance(x, E.Name):
            if x.id in level.indicators:
                out.add(x.id)
            elif x.id in level.derived:
                out.update(level.derived[x.id].reads)
            elif x.id == "total":
                special = True
        elif isinstance(x, E.Call) and x.fn == "share":
            out.add(SHARES)
    return out, special


def _atom_of_compare(node: E.Compare, level: Level) -> Optional[Atom]:
    reads, special = _reads(node, level)
    if not reads:
        return None  # total >= 90: computed from the other atoms
    if special:
        return Atom(node, "cmp", tuple(sorted(reads)), opaque=True)
    for side, other, op in ((node.left, node.right, node.op), (node.right, node.left, FLIP[node.op])):
        key = _ratio_key(side, level)
        if key is not None and isinstance(other, E.Num):
            return Atom(node, "cmp", tuple(sorted(reads)), rate=(key, op, Fraction(other.value)))
    a, b = _linear(node.left, level), _linear(node.right, level)
    if a is None or b is None:
        return Atom(node, "cmp", tuple(sorted(reads)), opaque=True)
    coeffs = dict(a[0])
    for k, c in b[0].items():
        coeffs[k] = coeffs.get(k, 0) - c
    coeffs = {k: c for k, c in coeffs.items() if c}
    return Atom(node, "cmp", tuple(sorted(reads)), lin=(coeffs, a[1] - b[1], node.op))


def collect_atoms(level: Level, node: E.Node, out: list) -> None:
    """The leaves of a condition (see the module docstring), appended to `out`."""
    if isinstance(node, E.BoolOp):
        for x in node.items:
            collect_atoms(level, x, out)
    elif isinstance(node, E.Not):
        collect_atoms(level, node.operand, out)
    elif isinstance(node, E.Call):
        if node.fn == "at_least":
            for x in node.args[1:]:
                collect_atoms(level, x, out)
        elif node.fn in ("all", "any"):
            for x in node.args:
                collect_atoms(level, x, out)
        elif node.fn == "given":
            out.append(Atom(node, "given", (node.args[0].id,)))
    elif isinstance(node, E.Name):
        ind = level.indicators.get(node.id)
        if ind is not None and not ind.numeric:
            out.append(Atom(node, "bool", (node.id,)))
    elif isinstance(node, E.Compare):
        if level.is_condition(node.left):
            collect_atoms(level, node.left, out)
            collect_atoms(level, node.right, out)
        else:
            a = _atom_of_compare(node, level)
            if a is not None:
                out.append(a)


def level_atoms(level: Level) -> list[Atom]:
    out: list[Atom] = []
    for c in level.criteria.values():
        for b in c.bands:
            collect_atoms(level, b.cond, out)
    for v in level.vetoes.values():
        collect_atoms(level, v.cond, out)
    for c in level.classes:
        if c.cond is not None:
            collect_atoms(level, c.cond, out)
    seen, uniq = set(), []
    for a in out:
        key = E.to_text(a.node)
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


class _UF:
    def __init__(self, names):
        self.p = {n: n for n in names}

    def find(self, x):
        while self.p[x] != x:
            self.p[x] = self.p[self.p[x]]
            x = self.p[x]
        return x

    def join(self, names):
        names = list(names)
        for n in names[1:]:
            self.p[self.find(n)] = self.find(names[0])


class LevelSearch:
    """The candidate space of one level, as groups of representatives (see the module docstring)."""

    def __init__(self, pack: Pack, level: Level, available_classes: Optional[list[str]] = None):
        self.pack, self.level = pack, level
        self.is_province = level.name == "province"
        self.atoms = level_atoms(level)
        self.compiler = Compiler(level)
        self.available = available_classes or []
        names = list(level.indicators) + ([SHARES] if level.shares else [])
        uf = _UF(names)
        for a in self.atoms + constraint_atoms(level):
            uf.join(a.reads)
        for d in level.derived.values():
            uf.join(d.reads)
        for c in level.constraints:
            uf.join([n.id for n in E.names_in(c.cond) if n.id in level.indicators])
        dens = {k for d in level.derived.values() for k in d.den}
        members: dict[str, list[str]] = {}
        for n in names:
            members.setdefault(uf.find(n), []).append(n)
        self.groups: list[Group] = []
        for root, ms in members.items():
            order = [n for n in ms if n in dens] + [n for n in ms if n not in dens]
            atoms = [a for a in self.atoms if a.reads and uf.find(a.reads[0]) == root]
            cons = [c for c in level.constraints
                    if any(n.id in ms for n in E.names_in(c.cond))]
            self.groups.append(Group(order, atoms, cons))
        self.atom_fns = {id(a): self.compiler.bool_(a.node) for a in self.atoms}
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
            cands = []
            if not ind.required:
                cands.append(None)
            if k in defaults and defaults[k] is not None and not isinstance(defaults[k], bool):
                try:
                    cands.append(Fraction(str(defaults[k])))
                except (ValueError, ZeroDivisionError):
                    pass
            lo, hi, _ = _bounds(ind)
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

    # -- regularity (module docstring, R1–R3) ------------------------------------------------------
    def _regularity(self, g: Group) -> None:
        lv = self.level
        if any(a.opaque for a in g.atoms):
            g.why = "a comparison that is neither linear nor a rate against a constant"
            return
        if g.names == [SHARES]:
            g.regular = len(lv.shares) == 1
            g.why = "" if g.regular else "several share(...) values over the same communes"
            return
        if len(g.names) == 1:
            g.regular = all(a.rate is None for a in g.atoms) and all(
                len(_linear_of(c.cond, lv)[0]) <= 1 for c in g.constraints if _linear_of(c.cond, lv))
            g.why = "" if g.regular else "a rate or a constraint with another indicator"
            return
        rates = [d for d in lv.derived.values() if set(d.reads) <= set(g.names)]
        dens = {d.den for d in rates}
        if not rates or len(dens) != 1 or len(next(iter(dens))) != 1:
            g.why = "values compared with each other (not one denominator shared by rates)"
            return
        den = next(iter(dens))[0]
        nums = set()
        for d in rates:
            if len(d.num) != 1 or d.num[0] == den:
                g.why = "a rate whose numerator is not one indicator"
                return
            nums.add(d.num[0])
        if set(g.names) != nums | {den}:
            g.why = "an indicator outside the rates"
            return
        if any(a.rate is None for a in g.atoms):
            g.why = "a numerator or denominator also compared on its own"
            return
        for c in g.constraints:
            lin = _linear_of(c.cond, lv)
            ok = lin is not None and len(lin[0]) == 2 and lin[1] == 0 and den in lin[0] and \
                any(k in nums for k in lin[0]) and _is_cap(lin, den)
            if not ok:
                g.why = f"a constraint other than numerator <= {den}"
                return
        for n in nums:
            lo, _, hi_given = _bounds(lv.indicators[n])
            if lo != 0 or hi_given:
                g.why = f"{n} has a minimum other than 0 or a maximum"
                return
        lo = _bounds(lv.indicators[den])[0]
        if lo < 0 or self._dstar(g) is None:
            g.why = f"{den} cannot take a round multiple of the thresholds' denominators"
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
        lo, hi, _ = _bounds(ind)
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
                    coeffs[k] = coeffs.get(k, 0) + 1
                for k in d.den:
                    coeffs[k] = coeffs.get(k, 0) - a.rate[2]
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
                g.why = f"more than {GROUP_LIMIT} value combinations in one group: the first were kept"
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
        lv = self.level
        linears = self._linears(g)
        pos = {n: i for i, n in enumerate(g.names)}
        dens = {k for d in lv.derived.values() for k in d.den}
        caps = {}
        for c in g.constraints:  # n <= D: the numerator never goes above its denominator
            lin = _linear_of(c.cond, lv)
            if lin is not None and len(lin[0]) == 2 and lin[1] == 0:
                for den in lin[0]:
                    if _is_cap(lin, den):
                        caps[next(k for k in lin[0] if k != den)] = den

        def choices(name: str, chosen: dict) -> list:
            ind = lv.indicators[name]
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
        lv = self.level
        classes = self.available or [c.id for c in self.pack.commune.classes]
        keys = list(lv.shares)
        regions: dict[tuple, list[str]] = {}
        for c in classes:
            regions.setdefault(tuple(c in lv.shares[k] for k in keys), []).append(c)
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
            reads = [n.id for n in E.names_in(c.cond)]
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
        reasons = [f"{r.column}={r.value!r}: {r.reason}" for r in v.rejected]
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


def _linear_of(node: E.Node, level: Level) -> Optional[tuple[dict, Fraction, str]]:
    if not isinstance(node, E.Compare) or level.is_condition(node.left):
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
        self.s = search
        self.backend = PythonBackend(search.level)

    def __call__(self, values: dict):
        shares = self.s.share_ratios(values) if self.s.level.shares else None
        return self.backend.evaluate({k: v for k, v in values.items() if k != SHARES}, shares)

    def class_truths(self, values: dict):
        """(outcome, [does class i's condition hold] for every class, first match or not)."""
        v = self.s.prepared(values)
        out = self.backend.evaluate_prepared(v)
        return out, [True if cond is None else bool(cond(v)) for _, cond in self.backend.classes]


def search_level(pack: Pack, level: Level, budget: int = DEFAULT_BUDGET,
                 available: Optional[list[str]] = None) -> LevelResult:
    t0 = time.perf_counter()
    s = LevelSearch(pack, level, available)
    residual = next((c.id for c in level.classes if c.residual), None)
    res = LevelResult(level.name, [c.id for c in level.classes], residual)
    res.irregular = [f"{', '.join(g.names)} ({g.why})" for g in s.groups if g.atoms and not g.regular]
    res.boundary_values = sum(len(vals) for g in s.groups if len(g.reps) > 1 for vals in g.values.values())
    res.indicators_searched = sum(len(g.names) for g in s.groups if len(g.reps) > 1)
    res.notes.extend(f"a candidate the validator rejected was left out: {f}" for f in s.validator_failures)
    evaluate = _Evaluator(s)
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

    order = [g for g in s.groups if g.reps]
    if s.product_size <= budget:
        res.method = "every combination of the groups' representatives"
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
        res.method = (f"the base row with every pair of groups varied, a hill-climb towards each "
                      f"missing outcome, then random combinations (seed {SEED}) up to the budget of {budget}")
        for values in _pairs(s.base, order):
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
            for values in _targeted(evaluate, order, s.base, res.classes, goal, share, rng):
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
    res.exhaustive = res.complete_product and not res.irregular and not s.validator_failures
    res.reached = {c: reached[c] for c in res.classes if c in reached}
    res.fell_through = reached.get(UNCLASSIFIED, 0)
    res.unreached = [c for c in res.classes if c not in reached]
    if first_fall is not None:
        res.counterexample = _counterexample(s, shrink(s, evaluate, first_fall))
    res.seconds = time.perf_counter() - t0
    res.search = s
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
        _, holds = evaluate.class_truths(values)
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


def shrink(s: LevelSearch, evaluate, values: dict) -> dict:
    """Replace values by plainer ones (the pack's case defaults, 0, the minimum, blank, false)
    while the row stays valid and still reaches no class."""
    cur = dict(values)
    for _ in range(2):
        changed = False
        for name in [n for g in s.groups for n in g.names if n != SHARES]:
            ind = s.level.indicators[name]
            for p in s.plain.get(name, []):
                cand_val = p if (p is None or isinstance(p, bool)) else _value(ind, p)
                if cand_val == cur.get(name) or (p is not None and not isinstance(p, bool) and
                                                 (p / _step(ind)).denominator != 1):
                    continue
                trial = {**cur, name: cand_val}
                if evaluate(trial).class_id != UNCLASSIFIED:
                    continue
                if s.validate(trial)[0] is None:
                    continue
                cur, changed = trial, True
                break
        if not changed:
            break
    return cur


def _counterexample(s: LevelSearch, values: dict) -> Counterexample:
    import warnings

    from .scoring import EngineRefused, make_backend

    unit, reasons = s.validate(values)
    if unit is None:
        raise RuntimeError(f"a counterexample failed validation: {'; '.join(reasons)}")
    vals = dict(unit.values)
    shares = s.share_ratios(values) if s.level.shares else None
    out = PythonBackend(s.level).evaluate(dict(vals), shares)
    ids = list(s.level.criteria)
    ce = Counterexample(dict(values), out.class_id, [ids[i] for i, o in enumerate(out.outcomes) if o[0]],
                        list(out.vetoes), out.total)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        durable = make_backend("durable", s.level)
    if caught or getattr(durable, "name", "") != "durable":
        ce.durable_note = "durable_rules is not installed: checked on the Python backend only"
        return ce
    try:
        d = durable.evaluate(dict(vals), shares)
        ce.durable_class = d.class_id
    except EngineRefused as e:  # a value beyond what durable_rules holds exactly
        ce.durable_note = f"the durable backend refused the row: {e}"
    return ce


@dataclass
class PackResult:
    pack: Pack
    levels: list[LevelResult]

    @property
    def problem(self) -> bool:
        return any(lv.problem for lv in self.levels)


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
        return "(blank)"
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
    return f"{text} (≈ {float(pct):.4g}%, compared exactly)"


def _num(x) -> str:
    if isinstance(x, Fraction):
        return str(x.numerator) if x.denominator == 1 else str(x)
    return str(x)


def describe_class(level: Level, cls, v: dict) -> str:
    """`class: condition` with the criteria and vetoes it reads that hold."""
    if cls.cond is None:
        return f"{cls.id}: residual"
    from .loader import references

    refs = [r for r in list(level.criteria) + list(level.vetoes) if r in references(cls.cond, level)]
    held = [r for r in refs if v.get(r) is True]
    bits = []
    if refs:
        bits.append("met: " + (", ".join(held) if held else "none"))
    if "total" in {n.id for n in E.names_in(cls.cond)}:
        bits.append(f"total {v.get('total')}")
    if "vetoed" in {n.id for n in E.names_in(cls.cond)}:
        bits.append("vetoed" if v.get("vetoed") else "not vetoed")
    extra = f" ({'; '.join(bits)})" if bits else ""
    return f"{cls.id}: `{cls.text}` is false{extra}"


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


def yaml_case(pack: Pack, lv: LevelResult) -> list[str]:
    """The counterexample as a scenario case for the pack's `cases:` (commune level)."""
    ce = lv.counterexample
    inds = pack.commune.indicators
    given = ", ".join(f"{k}: {_yaml_scalar(ce.values.get(k))}" for k in inds)
    met = ", ".join(ce.met)
    case = (f"- {{name: không xếp được loại (lanhmanh check --completeness), given: {{{given}}}, "
            f"expect: {{class: {UNCLASSIFIED}}}}}")
    return [f"# completeness: reaches no class (meets {met or 'no criterion'})", case]


def render(result: PackResult) -> list[str]:
    pack = result.pack
    lines = [f"{pack.path}: completeness of {pack.id} {pack.version}:"]
    for lv in result.levels:
        lines.extend("  " + x for x in _render_level(pack, lv))
    return lines


def _render_level(pack: Pack, lv: LevelResult) -> list[str]:
    level = pack.commune if lv.level == "commune" else pack.province
    s = lv.search
    n = lv.searched
    head = f"{lv.level} level ({len(lv.classes)} classes"
    head += f", residual class {lv.residual}): " if lv.residual else ", no residual class): "
    out = []
    scope = (f"searched {n} candidate submission(s); {lv.boundary_values} boundary value(s) of "
             f"{lv.indicators_searched} indicator(s)")
    if lv.level == "province":
        scope = scope.replace("submission(s)", "province(s)")
    if lv.residual:
        out.append(head + f"no {lv.level} can fall through every class (a residual class catches it); {scope}")
    elif lv.counterexample is None:
        verdict = "no submission falls through every class" if lv.level == "commune" else \
            "no province falls through every class"
        out.append(head + f"{verdict} ({scope})")
    else:
        who = "a valid submission" if lv.level == "commune" else "a province"
        out.append(head + f"FALLS THROUGH: {who} reaches no class ({scope}; "
                          f"{lv.fell_through} reach no class)")
    matters = not lv.residual or bool(lv.unreached)  # is there a claim that needs the whole space?
    if lv.exhaustive and matters:
        out.append("  exhaustive: every combination of the atoms' truth values that a valid submission "
                   "can give was searched (the proof is in lanhmanh/engine/completeness.py)")
    elif lv.complete_product and matters:
        out.append("  not a proof: every combination of the groups' boundary values was searched, but "
                   "these groups' values are compared with each other: " + "; ".join(lv.irregular))
    elif lv.budget_spent:
        out.append(f"  not exhaustive: {s.product_size} combinations exceed the budget; searched {lv.method}")
    elif not lv.complete_product:
        out.append(f"  stopped once every class was reached ({s.product_size} combinations in all)")
    if lv.counterexample is not None:
        out.extend("  " + x for x in _render_counterexample(pack, level, s, lv))
    for cid in lv.unreached:
        cls = next(c for c in level.classes if c.id == cid)
        if lv.exhaustive:
            out.append(f"  class {cid} can never be reached: no combination of the atoms' truth values "
                       f"reaches it (condition: {cls.text})")
        else:
            out.append(f"  class {cid} was never reached in {n} candidates: possible problem "
                       f"(condition: {cls.text})")
    counts = ", ".join(f"{c} {k}" for c, k in lv.reached.items())
    out.append(f"  every class reached: {counts}" if not lv.unreached else f"  classes reached: {counts or 'none'}")
    out.extend("  note: " + x for x in lv.notes)
    return out


def _render_counterexample(pack: Pack, level: Level, s: LevelSearch, lv: LevelResult) -> list[str]:
    ce = lv.counterexample
    out = ["counterexample:"]
    vals = ce.values
    for k in level.indicators:
        if s.is_province and k not in vals:
            continue
        out.append(f"  {k} = {show_value(vals.get(k))}")
    for d in level.derived.values():
        r = ratio_of(vals, d.num, d.den)
        if r is not None:
            out.append(f"  {d.id} = {d.text} = {show_rate(*r)}")
    if SHARES in vals:
        counts = dict(vals[SHARES])
        for key, (num, den) in s.share_ratios(vals).items():
            out.append(f"  {key} = {show_rate(num, den)} (communes: "
                       f"{', '.join(f'{c} {k}' for c, k in counts.items())})")
    out.append(f"  criteria met: {', '.join(ce.met) if ce.met else 'none'}"
               + (f"; vetoes: {', '.join(ce.vetoes)}" if ce.vetoes else "")
               + (f"; total {ce.total}" if ce.total is not None else ""))
    v = s.prepared(vals)
    PythonBackend(level).evaluate_prepared(v)
    for cls in level.classes:
        out.append(f"  class {describe_class(level, cls, v)}")
    if ce.durable_class is not None:
        same = "the same class" if ce.durable_class == ce.class_id else "A DIFFERENT CLASS"
        out.append(f"  durable backend: {ce.durable_class} ({same})")
    elif ce.durable_note:
        out.append(f"  {ce.durable_note}")
    if lv.level == "commune":
        out.append("paste into the pack's `cases:` to keep this example:")
        out.extend("  " + x for x in yaml_case(pack, lv))
    return out
