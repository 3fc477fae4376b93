"""A batch end to end: validated units → backend → ranking → province roll-up → BatchResult."""
from __future__ import annotations

import itertools
import math
import warnings as _warnings
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Iterable, Mapping, Optional, Protocol

from lanhmanh.engine.evaluation import forked
from lanhmanh.engine.evaluation.outcome import EngineRefused, Outcome
from lanhmanh.engine.evaluation.python_backend import Compiler, PythonBackend, prepare
from lanhmanh.engine.evaluation.validate import PROVINCE_TYPES, Rejection, RowWarning, Unit
from lanhmanh.engine.language import nodes
from lanhmanh.engine.model.pack import UNCLASSIFIED, UNDETERMINED, Level, Pack, ratio_of
from lanhmanh.i18n import _

ENGINES = ("durable", "python")


class Backend(Protocol):
    """What scoring needs of a backend (python_backend.PythonBackend, durable_backend.DurableBackend)."""
    name: str

    def evaluate(self, values: dict, extra_ratios: Optional[dict] = None) -> Outcome:
        ...


def make_backend(name: str, level: Level) -> Backend:
    """The backend called `name` for one level. `durable` falls back to `python`, which gives
    identical results, with a warning saying why: when durable_rules cannot be imported (no C
    compiler on the machine that installed it), when it cannot take the level (a limit of its C
    engine, docs/durable-backend.md), or, for the rest of the batch, when it fails on a unit."""
    if name == "python":
        return PythonBackend(level)
    if name == "durable":
        try:
            # imported here: durable_rules is optional (the fallback below), and no cycle hides here
            from lanhmanh.engine.evaluation.durable_backend import DurableBackend, DurableError
        except ImportError as e:
            _warnings.warn(_("durable_rules is not installed ({error}); using the pure-Python backend, "
                             "which gives identical results").format(error=e), RuntimeWarning, stacklevel=2)
            return PythonBackend(level)
        try:
            return _Guarded(DurableBackend(level), level, DurableError)
        except DurableError as e:
            _warnings.warn(_("the durable engine cannot take the {level} of this pack ({error}); using the "
                             "pure-Python backend, which gives identical results").format(
                                 level=level_name(level), error=e), RuntimeWarning, stacklevel=2)
            return PythonBackend(level)
    raise ValueError(_("unknown engine {name} (choose from {engines})").format(
        name=repr(name), engines=", ".join(ENGINES)))


def level_name(level: Level) -> str:
    """"commune level", "province level", in the language in force."""
    if level.name == "commune":
        return _("commune level")
    if level.name == "province":
        return _("province level")
    return _("{name} level").format(name=level.name)


def durable_refusal(level: Level) -> Optional[RuntimeError]:
    """Why the durable backend cannot take this level (a durable_backend.DurableError: `what` and
    `rule` name the criterion, veto or class), or None when it can or is not installed."""
    try:
        from lanhmanh.engine.evaluation.durable_backend import DurableBackend, DurableError
    except ImportError:
        return None
    try:
        DurableBackend(level)
    except DurableError as e:
        return e
    return None


class _Guarded:
    """The durable backend until durable_rules fails on a unit (an error code of its C engine):
    from then on, for the rest of the batch, the python backend, with one warning naming why.
    A unit the engine refuses on purpose (EngineRefused: a value too large) is not a failure."""

    def __init__(self, backend: Backend, level: Level, failure: type[Exception]):
        self.backend, self.level, self.failure = backend, level, failure
        self.name = backend.name

    def evaluate(self, values: dict, extra_ratios: Optional[dict] = None) -> Outcome:
        try:
            return self.backend.evaluate(values, extra_ratios)
        except EngineRefused:
            raise
        except self.failure as e:
            if isinstance(self.backend, PythonBackend):
                raise
            _warnings.warn(_("the durable engine failed on a unit of the {level} ({error}); scoring the rest "
                             "of the batch with the pure-Python backend, which gives identical results").format(
                                 level=level_name(self.level), error=e), RuntimeWarning, stacklevel=2)
            self.backend = PythonBackend(self.level)
            self.name = self.backend.name
            return self.backend.evaluate(values, extra_ratios)


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
    # a later class of the pack's `also_report` whose condition also holds (first match wins hid it)
    also_meets: Optional[str] = None


@dataclass
class ProvinceResult:
    province_code: str
    n_units: int  # communes scored
    values: dict[str, Any]  # province values read by the province criteria
    supplied: list[str]  # indicators taken from the province row rather than summed
    class_counts: dict[str, int]
    outcome: Optional[Outcome] = None  # class UNDETERMINED and met None where the missing communes decide
    row: Optional[Unit] = None
    # communes of the province in the official unit list of the batch year; None without a list
    # (--unit-list none): share(...) is then over the communes scored
    n_official: Optional[int] = None
    shares: dict[str, tuple[int, int]] = field(default_factory=dict)  # share key → (count, denominator)
    undetermined: list[str] = field(default_factory=list)  # criteria the missing communes could change
    reason: Optional[str] = None  # why criteria (or the class) are undetermined
    also_meets: Optional[str] = None
    # the evaluation with the missing communes in none of the classes (shares as in `shares`):
    # what `explain` walks when something is undetermined; the outcome itself otherwise
    evaluated: Optional[Outcome] = None

    @property
    def n_missing(self) -> int:
        """Communes of the official list that were not scored (absent, or their rows rejected)."""
        return max(0, self.n_official - self.n_units) if self.n_official is not None else 0

    @property
    def denominator(self) -> int:
        """What share(...) divides by: the official communes, else the communes scored."""
        return self.n_official if self.n_official is not None else self.n_units


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
            key.append(_ordered(val))
    return tuple(key)


_SCALE = 10 ** 12


def _ordered(val) -> tuple:
    """(0, floor(val * 10**12), val), computed without Fraction arithmetic; a whole value is
    given as an int, which compares with ints and Fractions exactly as the Fraction would (the
    many rates of 0 then tie on int comparisons)."""
    if isinstance(val, Fraction):
        n, d = val.numerator, val.denominator  # d > 0
        if d == 1:
            return (0, n * _SCALE, n)
        return (0, (n * _SCALE) // d, val)
    return (0, math.floor(val * _SCALE), val)


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


# ---- classes a unit also meets (`also_report`) ----------------------------------------------------

def condition_env(level: Level, values: dict, out: Outcome, extra_ratios: Optional[dict] = None) -> dict:
    """What a class condition reads, from one unit's outcome: its values with every rate as an
    exact (num, den) pair, each criterion met or not, each veto, `vetoed` and `total`."""
    env = prepare(level, values, extra_ratios)
    for i, cid in enumerate(level.criteria):
        env[cid] = bool(out.outcomes[i][0])
    for vid in level.vetoes:
        env[vid] = vid in out.vetoes
    env["vetoed"] = bool(out.vetoes)
    env["total"] = out.total if out.total is not None else sum(o[1] for o in out.outcomes)
    return env


class ClassChecks:
    """What scoring works out once per level and batch besides the backend: the classes of each
    class's `also_report`, compiled, and the constants every share(...) is compared with."""

    def __init__(self, level: Level):
        self.level = level
        compiler = Compiler(level)
        self.also: dict[str, list[tuple[str, Callable]]] = {
            c.id: [(o.id, compiler.condition(o.cond)) for o in level.classes
                   if o.id in c.also_report and o.cond is not None]
            for c in level.classes if c.also_report}
        self.share_constants = _share_constants(level)

    def also_meets(self, values: dict, out: Outcome, extra_ratios: Optional[dict] = None) -> Optional[str]:
        """The first class of the unit's class's `also_report` whose condition holds on the same
        outcome (the same criteria met, vetoes and total): the class the pack's order hid. Computed
        from the Outcome, so both backends agree."""
        tests = self.also.get(out.class_id)
        if not tests:
            return None
        env = condition_env(self.level, values, out, extra_ratios)
        return next((cid for cid, test in tests if test(env)), None)

    def share_candidates(self, key: str, count: int, missing: int, denominator: int) -> list[int]:
        """The counts of share `key` worth trying when `missing` communes of the list were not
        scored: none of them in its classes, all of them, and the counts on either side of every
        threshold it is compared with (so that `==` and a threshold between the extremes are seen)."""
        low, high = count, count + missing
        out = {low, high}
        for constant in self.share_constants.get(key, ()):
            edge = constant * denominator
            for x in (math.floor(edge) - 1, math.floor(edge), math.ceil(edge), math.ceil(edge) + 1):
                if low <= x <= high:
                    out.add(x)
        return sorted(out)


def also_meets_warning(level: Level, what: str, class_id: str, also: str) -> str:
    """`what` ("unit 01234 (Xã A)", "province 01"): its class, and the higher one it also meets."""
    return _("{what}: {label} ({class_id}), and it also meets the condition of {also_label} ({also}); the "
             "pack's order of classes gives it {class_id}").format(
        what=what, label=level.class_label(class_id), class_id=class_id, also_label=level.class_label(also),
        also=also)


# ---- the province: share(...) over the official list, missing communes at both extremes -----------

def _share_constants(level: Level) -> dict[str, set[Fraction]]:
    """Per share(...) key, the constants it is compared with anywhere in the level."""
    found: dict[str, set[Fraction]] = defaultdict(set)
    conds = [b.cond for c in level.criteria.values() for b in c.bands] + [v.cond for v in level.vetoes.values()] \
        + [c.cond for c in level.classes if c.cond is not None]
    for cond in conds:
        for x in nodes.walk(cond):
            if not isinstance(x, nodes.Compare):
                continue
            for a, b in ((x.left, x.right), (x.right, x.left)):
                if isinstance(a, nodes.Call) and a.fn == "share" and isinstance(b, nodes.Num):
                    found[nodes.to_text(a)].add(Fraction(b.value))
    return dict(found)


def evaluate_province(checks: ClassChecks, backend: Backend, values: dict, counts: dict[str, int], denominator: int,
                      missing: int) -> tuple[Outcome, Outcome, list[str], list[str], list[Optional[str]]]:
    """The province's outcome with share(...) over `denominator` communes of which `missing` were
    not scored: (outcome, the evaluation with the missing communes in no class, undetermined
    criteria, the classes possible, also_meets of each try).
    Every combination of share counts from `checks.share_candidates` is evaluated; a criterion whose
    result differs between them is undetermined (met None in the outcome), and so is the class
    when it differs (class UNDETERMINED). With nothing missing there is one evaluation."""
    keys = list(counts)
    base = {k: (counts[k], denominator) for k in keys}
    first = backend.evaluate(values, base)
    tries = [(first, base)]
    if missing and keys:
        grids = [checks.share_candidates(k, counts[k], missing, denominator) for k in keys]
        for combo in itertools.product(*grids):
            if all(n == counts[k] for k, n in zip(keys, combo)):
                continue
            shares = {k: (n, denominator) for k, n in zip(keys, combo)}
            tries.append((backend.evaluate(values, shares), shares))
    ids = list(checks.level.criteria)
    undetermined = [cid for i, cid in enumerate(ids) if len({o.outcomes[i] for o, _s in tries}) > 1]
    classes = list(dict.fromkeys(o.class_id for o, _s in tries))
    alsos = [checks.also_meets(values, o, shares) for o, shares in tries]
    if not undetermined and len(classes) == 1:
        return first, first, [], classes, alsos
    outcomes = [(None, 0, None) if cid in undetermined else first.outcomes[i] for i, cid in enumerate(ids)]
    class_id = first.class_id if len(classes) == 1 else UNDETERMINED
    return Outcome(class_id, first.total, list(first.vetoes), outcomes), first, undetermined, classes, alsos


def roll_up(pack: Pack, results: list[UnitResult], province_rows: list[Unit], engine: str,
            warnings: list[RowWarning], official: Optional[Mapping[str, int]] = None) -> list[ProvinceResult]:
    """Province values = sums of their communes unless the province row supplies them. share(...)
    divides by the province's communes in the official list (`official`: province code → count;
    None: by the communes scored); communes of the list that were not scored are tried at both
    extremes (`evaluate_province`)."""
    by_prov: dict[str, list[UnitResult]] = defaultdict(list)
    for r in results:
        by_prov[r.unit.province_code].append(r)
    rows = {u.province_code: u for u in province_rows}
    for code, u in rows.items():
        if code not in by_prov:
            warnings.append(RowWarning(u.path, u.row, "province_code",
                                       _("province row {code} has no commune in this batch; ignored").format(
                                           code=code)))
    level = pack.province
    backend = make_backend(engine, level) if level is not None else None
    checks = ClassChecks(level) if level is not None else None
    out = []
    for code in sorted(by_prov):
        group = by_prov[code]
        counts: dict[str, int] = defaultdict(int)
        for r in group:
            counts[r.outcome.class_id] += 1
        pr = ProvinceResult(code, len(group), {}, [], dict(counts), row=rows.get(code),
                            n_official=official.get(code) if official is not None else None)
        if level is not None and backend is not None and checks is not None:
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
                warnings.append(RowWarning("", None, own[0], _("province {code}: no province row, so {ids} is "
                                                               "not given").format(code=code, ids=", ".join(own))))
            in_share = {key: sum(counts.get(c, 0) for c in ids) for key, ids in level.shares.items()}
            pr.shares = {key: (n, pr.denominator) for key, n in in_share.items()}
            pr.values = {**values, **{k: f"{n}/{d}" for k, (n, d) in pr.shares.items()}}
            pr.outcome, pr.evaluated, pr.undetermined, classes, alsos = evaluate_province(
                checks, backend, values, in_share, pr.denominator, pr.n_missing)
            _province_notes(level, pr, classes, alsos, warnings)
        out.append(pr)
    return out


def _province_notes(level: Level, pr: ProvinceResult, classes: list[str], alsos: list[Optional[str]],
                    warnings: list[RowWarning]) -> None:
    """The province's also_meets, the reason for what is undetermined, and their warnings."""
    code, out = pr.province_code, pr.outcome
    assert out is not None
    if pr.n_missing:
        if out.class_id == UNDETERMINED:
            text = _("{n} of the {official} communes of the official list were scored; with the {missing} "
                     "missing ones {criteria} could be met or not, and the class could be {classes}")
        elif pr.undetermined:
            text = _("{n} of the {official} communes of the official list were scored; {criteria} depend(s) on "
                     "the {missing} missing ones, but the class is {class_id} whatever they are")
        else:
            text = _("{n} of the {official} communes of the official list were scored; the {missing} missing "
                     "ones cannot change the class")
        pr.reason = text.format(n=pr.n_units, official=pr.n_official, missing=pr.n_missing,
                                criteria=", ".join(pr.undetermined), class_id=out.class_id,
                                classes=_(" or ").join(classes))
        warnings.append(RowWarning("", None, "province_code", _("province {code}: {reason}").format(
            code=code, reason=pr.reason)))
    if out.class_id != UNDETERMINED and len(set(alsos)) == 1 and alsos[0] is not None:
        pr.also_meets = alsos[0]
        warnings.append(RowWarning("", None, "province_code",
                                   also_meets_warning(level, _("province {code}").format(code=code),
                                                      out.class_id, alsos[0])))


def score_units(pack: Pack, units: Iterable[Unit], engine: str = "durable",
                rejected: Optional[list[Rejection]] = None,
                warnings: Optional[list[RowWarning]] = None,
                official: Optional[Mapping[str, int]] = None,
                progress: Optional[Callable[[list[Unit]], Iterable[Unit]]] = None) -> BatchResult:
    """Score, rank and roll up. `official`: per province code, its communes in the official unit
    list of the batch year (share(...) divides by it); None when there is no list. `progress`
    wraps the units (a progress bar). A large batch is evaluated on two cores (forked.outcomes)."""
    warnings = list(warnings or [])
    rejected = list(rejected or [])
    backend = make_backend(engine, pack.commune)
    commune_checks = ClassChecks(pack.commune)
    results: list[UnitResult] = []
    province_rows: list[Unit] = []
    units = list(units)
    evaluated = forked.outcomes(backend, [u for u in units if u.type not in PROVINCE_TYPES])
    for u in progress(units) if progress is not None else units:
        if u.type in PROVINCE_TYPES:
            province_rows.append(u)
            continue
        out = next(evaluated)
        if isinstance(out, EngineRefused):
            rejected.append(
                Rejection(u.path, u.row, "", u.code, _("{engine} engine refused the row: {error}").format(
                    engine=backend.name, error=out), u.sheet, unit_code=u.code))
            continue
        if out.class_id == UNCLASSIFIED:
            warnings.append(RowWarning(u.path, u.row, None, _("unit {code} ({name}) reaches no class: reported "
                                                              "as 'unclassified' and ranked last").format(
                                                                  code=u.code, name=u.name)))
        also = commune_checks.also_meets(u.values, out)
        if also is not None:
            what = _("unit {code} ({name})").format(code=u.code, name=u.name)
            text = also_meets_warning(pack.commune, what, out.class_id, also)
            warnings.append(RowWarning(u.path, u.row, None, text))
        results.append(UnitResult(u, out, also_meets=also))
    ordered = rank(pack.commune, results)
    if pack.province is None:
        for u in province_rows:
            warnings.append(RowWarning(u.path, u.row, "unit_type", _("this pack has no province level; the "
                                                                   "province row is ignored")))
    provinces = roll_up(pack, ordered, province_rows, engine, warnings, official)
    return BatchResult(pack, getattr(backend, "name", engine), ordered, provinces, rejected, warnings)
