"""Problems found in rule files and inputs, each with a place a person can go to."""
from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Optional

from lanhmanh.errors import RuleError
from lanhmanh.i18n import _


@dataclass(frozen=True)
class Problem:
    path: str
    line: int  # 1-based, 0 when unknown
    col: int  # 1-based, 0 when unknown
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}:{self.col}"
        severity = {"error": _("error"), "warning": _("warning")}.get(self.severity, self.severity)
        return f"{where}: {severity}: {self.message}"


class RuleFileError(RuleError):
    """A rule file is invalid (exit 3). `problems` holds every error and warning found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        errors = [p for p in problems if p.severity == "error"]
        super().__init__("\n".join(str(p) for p in errors) or _("invalid rule file"))


def suggest(name: str, candidates: Iterable[str]) -> Optional[str]:
    """The closest known name, for 'did you mean ...?'."""
    pool = [c for c in candidates if c]
    folded = {_fold(c): c for c in pool}
    hit = folded.get(_fold(name))
    if hit and hit != name:
        return hit
    best = difflib.get_close_matches(name, pool, n=1, cutoff=0.6)
    if best:
        return best[0]
    best = difflib.get_close_matches(_fold(name), list(folded), n=1, cutoff=0.6)
    return folded[best[0]] if best else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    hint = suggest(name, candidates)
    return _("; did you mean {hint}?").format(hint=repr(hint)) if hint else ""


def _fold(s: str) -> str:
    text = unicodedata.normalize("NFD", s.lower()).replace("đ", "d")
    return "".join(ch for ch in text if not unicodedata.combining(ch))
