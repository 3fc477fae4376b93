"""The `lanhmanh` command line: a click group whose commands live one per module in
`commands/` (shared plumbing in `commands/common.py`); the work is the library's
(`lanhmanh.api`). Exit codes are listed in `errors.py`.
"""
from __future__ import annotations

import sys

import click

from lanhmanh.commands.check import check
from lanhmanh.commands.diff import diff
from lanhmanh.commands.explain import explain
from lanhmanh.commands.history import history
from lanhmanh.commands.report import report
from lanhmanh.commands.score import score
from lanhmanh.commands.template import template
from lanhmanh.commands.test import test_cmd
from lanhmanh.commands.verify import verify
from lanhmanh.errors import EXIT_INTERNAL
from lanhmanh.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lanhmanh")
def cli() -> None:
    """Classify, score and rank communes from declarative rule packs.

    Shipped packs: qd-28-2025 (QĐ 28/2025/QĐ-TTg, cumulative reading), qd-28-2025-literal
    (the literal reading, for comparison), xa-lanh-manh (illustrative points scorecard),
    xa-lanh-manh-nghe-an (an illustrative provincial variant of it).
    """


for command in (score, template, check, test_cmd, explain, diff, verify, history, report):
    cli.add_command(command)


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
