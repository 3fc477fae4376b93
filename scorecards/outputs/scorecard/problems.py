""""Hồ sơ bị loại" and "Cảnh báo": every rejected row and every warning of the batch, located by
file, sheet, cell (or row and column). One table drawn twice."""
from __future__ import annotations

from typing import Optional

from lanhmanh.scorecards.outputs.presentation import REJECTS, WARNINGS, text_width
from lanhmanh.scorecards.outputs.scorecard.book import Book

# (file, sheet, cell, row, column, value, reason or message)
Problem = tuple[Optional[str], Optional[str], Optional[str], Optional[int], Optional[str], object, str]
UNIT_HEADS = ["Mã đơn vị", "Tên đơn vị"]  # of a rejected row, when its code could be read


def rejected_sheet(bk: Book) -> None:
    """Every rejected row: where, the value, the reason."""
    rejected = bk.batch.rejected
    rows: list[Problem] = [(r.path, r.sheet, r.cell, r.row, r.column, r.value, r.reason) for r in rejected]
    units = [(r.unit_code or "", r.unit_name or "") for r in rejected]
    problem_table(bk, REJECTS, "Lý do bị loại", rows, "Không có dòng số liệu nào bị loại.", value_head="Giá trị",
                  units=units)


def warnings_sheet(bk: Book) -> None:
    """Every warning: where, the message."""
    rows: list[Problem] = [(w.path, w.sheet, w.cell, w.row, w.column, None, w.message) for w in bk.batch.warnings]
    problem_table(bk, WARNINGS, "Nội dung cảnh báo", rows, "Không có cảnh báo nào.")


def problem_table(bk: Book, title: str, reason_head: str, rows: list[Problem], empty: str,
                  value_head: Optional[str] = None, units: Optional[list[tuple[str, str]]] = None) -> None:
    """A numbered table of problems; the value column only with `value_head`, the row's unit code and
    name (after the column) only with `units`."""
    ws = bk.sheet(title)
    f = bk.formats
    with_value = value_head is not None
    unit_heads = UNIT_HEADS if units is not None else []
    heads = (["STT", "Tệp", "Trang tính", "Ô", "Dòng", "Cột"] + unit_heads + ([value_head] if value_head else [])
             + [reason_head])
    c_value = 6 + len(unit_heads)
    last = len(heads) - 1
    for c, heading in enumerate(heads):
        ws.write_string(0, c, heading, f.head)
    for i, (path, sheet, cell, row_number, column, value, reason) in enumerate(rows, start=1):
        ws.write_number(i, 0, i, f.int)
        ws.write_string(i, 1, path or "", f.text)
        ws.write_string(i, 2, sheet or "", f.text)
        ws.write_string(i, 3, cell or "", f.center)
        if row_number is not None:
            ws.write_number(i, 4, row_number, f.int)
        else:
            ws.write_string(i, 4, "", f.int)
        ws.write_string(i, 5, column or "", f.text)
        if units is not None:
            ws.write_string(i, 6, units[i - 1][0], f.center)
            ws.write_string(i, 7, units[i - 1][1], f.text)
        if with_value:
            ws.write_string(i, c_value, "" if value is None else str(value), f.text)
        ws.write_string(i, last, reason, f.wrap)
    if not rows:
        ws.write_string(1, 1, empty, f.plain)
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, text_width([r[0] or "" for r in rows], 12, 40))
    ws.set_column(2, 2, 12)
    ws.set_column(3, 4, 7)
    ws.set_column(5, 5, text_width([r[4] or "" for r in rows], 10, 28))
    if units is not None:
        ws.set_column(6, 6, 9)
        ws.set_column(7, 7, text_width([name for _, name in units], 12, 28))
    if with_value:
        ws.set_column(c_value, c_value, 14)
    ws.set_column(last, last, 70)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), last)
    bk.print_setup(ws, title, landscape=True, title_rows=(0, 0))
    if not rows:  # nothing to print: the print area is a blank cell (LibreOffice skips the empty page)
        ws.print_area(3, 0, 3, 0)
