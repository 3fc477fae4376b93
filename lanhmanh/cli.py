"""The `lanhmanh` command line: thin click commands wiring the engine to the readers and writers.

Exit codes (interfaces.md): 0 all scored; 1 some rows rejected; 2 usage; 3 invalid rule file;
4 unreadable input; 6 an output file cannot be written; 9 an internal error (a bug: please report it with the command you ran).
"""
from __future__ import annotations

import sys
import warnings
from collections import Counter
from pathlib import Path

import click

from . import __version__
from .engine.loader import load_pack, shipped_packs
from .engine.pack import UNCLASSIFIED
from .engine.problems import RuleFileError
from .engine.scoring import ENGINES, score_units

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_RULES, EXIT_INPUT, EXIT_OUTPUT, EXIT_INTERNAL = 0, 1, 2, 3, 4, 6, 9


def _load(ref: str):
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


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lanhmanh")
def cli() -> None:
    """Classify, score and rank communes from declarative rule packs.

    Shipped packs: qd-28-2025 (QĐ 28/2025/QĐ-TTg, cumulative reading), qd-28-2025-literal
    (the literal reading, for comparison), xa-lanh-manh (illustrative points scorecard).
    """


@cli.command()
@click.argument("rules", nargs=-1, required=True)
def check(rules: tuple[str, ...]) -> None:
    """Validate rule files: syntax, names, types, cycles, unreachable classes, citations.

    Prints one line per problem as file:line:column; exits 3 if any file has an error."""
    bad = False
    for ref in rules:
        try:
            pack, warns = load_pack(ref)
        except FileNotFoundError as e:
            click.echo(f"lanhmanh: {e}", err=True)
            bad = True
            continue
        except RuleFileError as e:
            for p in e.problems:
                click.echo(str(p))
            bad = True
            continue
        for w in warns:
            click.echo(str(w))
        lv = pack.commune
        extra = f", province level with {len(pack.province.criteria)} criteria" if pack.province else ""
        click.echo(f"{pack.path}: ok: {pack.id} {pack.version} ({pack.status}), {len(lv.indicators)} indicators, "
                   f"{len(lv.criteria)} criteria, {len(lv.vetoes)} vetoes, {len(lv.classes)} classes{extra}, "
                   f"{len(pack.cases)} cases")
    sys.exit(EXIT_RULES if bad else EXIT_OK)


@cli.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("--rules", "rules", required=True, help="A shipped pack id (qd-28-2025, xa-lanh-manh) or a rule file.")
@click.option("--out", "out", type=click.Path(dir_okay=False),
              help="Write the ranked scorecard workbook (.xlsx), in Vietnamese, ready to print.")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, allow_dash=True),
              help="Write the full result (ranked units with evidence) as JSON; '-' for standard output.")
@click.option("--engine", type=click.Choice(ENGINES), default="durable", show_default=True,
              help="durable: the Rete engine durable-rules; python: the pure-Python backend (identical results).")
@click.option("--unit-list", "unit_list", default="official", show_default=True, metavar="official|none|FILE.csv",
              help="Check codes, types, provinces and names against the official list of administrative "
                   "units (vietnam-provinces), a newer list given as CSV, or nothing (none).")
@click.option("--strict", is_flag=True, help="Any rejected row aborts before anything is written.")
def score(inputs: tuple[str, ...], rules: str, out: str | None, json_out: str | None, engine: str,
          unit_list: str, strict: bool) -> None:
    """Score every unit in INPUT files (Excel workbooks, CSV or JSON, or folders of them) against a
    rule pack; rank them; write the scorecard workbook (--out) and the JSON (--json)."""
    from .engine.validate import Rejection, Validator
    from .scorecards.json_out import result_dict, write_json_atomic
    from .scorecards.readers import InputError, expand, read_any

    if out and Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{out}: the scorecard is an Excel workbook; name it .xlsx", param_hint="--out")
    pack = _load(rules)
    v = Validator(pack, _unit_lists(unit_list))
    try:
        paths = expand(list(inputs))
    except InputError as e:
        click.echo(f"lanhmanh: cannot read input {e.path}: {e.message}", err=True)
        sys.exit(EXIT_INPUT)
    # a file that cannot be read at all: exit 4 when nothing else can be scored; when other
    # inputs are fine, its rows are listed as rejected (a folder with one corrupt commune
    # workbook still scores the other communes)
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
    if strict and v.rejected:
        _print_rejects(v.rejected)
        click.echo(f"--strict: {len(v.rejected)} problem(s) in the input; nothing was written", err=True)
        sys.exit(EXIT_REJECTED)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        batch = score_units(pack, units, engine, v.rejected, v.warnings)
    for w in caught:
        click.echo(f"warning: {w.message}", err=True)
    batch.inputs = [{"path": f.path, "sha256": f.sha256, "rows": len(f.rows),
                     **({"sheet": f.sheet} if f.sheet is not None else {})} for f in files]
    try:
        if out:
            from .scorecards.xlsx_scorecard import write_scorecard

            write_scorecard(batch, Path(out))
        if json_out:
            doc = result_dict(batch)
            if json_out == "-":
                from .scorecards.json_out import dumps

                click.echo(dumps(doc), nl=False)
            else:
                write_json_atomic(json_out, doc)
    except OSError as e:
        click.echo(f"lanhmanh: cannot write {e.filename or out or json_out}: {e.strerror or e}"
                   " (is the file open in Excel?); nothing half-written was left behind", err=True)
        sys.exit(EXIT_OUTPUT)
    _summary(batch, json_out, out)
    sys.exit(EXIT_REJECTED if batch.rejected else EXIT_OK)


def _unit_lists(spec: str):
    """--unit-list: official (by the batch year), none, or a CSV file of units."""
    from .engine import admin_units

    if spec == "none":
        return None
    if spec == "official":
        return admin_units.UnitLists()
    try:
        return admin_units.UnitLists(admin_units.from_csv(Path(spec)))
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise click.BadParameter(str(e), param_hint="--unit-list")


def _print_rejects(rejected) -> None:
    for r in rejected:
        what = f", column {r.column}, value {r.value!r}" if r.row is not None else ""
        click.echo(f"{r.where()}{what}: {r.reason}", err=True)


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
    for w in batch.warnings:
        where = w.path + (f" sheet {w.sheet!r}" if w.sheet is not None else "") + \
            (f" cell {w.cell}" if w.cell else (f" row {w.row}" if w.row else "") +
             (f" column {w.column}" if w.column else ""))
        click.echo(f"warning: {where.strip()}: {w.message}", err=True)
    if batch.rejected:
        _print_rejects(batch.rejected)
    if xlsx_out:
        echo(f"scorecard written to {xlsx_out}")
    if json_out and json_out != "-":
        echo(f"JSON written to {json_out}")


@cli.command()
@click.option("--rules", "rules", required=True, help="A shipped pack id or a rule file.")
@click.option("--province", "province", metavar="CODE",
              help="Pre-fill one row per official unit of this province (2-digit code, e.g. 40).")
@click.option("--year", "year", type=int, help="The batch year written in every row (default: this year).")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="The workbook to write (.xlsx).")
def template(rules: str, province: str | None, year: int | None, out: str) -> None:
    """Write the data-entry workbook for a pack: one row per official unit of the province, a
    column per indicator with its Vietnamese label, Excel data validation, and instructions."""
    import datetime as dt

    from .engine import admin_units
    from .scorecards.template import write_template

    if Path(out).suffix.lower() != ".xlsx":
        raise click.BadParameter(f"{out}: name the template .xlsx", param_hint="--out")
    pack = _load(rules)
    year = year or dt.date.today().year
    units = []
    if province is not None:
        lst = admin_units.UnitLists().for_year(year)
        code = province.strip().zfill(2)
        if lst is None:
            raise click.BadParameter(f"no official list of units is bundled for {year}", param_hint="--year")
        if lst.province(code) is None:
            codes = ", ".join(f"{c} {n}" for c, n in sorted(lst.provinces.items()))
            raise click.BadParameter(f"no province {province!r} in {lst.title}; the codes are: {codes}",
                                     param_hint="--province")
        units = lst.units_of(code)
        province = code
    try:
        n = write_template(pack, Path(out), units=units, province_code=province, year=year)
    except OSError as e:
        click.echo(f"lanhmanh: cannot write {out}: {e.strerror or e} (is the file open in Excel?)", err=True)
        sys.exit(EXIT_OUTPUT)
    rows = f"{n} official unit(s) of province {province} pre-filled" if units else \
        f"{n} blank row(s) to fill (give --province to pre-fill the official units)"
    click.echo(f"template for {pack.id} {pack.version} written to {out}: {rows}")


@cli.command("test")
@click.argument("rules", nargs=-1)
@click.option("--engine", type=click.Choice(ENGINES + ("both",)), default="both", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
def test_cmd(rules: tuple[str, ...], engine: str, quiet: bool) -> None:
    """Run the scenario cases written inside rule files (default: every shipped pack)."""
    from .engine.scenarios import run_case

    refs = list(rules) or [str(p) for p in shipped_packs()]
    engines = list(ENGINES) if engine == "both" else [engine]
    passed = failed = 0
    for ref in refs:
        pack = _load(ref)
        for case in pack.cases:
            for eng in engines:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = run_case(pack, case, eng)
                if res.ok:
                    passed += 1
                    if not quiet:
                        click.echo(f"PASS {pack.id} [{eng}] {case.name}")
                else:
                    failed += 1
                    click.echo(f"FAIL {pack.id} [{eng}] {case.name} ({pack.path}:{case.line})")
                    for msg in res.failures:
                        click.echo(f"     {msg}")
    click.echo(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


def main() -> None:
    try:
        cli.main(prog_name="lanhmanh", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("interrupted; nothing half-written was left behind", err=True)
        sys.exit(130)
    except Exception as e:  # no traceback reaches a user
        click.echo(f"lanhmanh: internal error: {type(e).__name__}: {e}\n"
                   "This is a bug in lanhmanh; please report it with the command you ran.", err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
