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
from lanhmanh.engine.evaluation.validate import RowWarning, Unit
from lanhmanh.engine.model.pack import Level, Pack
from lanhmanh.errors import EXIT_INPUT, EXIT_USAGE, UsageError

CHANGES = ("improved", "same", "worsened")
LIST_AT_MOST = 20  # codes named in one warning
FROM_HISTORY = "history"  # last year's run from the history database, instead of a file


class PreviousError(UsageError):
    """Last year's results cannot be used: exit 2, or 4 when a file cannot be read. `source` is
    the file (or FROM_HISTORY), `crosswalk` whether it is the crosswalk, `detail` what is wrong."""

    def __init__(self, detail: str, exit_code: int = EXIT_USAGE, *, source: str, crosswalk: bool = False):
        what = "the crosswalk" if crosswalk else "last year's results"
        where = "from the history database" if source == FROM_HISTORY and not crosswalk else source
        super().__init__(f"{what} {where}: {detail}")
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
        raise PreviousError(f"cannot read the file ({e.strerror or e})", EXIT_INPUT, source=path)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PreviousError(f"not a JSON file ({e})", EXIT_INPUT, source=path)
    if not isinstance(doc, dict) or not isinstance(doc.get("pack"), dict) or not isinstance(doc.get("units"), list):
        raise PreviousError("not the JSON result of `lanhmanh score --json` (no 'pack' object or no 'units' list)",
                            EXIT_INPUT, source=path)
    return doc, hashlib.sha256(data).hexdigest()


def read_crosswalk(path: str) -> dict[str, list[str]]:
    """old_code → [new_code, ...] from a CSV with the headings old_code,new_code."""
    def refuse(detail: str) -> PreviousError:
        return PreviousError(detail, EXIT_INPUT, source=path, crosswalk=True)

    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise refuse(f"cannot read the file ({e.strerror or e})")
    except UnicodeDecodeError as e:
        raise refuse(f"not UTF-8 text ({e})")
    if not rows or [h.strip() for h in rows[0][:2]] != ["old_code", "new_code"]:
        raise refuse("the first row must be the headings old_code,new_code")
    out: dict[str, list[str]] = defaultdict(list)
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise refuse(f"row {i}: both old_code and new_code are needed (got {','.join(row)!r})")
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
        raise PreviousError(f"last year's results were made with the pack {pid!r}, this batch is scored with "
                            f"{pack.id!r}; classes of different packs cannot be compared", source=path)


def check_year(doc: dict, batch_year: Optional[int], path: str) -> list[RowWarning]:
    """Last year's results must be for the year before the batch year (an error otherwise)."""
    prev = year_of_result(doc)
    if batch_year is None or prev is None:
        return [RowWarning(path, None, "year", "the year of last year's results or of this batch is not known; "
                                               "they are compared as consecutive years")]
    if prev != batch_year - 1:
        raise PreviousError(f"its results are for {prev}, but this batch is {batch_year}: give the results of "
                            f"{batch_year - 1}", source=path)
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
        raise PreviousError("the batch year is not known", source=FROM_HISTORY)
    try:
        run, skipped = choose_previous(db_path, pack.id, batch_year)
        found = run_results(db_path, run) if run is not None else {}
    except HistoryError as e:
        raise PreviousError(str(e), EXIT_INPUT, source=FROM_HISTORY) from None
    passed = "; ".join(why_skipped(r) for r in skipped)
    if run is None or not found:
        raise PreviousError(f"no previous run was found: the history database {db_path} holds no run of "
                            f"{pack.id} for {batch_year - 1}"
                            + (f" that can be taken (passed over: {passed})" if passed else "")
                            + "; score last year's batch first, or give last year's JSON", source=FROM_HISTORY)
    docs = [{"unit_code": r.unit_code, "class": r.class_id, "class_label": r.class_label, "total": r.total}
            for r in found.values()]
    fingerprint = hashlib.sha256(json.dumps(docs, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    where = f"{db_path} (run {run.run_id})"
    units = _by_this_years_code(pack, docs, crosswalk, where)
    prev = Previous(where, fingerprint, pack.id, run.pack_version, batch_year - 1, crosswalk, units)
    prev.chosen = (f"last year's results taken from the history database {db_path}: {run.describe()}"
                   + (f"; passed over: {passed}" if passed else ""))
    return prev


def _by_this_years_code(pack: Pack, olds: list[dict], crosswalk: Optional[str], path: str) -> dict:
    """Last year's units mapped onto this year's codes through the crosswalk (merged, split)."""
    xw = read_crosswalk(crosswalk) if crosswalk else {}
    by_new: dict[str, list[dict]] = defaultdict(list)
    split: set[str] = set()
    for i, u in enumerate(olds):
        code = str(u.get("unit_code") or "").strip()
        if not code or not isinstance(u.get("class"), str):
            raise PreviousError(f"unit {i + 1} has no unit_code or no class", EXIT_INPUT, source=path)
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
        if p is None or u.type in ("tỉnh", "thành phố"):
            continue
        for target, source in pack.carry_over.items():
            if u.values.get(target) is not None:
                continue
            value = p.values.get(source)
            if value is None:
                out.append(RowWarning(u.path, u.row, target,
                                      f"unit {u.code} ({u.name}): {target} is blank and last year's {source} is "
                                      f"not known for {', '.join(p.old_codes)} (a split unit's count cannot be "
                                      "apportioned); left blank", u.sheet))
                continue
            u.values[target] = value
            p.filled[target] = value
            src = p.old_codes[0] if p.old_codes == [u.code] else "the sum of " + ", ".join(p.old_codes)
            out.append(RowWarning(u.path, u.row, target,
                                  f"unit {u.code} ({u.name}): {target} was blank; filled with {value}, last "
                                  f"year's {source} of {src} in {previous.path}", u.sheet))
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
            warns.append(RowWarning(r.unit.path, r.unit.row, "unit_code",
                                    f"unit {r.unit.code} ({r.unit.name}) is not in last year's results "
                                    f"({previous.path}{', even through the crosswalk' if previous.crosswalk else ''}); "
                                    "not maintained, no class change", r.unit.sheet))
            continue
        r.filled_prev = next(iter(p.filled.values()), None)  # the result has room for one value filled
        now = r.outcome.class_id
        r.maintained = now == best and p.class_id == best
        r.change = class_change(level, p.class_id, now)
        r.transformed = p.class_id in keys and r.change == "improved"
    unmatched = sorted({c for code, p in previous.units.items() if code not in seen for c in p.old_codes})
    if unmatched:
        shown = ", ".join(unmatched[:LIST_AT_MOST]) + (f" and {len(unmatched) - LIST_AT_MOST} more"
                                                        if len(unmatched) > LIST_AT_MOST else "")
        warns.append(RowWarning(previous.path, None, "unit_code",
                                f"{len(unmatched)} unit(s) of last year's results have no unit in this batch"
                                f"{' (after the crosswalk)' if previous.crosswalk else ''}: {shown}"))
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
    line = (f"  compared with {prev.path} ({prev.pack_id} {prev.pack_version}, {prev.year}): "
            f"giữ vững (maintained) {sum(1 for r in units if r.maintained)}, "
            + ", ".join(f"{c} {changes.get(c, 0)}" for c in CHANGES)
            + f", not in last year's results {sum(1 for r in units if r.previous is None)}")
    if key_area_classes(batch.pack):
        line += f", chuyển hóa {sum(1 for r in units if r.transformed)}"
    filled = [r.previous for r in units if r.previous is not None and r.previous.filled]
    if not filled:
        return chosen + [line]
    names = ", ".join(dict.fromkeys(name for p in filled for name in p.filled))
    return chosen + [line, f"  {names} filled from last year for {len(filled)} unit(s)"]
