"""What every command shares: exit codes, loading a pack, reading the inputs into validated units,
and printing rejections and warnings. The commands themselves are one module each in this package."""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import click

from ..engine import versions
from ..engine.loader import load_pack
from ..engine.problems import RuleFileError

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_RULES, EXIT_INPUT, EXIT_MISMATCH, EXIT_OUTPUT, EXIT_INTERNAL = \
    0, 1, 2, 3, 4, 5, 6, 9

RULES_HELP = "A shipped pack id (qd-28-2025, xa-lanh-manh) or a rule file."
YEAR_HELP = ("The batch year when no row gives one (default: the assessment year of today's date, 15 Dec "
             "onward counting as next year); when the rows give a year it must be the same.")
FORCE_HELP = ("Score with the pack even when it is not in force for the batch year (on 14 Dec of that year); "
              "a warning is printed and the scorecard and the JSON say so.")
PREVIOUS_HELP = ("Last year's `score --json` result, or `history` for last year's run of the same pack in the "
                 "history database (classes and totals only). Same pack: units in the pack's best class both years are "
                 "marked maintained (giữ vững), class changes are reported (chuyển hóa for key areas), and a "
                 "blank new_drug_addicts_prev is filled from last year's new_drug_addicts.")
CROSSWALK_HELP = ("With --previous: a CSV old_code,new_code mapping last year's unit codes onto this year's "
                  "(units merged or split in the reorganisation); other codes keep their code.")
UNIT_LIST_HELP = ("Check codes, types, provinces and names against the official list of administrative "
                  "units (vietnam-provinces), a newer list given as CSV, or nothing (none).")


def load(ref: str):
    try:
        pack, warns = load_pack(ref)
    except FileNotFoundError as e:
        click.echo(f"lanhmanh: {e}", err=True)
        sys.exit(EXIT_RULES)
    except RuleFileError as e:
        for p in e.problems:
            click.echo(str(p), err=True)
        n = sum(1 for p in e.problems if p.severity == "error")
        click.echo(f"{n} error(s): the rule file is invalid; nothing was written", err=True)
        sys.exit(EXIT_RULES)
    for w in warns:
        click.echo(str(w), err=True)
    return pack



@dataclass
class Intake:
    """The inputs of a batch, read and validated: the units that passed, the validator (its
    `rejected` and `warnings`), and the files read (path, sheet, sha256, rows)."""
    units: list
    validator: object
    files: list = field(default_factory=list)
    year: Optional[int] = None  # the batch year, once load_for_batch has decided it

    @property
    def inputs(self) -> list[dict]:
        return [{"path": f.path, "sha256": f.sha256, "rows": len(f.rows),
                 **({"sheet": f.sheet} if f.sheet is not None else {})} for f in self.files]


def read_inputs(inputs, pack, unit_list: str = "official", year: int | None = None) -> Intake:
    """Read every input (files or folders) and validate its rows against the pack. A file that
    cannot be read at all exits 4 when nothing else can be read; beside readable inputs, it is
    listed as rejected (a folder with one corrupt commune workbook still scores the others)."""
    from ..engine.validate import Rejection, Validator
    from ..scorecards.readers import InputError, expand, read_any

    v = Validator(pack, unit_lists(unit_list, year))
    try:
        paths = expand(list(inputs))
    except InputError as e:
        click.echo(f"lanhmanh: cannot read input {e.path}: {e.message}", err=True)
        sys.exit(EXIT_INPUT)
    files, unreadable = [], []
    for p in paths:
        try:
            files.extend(read_any(p, v.knows))
        except InputError as e:
            unreadable.append((e.path, None, e.message))
    tables = []
    for f in files:
        try:
            tables.append((f, v.header_map(f.path, f.headers, f.sheet, f.header_cells())))
        except ValueError as e:
            unreadable.append((f.path, f.sheet, str(e)))
    if unreadable and not tables:
        for path, sheet, msg in unreadable:
            where = f"{path}, sheet {sheet!r}" if sheet is not None else path
            click.echo(f"lanhmanh: cannot read input {where}: {msg}", err=True)
        sys.exit(EXIT_INPUT)
    for path, sheet, msg in unreadable:
        v.rejected.append(Rejection(path, None, "", None, f"the file cannot be read, none of its rows "
                                                           f"were scored: {msg}", sheet))
    units = []
    for f, cols in tables:
        letters = {cols[h]: col for h, col in f.letters.items() if h in cols}
        for rowno, rec in f.rows:
            record = {cols.get(k, k): val for k, val in rec.items()}
            u = v.row(f.path, rowno, record, f.sheet, letters)
            if u is not None:
                units.append(u)
    return Intake(units, v, files)


def score_intake(pack, intake: Intake, engine: str):
    """Score validated units; engine warnings (a fallback to the Python backend) go to stderr."""
    import warnings

    from ..engine.scoring import score_units

    v = intake.validator
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = score_units(pack, intake.units, engine, v.rejected, v.warnings)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    batch.inputs = intake.inputs
    batch.year = intake.year
    return batch


def unit_lists(spec: str, year: int | None = None):
    """--unit-list: official (by the batch year), none, or a CSV file of units."""
    from ..engine import admin_units

    if spec == "none":
        return None
    if spec == "official":
        return admin_units.UnitLists(year=year)
    try:
        return admin_units.UnitLists(admin_units.from_csv(Path(spec)))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise click.BadParameter(str(e), param_hint="--unit-list")


def print_rejects(rejected) -> None:
    for r in rejected:
        what = f", column {r.column}, value {r.value!r}" if r.row is not None else ""
        click.echo(f"{r.where()}{what}: {r.reason}", err=True)



def print_warnings(warnings_) -> None:
    for w in warnings_:
        where = w.path + (f" sheet {w.sheet!r}" if w.sheet is not None else "") + \
            (f" cell {w.cell}" if w.cell else (f" row {w.row}" if w.row else "") +
             (f" column {w.column}" if w.column else ""))
        click.echo(f"warning: {where.strip()}: {w.message}", err=True)


# ---- the pack version for the batch year --------------------------------------------------------

def load_for_batch(rules: str, inputs, unit_list: str, year: int | None = None, force: bool = False):
    """The pack that applies to the batch, the inputs read with it, and the notes the results must
    carry: (pack, intake, notes). A pack id's versions are resolved first; the inputs are read
    with the newest, which gives the batch year; when another version is in force on 14 Dec of
    that year the inputs are read again with it. A pack (or a file) not in force for the year is
    refused (exit 2) unless `force`. Usable by any command that scores inputs (verify, explain)."""
    found = [] if _is_file_ref(rules) else versions.versions_of(rules)
    pack = load(rules)
    intake = read_inputs(inputs, pack, unit_list, year)
    batch_year = year_of_batch(intake, year)
    if found:
        try:
            chosen = versions.for_year(found, batch_year)
        except versions.AmbiguousVersions as e:
            click.echo(f"lanhmanh: {e}", err=True)
            sys.exit(EXIT_RULES)
        if chosen is None:
            _refuse_unless(force, pack, batch_year, found)
            chosen = versions.nearest(found, batch_year)
        if Path(chosen.path).resolve() != Path(pack.path).resolve():
            pack = load(str(chosen.path))
            intake = read_inputs(inputs, pack, unit_list, year)
    notes = []
    if not versions.in_force(pack, batch_year):
        _refuse_unless(force, pack, batch_year, found or versions.versions_of(pack.id))
        click.echo(f"warning: --force: pack {pack.id} {pack.version} is in force {_dates(pack)}, not on "
                   f"{versions.period_end(batch_year)}; the {batch_year} batch is scored with it anyway, and the "
                   "scorecard and the JSON say so", err=True)
        notes.append(versions.forced_note(pack, batch_year))
    intake.year = batch_year
    return pack, intake, notes


def year_of_batch(intake, year: int | None) -> int:
    """The batch year: the rows' `year` (one year per batch: several are refused, exit 2), else
    --year, else the assessment year of today's date (with a warning)."""
    import datetime as dt

    by_year: dict[int, list] = {}
    for u in intake.units:
        if u.year is not None:
            by_year.setdefault(u.year, []).append(u)
    if len(by_year) > 1:
        parts = []
        for y in sorted(by_year):
            first = by_year[y][0]
            parts.append(f"{y} ({len(by_year[y])} row(s), first {first.path} row {first.row})")
        click.echo(f"lanhmanh: the rows give several years: {', '.join(parts)}; a batch is one assessment "
                   "year (its pack is chosen by it): score each year's rows separately", err=True)
        sys.exit(EXIT_USAGE)
    if by_year:
        (found,) = by_year
        if year is not None and year != found:
            click.echo(f"lanhmanh: --year {year}, but the rows give the year {found}", err=True)
            sys.exit(EXIT_USAGE)
        return found
    if year is not None:
        return year
    today = dt.date.today()
    guess = versions.assessment_year(today)
    click.echo(f"warning: no row gives a year; the batch is taken as {guess}, the assessment period "
               f"{versions.period_start(guess)} to {versions.period_end(guess)} that contains today ({today}); "
               "give --year to choose", err=True)
    return guess


def _refuse_unless(force: bool, pack, year: int, found) -> None:
    if not force:
        click.echo(f"lanhmanh: {versions.refusal(pack, year, found)}", err=True)
        sys.exit(EXIT_USAGE)


def _dates(pack) -> str:
    return f"from {pack.effective_from}" + (f" to {pack.effective_to}" if pack.effective_to else "")


def _is_file_ref(ref: str) -> bool:
    """A --rules value naming a file (as loader.resolve reads it), not a pack id."""
    p = Path(ref)
    return p.suffix.lower() in (".yaml", ".yml") or p.exists()


def read_previous(pack, intake: Intake, previous: str | None, crosswalk: str | None, db: str | None = None):
    """--previous / --crosswalk: last year's results for this batch, with the units' blank
    new_drug_addicts_prev filled from them (before scoring); None without --previous. Exits 2 or 4
    with the reason when the file is not last year's result of the same pack."""
    from ..engine.previous import PreviousError, previous_for_batch

    try:
        return previous_for_batch(pack, intake, previous, crosswalk, db)
    except PreviousError as e:
        click.echo(f"lanhmanh: {e}", err=True)
        sys.exit(e.exit_code)
