"""What every reader returns: one table of rows (`InputFile`), and the error for a file that
cannot be read at all (`InputError`, exit 4)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from lanhmanh.errors import InputError

__all__ = ["InputError", "InputFile"]


@dataclass
class InputFile:
    """One table of rows: a CSV or JSON file, or one sheet of a workbook."""
    path: str
    sha256: str
    rows: list[tuple[int, dict[str, Any]]]  # (row number as a person sees it, record by header)
    headers: list[str]
    sheet: Optional[str] = None  # workbooks: the sheet's name
    letters: dict[str, str] = field(default_factory=dict)  # workbooks: header → column letter ("E")
    header_row: Optional[int] = None  # workbooks: the row that carries the headers
    n_rows: Optional[int] = None  # the rows read, once `rows` is released (validated: api.read_inputs)

    def row_count(self) -> int:
        return self.n_rows if self.n_rows is not None else len(self.rows)

    def release_rows(self) -> None:
        """Forget the rows (a 100,000-row file's raw cells), keeping their count."""
        self.n_rows = self.row_count()
        self.rows = []

    def header_cells(self) -> dict[str, str]:
        return {h: f"{col}{self.header_row}" for h, col in self.letters.items()}
