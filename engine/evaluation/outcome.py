"""What a backend returns for one unit; both backends must return equal Outcomes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Outcome:
    class_id: str
    total: Optional[int]  # None when the level has no points
    vetoes: list[str]  # veto ids that apply, in pack order
    outcomes: list  # per criterion in pack order: (met, points, band index or None)

    def met(self, i: int) -> bool:
        return self.outcomes[i][0]


class EngineRefused(RuntimeError):
    """A backend cannot score this unit exactly (e.g. a value too large for durable_rules)."""
