"""`lanhmanh history`: one unit's class, total and ranks across the recorded runs (years and packs),
the list of recorded runs (--runs, with each run's kind and void mark), or a run marked void
(--void RUN --reason TEXT, appended). `score` records the runs (engine/batch/history.py)."""
from __future__ import annotations

import json
import sys
import unicodedata
from pathlib import Path

import click

from lanhmanh.commands.common import DB_HELP, db_path, status_label
from lanhmanh.engine.batch import history as history_db
from lanhmanh.errors import EXIT_INPUT, EXIT_USAGE
from lanhmanh.i18n import N_, _

EMPTY = N_("{path} holds no recorded run")  # said by engine/batch/history.py
KINDS = {history_db.KIND_SAMPLE: N_("sample"), history_db.KIND_BATCH: N_("batch")}  # a run's kind, as shown

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
        raise click.UsageError(_("--reason goes with --void RUN"))
    if void_id is not None:
        if list_runs or unit_code is not None:
            raise click.UsageError(_("--void RUN is given alone (without a UNIT_CODE or --runs)"))
        if not (reason or "").strip():
            raise click.UsageError(_("--void needs --reason TEXT: why the run is void (kept with the mark)"))
    elif list_runs == (unit_code is not None):
        raise click.UsageError(_("give a UNIT_CODE, or --runs to list the recorded runs, or --void RUN --reason TEXT"))
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
        said = f"lanhmanh: {e}"
        if not db:
            said += " " + _("(the default; give --db PATH, or set {env})").format(env=history_db.ENV_VAR)
        empty = (not path.is_file() or path.stat().st_size == 0 or "holds no recorded run" in str(e)
                 or str(e) == _(EMPTY).format(path=path))
        if empty:
            said += "; " + _("`lanhmanh score` records every run there")
        click.echo(said, err=True)
        sys.exit(EXIT_INPUT)


def _void(path: Path, run_id: int, reason: str, fmt: str) -> None:
    run = history_db.void_run(path, run_id, reason)
    void = run.void or {}
    if fmt == "json":
        click.echo(json.dumps({"db": str(path), "run": run.as_dict()}, ensure_ascii=False, indent=2))
        return
    click.echo(_("{run} marked void in {path} by {user} at {at}: {reason}").format(
        run=run.describe(), path=path, user=void.get("user"), at=void.get("at"), reason=void.get("reason")))
    click.echo(_("it stays in the history (`lanhmanh history --runs` lists it as void) and is never taken as "
                 "last year's results"))


def _show_unit(path: Path, code: str, pack_id: str | None, all_runs: bool, fmt: str) -> None:
    rows = history_db.unit_history(path, code, pack_id, all_runs)
    if not rows:
        near = history_db.closest_codes(path, code)
        if pack_id and history_db.unit_history(path, code):
            click.echo(_("lanhmanh: unit {code} is in {path}, but in no run of pack {pack}").format(
                code=code, path=path, pack=pack_id), err=True)
        else:
            said = (_("lanhmanh: unit {code} is in no recorded run under pack {pack} of {path}") if pack_id
                    else _("lanhmanh: unit {code} is in no recorded run of {path}")).format(
                code=code, pack=pack_id, path=path)
            if near:
                said += "; " + _("the closest recorded codes: {codes}").format(codes=", ".join(near))
            click.echo(said, err=True)
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
    unit = dict(code=last.unit_code, name=last.unit_name, type=last.unit_type, province=last.province_code,
                district=last.district_code, path=path)
    click.echo((_("{code} {name} ({type}, province {province}, district {district}) · {path}") if last.district_code
                else _("{code} {name} ({type}, province {province}) · {path}")).format(**unit))
    header = [_("year"), _("pack"), _("run"), _("class"), _("total"), _("rank prov."), _("rank nat."), _("change")]
    body = [[str(r.year), f"{r.pack_id} {r.pack_version}", _run_label(info[r.run_id]),
             f"{r.class_label} ({r.class_id})",
             "–" if r.total is None else str(r.total), str(r.rank_province), str(r.rank_national),
             _("* was {cls}").format(cls=prev) if prev is not None and prev != r.class_id else ""]
            for r, prev in zip(rows, changes)]
    _table(header, body)
    if any(prev is not None and prev != r.class_id for r, prev in zip(rows, changes)):
        click.echo(_("* the class changed from the row before under the same pack"))


def _run_label(run) -> str:
    """'3', '3 (sample)', '3 (void)'."""
    marks = [_(m) for m, on in ((KINDS[history_db.KIND_SAMPLE], run.kind == history_db.KIND_SAMPLE),
                                (N_("void"), run.void)) if on]
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
    click.echo(_("{n} run(s) in {path}").format(n=len(found), path=path))
    if not found:
        return
    header = [_("run"), _("recorded (UTC)"), _("year"), _("pack"), _("engine"), _("units"), _("rejected"), _("kind"),
              _("inputs (sha256)")]
    body = [[str(r.run_id), r.recorded_at, str(r.year),
             f"{r.pack_id} {r.pack_version} ({status_label(r.pack_status)})", r.engine,
             str(r.units), str(r.rejected_rows), _(KINDS.get(r.kind, r.kind)) + (" " + _("VOID") if r.void else ""),
             "; ".join(f"{Path(i['path']).name}" + (f"[{i['sheet']}]" if "sheet" in i else "") + f" {i['sha256'][:12]}"
                       for i in r.inputs)]
            for r in found]
    _table(header, body)
    for r in found:
        if r.void:
            click.echo(_("run {run} is void (since {at}, by {user}): {reason}").format(
                run=r.run_id, at=r.void["at"], user=r.void["user"], reason=r.void["reason"]))
    if any(r.kind == history_db.KIND_SAMPLE for r in found):
        click.echo(_("kind sample: a run on a bundled sample of examples/ (synthetic figures)"))
    if any(r.kind == history_db.KIND_SAMPLE or r.void for r in found):
        click.echo(_("neither a sample run nor a void run is taken as last year's results (--previous history)"))


def _width(text: str) -> int:
    """Columns a cell takes in a terminal (Vietnamese letters typed decomposed count once)."""
    return sum(1 for ch in unicodedata.normalize("NFC", text) if not unicodedata.combining(ch))


def _table(header: list[str], body: list[list[str]]) -> None:
    widths = [max(_width(row[i]) for row in [header, *body]) for i in range(len(header))]
    for row in [header, *body]:
        click.echo("  ".join(cell + " " * (w - _width(cell)) for cell, w in zip(row, widths)).rstrip())
