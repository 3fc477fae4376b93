"""`lanhmanh test`: run the scenario cases written inside rule files."""
from __future__ import annotations

import sys
import warnings

import click

from ..engine.loader import shipped_packs
from ..engine.scoring import ENGINES
from .common import load


@click.command("test")
@click.argument("rules", nargs=-1)
@click.option("--engine", type=click.Choice(ENGINES + ("both",)), default="both", show_default=True)
@click.option("-q", "--quiet", is_flag=True, help="Print only failures and the summary.")
def test_cmd(rules: tuple[str, ...], engine: str, quiet: bool) -> None:
    """Run the scenario cases written inside rule files (default: every shipped pack)."""
    from ..engine.scenarios import run_case

    refs = list(rules) or [str(p) for p in shipped_packs()]
    engines = list(ENGINES) if engine == "both" else [engine]
    passed = failed = 0
    for ref in refs:
        pack = load(ref)
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
