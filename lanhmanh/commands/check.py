"""`lanhmanh check`: validate rule files and say what each holds."""
from __future__ import annotations

import sys

import click

from ..engine.loader import load_pack
from ..engine.problems import RuleFileError
from .common import EXIT_OK, EXIT_RULES


@click.command()
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
