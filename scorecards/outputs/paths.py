"""Outputs never touch inputs: every output path is held against every input path before anything
is read or written, so a scorecard or a JSON can never overwrite a submission, and no output lands
in a submissions folder where the next run would read it back as a submission."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lanhmanh.errors import UsageError
from lanhmanh.i18n import _


def refuse_outputs_over_inputs(inputs: Iterable[str], outputs: Iterable[tuple[str, str]]) -> None:
    """Raise UsageError (exit 2) naming both paths when an output (`(option, path)`, e.g.
    `("--out", "x.xlsx")`) is an input file, lies in an input folder (or below it), or, for an
    output folder, is an input folder or holds an input."""
    given = [(name, Path(name).resolve()) for name in inputs]
    for option, target in outputs:
        out = Path(target).resolve()
        for name, source in given:
            if out == source or _same_file(out, source):
                message = (_("{option} {target} is the input folder {name}: the submissions would be "
                             "overwritten or mixed with the results; write the output elsewhere")
                           if source.is_dir() else
                           _("{option} {target} is the input {name}: the submissions would be "
                             "overwritten or mixed with the results; write the output elsewhere"))
                raise UsageError(message.format(option=option, target=target, name=name))
            if source.is_dir() and source in out.parents:
                raise UsageError(_("{option} {target} lies in the input folder {name}: the next run on "
                                   "that folder would read it back as a submission; write it elsewhere")
                                 .format(option=option, target=target, name=name))
            if option == "--out-dir" and out in source.parents:
                raise UsageError(_("{option} {target} holds the input {name}: write the scorecards to a "
                                   "folder of their own").format(option=option, target=target, name=name))


def _same_file(a: Path, b: Path) -> bool:
    """Two names of one file (a hard link, a case-insensitive file system)."""
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False
