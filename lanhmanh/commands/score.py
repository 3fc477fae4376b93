"""`lanhmanh score`: read, validate, score and rank a batch; write the scorecard and the JSON."""
from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

import click

from ..engine.pack import UNCLASSIFIED
from ..engine.scoring import ENGINES
from .common import (EXIT_OK, EXIT_OUTPUT, EXIT_REJECTED, FORCE_HELP, RULES_HELP, UNIT_LIST_HELP, YEAR_HELP,
                     load_for_batch, print_rejects, print_warnings, score_intake)

@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--rules", "rules", required=True, help=RULES_HELP)
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write the ranked scorecard workbook (.xlsx), in Vietnamese, ready to print.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the full result (ranked units with evidence) as JSON; '-' for standard output.")
@click.option("--engine", type=click.Choice(ENGINES), default="durable", show_default=True,
              help="durable: the Rete engine durable-rules; python: the pure-Python backend (identical results).")
@click.option("--unit-list", "unit_list", default="official", show_default=True, metavar="official|none|FILE.csv",
              help=UNIT_LIST_HELP)
@click.option("--strict", is_flag=True, help="Any rejected row aborts before anything is written.")
@click.option("--year", "year", type=click.IntRange(2000, 2100), metavar="YEAR", help=YEAR_HELP)
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--coverage", is_flag=True,
              help="After scoring, list how many units reached each outcome of the pack (criterion met / not "
                   "met, each band, veto applied / not applied, each class) and every outcome no unit reached.")
def score(inputs: tuple[str, ...], rules: str, out: str | None, json_out: str | None, engine: str,
          unit_list: str, strict: bool, year: int | None, force: bool, coverage: bool) -> None:
    """Score every unit in INPUT files (Excel workbooks, CSV or JSON, or folders of them) against a
    rule pack; rank them; write the scorecard workbook (--out) and the JSON (--json).

    A pack named by id is taken in the version in force for the batch year (on 14 Dec of that
    year); a pack not in force for it is refused unless --force is given."""
    from ..scorecards.json_out import result_dict, write_json_atomic

    if out and Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{out}: the scorecard is an Excel workbook; name it .xlsx", param_hint="--out")
    pack, intake, notes = load_for_batch(rules, inputs, unit_list, year, force)
    v = intake.validator
    if strict and v.rejected:
        print_rejects(v.rejected)
        click.echo(f"--strict: {len(v.rejected)} problem(s) in the input; nothing was written", err=True)
        sys.exit(EXIT_REJECTED)
    batch = score_intake(pack, intake, engine)
    batch.notes.extend(notes)
    try:
        if out:
            from ..scorecards.xlsx_scorecard import write_scorecard

            write_scorecard(batch, Path(out))
        if json_out:
            doc = result_dict(batch)
            if json_out == "-":
                from ..scorecards.json_out import dumps

                click.echo(dumps(doc), nl=False)
            else:
                write_json_atomic(json_out, doc)
    except OSError as e:
        click.echo(f"lanhmanh: cannot write {e.filename or out or json_out}: {e.strerror or e}"
                   " (is the file open in Excel?); nothing half-written was left behind", err=True)
        sys.exit(EXIT_OUTPUT)
    _summary(batch, json_out, out)
    if coverage:
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
    print_warnings(batch.warnings)
    if batch.rejected:
        print_rejects(batch.rejected)
    if xlsx_out:
        echo(f"scorecard written to {xlsx_out}")
    if json_out and json_out != "-":
        echo(f"JSON written to {json_out}")
