""""Biểu đồ": small tables and their charts: units per class and province (stacked columns), and
the totals per bucket (scored packs) or the units per class (packs without points)."""
from __future__ import annotations

from collections import Counter
from typing import Iterable, Optional

from lanhmanh.scorecards.outputs.presentation import CHARTS, GREY_STRONG, text_width
from lanhmanh.scorecards.outputs.scorecard.book import Book, max_total

CLASSES_TITLE = "Số đơn vị theo xếp loại và tỉnh, thành phố"


def charts_sheet(bk: Book) -> None:
    """The two tables, then a chart of each beside them."""
    ws = bk.sheet(CHARTS)
    bk.charts_name = ws.name
    f = bk.formats
    units = bk.batch.units
    labels = [bk.level.class_label(c) for c in bk.classes]
    ws.set_column(0, 0, text_width([*bk.province_names.values(), *labels], 18, 50))
    ws.set_column(1, len(bk.classes), 17)
    ws.write_string(0, 0, CLASSES_TITLE, f.bold)
    ws.write_string(1, 0, "Tỉnh, thành phố", f.head)
    for k, label in enumerate(labels):
        ws.write_string(1, 1 + k, label, f.head)
    ws.set_row(1, 62)
    for i, p in enumerate(bk.batch.provinces):
        ws.write_string(2 + i, 0, bk.province_label(p.province_code), f.text)
        for k, cid in enumerate(bk.classes):
            ws.write_number(2 + i, 1 + k, p.class_counts.get(cid, 0), f.int)
    n_provinces = len(bk.batch.provinces)
    second_top = 2 + n_provinces + 2
    if bk.scored:
        ws.write_string(second_top, 0, "Phân bố tổng điểm", f.bold)
        rows = total_buckets([r.outcome.total for r in units], max_total(bk.level))
        ws.write_string(second_top + 1, 0, "Khoảng điểm", f.head)
    else:
        ws.write_string(second_top, 0, "Số đơn vị theo xếp loại (toàn bộ)", f.bold)
        rows = [(bk.level.class_label(cid), bk.class_counts.get(cid, 0)) for cid in bk.classes]
        ws.write_string(second_top + 1, 0, "Xếp loại", f.head)
    ws.write_string(second_top + 1, 1, "Số đơn vị", f.head)
    for i, (label, n) in enumerate(rows):
        ws.write_string(second_top + 2 + i, 0, label, f.text)
        ws.write_number(second_top + 2 + i, 1, n, f.int)
    bk.print_setup(ws, "Biểu đồ", landscape=True, one_page=True)  # tables and charts whole on one page
    if not units:  # a chart of nothing would be an empty frame
        ws.write_string(second_top + 2 + len(rows), 0, "Không có đơn vị nào được xếp loại.", f.plain)
        return
    chart_col = len(bk.classes) + 2
    ws.insert_chart(0, chart_col, classes_chart(bk, n_provinces))
    ws.insert_chart(max(second_top, 20), chart_col, second_chart(bk, second_top, len(rows)))


def classes_chart(bk: Book, n_provinces: int):
    """Stacked columns: the units of each class, per province."""
    name = bk.charts_name
    chart = bk.wb.add_chart({"type": "column", "subtype": "stacked"})
    for k, cid in enumerate(bk.classes):
        chart.add_series({
            "name": [name, 1, 1 + k],
            "categories": [name, 2, 0, 1 + n_provinces, 0],
            "values": [name, 2, 1 + k, 1 + n_provinces, 1 + k],
            "fill": {"color": bk.formats.chart_colours.get(cid, GREY_STRONG)},
            "gap": 60,
        })
    chart.set_title({"name": CLASSES_TITLE, "name_font": {"size": 12}})
    chart.set_y_axis({"name": "Số đơn vị", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": max(640, 26 * n_provinces + 260), "height": 380})
    return chart


def second_chart(bk: Book, top: int, n: int):
    """Columns of the second table: totals per bucket, or units per class in the class colours."""
    name = bk.charts_name
    chart = bk.wb.add_chart({"type": "column"})
    series = {"name": [name, top + 1, 1], "categories": [name, top + 2, 0, top + 1 + n, 0],
              "values": [name, top + 2, 1, top + 1 + n, 1], "gap": 40,
              "data_labels": {"value": True}}
    if bk.scored:
        series["fill"] = {"color": "#5B9BD5"}
        title, axis = "Phân bố tổng điểm", "Khoảng điểm"
    else:
        series["points"] = [{"fill": {"color": bk.formats.chart_colours.get(cid, GREY_STRONG)}} for cid in bk.classes]
        title, axis = "Số đơn vị theo xếp loại", "Xếp loại"
    chart.add_series(series)
    chart.set_title({"name": title, "name_font": {"size": 12}})
    chart.set_x_axis({"name": axis})
    chart.set_y_axis({"name": "Số đơn vị", "major_gridlines": {"visible": True}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 640, "height": 360})
    return chart


def total_buckets(totals: Iterable[Optional[int]], top: int) -> list[tuple[str, int]]:
    """Counts per bucket of totals, about ten buckets of a round width ("90–99", "100")."""
    known = [t for t in totals if t is not None]
    top = max([top, *known])
    width = next(w for w in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 10 ** 6, 10 ** 12)
                 if top // w + 1 <= 11)
    counts = Counter(t // width for t in known)
    out = []
    for bucket in range(min(0, min(counts, default=0)), top // width + 1):
        low, high = bucket * width, min(bucket * width + width - 1, top)
        out.append((str(low) if low == high else f"{low}–{high}", counts.get(bucket, 0)))
    return out
