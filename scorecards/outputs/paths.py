"""Outputs never touch inputs: every output path is held against every input path before anything
is read or written, so a scorecard or a JSON can never overwrite a submission, and no output lands
in a submissions folder where the next run would read it back as a submission."""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lanhmanh.errors import UsageError


def refuse_outputs_over_inputs(inputs: Iterable[str], outputs: Iterable[tuple[str, str]]) -> None:
    """Raise UsageError (exit 2) naming both paths when an output (`(option, path)`, e.g.
    `("--out", "x.xlsx")`) is an input file, lies in an input folder (or below it), or, for an
    output folder, is an input folder or holds an input."""
    given = [(name, Path(name).resolve()) for name in inputs]
    for option, target in outputs:
        out = Path(target).resolve()
        for name, source in given:
            if out == source or _same_file(out, source):
                what = "input folder" if source.is_dir() else "input"
                raise UsageError(f"{option} {target} is the {what} {name}: the submissions would be "
                                 "overwritten or mixed with the results; write the output elsewhere")
            if source.is_dir() and source in out.parents:
                raise UsageError(f"{option} {target} lies in the input folder {name}: the next run on "
                                 "that folder would read it back as a submission; write it elsewhere")
            if option == "--out-dir" and out in source.parents:
                raise UsageError(f"{option} {target} holds the input {name}: write the scorecards to a "
                                 "folder of their own")


def _same_file(a: Path, b: Path) -> bool:
    """Two names of one file (a hard link, a case-insensitive file system)."""
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False
