"""`lanhmanh test`: run the scenario cases written inside rule files; with `--coverage`, list every
outcome (criterion met / not met, band, no band, veto applied / not applied, class) no case reaches."""
from __future__ import annotations

import warnings

import click

from lanhmanh import api
from lanhmanh.commands.common import reports_errors, warnings_printed
from lanhmanh.engine.analysis.coverage import case_coverage, render
from lanhmanh.engine.analysis.scenarios import run_case
from lanhmanh.engine.evaluation.scoring import ENGINES
from lanhmanh.engine.model.versions import shipped_packs
from lanhmanh.errors import EXIT_OK, EXIT_REJECTED
from lanhmanh.i18n import _


@click.command("test")
@click.argument("rules", nargs=-1)
@click.option("--engine", type=click.Choice(ENGINES + ("both",)), default="both", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
@click.option("--coverage", is_flag=True,
              help="After the cases, list per pack every outcome no case reaches (criterion met / not met, "
                   "each band and no band, veto applied / not applied, each class), with its file:line, "
                   "and those reached but asserted by no case.")
@click.option("--require-full", is_flag=True,
              help="With --coverage (implied): exit 1 when some outcome is reached by no case.")
@reports_errors
def test_cmd(rules: tuple[str, ...], engine: str, quiet: bool, coverage: bool, require_full: bool) -> int:
    """Run the scenario cases written inside rule files (default: every shipped pack)."""
    coverage = coverage or require_full
    refs = list(rules) or [str(p) for p in shipped_packs()]
    engines = list(ENGINES) if engine == "both" else [engine]
    passed = failed = 0
    packs = []
    for ref in refs:
        with warnings_printed():
            pack = api.load_pack(ref)
        packs.append(pack)
        for case in pack.cases:
            for eng in engines:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    res = run_case(pack, case, eng)
                if res.ok:
                    passed += 1
                    if not quiet:
                        click.echo(_("PASS {pack} [{engine}] {case}").format(pack=pack.id, engine=eng,
                                                                             case=case.name))
                else:
                    failed += 1
                    click.echo(_("FAIL {pack} [{engine}] {case} ({path}:{line})").format(
                        pack=pack.id, engine=eng, case=case.name, path=pack.path, line=case.line))
                    for msg in res.failures:
                        click.echo(f"     {msg}")
    click.echo(_("{passed} passed, {failed} failed").format(passed=passed, failed=failed))
    incomplete = _print_coverage(packs, engine) if coverage else 0
    if require_full and incomplete:
        click.echo(_("--require-full: {n} pack(s) leave outcomes that no case reaches").format(n=incomplete))
    return EXIT_REJECTED if failed or (require_full and incomplete) else EXIT_OK


def _print_coverage(packs, engine: str) -> int:
    """Print each pack's coverage report; return how many packs leave an outcome unreached. The
    outcomes are read from the python backend (or durable with --engine durable): the two backends
    give identical outcomes."""
    incomplete = 0
    for pack in packs:
        cov = case_coverage(pack, engine="durable" if engine == "durable" else "python")
        for line in render(cov, unasserted=True):
            click.echo(line)
        incomplete += not cov.complete
    return incomplete
