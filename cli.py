"""The `lanhmanh` command line: a click group whose commands live one per module in
`commands/` (shared plumbing in `commands/common.py`); the work is the library's
(`lanhmanh.api`). Exit codes are listed in `errors.py`.
"""
from __future__ import annotations

import importlib
import sys

import click

from lanhmanh.errors import EXIT_INTERNAL
from lanhmanh.version import __version__

# every command, by the module and name it is defined under: a command's module is imported only
# when that command runs (or --help lists them), so that `lanhmanh score` on CSV files does not pay
# for openpyxl, python-docx or matplotlib (click's "lazily loading subcommands" pattern)
COMMANDS = {
    "score": "lanhmanh.commands.score:score",
    "template": "lanhmanh.commands.template:template",
    "check": "lanhmanh.commands.check:check",
    "test": "lanhmanh.commands.test:test_cmd",
    "explain": "lanhmanh.commands.explain:explain",
    "diff": "lanhmanh.commands.diff:diff",
    "verify": "lanhmanh.commands.verify:verify",
    "history": "lanhmanh.commands.history:history",
    "report": "lanhmanh.commands.report:report",
}


class LazyGroup(click.Group):
    """A group whose commands are imported by name when they are first asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command) and command.name == cmd_name
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lanhmanh")
def cli() -> None:
    """Classify, score and rank communes from declarative rule packs.

    Shipped packs: qd-28-2025 (QĐ 28/2025/QĐ-TTg, cumulative reading), qd-28-2025-literal
    (the literal reading, for comparison), xa-lanh-manh (illustrative points scorecard),
    xa-lanh-manh-nghe-an (an illustrative provincial variant of it).
    """


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
