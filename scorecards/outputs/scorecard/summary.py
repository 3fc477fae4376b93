""""Tổng hợp": one row per unit in national rank order: ranks, identity, class (coloured), total
(an Excel SUM of the row's points), vetoes, last year's results (--previous), then every criterion
under its group's heading; the batch's notes on a line above the headings."""
from __future__ import annotations

import math

from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from lanhmanh.engine.evaluation.scoring import UnitResult
from lanhmanh.engine.language import nodes
from lanhmanh.engine.model.pack import Criterion, Level, Pack
from lanhmanh.scorecards.outputs.presentation import (
    DASH,
    MET,
    NOTE_LABEL,
    SUMMARY,
    merge_or_write,
    quote_sheet,
    text_lines,
    text_width,
)
from lanhmanh.scorecards.outputs.scorecard.book import (
    CHANGE_VI,
    HEADINGS,
    MARK,
    NO_PREVIOUS,
    PREVIOUS_GROUP,
    Book,
    class_cell_text,
    criterion_note,
    forms_note_text,
)
from lanhmanh.scorecards.outputs.scorecard.heading import document_title, draw_heading, draw_signatures


def summary_sheet(bk: Book) -> None:
    """An administrative document (ND 30/2020/NĐ-CP): the heading block, one row per unit in
    national rank order with the criteria under their groups' headings, the notes, the signature
    blocks and "Nơi nhận"."""
    ws = bk.sheet(SUMMARY)
    ws.activate()
    f, lay, level = bk.formats, bk.layout, bk.level
    col = lay.col
    # group_row: the column groups; head_row: the columns
    spans = [("Thứ hạng", col["rank_province"], col["rank_district" if lay.districts else "rank_national"]),
             ("Đơn vị", col["code"], col["district" if lay.districts else "province"]),
             ("Kết quả", col["class"], lay.last_result)]
    if lay.prev_cols:
        spans.append((PREVIOUS_GROUP, col[lay.prev_cols[0]], col[lay.prev_cols[-1]]))
    first = lay.first_crit
    for heading, ids in criterion_groups(bk.pack, level):
        spans.append((heading, first, first + len(ids) - 1))
        first += len(ids)
    # widths that fit Vietnamese text; the class id is for `verify` and formulas, hidden from print
    names = [r.unit.name for r in bk.batch.units]
    class_width = text_width([level.class_label(c) for c in bk.classes], 12, 50)
    widths = {"rank_province": 8, "rank_national": 8, "code": 8, "name": text_width(names, 12, 40),
              "type": 9, "province_code": 6, "province": text_width(bk.province_names.values(), 10, 24),
              "class": class_width, "class_id": text_width(bk.classes, 10, 24),
              "total": 8, "vetoes": 10, "prev_class": class_width,
              "prev_total": 8, "change": 11, "maintained": 8, "transformed": 9,
              "rank_district": 8, "district_code": 6, "district": text_width(bk.district_names.values(), 10, 24)}
    shown = [0.0 if key == "class_id" else widths[key] for key in lay.fixed]
    for key, c in col.items():
        ws.set_column(c, c, widths[key], None, {"hidden": True} if key == "class_id" else None)
    span_width = {}
    for text, a, b in spans:
        if a < lay.first_crit:
            span_width[a] = sum(shown[a:b + 1])
        else:  # criterion columns: narrow, but a group of one or two gets room for its heading
            w = max(7 if bk.scored else 6, math.ceil(14 / (b - a + 1)))
            ws.set_column(a, b, w)
            shown.extend([w] * (b - a + 1))
            span_width[a] = w * (b - a + 1)
    if bk.batch.notes:
        notes_line(bk, ws)
    draw_heading(ws, bk.wb, bk.pack, bk.profile, bk.now.date(), shown, lay.heading_row,
                 document_title(bk.pack, bk.year, province_scope(bk)), "summary")
    group_row, head_row = lay.group_row, lay.head_row
    for text, a, b in spans:
        merge_or_write(ws, group_row, a, group_row, b, text, f.group)
    for key, c in col.items():
        ws.write_string(head_row, c, HEADINGS[key], f.head)
    for i, criterion in enumerate(bk.criteria):
        ws.write_string(head_row, lay.first_crit + i, criterion.id, f.head)
        ws.write_comment(head_row, lay.first_crit + i, criterion_note(criterion), {"x_scale": 2.5, "y_scale": 2})
    unit_rows(bk, ws)
    ws.set_row(group_row, 15 * max(text_lines(text, span_width[a]) for text, a, _ in spans))
    ws.set_row(head_row, 45)
    # the frozen pane: the heading block and the table's headings, the ranks, code and name
    ws.freeze_panes(lay.first_row, col["name"] + 1, lay.first_row, col["name"] + 1)
    ws.autofilter(head_row, 0, lay.last_row if bk.batch.units else head_row, lay.last_col)
    row = lay.last_row + 2
    if bk.batch.notes:  # the notes line on top is not printed: here they print with the table
        text = f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes)
        merge_or_write(ws, row, 0, row, lay.last_col, text, f.note)
        ws.set_row(row, 15 * text_lines(text, sum(shown)))
        row += 2
    end = draw_signatures(ws, bk.wb, bk.pack, bk.profile, shown, row, "summary", province=province_scope(bk, False))
    bk.print_setup(ws, "Tổng hợp xếp loại, xếp hạng", landscape=True, title_rows=(group_row, head_row))
    ws.print_area(lay.heading_row, 0, end - 1, lay.last_col)
    if not bk.unit_sheets and bk.batch.units:
        forms_note(bk, ws, end + 1, lay.last_col)


def province_scope(bk: Book, upper: bool = True) -> str:
    """'TỈNH NGHỆ AN' (upper) or 'Nghệ An' for a one-province batch; '' for several provinces."""
    if len(bk.province_names) != 1:
        return ""
    name = next(iter(bk.province_names.values()))
    return province_title(name) if upper else name


def province_title(name: str) -> str:
    """'Nghệ An' → 'TỈNH NGHỆ AN'; 'Thành phố Hà Nội' stays a city."""
    if name.lower().startswith(("tỉnh", "thành phố")) or name.isdigit():
        return name.upper()
    return f"TỈNH {name}".upper()


def forms_note(bk: Book, ws, row: int, last_col: int) -> None:
    """Outside the print area: the per-unit forms are not in this workbook, and how to make them
    for one province."""
    merge_or_write(ws, row, 0, row, last_col, forms_note_text(bk.pack.id), bk.formats.note)
    ws.set_row(row, 30)


def notes_line(bk: Book, ws) -> None:
    """The batch's notes in one line above the heading block, across the whole table (on screen;
    `verify` reads it here)."""
    text = f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes)
    merge_or_write(ws, 0, 0, 0, max(bk.layout.last_col, 1), text, bk.formats.note)
    ws.set_row(0, 15 * text_lines(text, 160))


def unit_rows(bk: Book, ws) -> None:
    """A row per unit (the hot loop of a national batch: lookups hoisted out of it)."""
    f, lay = bk.formats, bk.layout
    write_text, write_number, write_formula = ws.write_string, ws.write_number, ws.write_formula
    col = lay.col
    c_total = col.get("total")
    c_vetoes = col.get("vetoes")
    first = lay.first_crit
    crit_scored = [c.scored for c in bk.criteria]
    first_letter, last_letter = xl_col_to_name(first), xl_col_to_name(lay.last_col)
    labels = {cid: bk.level.class_label(cid) for cid in bk.classes}
    links = bk.unit_sheets
    f_int, f_text, f_center, f_met, f_total = f.int, f.text, f.center, f.met, f.total
    for i, r in enumerate(bk.batch.units):
        row = lay.first_row + i
        unit, outcome = r.unit, r.outcome
        write_number(row, col["rank_province"], r.rank_province, f_int)
        write_number(row, col["rank_national"], r.rank_national, f_int)
        c_code = col["code"]
        if links:  # the code links to the unit's own scorecard sheet
            ws.write_url(row, c_code, f"internal:{quote_sheet(bk.unit_sheet_name(unit.code))}!A1", f.link,
                         unit.code)
        else:
            write_text(row, c_code, unit.code, f_text)
        write_text(row, col["name"], unit.name, f_text)
        write_text(row, col["type"], unit.type, f_text)
        write_text(row, col["province_code"], unit.province_code, f_center)
        write_text(row, col["province"], bk.province_label(unit.province_code), f_text)
        if lay.districts:
            if r.rank_district is not None:
                write_number(row, col["rank_district"], r.rank_district, f_int)
            write_text(row, col["district_code"], unit.district_code or "", f_center)
            write_text(row, col["district"], bk.district_names.get(unit.district_code or "", ""), f_text)
        cid = outcome.class_id
        text = (labels.get(cid) or bk.level.class_label(cid)) if r.also_meets is None else \
            class_cell_text(bk.level, cid, r.also_meets)
        write_text(row, col["class"], text, f.class_fill(cid))
        write_text(row, col["class_id"], cid, f_text)
        if c_total is not None:
            write_formula(row, c_total, f"=SUM({first_letter}{row + 1}:{last_letter}{row + 1})", f_total,
                          outcome.total)
        if c_vetoes is not None:
            write_text(row, c_vetoes, ", ".join(outcome.vetoes), f_center)
        for j, (met, points, _band) in enumerate(outcome.outcomes):
            if crit_scored[j]:
                write_number(row, first + j, points, f_int)
            else:
                write_text(row, first + j, MET if met else DASH, f_met if met else f_center)
        if lay.prev_cols:
            previous_cells(bk, ws, row, r)


def previous_cells(bk: Book, ws, row: int, r: UnitResult) -> None:
    """Last year's class (and total), the change, and the giữ vững / chuyển hóa marks of one unit."""
    f, col, previous = bk.formats, bk.layout.col, r.previous
    if previous is None:
        ws.write_string(row, col["prev_class"], NO_PREVIOUS, f.center)
    else:
        ws.write_string(row, col["prev_class"], bk.level.class_label(previous.class_id),
                        f.class_fill(previous.class_id))
    if "prev_total" in col:
        if previous is not None and previous.total is not None:
            ws.write_number(row, col["prev_total"], previous.total, f.int)
        else:
            ws.write_string(row, col["prev_total"], DASH, f.center)
    ws.write_string(row, col["change"], CHANGE_VI.get(r.change or "", DASH), f.center)
    ws.write_string(row, col["maintained"], MARK if r.maintained else "", f.center)
    if "transformed" in col:
        ws.write_string(row, col["transformed"], MARK if r.transformed else "", f.center)


def criterion_groups(pack: Pack, level: Level) -> list[tuple[str, list[str]]]:
    """Consecutive criteria under one heading: the group's title (with its points), else the
    first class whose condition names the criterion, else its tier ("Tiêu chí loại III")."""
    runs: list[tuple[str, list[str]]] = []
    for criterion in level.criteria.values():
        heading = criterion_heading(pack, level, criterion)
        if runs and runs[-1][0] == heading:
            runs[-1][1].append(criterion.id)
        else:
            runs.append((heading, [criterion.id]))
    return runs


def criterion_heading(pack: Pack, level: Level, criterion: Criterion) -> str:
    if criterion.group:
        group = pack.groups.get(criterion.group) or {}
        title = group.get("title") or criterion.group
        points = group.get("points")
        return f"{criterion.group}. {title}" + (f" ({points} điểm)" if points is not None else "")
    for cls in level.classes:
        if cls.cond is not None and any(n.id == criterion.id for n in nodes.names_in(cls.cond)):
            return cls.label
    if criterion.tier:
        return f"Tiêu chí loại {criterion.tier}"
    return "Tiêu chí"
