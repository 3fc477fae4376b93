""""Thông tin": the pack, the inputs with their sha256, the engine, the time of generation, the
results digest that `verify` checks, last year's results (--previous) and the batch's notes."""
from __future__ import annotations

import datetime as dt
from typing import Any

from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.scorecards.outputs.digest import DIGEST_FORMAT
from lanhmanh.scorecards.outputs.presentation import (
    INFO,
    INFO_DIGEST_LABEL,
    NOTE_LABEL,
    fit_row,
    merge_or_write,
    status_text,
)
from lanhmanh.scorecards.outputs.scorecard.book import Book
from lanhmanh.version import __version__

PREVIOUS_INFO = {"path": "Kết quả năm trước (tệp)", "sha256": "SHA-256 của kết quả năm trước",
                 "year": "Năm của kết quả năm trước", "crosswalk": "Bảng chuyển đổi mã đơn vị"}


def info_sheet(bk: Book) -> None:
    """Label and value rows, then the table of input files."""
    ws = bk.sheet(INFO)
    f, batch = bk.formats, bk.batch
    meta = bk.pack.meta()
    # the title over the table's width (a long title centred in one cell was cut at the page edge)
    merge_or_write(ws, 0, 0, 0, 3, "THÔNG TIN VỀ BẢNG XẾP HẠNG", f.title)
    ws.set_row(0, 24)
    items = [
        ("Bộ tiêu chí (mã)", meta["id"]),
        ("Tên bộ tiêu chí", meta["title"]),
        ("Phiên bản", meta["version"]),
        ("Trạng thái", f"{status_text(meta['status'])} ({meta['status']})"),
        ("Hiệu lực từ ngày", meta["effective_from"]),
        ("Hiệu lực đến ngày", meta["effective_to"] or "(chưa hết hiệu lực)"),
        ("SHA-256 của tệp tiêu chí", meta["sha256"]),
        ("Bộ máy suy luận (engine)", batch.engine),
        ("Phiên bản lanhmanh", __version__),
        ("Thời điểm lập (UTC)", bk.now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")),
        ("Số đơn vị được xếp loại", len(batch.units)),
        ("Số tỉnh, thành phố", len(batch.provinces)),
        ("Số lỗi dữ liệu bị loại", len(batch.rejected)),
        ("Số cảnh báo", len(batch.warnings)),
        (INFO_DIGEST_LABEL, bk.digest),
        ("Cách tính mã kiểm tra", f"{DIGEST_FORMAT} (lanhmanh/scorecards/outputs/digest.py)"),
        *previous_info(batch),
        *((NOTE_LABEL, note) for note in batch.notes),
    ]
    for i, (label, value) in enumerate(items, start=2):
        ws.write_string(i, 0, label, f.label)
        if isinstance(value, int):
            ws.write_number(i, 1, value, f.int)
        else:
            ws.write_string(i, 1, str(value), f.value)
            fit_row(ws, i, [(str(value), 70), (label, 34)])
    top = 2 + len(items) + 1
    ws.write_string(top, 0, "Tệp số liệu đầu vào", f.bold)
    for c, heading in enumerate(("Tệp", "SHA-256", "Số dòng", "Trang tính")):
        ws.write_string(top + 1, c, heading, f.head)
    for i, source in enumerate(batch.inputs, start=top + 2):
        ws.write_string(i, 0, str(source.get("path", "")), f.value)
        fit_row(ws, i, [(str(source.get("path", "")), 34)])
        ws.write_string(i, 1, str(source.get("sha256", "")), f.text)
        ws.write_number(i, 2, int(source.get("rows", 0)), f.int)
        ws.write_string(i, 3, str(source.get("sheet") or ""), f.text)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    ws.set_column(2, 3, 12)
    bk.print_setup(ws, "Thông tin", landscape=True)
    ws.print_area(0, 0, top + 1 + len(batch.inputs), 3)


def previous_info(batch: BatchResult) -> list[tuple[str, Any]]:
    """The rows about last year's results (--previous), none without them."""
    previous = batch.previous
    if previous is None:
        return []
    rows = [(PREVIOUS_INFO["path"], previous.path), (PREVIOUS_INFO["sha256"], previous.sha256),
            (PREVIOUS_INFO["year"], previous.year if previous.year is not None else "(không rõ)")]
    return rows + ([(PREVIOUS_INFO["crosswalk"], previous.crosswalk)] if previous.crosswalk else [])
