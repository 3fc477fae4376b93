"""What the commands share: the options of a batch, printing the library's warnings and errors
(each error exits with its code), and printing rejections and row warnings. The work itself is
the library's (`lanhmanh.api`); the commands are one module each in this package."""
from __future__ import annotations

import functools
import sys
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import click

from lanhmanh.engine.batch.history import DB_FILENAME, ENV_VAR, default_db_path
from lanhmanh.engine.batch.previous import PreviousError
from lanhmanh.engine.evaluation.diagnosis import reject_lines
from lanhmanh.engine.evaluation.scoring import ENGINES
from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model.pack import UNCLASSIFIED
from lanhmanh.errors import InputError, LanhmanhError, RuleWarning, UnreadableInputs, UsageError
from lanhmanh.i18n import N_, _
from lanhmanh.scorecards.outputs.profile import CouncilProfile, load_profile, parse_signer

RULES_HELP = "A shipped pack id (qd-28-2025, xa-lanh-manh) or a rule file."
ENGINE_HELP = "durable: the Rete engine durable-rules; python: the pure-Python backend (identical results)."
YEAR_HELP = ("The batch year when no row gives one (default: the assessment year of today's date, 15 Dec "
             "onward counting as next year); when the rows give a year it must be the same.")
FORCE_HELP = ("Score with the pack even when it is not in force for the batch year (on 14 Dec of that year); "
              "a warning is printed and the scorecard and the JSON say so.")
PREVIOUS_HELP = ("Last year's `score --json` result, or `history` for last year's run of the same pack in the "
                 "history database (classes and totals only). Same pack: units in the pack's best class both years are "
                 "marked maintained (giữ vững), class changes are reported (chuyển hóa for key areas), and the "
                 "indicators the pack carries over (a blank new_drug_addicts_prev) are filled from last year's.")
CROSSWALK_HELP = ("With --previous: a CSV old_code,new_code mapping last year's unit codes onto this year's "
                  "(units merged or split in the reorganisation); other codes keep their code.")
UNIT_LIST_HELP = ("Check codes, types, provinces and names against the official list of administrative "
                  "units (vietnam-provinces), a newer list given as CSV, or nothing (none).")
DB_HELP = (f"The history database (SQLite). Default: ${ENV_VAR} when set, else {DB_FILENAME} in the "
           "per-user data folder (%LOCALAPPDATA%\\lanhmanh on Windows, ~/.local/share/lanhmanh on Linux).")


def batch_options(command: Callable) -> Callable:
    """The options of every command that reads a batch as `score` does (score, verify, explain):
    give `verify` and `explain` what `score` was given and they read the same batch."""
    options = [
        click.option("--rules", "rules", required=True, metavar="PACK", help=RULES_HELP),
        click.option("--engine", type=click.Choice(ENGINES), default="durable", show_default=True, help=ENGINE_HELP),
        click.option("--unit-list", "unit_list", default="official", show_default=True,
                     metavar="official|none|FILE.csv", help=UNIT_LIST_HELP),
        click.option("--year", "year", type=click.IntRange(2000, 2100), metavar="YEAR", help=YEAR_HELP),
        click.option("--force", is_flag=True, help=FORCE_HELP),
        click.option("--previous", "previous", type=click.Path(dir_okay=False), metavar="FILE.json",
                     help=PREVIOUS_HELP),
        click.option("--crosswalk", "crosswalk", type=click.Path(dir_okay=False), metavar="FILE.csv",
                     help=CROSSWALK_HELP),
        click.option("--db", "db", type=click.Path(dir_okay=False), metavar="PATH", help=DB_HELP),
    ]
    for option in reversed(options):
        command = option(command)
    return command


PROFILE_HELP = ("The council profile (YAML): issuing body and its superior, place, document number and symbol, "
                "date, signatories by role, recipients. Printed in the heading and signature blocks; "
                "blank fields print as dotted lines to fill in by hand.")


def profile_options(command: Callable) -> Callable:
    """--profile FILE and a flag for each of its fields (a flag wins over the file): the council
    that issues the printed documents (`score --out/--out-dir/--pdf`, `report`). The command gets
    `profile` (a CouncilProfile)."""
    options = [
        click.option("--profile", "profile_file", type=click.Path(dir_okay=False, exists=True),
                     metavar="FILE.yaml", help=PROFILE_HELP),
        click.option("--issuing-body", "issuing_body", metavar="TEXT",
                     help="The issuing body (cơ quan ban hành), e.g. 'CÔNG AN TỈNH NGHỆ AN'."),
        click.option("--superior-body", "superior_body", metavar="TEXT",
                     help="Its superior body (cơ quan chủ quản), e.g. 'UBND TỈNH NGHỆ AN'."),
        click.option("--place", "place", metavar="TEXT", help="The place name before the date (địa danh)."),
        click.option("--doc-number", "number", metavar="TEXT", help="The document number (số)."),
        click.option("--doc-symbol", "symbol", metavar="TEXT", help="The document symbol (ký hiệu), e.g. BC-CAT."),
        click.option("--doc-date", "doc_date", type=click.DateTime(["%Y-%m-%d", "%d/%m/%Y"]), metavar="DATE",
                     help="The document date (default: today)."),
        click.option("--signer", "signers", multiple=True, metavar="ROLE=NAME",
                     help="A signatory by the pack's role id: ROLE=NAME or 'ROLE=TITLE|NAME' (repeatable)."),
    ]

    @functools.wraps(command)
    def run(*args: Any, profile_file: Optional[str] = None, issuing_body: Optional[str] = None,
            superior_body: Optional[str] = None, place: Optional[str] = None, number: Optional[str] = None,
            symbol: Optional[str] = None, doc_date: Any = None, signers: tuple[str, ...] = (),
            **kwargs: Any) -> Any:
        prof = load_profile(Path(profile_file)) if profile_file else CouncilProfile()
        prof = prof.with_fields(issuing_body=issuing_body, superior_body=superior_body, place=place,
                                number=number, symbol=symbol, date=doc_date.date() if doc_date else None)
        if signers:
            prof = prof.with_fields(signatories={**prof.signatories, **dict(parse_signer(s) for s in signers)})
        return command(*args, profile=prof, **kwargs)

    for option in reversed(options):
        run = option(run)
    return run


def db_path(option: Optional[str]) -> Path:
    """--db, else the default history database."""
    return Path(option) if option else default_db_path()


# ---- errors and warnings of the library -------------------------------------------------------------

def reports_errors(command: Callable[..., int]) -> Callable[..., None]:
    """A command that returns its exit code: an error of the library is printed and exits with its
    code; one about an option is click's (usage and the option named)."""
    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        try:
            code = command(*args, **kwargs)
        except UsageError as e:
            if e.argument is None:
                code = report(e)
            else:
                raise click.BadParameter(str(e), param_hint="--" + e.argument.replace("_", "-")) from None
        except LanhmanhError as e:
            code = report(e)
        sys.exit(code)

    return run


def report(e: LanhmanhError) -> int:
    """Print an error of the library as the command line says it; return its exit code."""
    if isinstance(e, RuleFileError):
        for p in e.problems:
            click.echo(str(p), err=True)
        n = sum(1 for p in e.problems if p.severity == "error")
        click.echo(_("{n} error(s): the rule file is invalid; nothing was written").format(n=n), err=True)
    elif isinstance(e, InputError):
        for one in e.errors if isinstance(e, UnreadableInputs) else [e]:
            click.echo(_("lanhmanh: cannot read input {path}: {message}").format(path=one.path, message=one.message),
                       err=True)
    elif isinstance(e, PreviousError):
        option = "--crosswalk" if e.crosswalk else "--previous"
        click.echo(f"lanhmanh: {option} {e.source}: {e.detail}", err=True)
    else:
        click.echo(f"lanhmanh: {e}", err=True)
    return e.exit_code


@contextmanager
def warnings_printed() -> Iterator[None]:
    """Print on stderr, once the block ends (even by an error), the warnings issued inside it: a
    rule file's as file:line:column: warning: ..., the others as warning: ..."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        for w in caught:
            click.echo(str(w.message) if isinstance(w.message, RuleWarning)
                       else _("warning: {message}").format(message=w.message), err=True)


# ---- rows -------------------------------------------------------------------------------------------

def batch_lines(batch, ids: bool = True) -> list[str]:
    """What every scoring command says first: the pack, the engine and the counts of units scored and
    rows rejected; then the units of each class reached, best first, unclassified last (with the
    class ids when `ids`)."""
    pack = batch.pack
    bad_rows = len({(r.path, r.row) for r in batch.rejected})
    lines = [_("{pack} {version} ({status}) · engine {engine} · {n} unit(s) scored, {rejected} row(s) rejected")
             .format(pack=pack.id, version=pack.version, status=status_label(pack.status), engine=batch.engine,
                     n=len(batch.units), rejected=bad_rows)]
    counts = Counter(r.outcome.class_id for r in batch.units)
    for cid in [c.id for c in pack.commune.classes] + [UNCLASSIFIED]:
        if counts.get(cid):
            lines.append(f"  {pack.commune.class_label(cid)}" + (f" ({cid})" if ids else "") + f": {counts[cid]}")
    return lines


def print_rejects(rejected) -> None:
    for line in reject_lines(rejected):  # per file: its headline, then at most 10 of one reason
        click.echo(line, err=True)


def print_warnings(row_warnings) -> None:
    for w in row_warnings:
        where = w.path
        if w.sheet is not None:
            where += _(" sheet {sheet}").format(sheet=repr(w.sheet))
        if w.cell:
            where += _(" cell {cell}").format(cell=w.cell)
        else:
            where += _(" row {row}").format(row=w.row) if w.row else ""
            where += _(" column {column}").format(column=w.column) if w.column else ""
        click.echo(_("warning: {where}: {message}").format(where=where.strip(), message=w.message), err=True)


STATUS_LABELS = {"official": N_("official"), "illustrative": N_("illustrative")}


def status_label(status: str) -> str:
    """A pack's status as the user reads it (official, illustrative ...)."""
    return _(STATUS_LABELS[status]) if status in STATUS_LABELS else status
