"""`lanhmanh verify FILE.xlsx INPUT... --rules PACK`: re-derive a scorecard's results from its
inputs and pack, exactly as `score` does, and say whether the workbook still matches them
(exit 0) or name every difference by sheet and cell (exit 5). The comparison itself is
`scorecards/verify.py`."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from lanhmanh import api
from lanhmanh.commands.common import batch_options, reports_errors, warnings_printed
from lanhmanh.errors import EXIT_INPUT, EXIT_MISMATCH, EXIT_OK
from lanhmanh.i18n import _
from lanhmanh.scorecards.outputs.verify import NotAScorecard, UnreadableSheet, compare, open_scorecard

SHOWN = 50  # differences printed; the rest are counted
UNITS_SHOWN = 10


@click.command(short_help="Check a scorecard workbook against its inputs and rules (exit 5 when edited).")
@click.argument("workbook", metavar="FILE.xlsx")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@batch_options
@reports_errors
def verify(workbook: str, inputs: tuple[str, ...], rules: str, engine: str, unit_list: str, year: int | None,
           force: bool, previous: str | None, crosswalk: str | None, db: str | None) -> int:
    """Re-derive the results of a scorecard workbook (written by `score --out`) from its INPUT files
    and the rule pack, and compare them with the workbook: inputs (by sha256), pack, every unit's
    ranks, class, total (and its formula), vetoes and points, the province counts, the evidence,
    the unit sheets and the results digest. Exit 0 when the workbook is intact, 5 when it is not
    (every difference named by sheet and cell), 4 when FILE.xlsx is missing or not a scorecard.

    The pack, its version (chosen by the batch year) and the inputs are read exactly as `score`
    reads them: give the --unit-list, --year, --force, --previous, --crosswalk and --db that
    `score` was given."""
    try:
        card = open_scorecard(Path(workbook))
    except FileNotFoundError:
        click.echo(_("lanhmanh: cannot read scorecard {path}: no such file").format(path=workbook), err=True)
        return EXIT_INPUT
    except NotAScorecard as e:
        click.echo(_("lanhmanh: {path} is not a lanhmanh scorecard: {error}").format(path=workbook, error=e),
                   err=True)
        return EXIT_INPUT
    with card:
        with warnings_printed():  # --db is where `--previous history` is read: nothing is recorded
            pack, intake = api.prepare(inputs, rules, year=year, previous=previous, crosswalk=crosswalk,
                                       unit_list=unit_list, force=force, db=db)
            batch = api.score_intake(pack, intake, engine)
        try:
            report = compare(card, batch)
        except UnreadableSheet as e:
            click.echo(_("lanhmanh: cannot read scorecard {path}: {error}").format(path=workbook, error=e), err=True)
            return EXIT_INPUT
    for line in report.info:
        click.echo(_("note: {note}").format(note=line), err=True)
    if report.uncached:
        click.echo(_("note: {n} formula cell(s) carry no computed value (the workbook was last saved by a program "
                     "that does not calculate); their formulas were checked instead").format(n=report.uncached),
                   err=True)
    if report.intact:
        click.echo(_("intact: {path} matches its inputs and rules: {checked}").format(
            path=workbook, checked="; ".join(report.checked)))
        return EXIT_OK
    _print_differences(workbook, report)
    return EXIT_MISMATCH


def _print_differences(workbook: str, report) -> None:
    diffs = report.differences
    per_sheet = Counter(_sheet_of(d.where) for d in diffs)
    click.echo(_("NOT INTACT: {path} differs from what its inputs and rules give: {n} difference(s) ({sheets})")
               .format(path=workbook, n=len(diffs), sheets=", ".join(f"{sheet} {n}" for sheet, n in per_sheet.items())))
    units = report.units_differing()
    if units:
        shown = ", ".join(f"{c} {report.names.get(c, '')}".strip() for c in units[:UNITS_SHOWN])
        if len(units) > UNITS_SHOWN:
            click.echo(_("units with a difference: {n}: {units} and {more} more").format(
                n=len(units), units=shown, more=len(units) - UNITS_SHOWN))
        else:
            click.echo(_("units with a difference: {n}: {units}").format(n=len(units), units=shown))
    for d in diffs[:SHOWN]:
        click.echo(f"  {d}")
    if len(diffs) > SHOWN:
        click.echo("  " + _("… and {n} more difference(s)").format(n=len(diffs) - SHOWN))


def _sheet_of(where: str) -> str:
    """The part of the workbook a difference is in, as the summary counts them (`where` is kept in
    English by scorecards/outputs/verify.py)."""
    if where.startswith("document property"):
        return _("properties")
    if where.startswith("sheet "):
        return _("unit sheets")
    sheet = where.split("!", 1)[0]
    return _("unit sheets") if sheet.isdigit() else (sheet or _("file"))

