"""`lanhmanh report INPUT... --rules PACK --out BAO-CAO.docx`: score a batch as `score` does and write
the province's report to the level above as a Word document (scorecards/outputs/report/). The run
is not recorded in the history database (`score` records it)."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from lanhmanh import api
from lanhmanh.commands.common import (
    batch_lines,
    batch_options,
    print_rejects,
    print_warnings,
    profile_options,
    reports_errors,
    warnings_printed,
)
from lanhmanh.errors import EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED, OutputError
from lanhmanh.i18n import _
from lanhmanh.scorecards.outputs.paths import refuse_outputs_over_inputs
from lanhmanh.scorecards.outputs.pdf import SofficeMissing, convert_to_pdf
from lanhmanh.scorecards.outputs.profile import CouncilProfile
from lanhmanh.scorecards.outputs.report import write_report


@click.command(short_help="Write the province's report (Word, administrative format) for a batch.")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), metavar="FILE.docx",
              help="The report, a Word document (.docx) that Word and LibreOffice open and print.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False), metavar="FILE.pdf",
              help="Also print the report to PDF with LibreOffice (soffice), which must be installed.")
@batch_options
@reports_errors
@profile_options
def report(inputs: tuple[str, ...], rules: str, out: str, pdf_out: Optional[str], engine: str, unit_list: str,
           year: Optional[int], force: bool, previous: Optional[str], crosswalk: Optional[str], db: Optional[str],
           profile: CouncilProfile) -> int:
    """Score every unit in INPUT files (as `score` reads them) and write the province's report to the
    level above (--out FILE.docx) in the administrative format of Nghị định 30/2020/NĐ-CP: heading
    block, number, place and date, title, "Căn cứ" lines, the results per class with their share
    of the units (and, with --previous, last year's counts), the province's own class and criteria,
    a chart, "Nơi nhận" and the signatures, and the list of units per class as an annex.

    The council profile (--profile and its flags) fills the heading and the signatures; what it
    leaves blank prints as dotted lines to fill in by hand. Nothing is recorded in the history."""
    if Path(out).suffix.lower() != ".docx":
        raise click.BadParameter(_("{path}: the report is a Word document; name it .docx").format(path=out),
                                 param_hint="--out")
    if pdf_out and Path(pdf_out).suffix.lower() != ".pdf":
        raise click.BadParameter(_("{path}: name the PDF .pdf").format(path=pdf_out), param_hint="--pdf")
    refuse_outputs_over_inputs(inputs, [(option, path) for option, path in (("--out", out), ("--pdf", pdf_out))
                                        if path])
    with warnings_printed():  # --db is where `--previous history` is read: nothing is recorded
        pack, intake = api.prepare(inputs, rules, year=year, previous=previous, crosswalk=crosswalk,
                                   unit_list=unit_list, force=force, db=db)
        batch = api.score_intake(pack, intake, engine)
    try:
        write_report(batch, Path(out), profile)
    except OSError as e:
        why = _("{error} (is it open in Word?)").format(error=e.strerror or e)
        click.echo(_("lanhmanh: cannot write {path}: {why}; nothing half-written was left behind")
                   .format(path=e.filename or out, why=why), err=True)
        return EXIT_OUTPUT
    _summary(batch, out)
    if pdf_out:
        try:
            convert_to_pdf(Path(out), Path(pdf_out), "--pdf")
        except (SofficeMissing, OutputError) as e:
            click.echo(f"lanhmanh: {e}", err=True)
            return e.exit_code
        click.echo(_("PDF written to {path}").format(path=pdf_out))
    return EXIT_REJECTED if batch.rejected else EXIT_OK


def _summary(batch, out: str) -> None:
    for line in batch_lines(batch, ids=False):  # the report names classes by their labels only
        click.echo(line)
    print_warnings(batch.warnings)
    print_rejects(batch.rejected)
    click.echo(_("report written to {path}").format(path=out))
