"""`lanhmanh history`: one unit's class, total and ranks across the recorded runs (years and packs),
the list of recorded runs (--runs, with each run's kind and void mark), or a run marked void
(--void RUN --reason TEXT, appended). `score` records the runs (engine/batch/history.py)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from lanhmanh.commands.common import DB_HELP, db_path
from lanhmanh.engine.batch import history as history_db
from lanhmanh.errors import EXIT_INPUT, EXIT_USAGE

# ---- the command ------------------------------------------------------------------------------

@click.command()
@click.argument("unit_code", required=False)
@click.option("--db", "db", type=click.Path(dir_okay=False), metavar="PATH", help=DB_HELP)
@click.option("--pack", "pack_id", metavar="ID", help="Only the runs of this pack id.")
@click.option("--all-runs", is_flag=True, help="Every recorded run, not only the latest of each year and pack.")
@click.option("--runs", "list_runs", is_flag=True,
              help="List the recorded runs (id, time, year, pack, inputs, units) instead of one unit.")
@click.option("--void", "void_id", type=click.IntRange(min=1), metavar="RUN",
              help="Mark run RUN void (a mistaken run: wrong files, wrong pack): it stays listed, marked void, "
                   "and is never taken as last year's results by --previous history. Needs --reason.")
@click.option("--reason", "reason", metavar="TEXT", help="With --void: why the run is void (kept with the mark).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def history(unit_code: str | None, db: str | None, pack_id: str | None, all_runs: bool,
            list_runs: bool, void_id: int | None, reason: str | None, fmt: str) -> None:
    """Show UNIT_CODE's class, total and ranks in every recorded year (oldest first), marking
    where its class changed from the year before under the same pack; by default the latest run
    of each year and pack (a void run is not shown unless --all-runs). `--runs` lists the recorded
    runs instead (a run on a bundled sample is of kind "sample"); `--void RUN --reason TEXT` marks
    a run void by appending a record (nothing is deleted).

    Exit 2 when the unit is in no recorded run (the closest codes are named) or the run to void is
    not recorded, 4 when there is no history database or the file is not one (it is left as it was)."""
    if reason is not None and void_id is None:
        raise click.UsageError("--reason goes with --void RUN")
    if void_id is not None:
        if list_runs or unit_code is not None:
            raise click.UsageError("--void RUN is given alone (without a UNIT_CODE or --runs)")
        if not (reason or "").strip():
            raise click.UsageError("--void needs --reason TEXT: why the run is void (kept with the mark)")
    elif list_runs == (unit_code is not None):
        raise click.UsageError("give a UNIT_CODE, or --runs to list the recorded runs, or --void RUN --reason TEXT")
    path = db_path(db)
    try:
        if void_id is not None:
            _void(path, void_id, reason or "", fmt)
        elif list_runs:
            _show_runs(path, pack_id, fmt)
        else:
            _show_unit(path, (unit_code or "").strip(), pack_id, all_runs, fmt)
    except history_db.NoSuchRun as e:
        click.echo(f"lanhmanh: --void: {e}", err=True)
        sys.exit(EXIT_USAGE)
    except history_db.HistoryError as e:
        hint = "" if db else f" (the default; give --db PATH, or set {history_db.ENV_VAR})"
        empty = not path.is_file() or path.stat().st_size == 0 or "holds no recorded run" in str(e)
        click.echo(f"lanhmanh: {e}{hint}" + ("; `lanhmanh score` records every run there" if empty else ""), err=True)
        sys.exit(EXIT_INPUT)


def _void(path: Path, run_id: int, reason: str, fmt: str) -> None:
    run = history_db.void_run(path, run_id, reason)
    void = run.void or {}
    if fmt == "json":
        click.echo(json.dumps({"db": str(path), "run": run.as_dict()}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{run.describe()} marked void in {path} by {void.get('user')} at {void.get('at')}: "
               f"{void.get('reason')}")
    click.echo("it stays in the history (`lanhmanh history --runs` lists it as void) and is never taken as "
               "last year's results")


def _show_unit(path: Path, code: str, pack_id: str | None, all_runs: bool, fmt: str) -> None:
    rows = history_db.unit_history(path, code, pack_id, all_runs)
    if not rows:
        near = history_db.closest_codes(path, code)
        scope = f" under pack {pack_id}" if pack_id else ""
        if pack_id and history_db.unit_history(path, code):
            click.echo(f"lanhmanh: unit {code} is in {path}, but in no run of pack {pack_id}", err=True)
        else:
            click.echo(f"lanhmanh: unit {code} is in no recorded run{scope} of {path}"
                       + (f"; the closest recorded codes: {', '.join(near)}" if near else ""), err=True)
        sys.exit(EXIT_USAGE)
    changes = class_changes(rows)
    info = {r.run_id: r for r in history_db.runs(path)}
    if fmt == "json":
        doc = {"db": str(path), "unit_code": code, "all_runs": all_runs,
               "results": [{**r.as_dict(), "previous_class": prev, "class_changed": prev is not None and
                            prev != r.class_id, "kind": info[r.run_id].kind, "void": info[r.run_id].void}
                           for r, prev in zip(rows, changes)]}
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
        return
    last = rows[-1]
    click.echo(f"{last.unit_code} {last.unit_name} ({last.unit_type}, province {last.province_code}"
               + (f", district {last.district_code}" if last.district_code else "") + f") · {path}")
    header = ["year", "pack", "run", "class", "total", "rank prov.", "rank nat.", "change"]
    body = [[str(r.year), f"{r.pack_id} {r.pack_version}", _run_label(info[r.run_id]),
             f"{r.class_label} ({r.class_id})",
             "–" if r.total is None else str(r.total), str(r.rank_province), str(r.rank_national),
             f"* was {prev}" if prev is not None and prev != r.class_id else ""]
            for r, prev in zip(rows, changes)]
    _table(header, body)
    if any(prev is not None and prev != r.class_id for r, prev in zip(rows, changes)):
        click.echo("* the class changed from the row before under the same pack")


def _run_label(run) -> str:
    """'3', '3 (sample)', '3 (void)'."""
    marks = [m for m, on in (("sample", run.kind == history_db.KIND_SAMPLE), ("void", run.void)) if on]
    return str(run.run_id) + (f" ({', '.join(marks)})" if marks else "")


def class_changes(rows: list) -> list[str | None]:
    """For each row, the class of the row before it under the same pack id (None for the first)."""
    last: dict[str, str] = {}
    out = []
    for r in rows:
        out.append(last.get(r.pack_id))
        last[r.pack_id] = r.class_id
    return out


def _show_runs(path: Path, pack_id: str | None, fmt: str) -> None:
    found = [r for r in history_db.runs(path) if pack_id is None or r.pack_id == pack_id]
    if fmt == "json":
        click.echo(json.dumps({"db": str(path), "runs": [r.as_dict() for r in found]}, ensure_ascii=False, indent=2))
        return
    click.echo(f"{len(found)} run(s) in {path}")
    if not found:
        return
    header = ["run", "recorded (UTC)", "year", "pack", "engine", "units", "rejected", "kind", "inputs (sha256)"]
    body = [[str(r.run_id), r.recorded_at, str(r.year), f"{r.pack_id} {r.pack_version} ({r.pack_status})", r.engine,
             str(r.units), str(r.rejected_rows), r.kind + (" VOID" if r.void else ""),
             "; ".join(f"{Path(i['path']).name}" + (f"[{i['sheet']}]" if "sheet" in i else "") + f" {i['sha256'][:12]}"
                       for i in r.inputs)]
            for r in found]
    _table(header, body)
    for r in found:
        if r.void:
            click.echo(f"run {r.run_id} is void (since {r.void['at']}, by {r.void['user']}): {r.void['reason']}")
    if any(r.kind == history_db.KIND_SAMPLE for r in found):
        click.echo("kind sample: a run on a bundled sample of examples/ (synthetic figures)")
    if any(r.kind == history_db.KIND_SAMPLE or r.void for r in found):
        click.echo("neither a sample run nor a void run is taken as last year's results (--previous history)")


def _table(header: list[str], body: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
