"""`lanhmanh score`: read, validate, score and rank a batch; write the scorecard and the JSON."""
from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import click

from ..engine.pack import UNCLASSIFIED
from ..engine.scoring import ENGINES
from .common import (CROSSWALK_HELP, EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED, FORCE_HELP, PREVIOUS_HELP, RULES_HELP,
                     UNIT_LIST_HELP, YEAR_HELP, load_for_batch, print_rejects, print_warnings, read_previous,
                     score_intake)
from .history import DB_HELP, NO_DB_HELP, record_after_score


@dataclass
class Outputs:
    """Where a scored batch goes, and what else the run was asked for."""
    out: Optional[str]
    out_dir: Optional[str]
    json_out: Optional[str]
    targets: object  # engine.targets: the targets read from --targets, or None
    coverage: bool
    db: Optional[str]
    record: bool  # False with --no-db


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--rules", "rules", required=True, help=RULES_HELP)
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
@click.option("--engine", type=click.Choice(ENGINES), default="durable", show_default=True,
              help="durable: the Rete engine durable-rules; python: the pure-Python backend (identical results).")
@click.option("--unit-list", "unit_list", default="official", show_default=True, metavar="official|none|FILE.csv",
              help=UNIT_LIST_HELP)
@click.option("--strict", is_flag=True, help="Any rejected row aborts before anything is written.")
@click.option("--year", "year", type=click.IntRange(2000, 2100), metavar="YEAR", help=YEAR_HELP)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--previous", "previous", type=click.Path(dir_okay=False), metavar="FILE.json", help=PREVIOUS_HELP)
@click.option("--crosswalk", "crosswalk", type=click.Path(dir_okay=False), metavar="FILE.csv", help=CROSSWALK_HELP)
@click.option("--db", "db", type=click.Path(dir_okay=False), metavar="PATH", help=DB_HELP)
@click.option("--no-db", "no_db", is_flag=True, help=NO_DB_HELP)
@click.option("--coverage", is_flag=True,
              help="After scoring, list how many units reached each outcome of the pack (criterion met / not "
                   "met, each band, veto applied / not applied, each class) and every outcome no unit reached.")
def score(inputs: tuple[str, ...], rules: str, out: str | None, out_dir: str | None, targets_file: str | None,
          json_out: str | None, engine: str, unit_list: str, strict: bool, year: int | None, force: bool,
          previous: str | None, crosswalk: str | None, db: str | None, no_db: bool, coverage: bool) -> None:
    """Score every unit in INPUT files (Excel workbooks, CSV or JSON, or folders of them) against a
    rule pack; rank them; write the scorecard workbook (--out) and the JSON (--json).

    A pack named by id is taken in the version in force for the batch year (on 14 Dec of that
    year); a pack not in force for it is refused unless --force is given."""
    if out and Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{out}: the scorecard is an Excel workbook; name it .xlsx", param_hint="--out")
    if targets_file and not out_dir:
        raise click.UsageError("--targets is shown in the national summary: give --out-dir too")
    from ..progress import for_stderr

    bar = for_stderr()
    try:
        with bar.phase("reading"):
            pack, intake, notes = load_for_batch(rules, inputs, unit_list, year, force)
            prev = read_previous(pack, intake, previous, crosswalk, db)
        outputs = Outputs(out, out_dir, json_out, _read_targets(targets_file, pack), coverage, db, not no_db)
        _score_and_write(bar, pack, intake, notes, prev, engine, strict, outputs)
    finally:
        bar.close()


def _read_targets(targets_file: str | None, pack):
    if not targets_file:
        return None
    from ..engine.targets import TargetsError, read_targets

    try:
        return read_targets(Path(targets_file), [c.id for c in pack.commune.classes])
    except TargetsError as e:
        raise click.BadParameter(str(e), param_hint="--targets")


def _score_and_write(bar, pack, intake, notes, prev, engine: str, strict: bool, o: Outputs) -> None:
    import dataclasses

    from ..scorecards.json_out import result_dict, write_json_atomic

    v = intake.validator
    if strict and v.rejected:
        print_rejects(v.rejected)
        click.echo(f"--strict: {len(v.rejected)} problem(s) in the input; nothing was written", err=True)
        sys.exit(EXIT_REJECTED)
    counted = dataclasses.replace(intake, units=bar.iterate("scoring", intake.units))
    batch = score_intake(pack, counted, engine)
    batch.notes.extend(notes)
    if prev is not None:
        from ..engine.previous import apply_previous

        apply_previous(batch, prev)
    out, out_dir, json_out = o.out, o.out_dir, o.json_out
    written = None
    try:
        if out_dir:
            written = _write_national(bar, batch, out_dir, o.targets)
        if out:
            from ..scorecards.xlsx_scorecard import write_scorecard

            with bar.phase("writing the scorecard"):
                write_scorecard(batch, Path(out))
        if json_out:
            with bar.phase("making the JSON"):
                doc = result_dict(batch)
            if json_out == "-":
                from ..scorecards.json_out import dumps

                bar.close()  # the JSON goes to the terminal, perhaps: no progress line inside it
                click.echo(dumps(doc), nl=False)
            else:
                with bar.phase("writing the JSON"):
                    write_json_atomic(json_out, doc)
    except OSError as e:
        bar.close()
        click.echo(f"lanhmanh: cannot write {e.filename or out_dir or out or json_out}: {e.strerror or e}"
                   " (is the file open in Excel?); nothing half-written was left behind", err=True)
        sys.exit(EXIT_OUTPUT)
    bar.close()
    _summary(batch, json_out, out)
    if written is not None:
        _national_summary(written, out_dir, json_out)
    if o.record:
        record_after_score(batch, o.db, stream=sys.stderr if json_out == "-" else None)
    if o.coverage:
        from ..engine.coverage import batch_report

        for line in batch_report(batch):
            click.echo(line, file=sys.stderr if json_out == "-" else sys.stdout)
    sys.exit(EXIT_REJECTED if batch.rejected else EXIT_OK)


def _summary(batch, json_out, xlsx_out=None) -> None:
    pack = batch.pack
    stream = sys.stderr if json_out == "-" else sys.stdout
    echo = lambda s="": click.echo(s, file=stream)  # noqa: E731
    bad_rows = len({(r.path, r.row) for r in batch.rejected})
    echo(f"{pack.id} {pack.version} ({pack.status}) · engine {batch.engine} · "
         f"{len(batch.units)} unit(s) scored, {bad_rows} row(s) rejected")
    counts = Counter(r.outcome.class_id for r in batch.units)
    for cid in [c.id for c in pack.commune.classes] + [UNCLASSIFIED]:
        if counts.get(cid):
            echo(f"  {pack.commune.class_label(cid)} ({cid}): {counts[cid]}")
    if pack.province is not None:
        for p in batch.provinces:
            if p.outcome:
                echo(f"  province {p.province_code}: {pack.province.class_label(p.outcome.class_id)} "
                     f"({p.outcome.class_id}), {p.n_units} unit(s)")
    from ..engine.previous import summary_lines

    for line in summary_lines(batch):
        echo(line)
    print_warnings(batch.warnings)
    if batch.rejected:
        print_rejects(batch.rejected)
    if xlsx_out:
        echo(f"scorecard written to {xlsx_out}")
    if json_out and json_out != "-":
        echo(f"JSON written to {json_out}")


def _write_national(bar, batch, out_dir: str, targets):
    """The per-province workbooks and the national summary (progress: one step per workbook)."""
    from ..engine.targets import check_targets
    from ..scorecards.national import write_national

    checks = None
    if targets:
        counts = {p.province_code: p.class_counts for p in batch.provinces}
        checks = check_targets(targets, counts, {p.province_code: p.n_units for p in batch.provinces})
    with bar.phase("writing", len(batch.provinces) + 1):
        return write_national(batch, Path(out_dir), checks, step=bar.step, workers=_writers(batch))


def _writers(batch) -> int:
    """Processes writing the province workbooks: two for a large batch over several provinces
    (a 10,000-unit batch takes about half the time), else one (no process start-up cost)."""
    import os

    return min(2, os.cpu_count() or 1) if len(batch.units) >= 2000 and len(batch.provinces) >= 4 else 1


def _national_summary(nat, out_dir: str, json_out) -> None:
    from ..scorecards.national import SUMMARY_FILE

    stream = sys.stderr if json_out == "-" else sys.stdout
    click.echo(f"{len(nat.lines)} province workbook(s) and {SUMMARY_FILE} written to {out_dir}", file=stream)
    for chk in nat.checks:
        t = chk.target
        where = "national" if t.province_code == "*" else f"province {t.province_code}"
        if chk.actual is None:
            click.echo(f"  target {where} {t.class_id} {_pct(t.share)}: no unit in the batch", file=stream)
        else:
            click.echo(f"  target {where} {t.class_id} {_pct(t.share)}: {chk.count}/{chk.n_units} = "
                       f"{_pct(chk.actual)}, {'met' if chk.met else 'not met'}", file=stream)


def _pct(f) -> str:
    """A share as a percentage for messages (two decimals, rounded for display only)."""
    from decimal import ROUND_HALF_UP, Decimal

    q = (Decimal(f.numerator) * 100 / Decimal(f.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return f"{q.normalize():f}%"
