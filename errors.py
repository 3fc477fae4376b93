"""The errors lanhmanh raises to its callers, each with the exit code the command line gives it,
and the warnings it issues about a run.

The library (`lanhmanh.score`, `lanhmanh.load_pack`) raises these errors; a command catches them,
prints the message and exits with `exit_code`. Exit codes are part of the interface:

| code | meaning |
|---|---|
| 0 | every row scored |
| 1 | some rows rejected (the others scored) |
| 2 | usage: a wrong option, an unknown unit, a pack not in force, an output onto an input |
| 3 | an invalid rule file (every problem listed with file:line:column) |
| 4 | an input that cannot be read at all |
| 5 | a scorecard no longer matches its inputs (`verify`) |
| 6 | an output file cannot be written |
| 9 | an internal error: a bug in lanhmanh |

Warnings about a run as a whole (a rule file's warnings, a pack applied outside its period, a
batch year taken from today's date) are issued with Python's `warnings` module as
`LanhmanhWarning`; the command line prints them. Warnings about input rows are on the result.
"""
from __future__ import annotations

from typing import Any, Optional

EXIT_OK = 0
EXIT_REJECTED = 1
EXIT_USAGE = 2
EXIT_RULES = 3
EXIT_INPUT = 4
EXIT_MISMATCH = 5
EXIT_OUTPUT = 6
EXIT_INTERNAL = 9


class LanhmanhError(Exception):
    """Base of the errors lanhmanh raises on purpose; `exit_code` is what the CLI exits with."""
    exit_code = EXIT_INTERNAL


class UsageError(LanhmanhError):
    """The call cannot be carried out as asked (exit 2). `argument`, when set, names the argument
    of `lanhmanh.score` at fault (`unit_list`, `year`, ...)."""
    exit_code = EXIT_USAGE

    def __init__(self, message: str, argument: Optional[str] = None):
        super().__init__(message)
        self.argument = argument


class RuleError(LanhmanhError):
    """A rule pack that cannot be used: no such pack, an invalid rule file, versions that cannot be
    told apart (exit 3)."""
    exit_code = EXIT_RULES


class InputError(LanhmanhError):
    """An input file or folder that cannot be read at all (exit 4); a bad cell only rejects its row."""
    exit_code = EXIT_INPUT

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


class UnreadableInputs(InputError):
    """None of the inputs can be read: `errors` holds one InputError per file (or sheet)."""

    def __init__(self, errors: list[InputError]):
        super().__init__(errors[0].path, errors[0].message)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(f"{e.path}: {e.message}" for e in self.errors)


class OutputError(LanhmanhError):
    """An output file that cannot be written (exit 6); the file that was there is left as it was."""
    exit_code = EXIT_OUTPUT


class LanhmanhWarning(UserWarning):
    """Something a caller should know about a run; the command line prints it as `warning: ...`."""


class RuleWarning(LanhmanhWarning):
    """A warning about a rule file (an unknown key, ...): `problem` says where; the command line
    prints it as file:line:column: warning: message."""

    def __init__(self, problem: Any):
        super().__init__(str(problem))
        self.problem = problem
