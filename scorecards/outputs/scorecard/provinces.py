""""Tỉnh": per province the units and the units per class as COUNTIF(S) formulas over "Tổng hợp",
the province class and criteria (packs with a province level), and with --previous the units
maintained and transformed. "Tiêu chí cấp tỉnh": the province criteria's evidence."""
from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from lanhmanh.engine.analysis.wording import Wording
from lanhmanh.engine.evaluation.evidence import criteria_evidence
from lanhmanh.scorecards.outputs.presentation import (
    DASH,
    PROVINCE_CRITERIA,
    PROVINCES,
    excel_text,
    fit_row,
    inputs_text,
    merge_or_write,
    rate_text,
    readings_text,
    text_width,
)
from lanhmanh.scorecards.outputs.scorecard.book import (
    HEADINGS,
    MARK,
    PREVIOUS_GROUP,
    Book,
    class_cell_text,
    criterion_note,
    province_note,
    result_text,
)
from lanhmanh.scorecards.outputs.scorecard.heading import document_title, draw_heading, draw_signatures

OFFICIAL_UNITS = "Số đơn vị cấp xã trong danh mục"  # the province's communes in the official list
PROVINCE_NOTE = "Ghi chú cấp tỉnh"


def province_sheet(bk: Book) -> None:
    """Per province: units and units per class (formulas over "Tổng hợp"), the province class and
    its criteria; under the heading block of an administrative document, over its signatures."""
    ws = bk.sheet(PROVINCES)
    f, lay = bk.formats, bk.layout
    plevel = bk.pack.province
    with_level = plevel is not None and any(p.outcome is not None for p in bk.batch.provinces)
    pcriteria = list(plevel.criteria.values()) if plevel is not None else []
    classes = bk.classes
    c_units, c_classes = 2, 3
    c_pclass = c_classes + len(classes)
    c_pcriteria = c_pclass + 1
    c_supplied = c_pcriteria + len(pcriteria)
    c_official, c_pnote = c_supplied + 1, c_supplied + 2
    prev_keys = [k for k in ("maintained", "transformed") if k in lay.prev_cols]
    c_prev = (c_pnote + 1) if with_level else c_pclass
    # widths first: the heading block and the signatures span them
    widths = [7.0, text_width(bk.province_names.values(), 14, 26), 9.0] + [17.0] * len(classes)
    if with_level and plevel is not None:
        widths += [text_width([c.label for c in plevel.classes], 16, 40)] + [9.0] * len(pcriteria) + [16.0, 12.0, 40.0]
    widths += [12.0] * len(prev_keys)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    top = draw_heading(ws, bk.wb, bk.pack, bk.profile, bk.now.date(), widths, 0,
                       document_title(bk.pack, bk.year, "THEO TỈNH, THÀNH PHỐ"), "summary")
    group, head = top, top + 1
    # headings
    ws.write_string(head, 0, "Mã tỉnh", f.head)
    ws.write_string(head, 1, "Tỉnh, thành phố", f.head)
    ws.write_string(head, c_units, "Số đơn vị", f.head)
    merge_or_write(ws, group, 0, group, c_units, "Tỉnh, thành phố", f.group)
    merge_or_write(ws, group, c_classes, group, c_pclass - 1, "Số đơn vị theo xếp loại", f.group)
    for k, cid in enumerate(classes):
        ws.write_string(head, c_classes + k, bk.level.class_label(cid), f.head)
    if with_level:
        merge_or_write(ws, group, c_pclass, group, c_pnote, "Xếp loại cấp tỉnh", f.group)
        ws.write_string(head, c_pclass, "Xếp loại tỉnh", f.head)
        for k, criterion in enumerate(pcriteria):
            ws.write_string(head, c_pcriteria + k, criterion.id, f.head)
            ws.write_comment(head, c_pcriteria + k, criterion_note(criterion), {"x_scale": 2.5, "y_scale": 2})
        ws.write_string(head, c_supplied, "Số liệu tỉnh nhập trực tiếp", f.head)
        ws.write_string(head, c_official, OFFICIAL_UNITS, f.head)
        ws.write_string(head, c_pnote, PROVINCE_NOTE, f.head)
    ws.set_row(group, 20)
    ws.set_row(head, 62)
    # one row per province: formulas with the engine's figures as cached values
    prov_range, class_range = lay.column_range("province_code"), lay.column_range("class_id")
    first = row = head + 1
    for p in bk.batch.provinces:
        ref = f"$A{row + 1}"
        ws.write_string(row, 0, p.province_code, f.center)
        ws.write_string(row, 1, bk.province_label(p.province_code), f.text)
        ws.write_formula(row, c_units, f"=COUNTIF({prov_range},{ref})", f.int, p.n_units)
        for k, cid in enumerate(classes):
            ws.write_formula(row, c_classes + k, f"=COUNTIFS({prov_range},{ref},{class_range},{excel_text(cid)})",
                             f.int, p.class_counts.get(cid, 0))
        cells = []
        if with_level and plevel is not None and p.outcome is not None:
            label = class_cell_text(plevel, p.outcome.class_id, p.also_meets)
            ws.write_string(row, c_pclass, label, f.wrap)
            for k, (met, _points, _band) in enumerate(p.outcome.outcomes):
                ws.write_string(row, c_pcriteria + k, result_text(met), f.result(met))
            ws.write_string(row, c_supplied, ", ".join(p.supplied) or DASH, f.center)
            if p.n_official is not None:
                ws.write_number(row, c_official, p.n_official, f.int)
            else:
                ws.write_string(row, c_official, DASH, f.center)
            note = province_note(plevel, p)
            ws.write_string(row, c_pnote, note, f.wrap)
            cells = [(label, widths[c_pclass]), (note, widths[c_pnote])]
        fit_row(ws, row, cells)
        row += 1
    # totals over the provinces
    ws.write_string(row, 0, "", f.label)
    ws.write_string(row, 1, "Tổng cộng", f.label)
    for c in range(c_units, c_pclass):
        letter = xl_col_to_name(c)
        value = len(bk.batch.units) if c == c_units else bk.class_counts.get(classes[c - c_classes], 0)
        ws.write_formula(row, c, f"=SUM({letter}{first + 1}:{letter}{row})", f.total, value)
    previous_counts(bk, ws, c_prev, row, group)
    ws.freeze_panes(first, 2, first, 2)
    end = draw_signatures(ws, bk.wb, bk.pack, bk.profile, widths, row + 2, "summary")
    bk.print_setup(ws, "Tổng hợp theo tỉnh", landscape=True, title_rows=(group, head))
    ws.print_area(0, 0, end - 1, len(widths) - 1)


def previous_counts(bk: Book, ws, first_col: int, total_row: int, group: int) -> None:
    """With --previous: per province the units maintained (giữ vững), and for a pack with key
    areas those transformed (chuyển hóa), as COUNTIFS over the summary's mark columns."""
    keys = [k for k in ("maintained", "transformed") if k in bk.layout.prev_cols]
    if not keys:
        return
    f, lay = bk.formats, bk.layout
    head, first = group + 1, group + 2
    merge_or_write(ws, group, first_col, group, first_col + len(keys) - 1, PREVIOUS_GROUP, f.group)
    prov_range = lay.column_range("province_code")
    for k, key in enumerate(keys):
        c = first_col + k
        ws.write_string(head, c, "Số đơn vị " + HEADINGS[key].lower(), f.head)
        mark_range = lay.column_range(key)
        for i, p in enumerate(bk.batch.provinces):
            row = first + i
            n = sum(1 for r in bk.batch.units if r.unit.province_code == p.province_code and getattr(r, key))
            ws.write_formula(row, c, f"=COUNTIFS({prov_range},$A{row + 1},{mark_range},{excel_text(MARK)})", f.int, n)
        letter = xl_col_to_name(c)
        ws.write_formula(total_row, c, f"=SUM({letter}{first + 1}:{letter}{total_row})", f.total,
                         sum(1 for r in bk.batch.units if getattr(r, key)))


def province_criteria_sheet(bk: Book) -> None:
    """The province criteria's evidence: values read (sums of the communes unless the province row
    gives them), threshold, met, citation; one row per province and criterion."""
    plevel = bk.pack.province
    assert plevel is not None  # the sheet is drawn for packs with a province level only
    ws = bk.sheet(PROVINCE_CRITERIA)
    f = bk.formats
    # the exact values read and the expression (E, F) stay for auditors, hidden: the printed
    # columns say them as people read them
    heads = ["Mã tỉnh", "Tỉnh, thành phố", "Tiêu chí", "Nội dung", "Số liệu đã đọc", "Ngưỡng", "Kết quả", "Căn cứ",
             "Số liệu", "Ngưỡng đạt"]
    widths = (7, text_width(bk.province_names.values(), 12, 24), 8, 44, 30, 26, 10, 28, 28, 30)
    order = (0, 1, 2, 3, 8, 9, 6, 7)  # printed columns, as they read left to right
    for c, heading in enumerate(heads):
        ws.write_string(0, c, heading, f.head)
    ws.set_row(0, 30)
    wording = Wording(bk.pack, plevel)
    row = 1
    for p in bk.batch.provinces:
        if p.outcome is None:
            continue
        name = bk.province_label(p.province_code)
        for criterion, ev in zip(plevel.criteria.values(), criteria_evidence(plevel, p.values, p.outcome)):
            ws.write_string(row, 0, p.province_code, f.center)
            ws.write_string(row, 1, name, f.text)
            ws.write_string(row, 2, criterion.id, f.center)
            ws.write_string(row, 3, criterion.title, f.wrap)
            ws.write_string(row, 4, inputs_text(ev["inputs"]), f.text)
            ws.write_string(row, 5, ev["threshold"], f.text)
            ws.write_string(row, 6, result_text(ev["met"]), f.result(ev["met"]))
            ws.write_string(row, 7, ev["cite"] or "", f.wrap)
            values = province_readings(wording, criterion.reads, ev["inputs"])
            words = wording.criterion(criterion)
            ws.write_string(row, 8, values, f.wrap)
            ws.write_string(row, 9, words, f.wrap)
            fit_row(ws, row, [(criterion.title, widths[3]), (values, widths[8]), (words, widths[9]),
                              (ev["cite"] or "", widths[7])])
            row += 1
    for c, width in enumerate(widths):
        ws.set_column(c, c, width, None, None if c in order else {"hidden": True})
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(row - 1, 1), len(heads) - 1)
    bk.print_setup(ws, "Tiêu chí cấp tỉnh", landscape=True, title_rows=(0, 0))


def province_readings(wording: Wording, reads: tuple[str, ...], inputs: dict) -> str:
    """The values a province criterion reads, as people read them; a share of communes
    ("share(type_1, type_2)=18/130") as a rate: "Tỷ lệ đơn vị cấp xã: ≈13,84% (18/130)"."""
    shares = [n for n in reads if n.startswith("share(") and n in inputs]
    parts = [f"Tỷ lệ đơn vị cấp xã: {rate_text(inputs[n])}" for n in shares]
    rest = [n for n in reads if n not in shares]
    text = readings_text(wording, rest, inputs) if rest else ""
    return "\n".join(parts + ([text] if text else []))
