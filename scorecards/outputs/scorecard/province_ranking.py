"""One ranking sheet per province ("40 Nghệ An") when the batch spans several provinces: its units
in province rank order, with a lighter set of columns than "Tổng hợp", as an administrative
document of that province (heading block, signatures)."""
from __future__ import annotations

from lanhmanh.scorecards.outputs.presentation import fit_row, text_width
from lanhmanh.scorecards.outputs.scorecard.book import Book
from lanhmanh.scorecards.outputs.scorecard.heading import document_title, draw_heading, draw_signatures
from lanhmanh.scorecards.outputs.scorecard.summary import province_title


def province_ranking_sheet(bk: Book, code: str) -> None:
    """The units of one province in province rank order."""
    name = bk.province_label(code)
    ws = bk.sheet(f"{code} {name}")
    f = bk.formats
    heads = ["Hạng trong tỉnh", "Hạng toàn quốc", "Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Xếp loại"]
    heads += ["Tổng điểm"] if bk.scored else []
    heads += ["Điểm liệt"] if bk.has_vetoes else []
    last = len(heads) - 1
    units = [r for r in bk.batch.units if r.unit.province_code == code]
    labels = [bk.level.class_label(c) for c in bk.classes]
    widths = [9.0, 9.0, 9.0, text_width([r.unit.name for r in units], 14, 34), 9.0,
              text_width(labels, 14, 30)] + [9.0] * (last - 5)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    head = draw_heading(ws, bk.wb, bk.pack, bk.profile, bk.now.date(), widths, 0,
                        document_title(bk.pack, bk.year, province_title(name)), "summary")
    for c, heading in enumerate(heads):
        ws.write_string(head, c, heading, f.head)
    ws.set_row(head, 32)
    row = head + 1
    for r in units:
        unit, outcome = r.unit, r.outcome
        ws.write_number(row, 0, r.rank_province, f.int)
        ws.write_number(row, 1, r.rank_national, f.int)
        ws.write_string(row, 2, unit.code, f.center)
        ws.write_string(row, 3, unit.name, f.text)
        ws.write_string(row, 4, unit.type, f.text)
        label = bk.level.class_label(outcome.class_id)
        ws.write_string(row, 5, label, f.class_fill(outcome.class_id, wrap=True))
        fit_row(ws, row, [(label, widths[5]), (unit.name, widths[3])])
        c = 6
        if bk.scored:
            ws.write_number(row, c, outcome.total, f.total)
            c += 1
        if bk.has_vetoes:
            ws.write_string(row, c, ", ".join(outcome.vetoes), f.center)
        row += 1
    ws.freeze_panes(head + 1, 4, head + 1, 4)
    ws.autofilter(head, 0, max(row - 1, head + 1), last)
    end = draw_signatures(ws, bk.wb, bk.pack, bk.profile, widths, row + 1, "summary", province=name)
    bk.print_setup(ws, f"Xếp hạng: {name}", landscape=False, title_rows=(head, head))
    ws.print_area(0, 0, end - 1, last)
