"""One ranking sheet per province ("40 Nghệ An") when the batch spans several provinces: its units
in province rank order, with a lighter set of columns than "Tổng hợp"."""
from __future__ import annotations

from lanhmanh.scorecards.outputs.presentation import merge_or_write, text_width
from lanhmanh.scorecards.outputs.scorecard.book import Book


def province_ranking_sheet(bk: Book, code: str) -> None:
    """The units of one province in province rank order."""
    name = bk.province_label(code)
    ws = bk.sheet(f"{code} {name}")
    f = bk.formats
    heads = ["Hạng trong tỉnh", "Hạng toàn quốc", "Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Xếp loại"]
    heads += ["Tổng điểm"] if bk.scored else []
    heads += ["Điểm liệt"] if bk.has_vetoes else []
    last = len(heads) - 1
    merge_or_write(ws, 0, 0, 0, last, f"Xếp hạng các đơn vị cấp xã: {name} (mã {code})", f.title)
    for c, heading in enumerate(heads):
        ws.write_string(1, c, heading, f.head)
    row = 2
    names = []
    for r in bk.batch.units:
        unit, outcome = r.unit, r.outcome
        if unit.province_code != code:
            continue
        names.append(unit.name)
        ws.write_number(row, 0, r.rank_province, f.int)
        ws.write_number(row, 1, r.rank_national, f.int)
        ws.write_string(row, 2, unit.code, f.center)
        ws.write_string(row, 3, unit.name, f.text)
        ws.write_string(row, 4, unit.type, f.text)
        ws.write_string(row, 5, bk.level.class_label(outcome.class_id), f.class_fill(outcome.class_id))
        c = 6
        if bk.scored:
            ws.write_number(row, c, outcome.total, f.total)
            c += 1
        if bk.has_vetoes:
            ws.write_string(row, c, ", ".join(outcome.vetoes), f.center)
        row += 1
    ws.set_row(0, 24)
    ws.set_column(0, 2, 9)
    ws.set_column(3, 3, text_width(names, 12, 40))
    ws.set_column(4, 4, 9)
    ws.set_column(5, 5, text_width([bk.level.class_label(c) for c in bk.classes], 12, 50))
    ws.set_column(6, last, 9)
    ws.freeze_panes(2, 4)
    ws.autofilter(1, 0, max(row - 1, 1), last)
    bk.print_setup(ws, f"Xếp hạng: {name}", landscape=False, title_rows=(0, 1))
