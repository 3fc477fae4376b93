"""The province's report to the level above as a Word document (python-docx), in the format of
Nghị định 30/2020/NĐ-CP: A4, margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New
Roman 14 pt (12–13 pt in the heading block and tables); the heading block (issuing body and its
superior left, Quốc hiệu and Tiêu ngữ right, number and place and date below them) as a
borderless table; title and subject; "Căn cứ" lines; the results; "Nơi nhận" and the signature
block; page numbers centred at the top from page 2; then the annex, numbered on its own.
python-docx is imported here, when a report is made, to keep the command line's start-up quick."""
from __future__ import annotations

import datetime as dt
import io
import os
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional, Sequence

from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.engine.model.pack import Role
from lanhmanh.scorecards.outputs.atomic import discard, new_temp_file
from lanhmanh.scorecards.outputs.presentation import batch_year, class_colours, class_order, status_text
from lanhmanh.scorecards.outputs.profile import DOTS, CouncilProfile, or_dots
from lanhmanh.scorecards.outputs.report import content as c
from lanhmanh.scorecards.outputs.report.chart import class_chart

FONT = "Times New Roman"
BODY_PT = 14
TABLE_PT = 13
ANNEX_PT = 12
PAGE_CM = (21.0, 29.7)
MARGINS_CM = {"top": 2.0, "bottom": 2.0, "left": 3.0, "right": 1.5}
TEXT_CM = PAGE_CM[0] - MARGINS_CM["left"] - MARGINS_CM["right"]  # 16.5
# the heading block's and the signatures' tables: 0.4 cm into each margin, so that the Quốc hiệu,
# an issuing body such as "CÔNG AN TỈNH NGHỆ AN" and a signatory's title each stay on one line even
# in a font wider than Times New Roman (DejaVu Serif, where LibreOffice has no Times)
WIDE_CM = TEXT_CM + 0.8
HEAD_CM = (6.7, WIDE_CM - 6.7)
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
REPORT_SYMBOL = "BC-……"  # a report's symbol starts BC- (ND 30, appendix III)


def write_report(batch: BatchResult, out: Path, profile: Optional[CouncilProfile] = None,
                 today: Optional[dt.date] = None) -> None:
    """Write the report for a scored batch to `out` (.docx) under a temporary name, renamed at the
    end: a failure leaves no half-written file and the file that was there as it was."""
    doc = build_report(batch, profile or CouncilProfile(), today or dt.date.today())
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(target)
    try:
        doc.save(tmp)
        os.replace(tmp, target)
    except BaseException:
        discard(tmp)
        raise


def build_report(batch: BatchResult, profile: CouncilProfile, today: dt.date) -> Any:
    """The python-docx Document of the report."""
    from docx import Document

    doc = Document()
    _house_style(doc)
    _page(doc.sections[0])
    pack = batch.pack
    year = batch_year(batch)
    subject = c.subject_line(batch)
    number = f"{profile.number or '……'}/{profile.symbol or REPORT_SYMBOL}"
    place_date = profile.place_date_line(today)
    doc.core_properties.title = f"Báo cáo {c.sentence_start(subject)}"
    doc.core_properties.subject = f"{pack.id} {pack.version}"
    doc.core_properties.author = "lanhmanh"

    _heading_block(doc, profile, f"Số: {number}", place_date)
    _title(doc, "BÁO CÁO", subject, pack.status)
    for k, line in enumerate(lines := c.basis_lines(pack)):
        _body(doc, line + (";" if k < len(lines) - 1 else "."), italic=True)

    section = 0
    section += 1
    _section_heading(doc, f"{c.ROMAN[section - 1]}. KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI CẤP XÃ")
    _body(doc, _scope_sentence(batch, year))
    for note in batch.notes:
        _body(doc, f"Lưu ý: {note}", italic=True)
    classes = c.class_lines(batch)
    _body(doc, f"Kết quả phân loại{f' năm {year}' if year else ''} (Bảng 1, Biểu đồ 1):")
    _class_table(doc, batch, classes)
    sentence = c.previous_sentence(batch)
    if sentence:
        _body(doc, sentence)
    _chart(doc, batch, classes, year)

    provinces = c.province_lines(batch)
    if provinces:
        section += 1
        _section_heading(doc, f"{c.ROMAN[section - 1]}. XẾP LOẠI CẤP TỈNH")
        for k, p in enumerate(provinces):
            para = _body(doc, f"{c.capital(p.name)} đạt {p.met}/{p.n_criteria} tiêu chí, được xác định là: ")
            _run(para, p.class_label, bold=True)
            _run(para, ".")
            for note in p.notes:
                _body(doc, note, italic=True)
            _criteria_table(doc, p, k + 2)

    section += 1
    _section_heading(doc, f"{c.ROMAN[section - 1]}. ĐỀ XUẤT, KIẾN NGHỊ")
    for _ in range(3):
        _hand_line(doc)
    _body(doc, f"Trên đây là báo cáo {c.sentence_start(subject)}./.").paragraph_format.keep_with_next = True

    _signature_block(doc, batch, profile)
    _annex(doc, batch, profile, number, today, year)
    return doc


# ---- the page and the house style ---------------------------------------------------------------

def _house_style(doc) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(BODY_PT)
    rpr = normal.element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), FONT)
    pf = normal.paragraph_format
    pf.space_before = Pt(0)
    pf.space_after = Pt(0)
    pf.line_spacing = 1.0


def _page(section, restart: bool = False) -> None:
    """A4 portrait, the margins of ND 30, the page number centred at the top from the second page."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    section.page_width, section.page_height = Cm(PAGE_CM[0]), Cm(PAGE_CM[1])
    section.top_margin, section.bottom_margin = Cm(MARGINS_CM["top"]), Cm(MARGINS_CM["bottom"])
    section.left_margin, section.right_margin = Cm(MARGINS_CM["left"]), Cm(MARGINS_CM["right"])
    section.header_distance = Cm(1.0)
    section.different_first_page_header_footer = True
    header = section.header
    header.is_linked_to_previous = False
    para = header.paragraphs[0]
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), "PAGE")
    run = OxmlElement("w:r")
    rpr = OxmlElement("w:rPr")
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), str(BODY_PT * 2))
    rpr.append(size)
    run.append(rpr)
    text = OxmlElement("w:t")
    text.text = "2"
    run.append(text)
    field.append(run)
    para._p.append(field)
    para.paragraph_format.space_after = Pt(0)
    if restart:
        number_type = OxmlElement("w:pgNumType")
        number_type.set(qn("w:start"), "1")
        section._sectPr.append(number_type)


def _run(para, text: str, bold: bool = False, italic: bool = False, size: Optional[float] = None,
         underline: bool = False):
    from docx.shared import Pt

    run = para.add_run(text)
    run.bold = bold or None
    run.italic = italic or None
    run.underline = underline or None
    if size is not None:
        run.font.size = Pt(size)
    return run


def _para(container, text: str = "", align: str = "center", bold: bool = False, italic: bool = False,
          size: Optional[float] = None, after: float = 0, before: float = 0, underline: bool = False):
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    para = container.add_paragraph()
    para.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                      "justify": WD_ALIGN_PARAGRAPH.JUSTIFY, "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    para.paragraph_format.space_after = Pt(after)
    para.paragraph_format.space_before = Pt(before)
    if text:
        lines = text.split("\n")
        for k, line in enumerate(lines):
            run = _run(para, line, bold, italic, size, underline)
            if k < len(lines) - 1:
                run.add_break()
    return para


def _body(doc, text: str, italic: bool = False, indent: bool = True):
    """A paragraph of the body: justified, first line indented 1 cm, 6 pt before (ND 30), 1.15 lines."""
    from docx.shared import Cm, Pt

    para = _para(doc, text, align="justify", italic=italic, before=6)
    para.paragraph_format.line_spacing = 1.15
    if indent:
        para.paragraph_format.first_line_indent = Cm(1.0)
    para.paragraph_format.space_before = Pt(6)
    return para


def _section_heading(doc, text: str) -> None:
    from docx.shared import Cm

    para = _para(doc, text, align="justify", bold=True, before=10, after=2)
    para.paragraph_format.first_line_indent = Cm(1.0)
    para.paragraph_format.keep_with_next = True


def _rule(container, length_cm: float, column_cm: float) -> None:
    """A short horizontal line, centred, under the line above (ND 30: under the issuing body, the
    title's subject): the bottom border of an empty 2 pt paragraph indented from both sides."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    para = _para(container, "", size=2)
    side = max(0.0, (column_cm - length_cm) / 2)
    para.paragraph_format.left_indent = Cm(side)
    para.paragraph_format.right_indent = Cm(side)
    ppr = para._p.get_or_add_pPr()
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "000000")):
        bottom.set(qn(key), value)
    borders.append(bottom)
    ppr.append(borders)
    rpr = OxmlElement("w:rPr")  # the paragraph mark itself 2 pt, so the line hugs the text above
    size = OxmlElement("w:sz")
    size.set(qn("w:val"), "4")
    rpr.append(size)
    ppr.append(rpr)


# ---- tables --------------------------------------------------------------------------------------

def _table(doc, rows: int, widths_cm: Sequence[float], grid: bool = True):
    from docx.enum.table import WD_TABLE_ALIGNMENT

    table = doc.add_table(rows=rows, cols=len(widths_cm))
    if grid:
        table.style = doc.styles["Table Grid"]
    else:  # a layout table: no borders, no room lost to cell margins
        _no_cell_margins(table)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    _widths(table, widths_cm)
    return table


def _no_cell_margins(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        m = OxmlElement(f"w:{side}")
        m.set(qn("w:w"), "0")
        m.set(qn("w:type"), "dxa")
        margins.append(m)
    table._tbl.tblPr.append(margins)


def _widths(table, widths_cm: Sequence[float]) -> None:
    """Column widths (the grid, which rows added later copy) and each cell's. Cells are reached row by
    row: python-docx's table.cell() and column.cells walk the whole table each time."""
    from docx.shared import Cm

    for k, width in enumerate(widths_cm):
        table.columns[k].width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths_cm):
            cell.width = Cm(width)


def _cell(cell, text: str, align: str = "left", bold: bool = False, italic: bool = False,
          size: float = TABLE_PT) -> None:
    from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    para = cell.paragraphs[0]
    para.alignment = {"center": WD_ALIGN_PARAGRAPH.CENTER, "left": WD_ALIGN_PARAGRAPH.LEFT,
                      "right": WD_ALIGN_PARAGRAPH.RIGHT}[align]
    para.paragraph_format.space_before = Pt(2)
    para.paragraph_format.space_after = Pt(2)
    _run(para, text, bold, italic, size)
    cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER


def _header_row(table, row: int, texts: Sequence[str], size: float = TABLE_PT) -> None:
    """Headings: bold, centred, repeated at the top of every page the table runs on."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for k, text in enumerate(texts):
        _cell(table.cell(row, k), text, "center", bold=True, size=size)
    trpr = table.rows[row]._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    trpr.append(repeat)


def _keep_together(table) -> None:
    """Every row kept on the page of the next (a signature block never split)."""
    for row in table.rows[:-1]:
        for cell in row.cells:
            for para in cell.paragraphs:
                para.paragraph_format.keep_with_next = True


def _hand_line(doc) -> None:
    """A dotted line across the text width, to write on by hand (a tab with a dotted leader)."""
    from docx.enum.text import WD_TAB_ALIGNMENT, WD_TAB_LEADER
    from docx.shared import Cm

    para = _para(doc, "", align="left", before=6)
    para.paragraph_format.tab_stops.add_tab_stop(Cm(TEXT_CM - 0.05), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)
    para.add_run("\t")


def _no_split(table) -> None:
    """No row broken across two pages."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for row in table.rows:
        trpr = row._tr.get_or_add_trPr()
        cant = OxmlElement("w:cantSplit")
        cant.set(qn("w:val"), "true")
        trpr.append(cant)


# ---- the parts of the report ---------------------------------------------------------------------

def _heading_block(doc, profile: CouncilProfile, number: str, place_date: str) -> None:
    """Issuing body (and its superior) left, Quốc hiệu and Tiêu ngữ right; number under the issuing
    body, place and date under the Tiêu ngữ, on one line."""
    table = _table(doc, 2, HEAD_CM, grid=False)
    left, right = table.cell(0, 0), table.cell(0, 1)
    left.paragraphs[0]._p.getparent().remove(left.paragraphs[0]._p)
    right.paragraphs[0]._p.getparent().remove(right.paragraphs[0]._p)
    _para(left, (profile.superior_body or DOTS).upper(), size=12)
    _para(left, (profile.issuing_body or DOTS).upper(), bold=True, size=12)
    _rule(left, 2.2, HEAD_CM[0])
    _para(right, QUOC_HIEU, bold=True, size=12)
    _para(right, TIEU_NGU, bold=True, size=13, underline=True)
    _cell(table.cell(1, 0), number, "center", size=13)
    _cell(table.cell(1, 1), place_date, "center", italic=True, size=13)
    _para(doc, "", after=6)


def _title(doc, kind: str, subject: str, status: str) -> None:
    _para(doc, kind, bold=True, size=BODY_PT, before=12)
    _para(doc, subject, bold=True, size=BODY_PT)
    _rule(doc, 4.0, TEXT_CM)
    if status != "official":
        _para(doc, f"(Theo bộ tiêu chí {status_text(status)}: không phải tiêu chí chính thức; các con số chỉ để "
                   "tham khảo)", italic=True, size=13, before=4)
    _para(doc, "", after=4)


def _scope_sentence(batch: BatchResult, year: Optional[int]) -> str:
    n = len(batch.units)
    official = c.official_total(batch)
    where = c.places(batch)
    text = (f"{f'Năm {year}, ' if year else ''}{'toàn ' + where if where else 'các tỉnh, thành phố'} đã đánh giá, "
            f"phân loại {n}{f'/{official}' if official is not None else ''} đơn vị hành chính cấp xã"
            + (" trong danh mục đơn vị hành chính" if official is not None else ""))
    types = c.unit_type_counts(batch)
    if types:
        text += f" (gồm {types})"
    text = c.capital(text) + "."
    bad = c.rejected_rows(batch)
    if bad:
        text += f" {bad} dòng số liệu không hợp lệ chưa được đánh giá, phân loại."
    return text


def _class_table(doc, batch: BatchResult, classes: list[c.ClassLine]) -> None:
    with_previous = batch.previous is not None
    year = batch_year(batch)
    prev_year = (batch.previous.year if batch.previous is not None else None) or ((year or 1) - 1)
    heads = ["STT", "Kết quả phân loại", f"Số đơn vị{f' năm {year}' if year else ''}", "Tỷ lệ (%)"]
    widths: list[float] = [1.4, 7.8, 3.3, 2.8]
    if with_previous:
        heads += [f"Số đơn vị năm {prev_year}", "Tăng, giảm"]
        widths = [1.4, 5.4, 2.5, 2.2, 2.5, 2.5]
    _para(doc, "Bảng 1. Kết quả phân loại các đơn vị cấp xã", italic=True, size=13, before=6, after=3)
    table = _table(doc, len(classes) + 2, widths)
    _header_row(table, 0, heads)
    for k, line in enumerate(classes, start=1):
        cells = [str(k), line.label, str(line.count), c.percent_text(line.share)]
        if with_previous:
            cells += ["—" if line.previous is None else str(line.previous), c.change_text(line.previous, line.count)]
        for col, text in enumerate(cells):
            _cell(table.cell(k, col), text, "left" if col == 1 else "center")
    total = len(classes) + 1
    n = len(batch.units)
    cells = ["", "Tổng số", str(n), c.percent_text(Fraction(1)) if n else "—"]
    if with_previous:
        before = sum(1 for r in batch.units if r.previous is not None)
        cells += [str(before), c.change_text(before, n) if before == n else "—"]
    for col, text in enumerate(cells):
        _cell(table.cell(total, col), text, "left" if col == 1 else "center", bold=True)
    _no_split(table)


def _chart(doc, batch: BatchResult, classes: list[c.ClassLine], year: Optional[int]) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    order = class_order(batch.pack.commune, batch)
    colours = [class_colours(order, line.colour_rank)[1] if line.colour_rank in order else "#A6A6A6"
               for line in classes]
    previous = [line.previous for line in classes] if batch.previous is not None else None
    prev_year = batch.previous.year if batch.previous is not None else None
    png = class_chart([line.label for line in classes], [line.count for line in classes], colours, previous,
                      year, prev_year or ((year - 1) if year and previous else None))
    para = doc.add_paragraph()
    para.paragraph_format.keep_with_next = True
    para.paragraph_format.space_before = Pt(4)
    para.alignment = WD_ALIGN_PARAGRAPH.CENTER
    para.add_run().add_picture(io.BytesIO(png), width=Cm(14.0))
    _para(doc, f"Biểu đồ 1. Số đơn vị cấp xã theo kết quả phân loại{f' năm {year}' if year else ''}",
          italic=True, size=13, after=6)


def _criteria_table(doc, p: c.ProvinceLine, number: int) -> None:
    _para(doc, f"Bảng {number}. Các tiêu chí cấp tỉnh của {p.name}", italic=True, size=13, before=6, after=3)
    table = _table(doc, len(p.criteria) + 1, (1.4, 8.7, 2.6, 3.8))
    _header_row(table, 0, ["STT", "Tiêu chí", "Kết quả", "Căn cứ"])
    for k, line in enumerate(p.criteria, start=1):
        _cell(table.cell(k, 0), str(k), "center")
        _cell(table.cell(k, 1), line.title)
        _cell(table.cell(k, 2), line.result, "center", bold=line.result == "Đạt")
        _cell(table.cell(k, 3), line.cite, size=12)
    _no_split(table)


def _signature_block(doc, batch: BatchResult, profile: CouncilProfile) -> None:
    """The signatories of the pack's summary (left to right) with their names from the profile
    (blank: a dotted line), then "Nơi nhận" bottom left. One signatory: "Nơi nhận" beside it."""
    document = batch.pack.documents.get("summary")
    roles: list[Role] = list(document.signatures) if document is not None else []
    where = c.places(batch)
    province = where.split(" ", 1)[-1].upper() if where and where.startswith("tỉnh ") else None
    _para(doc, "", after=6).paragraph_format.keep_with_next = True  # the closing line stays with the signatures
    if len(roles) <= 1:
        table = _table(doc, 4, (7.5, WIDE_CM - 7.5), grid=False)
        _recipients(table.cell(0, 0).merge(table.cell(3, 0)), profile)
        if roles:
            _signature(table, 1, roles[0], profile, province)
    else:
        table = _table(doc, 4, [WIDE_CM / len(roles)] * len(roles), grid=False)
        for k, role in enumerate(roles):
            _signature(table, k, role, profile, province)
        after = _table(doc, 1, (8.0, TEXT_CM - 8.0), grid=False)
        _recipients(after.cell(0, 0), profile)
    _no_split(table)
    _keep_together(table)


def _signature(table, col: int, role: Role, profile: CouncilProfile, province: Optional[str]) -> None:
    """Title, note, room to sign and stamp (about 3 cm), name: one row each, so that the names of
    signatories side by side stand on one line."""
    from docx.shared import Cm

    signer = profile.signatory(role.id)
    title = signer.title or role.title_for(province=province)
    _cell(table.cell(0, col), title.upper(), "center", bold=True, size=13)
    if role.note:
        _cell(table.cell(1, col), role.note, "center", italic=True, size=13)
    table.rows[2].height = Cm(3.0)
    _cell(table.cell(3, col), or_dots(signer.name), "center", bold=True, size=BODY_PT)


def _recipients(cell, profile: CouncilProfile) -> None:
    items = list(profile.recipients) or [DOTS, DOTS, "Lưu: VT"]
    para = cell.paragraphs[0]
    _run(para, "Nơi nhận:", bold=True, italic=True, size=12)
    for k, item in enumerate(items):
        item = item.rstrip(";.")
        _para(cell, f"- {item}{'.' if k == len(items) - 1 else ';'}", align="left", size=11)


def _annex(doc, batch: BatchResult, profile: CouncilProfile, number: str, today: dt.date,
           year: Optional[int]) -> None:
    """The annex on pages of its own (numbered from 1): the units per class, in rank order."""
    from docx.enum.section import WD_SECTION

    section = doc.add_section(WD_SECTION.NEW_PAGE)
    _page(section, restart=True)
    date = profile.date or today
    by = f" của {profile.issuing_body}" if profile.issuing_body else ""
    _para(doc, "Phụ lục", bold=True, size=BODY_PT)
    _para(doc, "DANH SÁCH CÁC XÃ, PHƯỜNG, ĐẶC KHU THEO KẾT QUẢ PHÂN LOẠI"
          + (f" NĂM {year}" if year else ""), bold=True, size=BODY_PT)
    _para(doc, f"(Kèm theo Báo cáo số {number} {c.date_words(date)}{by})", italic=True, size=13)
    _rule(doc, 4.0, TEXT_CM)
    _para(doc, "", after=6)
    several = len({r.unit.province_code for r in batch.units}) > 1
    heads = ["STT", "Mã đơn vị", "Tên đơn vị", "Loại hình"] + (["Tỉnh, thành phố"] if several else []) \
        + ["Kết quả phân loại"]
    widths = [1.4, 1.8, 3.7, 2.3, 2.8, 4.5] if several else [1.4, 1.9, 4.1, 2.3, 6.8]
    table = _table(doc, 1, widths)
    _header_row(table, 0, heads, size=ANNEX_PT)
    left = {2, len(heads) - 1} | ({4} if several else set())
    for g, (label, units) in enumerate(c.annex_groups(batch)):
        cells = table.add_row().cells  # rows added one by one: see _widths
        _cell(cells[0].merge(cells[-1]), f"{c.ROMAN[g] if g < len(c.ROMAN) else g + 1}. {label}: {len(units)} đơn vị",
              bold=True, size=ANNEX_PT)
        for k, r in enumerate(units, start=1):
            texts = [str(k), r.unit.code, r.unit.name, c.type_text(r.unit.type)]
            if several:
                texts.append(c.capital(c.area_name(r.unit.province_code, year)))
            texts.append(label)
            for col, (cell, text) in enumerate(zip(table.add_row().cells, texts)):
                _cell(cell, text, "left" if col in left else "center", size=ANNEX_PT)
    _no_split(table)
