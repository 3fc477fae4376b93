"""The `lanhmanh` command line: a click group whose commands live one per module in
`commands/` (shared plumbing in `commands/common.py`); the work is the library's
(`lanhmanh.api`). Exit codes are listed in `errors.py`.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any, Optional

import click

from lanhmanh.errors import EXIT_INTERNAL
from lanhmanh.i18n import LANGUAGES, N_, _, set_language
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


# ---- the language: help texts are written in English and translated when they are shown --------

# what --help shows of a command and of its options, translated (tools/messages.py gathers the same)
HELP_ATTRS = ("help", "short_help", "epilog", "options_metavar", "subcommand_metavar")
PARAM_HELP_ATTRS = ("help", "metavar")


def translate_help(command: click.Command) -> None:
    """Puts `command`'s help texts in the language in force (the English ones are kept aside, so
    that it can be done again when --lang changes it)."""
    originals: dict[Any, dict[str, Optional[str]]] = command.__dict__.setdefault("_lanhmanh_help", {})
    for obj, attrs in [(command, HELP_ATTRS)] + [(p, PARAM_HELP_ATTRS) for p in command.params]:
        english = originals.setdefault(id(obj), {a: getattr(obj, a, None) for a in attrs})
        for attr, text in english.items():
            if text:
                setattr(obj, attr, _(text))
    if getattr(command, "_help_option", None) is not None:  # click keeps its --help option once made
        command._help_option = None


def _set_lang(ctx: click.Context, param: click.Parameter, value: Optional[str]) -> None:
    if value is not None or ctx.parent is None:  # the group decides; a command's --lang overrides
        set_language(value)
    if ctx.command is not None:
        translate_help(ctx.command)


LANG_HELP = N_("The language of messages and help: vi (Vietnamese, the default) or en (English); "
               "also set by the LANHMANH_LANG environment variable.")


def lang_option() -> click.Option:
    """`--lang vi|en`, on the group and on every command (`lanhmanh score --lang en ...`)."""
    return click.Option(["--lang"], type=click.Choice(LANGUAGES, case_sensitive=False), default=None,
                        is_eager=True, expose_value=False, callback=_set_lang, help=LANG_HELP)


def _speak_for_click() -> None:
    """click's own messages ("Usage:", "Missing argument", ...) through lanhmanh's catalogue: click
    says them with `gettext.gettext`, bound into each of its modules at import."""
    import click.core
    import click.decorators
    import click.exceptions
    import click.formatting
    import click.parser
    import click.types

    def ngettext(singular: str, plural: str, n: int) -> str:
        return _(singular) if n == 1 else _(plural)

    for module in (click.core, click.decorators, click.exceptions, click.formatting, click.parser,
                   click.types):
        if hasattr(module, "_"):
            module._ = _  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]


_speak_for_click()


class LazyGroup(click.Group):
    """A group whose commands are imported by name when they are first asked for, each given
    `--lang` and its help texts in the language in force."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, name = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command) and command.name == cmd_name
        if not any(p.name == "lang" for p in command.params):
            command.params.append(lang_option())
        translate_help(command)
        return command

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        translate_help(self)
        super().format_help(ctx, formatter)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="lanhmanh", help=N_("Show the version and exit."))
def cli() -> None:
    """Classify, score and rank communes from declarative rule packs.

    Shipped packs: qd-28-2025 (QĐ 28/2025/QĐ-TTg, cumulative reading), qd-28-2025-literal
    (the literal reading, for comparison), xa-lanh-manh (illustrative points scorecard),
    xa-lanh-manh-nghe-an (an illustrative provincial variant of it).
    """


cli.params.append(lang_option())  # the same --lang every command gets (LazyGroup.get_command), after --version


def main() -> None:
    set_language()
    try:
        cli.main(prog_name="lanhmanh", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo(_("interrupted; nothing half-written was left behind"), err=True)
        sys.exit(130)
    except Exception as e:  # no traceback reaches a user
        click.echo(_("lanhmanh: internal error: {error}\n"
                     "This is a bug in lanhmanh; please report it with the command you ran.")
                   .format(error=f"{type(e).__name__}: {e}"), err=True)
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
