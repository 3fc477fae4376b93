"""A worksheet that takes whole rows of text and numbers at once and writes them, when the
workbook is closed, as the XML XlsxWriter itself writes for such cells: the evidence sheet's half a
million cells without an XlsxWriter cell object each (about half the time of the scorecard).

The cells are the same: shared strings, the same formats, the same row heights (set_row's rounding
to whole pixels). `tests/test_fast_rows.py` writes one sheet both ways and compares the XML.
"""
from __future__ import annotations

from typing import Optional, Union

from xlsxwriter.format import Format
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

XLS_STRMAX = 32767  # what a cell holds, in UTF-16 units (XlsxWriter truncates a longer string, as here)


def _fits(text: str) -> str:
    units = text.encode("utf-16-le")
    return text if len(units) <= 2 * XLS_STRMAX else units[:2 * XLS_STRMAX].decode("utf-16-le", "ignore")


class Shared:
    """A text cell that repeats on many rows (a criterion's threshold, a unit's name), looked up
    in the shared strings and the formats once (FastRowsWorksheet.shared)."""

    __slots__ = ("tail",)

    def __init__(self, tail: str):
        self.tail = tail


class FastRowsWorksheet(Worksheet):
    """A worksheet whose rows from the first `add_row` on are written from text made at once. Rows
    before it are ordinary XlsxWriter rows (the headings); no ordinary cell may follow it."""

    def __init__(self) -> None:
        super().__init__()
        self._fast: list[str] = []
        self._fast_first: Optional[int] = None
        self._fast_last = -1
        self._letters: list[str] = []
        self._xf: dict[Optional[Format], str] = {}  # format → ' s="n"' (its index as XlsxWriter gives it)

    def _style(self, fmt: Optional[Format]) -> str:
        """' s="n"' for a cell of `fmt`: its index as XlsxWriter gives it, looked up once."""
        s = self._xf.get(fmt)
        if s is None:
            index = fmt._get_xf_index() if fmt is not None else 0
            s = self._xf[fmt] = f' s="{index}"' if index else ""
        return s

    def shared(self, text: str, fmt: Optional[Format] = None) -> Shared:
        """`text` in `fmt`, for the cells of add_row that repeat it."""
        table = self.str_table
        index = table._get_shared_string_index(_fits(text) if len(text) > XLS_STRMAX // 2 else text)
        table.count -= 1  # a reference is counted where a row uses it
        return Shared(f'{self._style(fmt)} t="s"><v>{index}</v></c>')

    def add_row(self, row: int, height: Optional[float],
                cells: list[tuple[int, Union[str, int, float, Shared], Optional[Format]]]) -> None:
        """Row `row` (0-based, after every row written so far) with `cells`: (column, a text, a
        number or a `shared` text, format (a shared text has its own)), columns in increasing
        order; `height` in points as set_row takes it."""
        if row <= self._fast_last:
            raise ValueError(f"add_row: row {row} is not after row {self._fast_last}")
        if self._fast_first is None:
            self._fast_first = row
        self._fast_last = row
        last_col = cells[-1][0] if cells else 0
        if self._check_dimensions(row, last_col) or self._check_dimensions(row, cells[0][0] if cells else 0):
            raise ValueError(f"add_row: row {row} or column {last_col} is outside a worksheet")
        while len(self._letters) <= last_col:
            self._letters.append(xl_col_to_name(len(self._letters)))
        r = str(row + 1)
        attrs = ""
        if height is not None:
            pixels = int(height * 4.0 / 3.0 + 0.5)  # set_row's rounding
            if pixels != self.original_row_height or pixels != self.default_row_height:
                attrs = f' ht="{pixels * 0.75:.16g}" customHeight="1"'
        parts = [f'<row r="{r}"{attrs}>']
        table, letters, styles = self.str_table, self._letters, self._xf
        sst = table._get_shared_string_index
        for col, value, fmt in cells:
            if value.__class__ is Shared:
                parts.append(f'<c r="{letters[col]}{r}"{value.tail}')
                table.count += 1
                continue
            st = styles.get(fmt) or self._style(fmt)  # the dictionary itself first: the inner loop
            if value.__class__ is str:
                if len(value) > XLS_STRMAX // 2:
                    value = _fits(value)
                parts.append(f'<c r="{letters[col]}{r}"{st} t="s"><v>{sst(value)}</v></c>')
            elif type(value) is int or type(value) is float:  # written as write_number writes it
                parts.append(f'<c r="{letters[col]}{r}"{st}><v>{value:.16G}</v></c>')
            else:
                raise TypeError(f"add_row: a cell holds text or a number, not {type(value).__name__}")
        parts.append("</row>")
        self._fast.append("".join(parts))

    def _write_rows(self) -> None:
        if self._fast_first is None:
            super()._write_rows()
            return
        later = [n for n, cells in self.table.items() if cells and n >= self._fast_first]
        if later or any(n >= self._fast_first for n in self.row_info):
            raise ValueError(f"an ordinary cell or row setting at row {(later or [self._fast_first])[0]} "
                             f"among the rows of add_row")
        full: int = self.dim_rowmax  # type: ignore[has-type]
        if self.dim_rowmin is not None and self.dim_rowmin < self._fast_first:
            self.dim_rowmax = self._fast_first - 1
            try:
                super()._write_rows()
            finally:
                self.dim_rowmax = full
        self.fh.write("".join(self._fast))
