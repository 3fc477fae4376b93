"""Last year's results (`score --previous FILE.json [--crosswalk FILE.csv]`).

What this module holds:

- `load_previous(path, pack, batch_year, crosswalk=None)`: reads last year's `score --json`
  output, checks that it was made with the same pack id (another version is fine) and for the
  year before the batch year, and maps last year's units onto this year's codes through the
  crosswalk (`old_code,new_code`; codes absent from the crosswalk keep their code). Problems that
  stop the run raise `PreviousError` (with the exit code the CLI should use).
- `fill_from_previous(units, previous, pack)`: before scoring, fills `new_drug_addicts_prev`
  of a unit that leaves it blank with last year's `new_drug_addicts` (when the pack has both
  indicators), and says so in a warning per unit.
- `previous_for_batch(pack, intake, path, crosswalk)`: the two steps above as `score`
  and `verify` call them (None without --previous);
- `apply_previous(batch, previous)`: after scoring, sets on every unit result last year's class
  and total, `maintained` (giữ vững), `change` (improved / worsened / same) and `transformed`
  (chuyển hóa), and returns the warnings about units without a counterpart.

Choices (docs/drafts/previous.md says the same to users):

- the "best class" is the first of the commune level's ranking (`ranking.best_first`, else the
  first class): `healthy` for xa-lanh-manh, `drug_free` for qd-28-2025. A unit is maintained
  when it is in the best class this year and was last year;
- several old units merged into one new unit: last year's class is the WORST of theirs
  (conservative: a merged commune is maintained only if every part was in the best class), its
  total the lowest total among the old units of that class, and its `new_drug_addicts` the sum of
  theirs (blank when one of them lacks it). An old unit split into several new units gives its
  class to each of them, but not its `new_drug_addicts` (a count cannot be apportioned);
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

from .pack import Level, Pack
from .validate import Unit, Warning_

EXIT_USAGE, EXIT_UNREADABLE = 2, 4
FILLED_INDICATOR, SOURCE_INDICATOR = "new_drug_addicts_prev", "new_drug_addicts"
CHANGES = ("improved", "same", "worsened")
LIST_AT_MOST = 20  # codes named in one warning


FROM_HISTORY = "history"  # `--previous history`: last year's run from the history database


class PreviousError(Exception):
    """Last year's results cannot be used; `exit_code` is the CLI's exit code."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class PreviousUnit:
    """Last year's result for one of THIS year's codes (after the crosswalk)."""
    code: str  # this year's code
    class_id: str
    class_label: str
    total: Optional[int]
    old_codes: list[str]  # last year's unit(s) it comes from
    new_drug_addicts: Optional[int]  # None: not known (or not apportionable)

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
    warnings: list[Warning_] = field(default_factory=list)
    old_unmapped: list[str] = field(default_factory=list)  # last year's codes with no unit this year
    filled: dict[str, int] = field(default_factory=dict)  # this year's code → new_drug_addicts_prev filled

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
        raise PreviousError(f"--previous {path}: cannot read the file ({e.strerror or e})", EXIT_UNREADABLE)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PreviousError(f"--previous {path}: not a JSON file ({e})", EXIT_UNREADABLE)
    if not isinstance(doc, dict) or not isinstance(doc.get("pack"), dict) or not isinstance(doc.get("units"), list):
        raise PreviousError(f"--previous {path}: not the JSON result of `lanhmanh score --json` "
                            "(no 'pack' object or no 'units' list)", EXIT_UNREADABLE)
    return doc, hashlib.sha256(data).hexdigest()


def read_crosswalk(path: str) -> dict[str, list[str]]:
    """old_code → [new_code, ...] from a CSV with the headings old_code,new_code."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            rows = list(csv.reader(f))
    except OSError as e:
        raise PreviousError(f"--crosswalk {path}: cannot read the file ({e.strerror or e})", EXIT_UNREADABLE)
    except UnicodeDecodeError as e:
        raise PreviousError(f"--crosswalk {path}: not UTF-8 text ({e})", EXIT_UNREADABLE)
    if not rows or [h.strip() for h in rows[0][:2]] != ["old_code", "new_code"]:
        raise PreviousError(f"--crosswalk {path}: the first row must be the headings old_code,new_code", EXIT_UNREADABLE)
    out: dict[str, list[str]] = defaultdict(list)
    for i, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) < 2 or not row[0].strip() or not row[1].strip():
            raise PreviousError(f"--crosswalk {path}: row {i}: both old_code and new_code are needed "
                                f"(got {','.join(row)!r})", EXIT_UNREADABLE)
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
        raise PreviousError(f"--previous {path}: last year's results were made with the pack {pid!r}, this "
                            f"batch is scored with {pack.id!r}; classes of different packs cannot be compared")


def check_year(doc: dict, batch_year: Optional[int], path: str) -> list[Warning_]:
    """Last year's results must be for the year before the batch year (an error otherwise)."""
    prev = year_of_result(doc)
    if batch_year is None or prev is None:
        return [Warning_(path, None, "year", "the year of last year's results or of this batch is not known; "
                                             "they are compared as consecutive years")]
    if prev != batch_year - 1:
        raise PreviousError(f"--previous {path}: its results are for {prev}, but this batch is {batch_year}: "
                            f"give the results of {batch_year - 1}")
    return []


def load_previous(path: str, pack: Pack, batch_year: Optional[int], crosswalk: Optional[str] = None) -> Previous:
    doc, sha = read_result_json(path)
    check_same_pack(doc, pack, path)
    warns = check_year(doc, batch_year, path)
    units = _by_this_years_code(pack.commune, doc["units"], crosswalk, path)
    return Previous(path, sha, doc["pack"].get("id"), str(doc["pack"].get("version")), year_of_result(doc),
                    crosswalk, units, warns)


def load_previous_from_history(db_path: str, pack: Pack, batch_year: Optional[int],
                               crosswalk: Optional[str] = None) -> Previous:
    """`--previous history`: the latest run of the same pack id for the year before the batch year,
    from the history database. It holds classes and totals but not the figures read, so
    new_drug_addicts_prev cannot be filled from it (give last year's JSON for that)."""
    from ..history import previous_results

    if batch_year is None:
        raise PreviousError("--previous history: the batch year is not known (give --year)")
    found = previous_results(db_path, pack.id, batch_year)
    if not found:
        raise PreviousError(f"--previous history: the history database {db_path} holds no run of {pack.id} for "
                            f"{batch_year - 1}; score last year's batch first, or give last year's JSON")
    docs = [{"unit_code": r.unit_code, "class": r.class_id, "class_label": r.class_label, "total": r.total}
            for r in found.values()]
    first = next(iter(found.values()))
    fingerprint = hashlib.sha256(json.dumps(docs, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()
    where = f"{db_path} (run {first.run_id})"
    units = _by_this_years_code(pack.commune, docs, crosswalk, where)
    return Previous(where, fingerprint, pack.id, first.pack_version, batch_year - 1, crosswalk, units)


def _by_this_years_code(level: Level, olds: list[dict], crosswalk: Optional[str], path: str) -> dict:
    """Last year's units mapped onto this year's codes through the crosswalk (merged, split)."""
    xw = read_crosswalk(crosswalk) if crosswalk else {}
    by_new: dict[str, list[dict]] = defaultdict(list)
    split: set[str] = set()
    for i, u in enumerate(olds):
        code = str(u.get("unit_code") or "").strip()
        if not code or not isinstance(u.get("class"), str):
            raise PreviousError(f"--previous {path}: unit {i + 1} has no unit_code or no class", EXIT_UNREADABLE)
        targets = xw.get(code, [code])
        if len(targets) > 1:
            split.add(code)
        for new in targets:
            by_new[new].append(u)
    return {new: merge_units(level, new, units, split) for new, units in by_new.items()}


def merge_units(level: Level, code: str, olds: list[dict], split: set[str]) -> PreviousUnit:
    """One of this year's units from last year's unit(s): the worst class, the lowest total of
    that class, the sum of new_drug_addicts (unknown if any part lacks it or was split)."""
    worst = max(olds, key=lambda u: (level.class_rank(u["class"]), -(u.get("total") or 0)))
    counts = [None if u["unit_code"] in split else _count_in(u, SOURCE_INDICATOR) for u in olds]
    total_new = None if any(c is None for c in counts) else sum(counts)
    return PreviousUnit(code, worst["class"], worst.get("class_label") or level.class_label(worst["class"]),
                        worst.get("total"), [u["unit_code"] for u in olds], total_new)


# ---- before scoring: new_drug_addicts_prev ---------------------------------------------------------

def fill_from_previous(units: list[Unit], previous: Previous, pack: Pack) -> list[Warning_]:
    """Fill a blank `new_drug_addicts_prev` with last year's `new_drug_addicts` (pack permitting)."""
    inds = pack.commune.indicators
    if FILLED_INDICATOR not in inds or SOURCE_INDICATOR not in inds:
        return []
    out = []
    for u in units:
        if u.type in ("tỉnh", "thành phố") or u.values.get(FILLED_INDICATOR) is not None:
            continue
        p = previous.units.get(u.code)
        if p is None:
            continue
        if p.new_drug_addicts is None:
            out.append(Warning_(u.path, u.row, FILLED_INDICATOR,
                                f"unit {u.code} ({u.name}): {FILLED_INDICATOR} is blank and last year's "
                                f"{SOURCE_INDICATOR} is not known for {', '.join(p.old_codes)} (a split unit's "
                                "count cannot be apportioned); left blank", u.sheet))
            continue
        u.values[FILLED_INDICATOR] = p.new_drug_addicts
        previous.filled[u.code] = p.new_drug_addicts
        src = p.old_codes[0] if p.old_codes == [u.code] else "the sum of " + ", ".join(p.old_codes)
        out.append(Warning_(u.path, u.row, FILLED_INDICATOR,
                            f"unit {u.code} ({u.name}): {FILLED_INDICATOR} was blank; filled with "
                            f"{p.new_drug_addicts}, last year's {SOURCE_INDICATOR} of {src} in {previous.path}",
                            u.sheet))
    return out


def previous_for_batch(pack: Pack, intake, path: Optional[str], crosswalk: Optional[str] = None,
                       db: Optional[str] = None) -> Optional[Previous]:
    """What `score` and `verify` do before scoring when given --previous: load last year's
    results for the batch year (intake.year, as load_for_batch decided it) and fill the intake's units from
    them, the fill warnings going with the validator's. None without --previous; raises
    PreviousError (a --crosswalk without --previous is a usage error too)."""
    if path is None:
        if crosswalk is not None:
            raise PreviousError("--crosswalk maps last year's unit codes: give it together with --previous")
        return None
    if path == FROM_HISTORY:
        from ..history import default_db_path

        prev = load_previous_from_history(db or str(default_db_path()), pack, intake.year, crosswalk)
    else:
        prev = load_previous(path, pack, intake.year, crosswalk)
    intake.validator.warnings.extend(fill_from_previous(intake.units, prev, pack))
    return prev


# ---- after scoring: maintained, change, chuyển hóa --------------------------------------------------

def apply_previous(batch, previous: Previous) -> list[Warning_]:
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
        r.filled_prev = previous.filled.get(r.unit.code)
        if p is None:
            r.maintained, r.change, r.transformed = False, None, False
            warns.append(Warning_(r.unit.path, r.unit.row, "unit_code",
                                  f"unit {r.unit.code} ({r.unit.name}) is not in last year's results "
                                  f"({previous.path}{', even through the crosswalk' if previous.crosswalk else ''}); "
                                  "not maintained, no class change", r.unit.sheet))
            continue
        now = r.outcome.class_id
        r.maintained = now == best and p.class_id == best
        r.change = class_change(level, p.class_id, now)
        r.transformed = p.class_id in keys and r.change == "improved"
    unmatched = sorted({c for code, p in previous.units.items() if code not in seen for c in p.old_codes})
    if unmatched:
        shown = ", ".join(unmatched[:LIST_AT_MOST]) + (f" and {len(unmatched) - LIST_AT_MOST} more"
                                                        if len(unmatched) > LIST_AT_MOST else "")
        warns.append(Warning_(previous.path, None, "unit_code",
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
    if r.filled_prev is not None:
        d["filled_from_previous"] = {FILLED_INDICATOR: r.filled_prev}
    return d


def summary_lines(batch) -> list[str]:
    """The lines `score` prints about last year (none without --previous)."""
    prev = batch.previous
    if prev is None:
        return []
    units = batch.units
    changes = Counter(r.change for r in units if r.change)
    line = (f"  compared with {prev.path} ({prev.pack_id} {prev.pack_version}, {prev.year}): "
            f"giữ vững (maintained) {sum(1 for r in units if r.maintained)}, "
            + ", ".join(f"{c} {changes.get(c, 0)}" for c in CHANGES)
            + f", not in last year's results {sum(1 for r in units if r.previous is None)}")
    if key_area_classes(batch.pack):
        line += f", chuyển hóa {sum(1 for r in units if r.transformed)}"
    return [line] + ([f"  new_drug_addicts_prev filled from last year for {len(prev.filled)} unit(s)"]
                     if prev.filled else [])
