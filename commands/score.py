"""`lanhmanh score`: read, validate, score and rank a batch; write the scorecard and the JSON."""
from __future__ import annotations

import errno
import gc
import os
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Optional

import click

from lanhmanh import api
from lanhmanh.commands import progress
from lanhmanh.commands.common import (
    batch_lines,
    batch_options,
    db_path,
    print_rejects,
    print_warnings,
    profile_options,
    reports_errors,
    warnings_printed,
)
from lanhmanh.engine.analysis.coverage import batch_report
from lanhmanh.engine.batch import history
from lanhmanh.engine.batch.previous import summary_lines
from lanhmanh.engine.batch.targets import TargetsError, check_targets, read_targets
from lanhmanh.errors import EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED, LanhmanhError, OutputError
from lanhmanh.i18n import _
from lanhmanh.scorecards.outputs.json_out import chunks, result_dict, write_json_atomic
from lanhmanh.scorecards.outputs.paths import refuse_outputs_over_inputs
from lanhmanh.scorecards.outputs.profile import CouncilProfile


@dataclass
class Outputs:
    """Where a scored batch goes, and what else the run was asked for."""
    out: Optional[str]
    out_dir: Optional[str]
    json_out: Optional[str]
    targets: object  # engine.batch.targets: the targets read from --targets, or None
    coverage: bool
    db: Optional[str]
    record: bool  # False with --no-db
    pdf: Optional[str] = None
    profile: CouncilProfile = CouncilProfile()


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write the ranked scorecard workbook (.xlsx), in Vietnamese, ready to print.")
@click.option("--out-dir", "out_dir", type=click.Path(file_okay=False),
              help="Write one scorecard workbook per province (DIR/40-nghe-an.xlsx) and the national "
                   "summary DIR/toan-quoc.xlsx; the summary is written last.")
@click.option("--targets", "targets_file", type=click.Path(dir_okay=False),
              help="A CSV file province_code,class,share (e.g. 40,drug_free,20%; '*' for the whole "
                   "batch): the national summary shows each province's share against its target.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the full result (ranked units with evidence) as JSON; '-' for standard output.")
@click.option("--pdf", "pdf_out", type=click.Path(dir_okay=False),
              help="Also write the scorecard as a print-ready PDF (every sheet meant for print, in order), "
                   "made with LibreOffice (soffice), which must be installed.")
@click.option("--strict", is_flag=True, help="Any rejected row aborts before anything is written.")
@batch_options
@click.option("--no-db", "no_db", is_flag=True, help="Do not record this run in the history database.")
@click.option("--coverage", is_flag=True,
              help="After scoring, list how many units reached each outcome of the pack (criterion met / not "
                   "met, each band, veto applied / not applied, each class) and every outcome no unit reached.")
@reports_errors
@profile_options
def score(inputs: tuple[str, ...], rules: str, out: str | None, out_dir: str | None, targets_file: str | None,
          json_out: str | None, pdf_out: str | None, engine: str, unit_list: str, strict: bool, year: int | None,
          force: bool, previous: str | None, crosswalk: str | None, db: str | None, no_db: bool, coverage: bool,
          profile: CouncilProfile) -> int:
    """Score every unit in INPUT files (Excel workbooks, CSV or JSON, or folders of them) against a
    rule pack; rank them; write the scorecard workbook (--out) and the JSON (--json).

    A pack named by id is taken in the version in force for the batch year (on 14 Dec of that
    year); a pack not in force for it is refused unless --force is given."""
    if out and Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(_("{path}: the scorecard is an Excel workbook; name it .xlsx").format(path=out),
                                 param_hint="--out")
    if pdf_out and Path(pdf_out).suffix.lower() != ".pdf":
        raise click.BadParameter(_("{path}: name the PDF .pdf").format(path=pdf_out), param_hint="--pdf")
    if targets_file and not out_dir:
        raise click.UsageError(_("--targets is shown in the national summary: give --out-dir too"))
    refuse_outputs_over_inputs(inputs, [(option, path) for option, path in
                                        (("--out", out), ("--out-dir", out_dir), ("--json", json_out),
                                                          ("--pdf", pdf_out))
                                        if path and path != "-"])

    if not no_db:  # another program's database, or a newer lanhmanh's: exit 4 before anything is written
        history.inspect(db_path(db))

    bar = progress.for_stderr()
    try:
        with _collector_paused():
            with bar.phase(_("reading")), warnings_printed():
                pack, intake = api.prepare(inputs, rules, year=year, previous=previous, crosswalk=crosswalk,
                                           unit_list=unit_list, force=force, db=db)
            outputs = Outputs(out, out_dir, json_out, _read_targets(targets_file, pack), coverage, db, not no_db,
                              pdf_out, profile)
            return _score_and_write(bar, pack, intake, engine, strict, outputs)
    finally:
        bar.close()


@contextmanager
def _collector_paused():
    """The cyclic garbage collector off while a batch is read, scored and written: the batch is
    millions of long-lived objects (rows, units, evidence, the JSON document) and makes almost no
    reference cycles, so each collection rescanned them all for nothing (a fifth of a 10,000-unit
    run). Reference counting still frees everything; the collector is back on afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _read_targets(targets_file: str | None, pack):
    if not targets_file:
        return None

    try:
        return read_targets(Path(targets_file), [c.id for c in pack.commune.classes])
    except TargetsError as e:
        raise click.BadParameter(str(e), param_hint="--targets")


def _score_and_write(bar, pack, intake: api.Intake, engine: str, strict: bool, o: Outputs) -> int:
    v = intake.validator
    if strict and v.rejected:
        print_rejects(v.rejected)
        click.echo(_("--strict: {n} problem(s) in the input; nothing was written").format(n=len(v.rejected)), err=True)
        return EXIT_REJECTED
    with warnings_printed():
        batch = api.score_intake(pack, intake, engine, progress=lambda units: bar.iterate(_("scoring"), units))
    out, out_dir, json_out = o.out, o.out_dir, o.json_out
    written = None
    try:
        if out_dir:
            written = _write_national(bar, batch, out_dir, o.targets, o.profile)
        if out:
            with bar.phase(_("writing the scorecard")):
                from lanhmanh.scorecards.outputs.scorecard.workbook import write_scorecard  # not for JSON alone

                write_scorecard(batch, Path(out), profile=o.profile)
        if json_out:  # each unit's entry made as it is written (result_dict stream=True): flat memory
            doc = result_dict(batch, stream=True)
            if json_out == "-":
                bar.close()  # the JSON goes to the terminal, perhaps: no progress line inside it
                for piece in chunks(doc):
                    click.echo(piece, nl=False)
            else:
                with bar.phase(_("writing the JSON")):
                    write_json_atomic(json_out, doc, processes=min(2, os.cpu_count() or 1))
        # the PDF last: without LibreOffice (exit 2) or when it fails (exit 6), the workbook and the
        # JSON are already written and the run is still recorded
        pdf_failed = _write_pdf(bar, batch, o) if o.pdf else None
    except OSError as e:
        bar.close()
        name = e.filename or out_dir or out or json_out
        blocker = next((p for p in [Path(str(name)), *Path(str(name)).parents] if p.is_file()), None) \
            if e.errno in (errno.EEXIST, errno.ENOTDIR) else None  # a file where a folder must be
        why = (_("the folder {path} is a file").format(path=blocker) if blocker is not None
               else _("{error} (is the file open in Excel?)").format(error=e.strerror or e))
        click.echo(_("lanhmanh: cannot write {path}: {why}; nothing half-written was left behind")
                   .format(path=name, why=why), err=True)
        return EXIT_OUTPUT
    bar.close()
    stream = sys.stderr if json_out == "-" else None  # standard output carries the JSON
    _summary(batch, json_out, out)
    if o.pdf and pdf_failed is None:
        click.echo(_("PDF written to {path}").format(path=o.pdf), file=stream or sys.stdout)
    if out_dir and written is not None:
        _national_summary(written, out_dir, json_out)
    if o.record:
        path = db_path(o.db)
        try:
            run_id = api.record(batch, path)
        except OutputError as e:
            click.echo(_("lanhmanh: {error}; the scorecard and the JSON (if asked for) were written, but this "
                         "run is not in the history (the database is as it was; give --db PATH or --no-db)")
                       .format(error=e), err=True)
            return EXIT_OUTPUT
        if run_id is not None:
            if history.batch_kind(batch) == "sample":
                said = _("run {run} recorded in the history database {path} (a run on the bundled sample data, "
                         "whose figures are synthetic: `--previous history` never takes it)")
            else:
                said = _("run {run} recorded in the history database {path}")
            click.echo(said.format(run=run_id, path=path), file=stream or sys.stdout)
    if o.coverage:
        for line in batch_report(batch):
            click.echo(line, file=stream or sys.stdout)
    if pdf_failed is not None:
        click.echo(f"lanhmanh: {pdf_failed}", err=True)
        return pdf_failed.exit_code
    return EXIT_REJECTED if batch.rejected else EXIT_OK


def _write_pdf(bar, batch, o: Outputs) -> Optional[LanhmanhError]:
    """Print the scorecard to --pdf; the error (LibreOffice missing, or failing) instead of raising it,
    so that what is already written is reported and the run recorded before the command fails."""
    from lanhmanh.scorecards.outputs.pdf import SofficeMissing, scorecard_pdf

    assert o.pdf is not None
    try:
        with bar.phase(_("writing the PDF")):
            scorecard_pdf(batch, Path(o.pdf), Path(o.out) if o.out else None, o.profile)
    except (SofficeMissing, OutputError) as e:
        return e
    return None


def _summary(batch, json_out, xlsx_out=None) -> None:
    pack = batch.pack
    stream = sys.stderr if json_out == "-" else sys.stdout
    echo = lambda s="": click.echo(s, file=stream)  # noqa: E731
    for line in batch_lines(batch):
        echo(line)
    if pack.province is not None:
        for p in batch.provinces:
            if p.outcome:
                echo(_("  province {code}: {label} ({class_id}), {units}").format(
                    code=p.province_code, label=pack.province.class_label(p.outcome.class_id),
                    class_id=p.outcome.class_id, units=_province_units(p)))

    for line in summary_lines(batch):
        echo(line)
    print_warnings(batch.warnings)
    if batch.rejected:
        print_rejects(batch.rejected)
    if xlsx_out:
        echo(_("scorecard written to {path}").format(path=xlsx_out))
    if json_out and json_out != "-":
        echo(_("JSON written to {path}").format(path=json_out))


def _province_units(p) -> str:
    """'130 of 130 official unit(s)'; what the missing ones leave undetermined; the class also met."""
    if p.n_official is None:
        text = _("{n} unit(s) (no official unit list: shares over the units scored)").format(n=p.n_units)
    else:
        text = _("{n} of {official} official unit(s)").format(n=p.n_units, official=p.n_official)
        if p.n_missing and p.undetermined:
            text += _(", {missing} missing: {classes} undetermined").format(
                missing=p.n_missing, classes=", ".join(p.undetermined))
        elif p.n_missing:
            text += _(", {missing} missing").format(missing=p.n_missing)
    if p.also_meets is not None:
        text += _("; also meets {class_id}").format(class_id=p.also_meets)
    return text


def _write_national(bar, batch, out_dir: str, targets, profile: CouncilProfile):
    """The per-province workbooks and the national summary (progress: one step per workbook)."""
    from lanhmanh.scorecards.outputs.national import write_national

    checks = None
    if targets:
        counts = {p.province_code: p.class_counts for p in batch.provinces}
        checks = check_targets(targets, counts, {p.province_code: p.n_units for p in batch.provinces})
    with bar.phase(_("writing"), len(batch.provinces) + 1):
        return write_national(batch, Path(out_dir), checks, step=bar.step, workers=_writers(batch), profile=profile)


def _writers(batch) -> int:
    """Processes writing the province workbooks: two for a large batch over several provinces
    (a 10,000-unit batch takes about half the time), else one (no process start-up cost)."""
    return min(2, os.cpu_count() or 1) if len(batch.units) >= 2000 and len(batch.provinces) >= 4 else 1


def _national_summary(nat, out_dir: str, json_out) -> None:
    from lanhmanh.scorecards.outputs.national import SUMMARY_FILE

    stream = sys.stderr if json_out == "-" else sys.stdout
    click.echo(_("{n} province workbook(s) and {summary} written to {path}")
               .format(n=len(nat.lines), summary=SUMMARY_FILE, path=out_dir), file=stream)
    for chk in nat.checks:
        t = chk.target
        where = _("national") if t.province_code == "*" else _("province {code}").format(code=t.province_code)
        if chk.actual is None:
            said = _("  target {where} {class_id} {share}: no unit in the batch")
        elif chk.met:
            said = _("  target {where} {class_id} {share}: {count}/{n} = {actual}, met")
        else:
            said = _("  target {where} {class_id} {share}: {count}/{n} = {actual}, not met")
        click.echo(said.format(where=where, class_id=t.class_id, share=_pct(t.share), count=chk.count,
                               n=chk.n_units, actual=_pct(chk.actual) if chk.actual is not None else ""),
                   file=stream)


def _pct(f) -> str:
    """A share as a percentage for messages (two decimals, rounded for display only)."""
    q = (Decimal(f.numerator) * 100 / Decimal(f.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{q.normalize():f}%"
