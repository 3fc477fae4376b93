"""A batch end to end: validated units → backend → ranking → province roll-up → BatchResult."""
from __future__ import annotations

import math
import warnings as _warnings
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable, Optional, Protocol

from lanhmanh.engine.evaluation.outcome import EngineRefused, Outcome
from lanhmanh.engine.evaluation.python_backend import PythonBackend
from lanhmanh.engine.evaluation.validate import Rejection, RowWarning, Unit
from lanhmanh.engine.model.pack import UNCLASSIFIED, Level, Pack, ratio_of

ENGINES = ("durable", "python")


class Backend(Protocol):
    """What scoring needs of a backend (python_backend.PythonBackend, durable_backend.DurableBackend)."""
    name: str

    def evaluate(self, values: dict, extra_ratios: Optional[dict] = None) -> Outcome:
        ...


def make_backend(name: str, level: Level) -> Backend:
    """The backend called `name` for one level. `durable` falls back to `python` with a warning
    when durable_rules cannot be imported (no C compiler on the machine that installed it)."""
    if name == "python":
        return PythonBackend(level)
    if name == "durable":
        try:
            # imported here: durable_rules is optional (the fallback below), and no cycle hides here
            from lanhmanh.engine.evaluation.durable_backend import DurableBackend
        except ImportError as e:
            _warnings.warn(f"durable_rules is not installed ({e}); using the pure-Python backend, "
                           "which gives identical results", RuntimeWarning, stacklevel=2)
            return PythonBackend(level)
        return DurableBackend(level)
    raise ValueError(f"unknown engine {name!r} (choose from {', '.join(ENGINES)})")


@dataclass
class UnitResult:
    unit: Unit
    outcome: Outcome
    rank_province: int = 0
    rank_national: int = 0
    rank_district: Optional[int] = None  # before the July 2025 reform, within the unit's district
    # set by engine.batch.previous.apply_previous when last year's results are given (None otherwise)
    previous: Optional[Any] = None  # previous.PreviousUnit, or None when the unit is not in them
    maintained: Optional[bool] = None  # giữ vững: in the best class this year and last year
    change: Optional[str] = None  # improved | same | worsened (None: no result last year)
    transformed: Optional[bool] = None  # chuyển hóa: a key area last year, a better class now
    filled_prev: Optional[int] = None  # new_drug_addicts_prev filled from last year's results


@dataclass
class ProvinceResult:
    province_code: str
    n_units: int
    values: dict[str, Any]  # province values read by the province criteria
    supplied: list[str]  # indicators taken from the province row rather than summed
    class_counts: dict[str, int]
    outcome: Optional[Outcome] = None
    row: Optional[Unit] = None


@dataclass
class BatchResult:
    pack: Pack
    engine: str
    units: list[UnitResult]
    provinces: list[ProvinceResult]
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[RowWarning] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    # what a reader of the results must know about how they were made, shown in the scorecard and
    # the JSON (for instance a pack applied outside its period with --force)
    notes: list[str] = field(default_factory=list)
    previous: Optional[Any] = None  # engine.batch.previous.Previous, when last year's results are given
    year: Optional[int] = None  # the batch year (commands.common.load_for_batch decides it once)


def rank_key(level: Level, unit: Unit, out: Outcome) -> tuple:
    """Everything but unit_code: class, total (higher first), vetoes, tie-breakers (the ranking
    order of docs/auditing.md, "Ranking")."""
    key: list = [level.class_rank(out.class_id), -(out.total or 0), len(out.vetoes)]
    for k in level.then:
        val = _key_value(level, unit.values, k.by)
        if val is None:
            key.append((1, 0, 0))
        else:
            val = -val if k.descending else val
            # floor(val * 10**12) orders almost every pair with one integer comparison; the
            # exact value behind it decides only between values closer than 10**-12
            key.append((0, math.floor(val * _SCALE), val))
    return tuple(key)


_SCALE = 10 ** 12


def _key_value(level: Level, values: dict, name: str):
    d = level.derived.get(name)
    if d is None:
        v = values.get(name)
        return Fraction(v) if isinstance(v, Decimal) else v
    r = ratio_of(values, d.num, d.den)
    if r is None:
        return None
    n, den = r
    if den == 0:
        return None if d.zero in ("unknown", "reject") else d.zero
    return Fraction(n, den)


def assign_ranks(results: list[UnitResult], keys: dict[int, tuple], attr: str) -> None:
    """Competition ranking (1, 2, 2, 4) over results already sorted by (key, unit_code)."""
    prev = None
    rank = 0
    for i, r in enumerate(results, start=1):
        k = keys[id(r)]
        if k != prev:
            rank = i
            prev = k
        setattr(r, attr, rank)


def rank(level: Level, results: list[UnitResult]) -> list[UnitResult]:
    keys = {id(r): rank_key(level, r.unit, r.outcome) for r in results}
    ordered = sorted(results, key=lambda r: (keys[id(r)], r.unit.code))
    assign_ranks(ordered, keys, "rank_national")
    by_prov: dict[str, list[UnitResult]] = defaultdict(list)
    for r in ordered:
        by_prov[r.unit.province_code].append(r)
    for group in by_prov.values():
        assign_ranks(group, keys, "rank_province")
    by_district: dict[tuple[str, str], list[UnitResult]] = defaultdict(list)
    for r in ordered:
        if r.unit.district_code is not None:
            by_district[(r.unit.province_code, r.unit.district_code)].append(r)
    for group in by_district.values():
        assign_ranks(group, keys, "rank_district")
    return ordered


def roll_up(pack: Pack, results: list[UnitResult], province_rows: list[Unit], engine: str,
            warnings: list[RowWarning]) -> list[ProvinceResult]:
    """Province values = sums of their communes unless the province row supplies them."""
    by_prov: dict[str, list[UnitResult]] = defaultdict(list)
    for r in results:
        by_prov[r.unit.province_code].append(r)
    rows = {u.province_code: u for u in province_rows}
    for code, u in rows.items():
        if code not in by_prov:
            warnings.append(RowWarning(u.path, u.row, "province_code",
                                     f"province row {code} has no commune in this batch; ignored"))
    level = pack.province
    backend = make_backend(engine, level) if level is not None else None
    out = []
    for code in sorted(by_prov):
        group = by_prov[code]
        counts: dict[str, int] = defaultdict(int)
        for r in group:
            counts[r.outcome.class_id] += 1
        pr = ProvinceResult(code, len(group), {}, [], dict(counts), row=rows.get(code))
        if level is not None and backend is not None:
            values: dict[str, Any] = {}
            for k in level.summed:
                vals = [r.unit.values.get(k) for r in group]
                values[k] = None if any(v is None for v in vals) else sum(vals)
            row = rows.get(code)
            for k in level.indicators:
                if row is not None and row.values.get(k) is not None:
                    values[k] = row.values[k]
                    if k in level.summed:
                        pr.supplied.append(k)
                elif k not in level.summed:
                    values[k] = None
            own = [k for k in level.indicators if k not in level.summed]
            if row is None and own:
                warnings.append(RowWarning("", None, own[0], f"province {code}: no province row, so "
                                             f"{', '.join(own)} is not given"))
            shares = {key: (sum(counts.get(c, 0) for c in ids), len(group)) for key, ids in level.shares.items()}
            pr.values = {**values, **{k: f"{n}/{d}" for k, (n, d) in shares.items()}}
            pr.outcome = backend.evaluate(values, shares)
        out.append(pr)
    return out


def score_units(pack: Pack, units: Iterable[Unit], engine: str = "durable",
                rejected: Optional[list[Rejection]] = None,
                warnings: Optional[list[RowWarning]] = None) -> BatchResult:
    warnings = list(warnings or [])
    rejected = list(rejected or [])
    backend = make_backend(engine, pack.commune)
    results: list[UnitResult] = []
    province_rows: list[Unit] = []
    for u in units:
        if u.type in ("tỉnh", "thành phố"):
            province_rows.append(u)
            continue
        try:
            out = backend.evaluate(u.values)
        except EngineRefused as e:
            rejected.append(
                Rejection(u.path, u.row, "", u.code, f"{backend.name} engine refused the row: {e}", u.sheet,
                          unit_code=u.code))
            continue
        if out.class_id == UNCLASSIFIED:
            warnings.append(RowWarning(u.path, u.row, None, f"unit {u.code} ({u.name}) reaches no class: "
                                                          "reported as 'unclassified' and ranked last"))
        results.append(UnitResult(u, out))
    ordered = rank(pack.commune, results)
    if pack.province is None:
        for u in province_rows:
            warnings.append(RowWarning(u.path, u.row, "unit_type", "this pack has no province level; "
                                                                 "the province row is ignored"))
    provinces = roll_up(pack, ordered, province_rows, engine, warnings)
    return BatchResult(pack, getattr(backend, "name", engine), ordered, provinces, rejected, warnings)
