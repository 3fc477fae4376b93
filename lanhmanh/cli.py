"""The `lanhmanh` command line: a click group whose commands live one per module in
`lanhmanh/commands/` (shared plumbing in `commands/common.py`).

Exit codes (interfaces.md): 0 all scored; 1 some rows rejected; 2 usage; 3 invalid rule file;
4 unreadable input; 5 a scorecard no longer matches its inputs (verify); 6 an output file cannot
be written; 9 an internal error (a bug: please report it with the command you ran).
"""
from __future__ import annotations

import sys

import click

from . import __version__
from .commands.check import check
from .commands.common import EXIT_INTERNAL
from .commands.diff import diff
from .commands.explain import explain
from .commands.history import history
from .commands.score import score
from .commands.template import template
from .commands.test import test_cmd
from .commands.verify import verify


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lanhmanh")
def cli() -> None:
    """Classify, score and rank communes from declarative rule packs.

    Shipped packs: qd-28-2025 (QĐ 28/2025/QĐ-TTg, cumulative reading), qd-28-2025-literal
    (the literal reading, for comparison), xa-lanh-manh (illustrative points scorecard),
    xa-lanh-manh-nghe-an (an illustrative provincial variant of it).
    """


for command in (score, template, check, test_cmd, explain, diff, verify, history):
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
