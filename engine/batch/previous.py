"""Last year's results: what this year's batch is compared with (docs/annual-batches.md).

What this module holds:

- `load_previous(path, pack, batch_year, crosswalk=None)`: reads last year's `score --json`
  output, checks that it was made with the same pack id (another version is fine) and for the
  year before the batch year, and maps last year's units onto this year's codes through the
  crosswalk (`old_code,new_code`; codes absent from the crosswalk keep their code).
  `load_previous_from_history` does the same from the history database: the latest run of the
  pack for last year that is neither void nor a run on a bundled sample; `summary_lines` says
  which run it took and which it passed over. Problems that stop the
  run raise `PreviousError` (exit 2, or 4 for a file that cannot be read).
- `fill_from_previous(units, previous, pack)`: before scoring, fills the indicators the pack
  carries over (`carry_over:`, e.g. `new_drug_addicts_prev: new_drug_addicts`) that a unit
  leaves blank with last year's values, and says so in a warning per unit.
- `apply_previous(batch, previous)`: after scoring, sets on every unit result last year's class
  and total, `maintained` (giữ vững), `change` (improved / worsened / same) and `transformed`
  (chuyển hóa), and returns the warnings about units without a counterpart.

Choices:

- the "best class" is the first of the commune level's ranking (`ranking.best_first`, else the
  first class): `healthy` for xa-lanh-manh, `drug_free` for qd-28-2025. A unit is maintained
  when it is in the best class this year and was last year;
- several old units merged into one new unit: last year's class is the WORST of theirs
  (conservative: a merged commune is maintained only if every part was in the best class), its
  total the lowest total among the old units of that class, and each carried-over count the sum of
  theirs (blank when one of them lacks it). An old unit split into several new units gives its
  class to each of them, but not its counts (a count cannot be apportioned);
- "chuyển hóa" (a key area that moved down a class) applies to packs with severity tiers
  (qd-28-2025: the classes other than the best, type_1/2/3, are key areas): last year's class
  was a key area and this year's class is better in the ranking (type_1 → type_2, type_3 or
  drug_free; type_3 → drug_free). Packs without tiers (xa-lanh-manh) have no key areas;
- a unit with no result last year: `maintained` false, `previous` and `change` null, warned.
"""
from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lanhmanh.engine.batch.history import HistoryError, choose_previous, run_results, why_skipped
from lanhmanh.engine.evaluation.validate import PROVINCE_TYPES, RowWarning, Unit
from lanhmanh.engine.model.pack import Level, Pack
from lanhmanh.errors import EXIT_INPUT, EXIT_USAGE, UsageError
from lanhmanh.i18n import _

CHANGES = ("improved", "same", "worsened")
LIST_AT_MOST = 20  # codes named in one warning
FROM_HISTORY = "history"  # last year's run from the history database, instead of a file


class PreviousError(UsageError):
    """Last year's results cannot be used: exit 2, or 4 when a file cannot be read. `source` is
    the file (or FROM_HISTORY), `crosswalk` whether it is the crosswalk, `detail` what is wrong."""

    def __init__(self, detail: str, exit_code: int = EXIT_USAGE, *, source: str, crosswalk: bool = False):
        if crosswalk:
            message = _("the crosswalk {source}: {detail}")
        elif source == FROM_HISTORY:
            message = _("last year's results from the history database: {detail}")
        else:
            message = _("last year's results {source}: {detail}")
        super().__init__(message.format(source=source, detail=detail))
        self.exit_code = exit_code
        self.detail, self.source, self.crosswalk = detail, source, crosswalk


@dataclass
class PreviousUnit:
    """Last year's result for one of THIS year's codes (after the crosswalk)."""
    code: str  # this year's code
    class_id: str
    class_label: str
    total: Optional[int]
    old_codes: list[str]  # last year's unit(s) it comes from
    # last year's values of the indicators the pack carries over (None: not known, or not apportionable)
    values: dict[str, Optional[int]] = field(default_factory=dict)
    filled: dict[str, int] = field(default_factory=dict)  # this year's indicators filled from them

    def as_dict(self) -> dict:
        return {"class": self.class_id, "class_label": self.class_label, "total": self.total,
                "unit_codes": list(self.old_codes)}


@dataclass
class Previous:
    path: str
    sha256: str
    pack_id: str
    pack_version: str
    year: Optional[int]
    crosswalk: Optional[str]
    units: dict[str, PreviousUnit]  # by this year's code
    warnings: list[RowWarning] = field(default_factory=list)
    old_unmapped: list[str] = field(default_factory=list)  # last year's codes with no unit this year
    chosen: Optional[str] = None  # from the history: which run was taken, and which were passed over

    def meta(self) -> dict:
        return {"path": self.path, "sha256": self.sha256, "pack": {"id": self.pack_id, "version": self.pack_version},
                "year": self.year, "crosswalk": self.crosswalk}


# ---- best class, class order, change ---------------------------------------------------------------

def class_order(level: Level) -> list[str]:
    return list(level.best_first or [c.id for c in level.classes])


def best_class(level: Level) -> str:
    """The class a unit must hold two years running to be maintained (giữ vững)."""
    return class_order(level)[0]


def key_area_classes(pack: Pack) -> set[str]:
    """Classes that are key areas for "chuyển hóa": every class but the best one, in a pack with
    severity tiers (qd-28-2025); none in a pack without (xa-lanh-manh)."""
    if not pack.tiers:
        return set()
    return set(class_order(pack.commune)[1:])


def class_change(level: Level, before: str, now: str) -> str:
    """improved / same / worsened, by the ranking (unclassified is below every class)."""
    a, b = level.class_rank(before), level.class_rank(now)
    return "same" if a == b else ("improved" if b < a else "worsened")


# ---- reading -------------------------------------------------------------------------------------

def read_result_json(path: str) -> tuple[dict, str]:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise PreviousError(_("cannot read the file ({error})").format(error=e.strerror or e), EXIT_INPUT,
                            source=path)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PreviousError(_("not a JSON file ({error})").format(error=e), EXIT_INPUT, source=path)
    if not isinstance(doc, dict) or not isinstance(doc.get("pack"), dict) or not isinstance(doc.get("units"), list):
        raise PreviousError(_("not the JSON result of `lanhmanh score --json` (no 'pack' object or no 'units' "
                              "list)"), EXIT_INPUT, source=path)
    return doc, hashlib.sha256(data).hexdigest()


def read_crosswalk(path: str) -> dict[str, list[str]]:
    """old_code → [new_code, ...] from a CSV with the headings old_code,new_code."""
    def refuse(detail: str) -> PreviousError:
        return PreviousError(detail, EXIT_INPUT, source=path, crosswalk=True)

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise refuse(_("cannot read the file ({error})").format(error=e.strerror or e))
    except UnicodeDecodeError as e:
        raise refuse(_("not UTF-8 text ({error})").format(error=e))
    if not rows or [h.strip() for h in rows[0][:2]] != ["old_code", "new_code"]:
        raise refuse(_("the first row must be the headings old_code,new_code"))
    out: dict[str, list[str]] = defaultdict(list)
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise refuse(_("row {row}: both old_code and new_code are needed (got {got})").format(
                row=i, got=repr(",".join(row))))
        old, new = row[0].strip(), row[1].strip()
        if new not in out[old]:
            out[old].append(new)
    return dict(out)


def year_of_result(doc: dict) -> Optional[int]:
    years = Counter(u.get("year") for u in doc["units"] if isinstance(u.get("year"), int))
    return years.most_common(1)[0][0] if years else None


def _count_in(unit: dict, name: str) -> Optional[int]:
    """An indicator's value as read last year: in the inputs of any criterion that read it."""
    for c in unit.get("criteria") or []:
        inputs = c.get("inputs") or {}
        if name in inputs:
            v = inputs[name]
            return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None
    return None


def check_same_pack(doc: dict, pack: Pack, path: str) -> None:
    pid = doc["pack"].get("id")
    if pid != pack.id:
        raise PreviousError(_("last year's results were made with the pack {old}, this batch is scored with "
                              "{new}; classes of different packs cannot be compared").format(old=repr(pid),
                                                                                            new=repr(pack.id)),
                            source=path)


def check_year(doc: dict, batch_year: Optional[int], path: str) -> list[RowWarning]:
    """Last year's results must be for the year before the batch year (an error otherwise)."""
    prev = year_of_result(doc)
    if batch_year is None or prev is None:
        return [RowWarning(path, None, "year", _("the year of last year's results or of this batch is not known; "
                                                 "they are compared as consecutive years"))]
    if prev != batch_year - 1:
        raise PreviousError(_("its results are for {year}, but this batch is {batch_year}: give the results of "
                              "{wanted}").format(year=prev, batch_year=batch_year, wanted=batch_year - 1),
                            source=path)
    return []


def load_previous(path: str, pack: Pack, batch_year: Optional[int], crosswalk: Optional[str] = None) -> Previous:
    doc, sha = read_result_json(path)
    check_same_pack(doc, pack, path)
    warns = check_year(doc, batch_year, path)
    units = _by_this_years_code(pack, doc["units"], crosswalk, path)
    return Previous(path, sha, doc["pack"].get("id"), str(doc["pack"].get("version")), year_of_result(doc),
                    crosswalk, units, warns)


def load_previous_from_history(db_path: str, pack: Pack, batch_year: Optional[int],
                               crosswalk: Optional[str] = None) -> Previous:
    """The latest run of the same pack id for the year before the batch year, from the history
    database. It holds classes and totals but not the figures read, so nothing can be carried over
    from it (last year's JSON result can)."""
    if batch_year is None:
        raise PreviousError(_("the batch year is not known"), source=FROM_HISTORY)
    try:
        run, skipped = choose_previous(db_path, pack.id, batch_year)
        found = run_results(db_path, run) if run is not None else {}
    except HistoryError as e:
        raise PreviousError(str(e), EXIT_INPUT, source=FROM_HISTORY) from None
    passed = "; ".join(why_skipped(r) for r in skipped)
    if run is None or not found:
        if passed:
            detail = _("no previous run was found: the history database {db} holds no run of {pack} for {year} "
                       "that can be taken (passed over: {passed}); score last year's batch first, or give last "
                       "year's JSON")
        else:
            detail = _("no previous run was found: the history database {db} holds no run of {pack} for {year}; "
                       "score last year's batch first, or give last year's JSON")
        raise PreviousError(detail.format(db=db_path, pack=pack.id, year=batch_year - 1, passed=passed),
                            source=FROM_HISTORY)
    docs = [{"unit_code": r.unit_code, "class": r.class_id, "class_label": r.class_label, "total": r.total}
            for r in found.values()]
    fingerprint = hashlib.sha256(json.dumps(docs, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    where = f"{db_path} (run {run.run_id})"  # the source's name in the JSON (`previous.path`): not translated
    units = _by_this_years_code(pack, docs, crosswalk, where)
    prev = Previous(where, fingerprint, pack.id, run.pack_version, batch_year - 1, crosswalk, units)
    prev.chosen = (_("last year's results taken from the history database {db}: {run}; passed over: {passed}")
                   if passed else _("last year's results taken from the history database {db}: {run}")).format(
        db=db_path, run=run.describe(), passed=passed)
    return prev


def _by_this_years_code(pack: Pack, olds: list[dict], crosswalk: Optional[str], path: str) -> dict:
    """Last year's units mapped onto this year's codes through the crosswalk (merged, split)."""
    xw = read_crosswalk(crosswalk) if crosswalk else {}
    by_new: dict[str, list[dict]] = defaultdict(list)
    split: set[str] = set()
    for i, u in enumerate(olds):
        code = str(u.get("unit_code") or "").strip()
        if not code or not isinstance(u.get("class"), str):
            raise PreviousError(_("unit {n} has no unit_code or no class").format(n=i + 1), EXIT_INPUT, source=path)
        targets = xw.get(code, [code])
        if len(targets) > 1:
            split.add(code)
        for new in targets:
            by_new[new].append(u)
    carried = tuple(dict.fromkeys(pack.carry_over.values()))
    return {new: merge_units(pack.commune, new, units, split, carried) for new, units in by_new.items()}


def merge_units(level: Level, code: str, olds: list[dict], split: set[str],
                carried: tuple[str, ...] = ()) -> PreviousUnit:
    """One of this year's units from last year's unit(s): the worst class, the lowest total of
    that class, the sum of each carried-over count (unknown if any part lacks it or was split)."""
    worst = max(olds, key=lambda u: (level.class_rank(u["class"]), -(u.get("total") or 0)))
    values: dict[str, Optional[int]] = {}
    for name in carried:
        counts = [None if u["unit_code"] in split else _count_in(u, name) for u in olds]
        values[name] = None if any(c is None for c in counts) else sum(c for c in counts if c is not None)
    return PreviousUnit(code, worst["class"], worst.get("class_label") or level.class_label(worst["class"]),
                        worst.get("total"), [u["unit_code"] for u in olds], values)


# ---- before scoring: the indicators carried over ----------------------------------------------------

def fill_from_previous(units: list[Unit], previous: Previous, pack: Pack) -> list[RowWarning]:
    """Fill each indicator the pack carries over (`carry_over: {this_year: last_year}`) that a unit
    leaves blank with last year's value of its source indicator."""
    out = []
    for u in units:
        p = previous.units.get(u.code)
        if p is None or u.type in PROVINCE_TYPES:
            continue
        for target, source in pack.carry_over.items():
            if u.values.get(target) is not None:
                continue
            value = p.values.get(source)
            if value is None:
                out.append(RowWarning(u.path, u.row, target, _(
                    "unit {code} ({name}): {target} is blank and last year's {source} is not known for {old} "
                    "(a split unit's count cannot be apportioned); left blank").format(
                    code=u.code, name=u.name, target=target, source=source, old=", ".join(p.old_codes)), u.sheet))
                continue
            u.values[target] = value
            p.filled[target] = value
            if p.old_codes == [u.code]:
                said = _("unit {code} ({name}): {target} was blank; filled with {value}, last year's {source} of "
                         "{old} in {path}")
            else:
                said = _("unit {code} ({name}): {target} was blank; filled with {value}, last year's {source} of "
                         "the sum of {old} in {path}")
            out.append(RowWarning(u.path, u.row, target, said.format(
                code=u.code, name=u.name, target=target, value=value, source=source, old=", ".join(p.old_codes),
                path=previous.path), u.sheet))
    return out


# ---- after scoring: maintained, change, chuyển hóa --------------------------------------------------

def apply_previous(batch, previous: Previous) -> list[RowWarning]:
    """Set previous/maintained/change/transformed on every unit result of `batch` (a
    scoring.BatchResult) and record `previous` on it; returns warnings about codes not matched,
    which are also appended to batch.warnings."""
    pack = batch.pack
    level = pack.commune
    best = best_class(level)
    keys = key_area_classes(pack)
    warns = list(previous.warnings)
    seen = set()
    for r in batch.units:
        p = previous.units.get(r.unit.code)
        seen.add(r.unit.code)
        r.previous = p
        if p is None:
            r.maintained, r.change, r.transformed = False, None, False
            said = _("unit {code} ({name}) is not in last year's results ({path}, even through the crosswalk); "
                     "not maintained, no class change") if previous.crosswalk else \
                _("unit {code} ({name}) is not in last year's results ({path}); not maintained, no class change")
            warns.append(RowWarning(r.unit.path, r.unit.row, "unit_code",
                                    said.format(code=r.unit.code, name=r.unit.name, path=previous.path),
                                    r.unit.sheet))
            continue
        r.filled_prev = next(iter(p.filled.values()), None)  # the result has room for one value filled
        now = r.outcome.class_id
        r.maintained = now == best and p.class_id == best
        r.change = class_change(level, p.class_id, now)
        r.transformed = p.class_id in keys and r.change == "improved"
    unmatched = sorted({c for code, p in previous.units.items() if code not in seen for c in p.old_codes})
    if unmatched:
        shown = ", ".join(unmatched[:LIST_AT_MOST])
        if len(unmatched) > LIST_AT_MOST:
            shown = _("{codes} and {n} more").format(codes=shown, n=len(unmatched) - LIST_AT_MOST)
        said = _("{n} unit(s) of last year's results have no unit in this batch (after the crosswalk): {codes}") \
            if previous.crosswalk else _("{n} unit(s) of last year's results have no unit in this batch: {codes}")
        warns.append(RowWarning(previous.path, None, "unit_code", said.format(n=len(unmatched), codes=shown)))
    previous.old_unmapped = unmatched
    batch.previous = previous
    batch.warnings.extend(warns)
    return warns


def unit_previous_fields(r) -> dict[str, Any]:
    """The JSON fields of one unit result when last year's results were given ({} otherwise)."""
    if getattr(r, "maintained", None) is None:
        return {}
    d: dict[str, Any] = {"maintained": r.maintained,
                         "previous": r.previous.as_dict() if r.previous is not None else None,
                         "change": r.change, "transformed": r.transformed}
    if r.previous is not None and r.previous.filled:
        d["filled_from_previous"] = dict(r.previous.filled)
    return d


def summary_lines(batch) -> list[str]:
    """The lines `score` prints about last year (none without last year's results)."""
    prev = batch.previous
    if prev is None:
        return []
    chosen = [f"  {prev.chosen}"] if prev.chosen else []
    units = batch.units
    changes = Counter(r.change for r in units if r.change)
    counts = {"path": prev.path, "pack": prev.pack_id, "version": prev.pack_version, "year": prev.year,
              "maintained": sum(1 for r in units if r.maintained), **{c: changes.get(c, 0) for c in CHANGES},
              "missing": sum(1 for r in units if r.previous is None),
              "transformed": sum(1 for r in units if r.transformed)}
    if key_area_classes(batch.pack):
        said = _("compared with {path} ({pack} {version}, {year}): giữ vững (maintained) {maintained}, "
                 "improved {improved}, same {same}, worsened {worsened}, not in last year's results {missing}, "
                 "chuyển hóa {transformed}")
    else:
        said = _("compared with {path} ({pack} {version}, {year}): giữ vững (maintained) {maintained}, "
                 "improved {improved}, same {same}, worsened {worsened}, not in last year's results {missing}")
    line = "  " + said.format(**counts)
    filled = [r.previous for r in units if r.previous is not None and r.previous.filled]
    if not filled:
        return chosen + [line]
    names = ", ".join(dict.fromkeys(name for p in filled for name in p.filled))
    return chosen + [line, "  " + _("{names} filled from last year for {n} unit(s)").format(names=names, n=len(filled))]
