"""`lanhmanh check`: validate rule files and say what each holds; with `--completeness`, also
search the inputs the vocabulary allows for a submission that reaches no class, or a class that is
never reached (the search itself is `engine/analysis/completeness.py`)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from lanhmanh.commands.common import status_label
from lanhmanh.engine.analysis.completeness import DEFAULT_BUDGET, check_completeness, render
from lanhmanh.engine.analysis.overrides import describe_overrides
from lanhmanh.engine.evaluation.python_backend import PythonBackend
from lanhmanh.engine.evaluation.scoring import durable_refusal
from lanhmanh.engine.language.problems import Problem, RuleFileError
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.errors import EXIT_OK, EXIT_RULES
from lanhmanh.i18n import N_, _

LEVEL_NAMES = {"commune": N_("the commune level"), "province": N_("the province level")}


@click.command()
@click.argument("rules", nargs=-1, required=True)
@click.option("--completeness", is_flag=True,
              help="Also search every threshold's boundary values for a submission that reaches no class, "
                   "or a class never reached; print a counterexample (and a case to paste into the pack). "
                   "Exit 3 when one is found.")
@click.option("--budget", type=click.IntRange(min=1), default=None, metavar="N",
              help="With --completeness: evaluate at most N candidate submissions per level (default 200000).")
def check(rules: tuple[str, ...], completeness: bool, budget: int | None) -> None:
    """Validate rule files: syntax, names, types, cycles, unreachable classes, citations.

    Prints one line per problem as file:line:column; exits 3 if any file has an error. With
    --completeness, also exits 3 when a valid submission falls through every class or a class is
    never reached."""
    if budget is not None and not completeness:
        raise click.UsageError(_("--budget is only used with --completeness"))
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
        level = pack.commune
        counts = dict(path=pack.path, id=pack.id, version=pack.version, status=status_label(pack.status),
                      indicators=len(level.indicators), criteria=len(level.criteria), vetoes=len(level.vetoes),
                      classes=len(level.classes), cases=len(pack.cases))
        if pack.province:
            click.echo(_("{path}: ok: {id} {version} ({status}), {indicators} indicators, {criteria} criteria, "
                         "{vetoes} vetoes, {classes} classes, province level with {province_criteria} criteria, "
                         "{cases} cases").format(province_criteria=len(pack.province.criteria), **counts))
        else:
            click.echo(_("{path}: ok: {id} {version} ({status}), {indicators} indicators, {criteria} criteria, "
                         "{vetoes} vetoes, {classes} classes, {cases} cases").format(**counts))
        for line in describe_overrides(pack):
            click.echo(line)
        bad = _backends(pack) or bad
        if completeness:
            bad = _completeness(pack, budget) or bad
    sys.exit(EXIT_RULES if bad else EXIT_OK)


def _backends(pack) -> bool:
    """Compile each level with every backend; print what the durable engine cannot take (`score`
    then uses the python backend, with a warning). True when something was refused."""
    refused = False
    for level in (pack.commune, pack.province):
        if level is None:
            continue
        PythonBackend(level)
        e = durable_refusal(level)
        if e is None:
            continue
        refused = True
        rule = getattr(e, "rule", "")
        what = getattr(e, "what", "") or _(LEVEL_NAMES[level.name])
        path, line, col = _position(pack, rule)
        reason = getattr(e, "reason", str(e))
        click.echo(str(Problem(path, line, col, _("the durable engine cannot take {what}: {reason}; "
                                                  "`score` uses the python backend for this pack")
                               .format(what=what, reason=reason))))
    return refused


def _position(pack, rule: str) -> tuple[str, int, int]:
    """Where a criterion, veto (`ID:` key) or class (`id: ID`) is written: in the pack's file, else
    in the files it extends; the pack's file, line 0, when it is not found."""
    paths = [pack.path]
    base = getattr(pack, "base", None)
    while base is not None:
        paths.append(base.path)
        base = getattr(base, "base", None)
    if rule:
        key = re.compile(r"^(\s*)([\"']?)" + re.escape(rule) + r"\2\s*:")
        cls = re.compile(r"\bid:\s*([\"']?)" + re.escape(rule) + r"\1\s*[,}\s]")
        for path in paths:
            try:
                lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                continue
            for pattern in (key, cls):
                for n, text in enumerate(lines, start=1):
                    hit = pattern.search(text + " ")
                    if hit:
                        return str(path), n, hit.start() + len(hit.group(1) if pattern is key else "") + 1
    return str(pack.path), 0, 0


def _completeness(pack, budget: int | None) -> bool:
    """Run the search on one loaded pack and print its report; True when it found a problem."""
    result = check_completeness(pack, budget or DEFAULT_BUDGET)
    for line in render(result):
        click.echo(line)
    return result.problem
