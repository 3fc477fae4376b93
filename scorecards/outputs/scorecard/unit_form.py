"""The printable per-unit form, one sheet named by the unit's code: the unit, its criteria
table, total, class, vetoes and ranks, and the signature blocks; one A4 page, portrait."""
from __future__ import annotations

from lanhmanh.engine.evaluation.evidence import criteria_evidence
from lanhmanh.engine.evaluation.scoring import UnitResult
from lanhmanh.scorecards.outputs.presentation import (
    NOTE_LABEL,
    fit_row,
    inputs_text,
    merge_or_write,
    met_text,
    status_text,
    text_lines,
)
from lanhmanh.scorecards.outputs.scorecard.book import Book, also_text, class_cell_text, max_total

SIGNATURES = [("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"),
              ("CHỦ TỊCH UBND XÃ/PHƯỜNG", "(Ký tên, đóng dấu)"),
              ("HỘI ĐỒNG THẨM ĐỊNH", "(Ký, ghi rõ họ tên)")]


def unit_sheet(bk: Book, r: UnitResult) -> None:
    """A printable scorecard for one unit: header, criteria table, total, class, vetoes, signatures."""
    unit, outcome = r.unit, r.outcome
    ws = bk.wb.add_worksheet(bk.unit_sheet_name(unit.code))
    f, level, pack = bk.formats, bk.level, bk.pack
    scored = bk.scored
    heads = ["Tiêu chí", "Nội dung (căn cứ)", "Số liệu đã đọc", "Ngưỡng", "Kết quả"]
    heads += ["Điểm", "Tối đa"] if scored else []
    last = len(heads) - 1
    widths = [8, 42, 28, 24, 11] + ([7, 7] if scored else [])
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    merge_or_write(ws, 0, 0, 0, last, "PHIẾU ĐÁNH GIÁ, XẾP LOẠI ĐƠN VỊ CẤP XÃ", f.title)
    merge_or_write(ws, 1, 0, 1, last, pack.title, f.subtitle)
    merge_or_write(ws, 2, 0, 2, last, f"Bộ tiêu chí {pack.id}, phiên bản {pack.version} "
                                      f"({status_text(pack.status)})", f.italic_center)
    ws.set_row(0, 22)
    ws.set_row(1, 32)
    if bk.batch.notes:  # in the blank row under the pack line: the signed sheet must say it too
        text = f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes)
        merge_or_write(ws, 3, 0, 3, last, text, f.note)
        ws.set_row(3, 15 * text_lines(text, sum(widths)))
    identity = [("Tên đơn vị", unit.name), ("Mã đơn vị", unit.code), ("Loại đơn vị", unit.type),
                ("Tỉnh, thành phố", f"{bk.province_label(unit.province_code)} (mã {unit.province_code})"),
                ("Năm đánh giá", "" if unit.year is None else str(unit.year))]
    row = 4
    for label, value in identity:
        merge_or_write(ws, row, 0, row, 1, label, f.label)
        merge_or_write(ws, row, 2, row, last, value, f.value)
        row += 1
    row += 1
    for c, heading in enumerate(heads):
        ws.write_string(row, c, heading, f.head)
    row += 1
    first = row
    for criterion, ev in zip(bk.criteria, criteria_evidence(level, unit.values, outcome)):
        title = f"{criterion.title}\n({criterion.cite})" if criterion.cite else criterion.title
        values = inputs_text(ev["inputs"]).replace("; ", "\n")
        ws.write_string(row, 0, criterion.id, f.center)
        ws.write_string(row, 1, title, f.wrap)
        ws.write_string(row, 2, values, f.wrap)
        ws.write_string(row, 3, ev["threshold"], f.wrap)
        ws.write_string(row, 4, met_text(ev["met"]), f.result(ev["met"]))
        if scored:
            if criterion.scored:
                ws.write_number(row, 5, ev["points"], f.int)
                ws.write_number(row, 6, criterion.max_points, f.int)
            else:
                ws.write_string(row, 5, "", f.int)
                ws.write_string(row, 6, "", f.int)
        fit_row(ws, row, [(title, 42), (values, 28), (ev["threshold"], 24)])
        row += 1
    end = row - 1
    if scored:
        merge_or_write(ws, row, 0, row, 4, "Tổng điểm", f.label)
        ws.write_formula(row, 5, f"=SUM(F{first + 1}:F{end + 1})", f.total, outcome.total)
        ws.write_formula(row, 6, f"=SUM(G{first + 1}:G{end + 1})", f.total, max_total(level))
        row += 1
    vetoes = "; ".join(f"{v} – {level.vetoes[v].title}" if v in level.vetoes else v for v in outcome.vetoes)
    results = [("Xếp loại", class_cell_text(level, outcome.class_id, r.also_meets), f.class_fill(outcome.class_id))]
    if r.also_meets is not None:  # the pack's order of classes hid a class whose condition holds too
        results.append(("Cũng đạt", also_text(level, r.also_meets), f.value))
    if bk.has_vetoes:
        results.append(("Điểm liệt", vetoes or "Không có", f.value))
    results.append(("Thứ hạng", f"{r.rank_province} trong tỉnh, {r.rank_national} trong toàn bộ danh sách", f.value))
    for label, value, fmt in results:
        merge_or_write(ws, row, 0, row, 1, label, f.label)
        merge_or_write(ws, row, 2, row, last, value, fmt)
        if len(value) > 60:  # a merged cell does not grow by itself: room for the wrapped lines
            ws.set_row(row, 15 * text_lines(value, sum(widths[2:])))
        row += 1
    signatures(bk, ws, row + 1, last)
    bk.print_setup(ws, f"{unit.code} {unit.name}", landscape=False, one_page=True)
    ws.center_horizontally()


def signatures(bk: Book, ws, row: int, last: int) -> None:
    """The place and date, then three signature blocks side by side."""
    f = bk.formats
    merge_or_write(ws, row, max(0, last - 3), row, last, "……………, ngày …… tháng …… năm ……", f.italic_center)
    for (first_col, last_col), (title, hint) in zip(thirds(last + 1), SIGNATURES):
        merge_or_write(ws, row + 1, first_col, row + 1, last_col, title, f.sign_title)
        merge_or_write(ws, row + 2, first_col, row + 2, last_col, hint, f.italic_center)
    for k in range(3, 8):
        ws.set_row(row + k, 15)


def thirds(n: int) -> list[tuple[int, int]]:
    """Three column spans over n columns: 0–1 | the middle | the rest."""
    if n >= 7:
        return [(0, 1), (2, 3), (4, n - 1)]
    return [(0, 1), (2, 2), (3, n - 1)]
