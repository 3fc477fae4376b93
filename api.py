"""The library API: score a batch of inputs against a rule pack, as `lanhmanh score` does.

    import lanhmanh
    result = lanhmanh.score(["nghe-an-2025.csv"], rules="qd-28-2025")

`score` chooses the version of the pack in force for the batch year, reads and validates the
inputs, fills what the pack carries over from last year's results (`previous`), scores and ranks,
compares with last year, and records the run in the history database when `db` is given. The
steps are also available one by one (`prepare`, `score_intake`, `record`) for the commands that
print between them. Nothing here prints: problems raise the errors of `lanhmanh.errors` (each
with the exit code of the command line) and warnings about the run are issued with Python's
`warnings` module as `LanhmanhWarning`; warnings about rows are on the result. docs/api.md
describes it for users.
"""
from __future__ import annotations

import datetime as dt
import sqlite3
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional, Union

from lanhmanh.engine.batch.history import HistoryError, default_db_path, record_run
from lanhmanh.engine.batch.previous import (
    FROM_HISTORY,
    Previous,
    apply_previous,
    fill_from_previous,
    load_previous,
    load_previous_from_history,
)
from lanhmanh.engine.evaluation.scoring import ENGINES, BatchResult, score_units
from lanhmanh.engine.evaluation.validate import BlankTable, Rejection, Unit, Validator, cell_year
from lanhmanh.engine.model import admin_units, loader, versions
from lanhmanh.engine.model.pack import Pack
from lanhmanh.errors import (
    InputError,
    LanhmanhWarning,
    OutputError,
    RuleError,
    RuleWarning,
    UnreadableInputs,
    UsageError,
)
from lanhmanh.i18n import _
from lanhmanh.scorecards.inputs.base import InputFile
from lanhmanh.scorecards.inputs.readers import gather, read_any

__all__ = ["BatchResult", "Intake", "Pack", "load_pack", "prepare", "record", "score", "score_intake"]

DEFAULT_ENGINE = "durable"  # falls back to the pure-Python backend (identical results) with a warning

PathLike = Union[str, Path]


@dataclass
class Intake:
    """The inputs of a batch, read and validated: the units that passed, the validator (its
    `rejected` and `warnings`), the files read (path, sheet, sha256, rows), the batch year, the
    notes the results must carry, and last year's results when given."""
    units: list[Unit]
    validator: Validator
    files: list[InputFile] = field(default_factory=list)
    year: Optional[int] = None  # the batch year, once load_for_batch has decided it
    notes: list[str] = field(default_factory=list)  # e.g. a pack applied outside its period (force)
    previous: Optional[Previous] = None
    skipped: list[str] = field(default_factory=list)  # lanhmanh's own scorecards found in input folders

    @property
    def inputs(self) -> list[dict]:
        return [{"path": f.path, "sha256": f.sha256, "rows": f.row_count(),
                 **({"sheet": f.sheet} if f.sheet is not None else {})} for f in self.files]


# ---- the whole run --------------------------------------------------------------------------------

def score(inputs: Union[PathLike, Iterable[PathLike]], rules: PathLike, year: Optional[int] = None,
          engine: Optional[str] = None, previous: Optional[PathLike] = None, crosswalk: Optional[PathLike] = None,
          unit_list: PathLike = "official", force: bool = False, db: Optional[PathLike] = None) -> BatchResult:
    """Score every unit of `inputs` (CSV, JSON or Excel files, or folders of them) against the pack
    `rules` (a shipped pack id such as "qd-28-2025", or a rule file) and rank them.

    - `year`: the batch year when no row gives one (default: the assessment year of today);
    - `engine`: "durable" (default) or "python" (identical results);
    - `previous`: last year's `score --json` result, or "history" for last year's run of the same
      pack in the history database `db` (runs marked void and runs on the bundled samples are passed
      over); `crosswalk`: a CSV old_code,new_code for last year's codes;
    - `unit_list`: "official", "none", or a CSV file of administrative units;
    - `force`: score with a pack that is not in force for the batch year (the results say so);
    - `db`: a history database to record the run in (nothing is recorded without it).

    Raises UsageError (2), RuleError (3), InputError (4) or OutputError (6) from lanhmanh.errors."""
    pack, intake = prepare(inputs, rules, year=year, previous=previous, crosswalk=crosswalk,
                           unit_list=unit_list, force=force, db=db)
    batch = score_intake(pack, intake, engine)
    if db is not None:
        record(batch, db)
    return batch


def prepare(inputs: Union[PathLike, Iterable[PathLike]], rules: PathLike, *, year: Optional[int] = None,
            previous: Optional[PathLike] = None, crosswalk: Optional[PathLike] = None,
            unit_list: PathLike = "official", force: bool = False,
            db: Optional[PathLike] = None) -> tuple[Pack, Intake]:
    """Everything `score` does before scoring: the pack for the batch year, the inputs read and
    validated with it, and last year's results (their carried-over values filled in)."""
    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    pack, intake, _notes = load_for_batch(str(rules), paths, str(unit_list), year, force)
    if crosswalk is not None and previous is None:
        raise UsageError(_("--crosswalk maps last year's unit codes: give it together with --previous"))
    if previous is not None:
        intake.previous = read_previous(pack, intake, str(previous), None if crosswalk is None else str(crosswalk),
                                        None if db is None else str(db))
    return pack, intake


def score_intake(pack: Pack, intake: Intake, engine: Optional[str] = None,
                 progress: Optional[Callable[[list[Unit]], Iterable[Unit]]] = None) -> BatchResult:
    """Score validated units and rank them; the results carry the intake's notes and are compared
    with last year's results when the intake has them. `progress` wraps the units (a progress bar)."""
    engine = engine or DEFAULT_ENGINE
    if engine not in ENGINES:
        raise UsageError(_("unknown engine {engine} (choose from {engines})")
                         .format(engine=repr(engine), engines=", ".join(ENGINES)), argument="engine")
    v = intake.validator
    batch = score_units(pack, intake.units, engine, v.rejected, v.warnings, official_counts(intake), progress)
    batch.inputs = intake.inputs
    batch.year = intake.year
    batch.notes.extend(intake.notes)
    if intake.previous is not None:
        apply_previous(batch, intake.previous)
    return batch


def official_counts(intake: Intake) -> Optional[dict[str, int]]:
    """Per province code, its communes in the official unit list of the batch year (what
    share(...) divides by); None when the rows are checked against no list (--unit-list none)."""
    lists = intake.validator.units
    if lists is None:
        return None
    year = intake.year if intake.year is not None else next((u.year for u in intake.units if u.year is not None), None)
    unit_list = lists.for_year(year)
    return {code: len(unit_list.units_of(code)) for code in unit_list.provinces}


def record(batch: BatchResult, db: PathLike) -> Optional[int]:
    """Record a scored batch as a new run in the history database `db` and return the run's id;
    None when no unit was scored. Rejected rows do not stop the recording (the run keeps their
    count). Raises OutputError when the database cannot be written; it is then left as it was."""
    if not batch.units:
        return None
    try:
        return record_run(Path(db), batch, year=batch.year)
    except HistoryError as e:
        raise OutputError(str(e)) from e
    except (sqlite3.Error, OSError) as e:  # a locked, full or read-only file
        raise OutputError(_("cannot write the history database {path}: {error}").format(path=db, error=e)) from e


# ---- the pack -------------------------------------------------------------------------------------

def load_pack(id_or_path: PathLike) -> Pack:
    """A shipped pack by id (its newest version) or a rule file, checked. Raises RuleError (exit 3):
    RuleFileError, with every problem, for an invalid file. The file's warnings are issued as
    RuleWarning."""
    try:
        pack, problems = loader.load_pack(id_or_path)
    except FileNotFoundError as e:
        raise RuleError(str(e)) from None
    for problem in problems:
        warnings.warn(RuleWarning(problem), stacklevel=2)
    return pack


def load_for_batch(rules: str, inputs: Iterable[PathLike], unit_list: str = "official", year: Optional[int] = None,
                   force: bool = False) -> tuple[Pack, Intake, list[str]]:
    """The pack that applies to the batch, the inputs read with it, and the notes the results must
    carry (also on the intake). A pack id's versions are resolved first; the inputs are read with
    the newest, which gives the batch year; when another version is in force on 14 Dec of that
    year the inputs are read again with it. A pack (or a file) not in force for the year is
    refused (UsageError) unless `force`. The pack's `advisories` for the batch year are notes too
    (and warnings, which `score` prints)."""
    found = [] if _is_file_ref(rules) else versions.versions_of(rules)
    pack = load_pack(rules)
    inputs = list(inputs)
    # several versions: the files read first for the newest, and their year cells looked at; when
    # they give one year of another version, that version reads them (once) instead
    read, early = None, None
    if len(found) > 1 and year is None:  # the version may not be the newest: the year the rows give
        read = _read_files(inputs, Validator(pack).knows)
        early = _read_with_rows_version(inputs, read, pack, found, unit_list)
        if read.released:  # the year's version read them, taken or not: read again for another
            read = None
    if early is not None:  # read once, with the version in force for that year
        pack, intake, batch_year = early
    else:
        intake = read_inputs(inputs, pack, unit_list, year, read)
        batch_year = year_of_batch(intake, year)
    if found and early is None:
        chosen = versions.for_year(found, batch_year)  # AmbiguousVersions is a RuleError
        if chosen is None:
            _refuse_unless(force, pack, batch_year, found)
            chosen = versions.nearest(found, batch_year)
        if chosen is not None and Path(chosen.path).resolve() != Path(pack.path).resolve():
            pack = load_pack(str(chosen.path))
            intake = read_inputs(inputs, pack, unit_list, year)
    if not versions.in_force(pack, batch_year):
        _refuse_unless(force, pack, batch_year, found or versions.versions_of(pack.id))
        warnings.warn(LanhmanhWarning(
            _("--force: pack {pack} {version} is in force {dates}, not on {date}; the {year} batch is scored "
              "with it anyway, and the scorecard and the JSON say so")
            .format(pack=pack.id, version=pack.version, dates=_dates(pack), date=versions.period_end(batch_year),
                    year=batch_year)))
        intake.notes.append(versions.forced_note(pack, batch_year))
    if intake.skipped:
        warnings.warn(LanhmanhWarning(
            _("{n} scorecard(s) or summary(ies) made by lanhmanh found in the input folder(s) were skipped, "
              "not read as submissions (first: {first})").format(n=len(intake.skipped), first=intake.skipped[0])))
    for text in pack.advisories_for(batch_year):  # the pack's `advisories:` for this year (data)
        warnings.warn(LanhmanhWarning(_("pack {pack} {version}, batch {year}: {text}")
                                      .format(pack=pack.id, version=pack.version, year=batch_year, text=text)))
        intake.notes.append(text)
    intake.year = batch_year
    return pack, intake, intake.notes


def _read_with_rows_version(inputs: list[PathLike], read: _Read, newest: Pack, found: list, unit_list: str
                            ) -> Optional[tuple[Pack, Intake, int]]:
    """The inputs read once, with the pack version in force for the one year their `year` cells
    give (in `read`, the files as read for the newest version), when that is another version;
    None otherwise (load_for_batch then validates `read` with the newest to learn the batch year,
    and reads the inputs again with the year's version). Taken only when the rows read that way
    give that year, as year_of_batch would take it."""
    years = _years_given(read, newest)
    if len(years) != 1:
        return None
    (year,) = years
    chosen = versions.for_year(found, year)
    if chosen is None or Path(chosen.path).resolve() == Path(newest.path).resolve():
        return None
    pack = load_pack(str(chosen.path))
    read.release()
    intake = read_inputs(inputs, pack, unit_list, None)
    given = {u.year for u in intake.units if u.year is not None}
    if given == {year} or (not given and intake.validator.years_read == {year}):
        return pack, intake, year
    return None


def _years_given(read: _Read, pack: Pack) -> set[int]:
    """Every year the files' `year` cells give, looked at before validating them."""
    v = Validator(pack)  # a scratch validator: what it notes is not the batch's
    years: set[int] = set()
    for f in read.files:
        try:
            cols = v.header_map(f.path, f.headers, f.sheet, f.header_cells())
        except ValueError:  # read_inputs lists the file as unreadable
            continue
        keys = [h for h, ident in cols.items() if ident == "year"]
        for _rowno, record in f.rows:
            for k in keys:
                if (y := cell_year(record.get(k))) is not None:
                    years.add(y)
    return years


def _refuse_unless(force: bool, pack: Pack, year: int, found: list) -> None:
    if not force:
        raise UsageError(versions.refusal(pack, year, found))


def _dates(pack: Pack) -> str:
    if pack.effective_to:
        return _("from {start} to {end}").format(start=pack.effective_from, end=pack.effective_to)
    return _("from {start}").format(start=pack.effective_from)


def _is_file_ref(ref: str) -> bool:
    """A `rules` value naming a file (as loader.resolve reads it), not a pack id."""
    p = Path(ref)
    return p.suffix.lower() in (".yaml", ".yml") or p.exists()


# ---- the inputs -----------------------------------------------------------------------------------

@dataclass
class _Read:
    """The inputs' files as read (not yet validated), for one pack's columns."""
    files: list[InputFile]
    unreadable: list[tuple[str, Optional[str], str]]  # (path, sheet, why)
    skipped: list[str]
    released: bool = False

    def release(self) -> None:
        """Let go of the rows (flat memory): the inputs will be read again."""
        for f in self.files:
            f.release_rows()
        self.files, self.released = [], True


def _read_files(inputs: Iterable[PathLike], knows: Callable[[Any], bool]) -> _Read:
    found = gather([str(p) for p in inputs])  # missing files and empty folders: listed, not fatal
    files: list[InputFile] = []
    unreadable: list[tuple[str, Optional[str], str]] = [(e.path, None, e.message) for e in found.missing]
    for p in found.paths:
        try:
            files.extend(read_any(p, knows))
        except InputError as e:
            unreadable.append((e.path, None, e.message))
    return _Read(files, unreadable, [str(p) for p in found.skipped])


def read_inputs(inputs: Iterable[PathLike], pack: Pack, unit_list: str = "official",
                year: Optional[int] = None, files_read: Optional[_Read] = None) -> Intake:
    """Read every input (files or folders) and validate its rows against the pack. When nothing
    can be read, raises InputError (UnreadableInputs for several files); a file that cannot be read
    beside readable ones is listed as rejected (a folder with one corrupt commune workbook still
    scores the others). `files_read`: the files already read with this pack's columns (_read_files)."""
    v = Validator(pack, unit_lists(unit_list, year))
    if files_read is None:
        files_read = _read_files(inputs, v.knows)
    files, unreadable = files_read.files, list(files_read.unreadable)
    tables = []
    for f in files:
        try:
            tables.append((f, v.header_map(f.path, f.headers, f.sheet, f.header_cells())))
        except ValueError as e:
            unreadable.append((f.path, f.sheet, str(e)))
    units: list[Unit] = []
    read = 0  # tables with rows to score (not only blank template rows)
    for f, cols in tables:
        letters = {cols[h]: col for h, col in f.letters.items() if h in cols}
        try:
            units.extend(v.rows(f.path, f.rows, cols, f.sheet, letters))
            read += 1
        except BlankTable as e:
            unreadable.append((f.path, f.sheet, str(e)))
        f.release_rows()  # validated: the units hold what is scored (flat memory on large batches)
    if unreadable and not read:
        raise UnreadableInputs([InputError(_("{path}, sheet {sheet}").format(path=path, sheet=repr(sheet))
                                           if sheet is not None else path, message)
                                for path, sheet, message in unreadable])
    v.rejected[:0] = [Rejection(path, None, "", None,
                                _("the file cannot be read, none of its rows were scored: {message}")
                                .format(message=message), sheet) for path, sheet, message in unreadable]
    return Intake(units, v, files, skipped=files_read.skipped)


def unit_lists(spec: str, year: Optional[int] = None) -> Optional[admin_units.UnitLists]:
    """The units' list to check against: official (by the batch year), none, or a CSV file."""
    if spec == "none":
        return None
    if spec == "official":
        return admin_units.UnitLists(year=year)
    try:
        return admin_units.UnitLists(admin_units.from_csv(Path(spec)))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise UsageError(str(e), argument="unit_list") from None


def year_of_batch(intake: Intake, year: Optional[int]) -> int:
    """The batch year: the rows' `year` (one year per batch: several are refused), else `year`,
    else the assessment year of today's date (with a warning)."""
    by_year: dict[int, list[Unit]] = {}
    for u in intake.units:
        if u.year is not None:
            by_year.setdefault(u.year, []).append(u)
    if len(by_year) > 1:
        parts = []
        for y in sorted(by_year):
            first = by_year[y][0]
            parts.append(_("{year} ({n} row(s), first {path} row {row})")
                         .format(year=y, n=len(by_year[y]), path=first.path, row=first.row))
        raise UsageError(_("the rows give several years: {years}; a batch is one assessment year (its pack is "
                           "chosen by it): score each year's rows separately").format(years=", ".join(parts)))
    if by_year:
        (found,) = by_year
        if year is not None and year != found:
            raise UsageError(_("--year {year}, but the rows give the year {found}").format(year=year, found=found))
        return found
    # no row passed: the year of the rows rejected (read with a pack id's newest version, a batch
    # of an earlier year lacks the columns that version added); its version reads them again
    rejected_years = intake.validator.years_read
    if year is None and len(rejected_years) == 1:
        (found,) = rejected_years
        return found
    if year is not None:
        return year
    today = dt.date.today()
    guess = versions.assessment_year(today)
    warnings.warn(LanhmanhWarning(
        _("no row gives a year; the batch is taken as {year}, the assessment period {start} to {end} that "
          "contains today ({today}); give --year to choose")
        .format(year=guess, start=versions.period_start(guess), end=versions.period_end(guess), today=today)))
    return guess


# ---- last year --------------------------------------------------------------------------------------

def read_previous(pack: Pack, intake: Intake, previous: str, crosswalk: Optional[str] = None,
                  db: Optional[str] = None) -> Previous:
    """Last year's results for the batch year (a `score --json` file, or FROM_HISTORY: the
    history database `db`, by default the user's), with the intake's blank carried-over
    indicators filled from them (the fill warnings go with the validator's). Raises PreviousError."""
    if previous == FROM_HISTORY:
        prev = load_previous_from_history(db or str(default_db_path()), pack, intake.year, crosswalk)
    else:
        prev = load_previous(previous, pack, intake.year, crosswalk)
    intake.validator.warnings.extend(fill_from_previous(intake.units, prev, pack))
    return prev
