""""Hồ sơ bị loại" and "Cảnh báo": every rejected row and every warning of the batch, located by
file, sheet, cell (or row and column). One table drawn twice."""
from __future__ import annotations

from typing import Optional

from lanhmanh.scorecards.outputs.presentation import REJECTS, WARNINGS, text_width
from lanhmanh.scorecards.outputs.scorecard.book import Book

# (file, sheet, cell, row, column, value, reason or message)
Problem = tuple[Optional[str], Optional[str], Optional[str], Optional[int], Optional[str], object, str]


def rejected_sheet(bk: Book) -> None:
    """Every rejected row: where, the value, the reason."""
    rows: list[Problem] = [(r.path, r.sheet, r.cell, r.row, r.column, r.value, r.reason) for r in bk.batch.rejected]
    problem_table(bk, REJECTS, "Lý do bị loại", rows, "Không có dòng số liệu nào bị loại.", value_head="Giá trị")


def warnings_sheet(bk: Book) -> None:
    """Every warning: where, the message."""
    rows: list[Problem] = [(w.path, w.sheet, w.cell, w.row, w.column, None, w.message) for w in bk.batch.warnings]
    problem_table(bk, WARNINGS, "Nội dung cảnh báo", rows, "Không có cảnh báo nào.")


def problem_table(bk: Book, title: str, reason_head: str, rows: list[Problem], empty: str,
                  value_head: Optional[str] = None) -> None:
    """A numbered table of problems; the value column only with `value_head`."""
    ws = bk.sheet(title)
    f = bk.formats
    with_value = value_head is not None
    heads = ["STT", "Tệp", "Trang tính", "Ô", "Dòng", "Cột"] + ([value_head] if value_head else []) + [reason_head]
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
        if with_value:
            ws.write_string(i, 6, "" if value is None else str(value), f.text)
        ws.write_string(i, last, reason, f.wrap)
    if not rows:
        ws.write_string(1, 1, empty, f.plain)
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, text_width([r[0] or "" for r in rows], 12, 40))
    ws.set_column(2, 2, 12)
    ws.set_column(3, 4, 7)
    ws.set_column(5, 5, text_width([r[4] or "" for r in rows], 10, 28))
    if with_value:
        ws.set_column(6, 6, 14)
    ws.set_column(last, last, 70)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), last)
    bk.print_setup(ws, title, landscape=True, title_rows=(0, 0))
    if not rows:  # nothing to print: the print area is a blank cell (LibreOffice skips the empty page)
        ws.print_area(3, 0, 3, 0)
