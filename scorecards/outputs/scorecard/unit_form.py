"""The printable per-unit form, one sheet named by the unit's code, in the administrative format
of Nghị định 30/2020/NĐ-CP: the heading block (the unit's People's Committee; Quốc hiệu and Tiêu
ngữ), the title, the unit, its criteria table (thresholds in words, values as people read them),
total, class, vetoes and ranks, the place and date and the pack's signature blocks.

A4 portrait, body type at least 10 pt: every row is sized to its text here, and the print scale
is computed from those sizes (never a blind fit-to-page that would shrink the type). One page
when the text holds on one at that size, else two, broken between criteria (see unit_sheet)."""
from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Optional

from lanhmanh.engine.analysis.wording import Wording
from lanhmanh.engine.evaluation.evidence import criteria_evidence
from lanhmanh.engine.evaluation.scoring import UnitResult
from lanhmanh.engine.model.pack import Criterion, Pack, Role
from lanhmanh.scorecards.outputs.presentation import (
    A4,
    BOXED,
    HEADING,
    NOTE_LABEL,
    house_format,
    merge_or_write,
    met_text,
    reading_text,
    readings_text,
)
from lanhmanh.scorecards.outputs.profile import DOTS
from lanhmanh.scorecards.outputs.scorecard.book import Book, also_text, class_cell_text, max_total

# ---- the page -----------------------------------------------------------------------------------

PAGE_W, PAGE_H = 595.3, 841.9  # A4 in points
MARGINS = {"left": 0.6, "right": 0.4, "top": 0.45, "bottom": 0.55}  # inches
HEADER_MARGIN, FOOTER_MARGIN = 0.2, 0.25
SAFETY = 0.96  # of the printable height: what a renderer's rounding may take
FONT_PT = 11  # the form's body type, printed at SCALE_MIN or more: ≥ 10 pt on paper
SCALE_MIN = 91
SIGN_SPACE_MM = 37  # room to sign under the signature titles (≥ 35 mm on paper)
PAGE_FOOTER = "&C&10Trang 1/1"  # one page per form: not the workbook's running page count

# the text model that sizes rows: points per character of the body font at 11 pt (mixed case,
# bold capitals) and per line, measured on LibreOffice's rendering with some room to spare (Times
# New Roman is narrower than its substitutes, Excel's columns narrower than LibreOffice's)
CHAR_PT, CAPS_PT, LINE_PT, PAD_PT = 6.4, 8.6, 13.6, 3.0

# the default signatures when a pack declares none for the unit form
DEFAULT_SIGNATURES = (Role("prepares", "NGƯỜI LẬP BIỂU", "unit", "(Ký, ghi rõ họ tên)"),
                      Role("signs", "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "unit", "(Ký tên, đóng dấu)"))
STATUS_BANNER = {"illustrative": "BẢNG ĐIỂM MINH HỌA, KHÔNG PHẢI BẢNG ĐIỂM CHÍNH THỨC\n"
                                 "Không dùng để xét công nhận khi chưa được cấp có thẩm quyền ban hành",
                 "draft": "DỰ THẢO: bộ tiêu chí chưa được ban hành"}
COUNTRY, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"


def col_points(width: float) -> float:
    """A column's width in points as LibreOffice prints it (XlsxWriter writes 7 px per unit + 5 px
    of padding; LibreOffice without Calibri measures the unit with a wider font: a pixel a point)."""
    return 7 * width + 5


@lru_cache(maxsize=16384)
def text_lines(text: str, points: float, char_pt: float = CHAR_PT) -> int:
    """The lines a text takes, wrapped word by word in a cell `points` wide."""
    room = max(1.0, (points - 2 * PAD_PT) / char_pt)
    total = 0
    for part in str(text).split("\n"):
        lines, used = 1, 0
        for word in part.split(" "):
            size = len(word)
            if used and used + 1 + size > room:
                lines += 1 + (size - 1) // int(room)
                used = size % int(room) or int(room)
            elif not used and size > room:
                lines += (size - 1) // int(room)
                used = size % int(room) or int(room)
            else:
                used += size + (1 if used else 0)
        total += lines
    return total


def row_height(lines: int, line_pt: float = LINE_PT) -> float:
    return lines * line_pt + PAD_PT


# ---- formats ----------------------------------------------------------------------------------

class FormFormats:
    """The form's cell formats, made once per workbook."""

    def __init__(self, wb):
        def fmt(**properties):
            return house_format(wb, **{"font_size": FONT_PT, **properties})

        centre = {"align": "center", "valign": "vcenter", "text_wrap": True}
        self.body_left = fmt(bold=True, **centre)
        self.country = fmt(bold=True, **centre)
        self.motto = fmt(bold=True, underline=1, **centre)
        self.title = fmt(bold=True, font_size=13, **centre)
        self.subtitle = fmt(italic=True, **centre)
        self.banner = fmt(bold=True, font_size=12, font_color="#C00000", border=2, border_color="#C00000",
                          **centre)
        self.note = fmt(bold=True, font_color="#9C0006", text_wrap=True, valign="vcenter")
        self.head = fmt(**HEADING)
        self.label = fmt(bold=True, text_wrap=True, **BOXED)
        self.value = fmt(text_wrap=True, **BOXED)
        self.centre = fmt(align="center", text_wrap=True, **BOXED)
        self.met = fmt(align="center", font_color="#006100", bold=True, text_wrap=True, **BOXED)
        self.not_met = fmt(align="center", font_color="#9C0006", text_wrap=True, **BOXED)
        self.int = fmt(num_format="0", align="center", **BOXED)
        self.total = fmt(num_format="0", align="center", bold=True, **BOXED)
        self.klass = fmt(bold=True, text_wrap=True, **BOXED)
        self.date = fmt(italic=True, align="center", valign="bottom")
        self.sign_title = fmt(bold=True, align="center", valign="top", text_wrap=True)
        self.sign_note = fmt(italic=True, align="center", valign="top", text_wrap=True)
        self.sign_name = fmt(bold=True, align="center", valign="bottom", text_wrap=True)
        self.page_mark = fmt(italic=True, align="center", valign="bottom")


_FORMATS: "weakref.WeakKeyDictionary[Any, FormFormats]" = weakref.WeakKeyDictionary()


def form_formats(wb) -> FormFormats:
    made = _FORMATS.get(wb)
    if made is None:
        made = _FORMATS[wb] = FormFormats(wb)
    return made


# ---- what the form says -------------------------------------------------------------------------

def committee_name(name: str, unit_type: Optional[str]) -> str:
    """The unit's People's Committee as the heading block names it: "UBND PHƯỜNG THÀNH VINH"."""
    kind = (unit_type or "").strip()
    if kind and not name.lower().startswith(kind.lower()):
        name = f"{kind} {name}"
    return f"UBND {name.upper()}"


def place_name(name: str, unit_type: Optional[str]) -> str:
    """The địa danh of the date line: the unit's name without its type ("Thành Vinh")."""
    kind = (unit_type or "").strip()
    if kind and name.lower().startswith(kind.lower() + " "):
        return name[len(kind) + 1:]
    return name


def short_cite(pack: Pack, cite: Optional[str]) -> str:
    """A criterion's citation without the document the form's "Căn cứ" line already names
    ("Điều 4, khoản 1, điểm a")."""
    if not cite:
        return ""
    if len(pack.sources) == 1:
        doc = next(iter(pack.sources.values())).get("document", "")
        if doc and cite.startswith(doc + ", "):
            return cite[len(doc) + 2:]
    return cite


def basis_line(pack: Pack) -> str:
    """"Căn cứ: Quyết định 28/2025/QĐ-TTg ngày 24/8/2025" from the pack's sources."""
    parts = []
    for source in pack.sources.values():
        doc = str(source.get("document", "")).strip()
        when: Any = source.get("date")
        if doc:
            parts.append(doc + (f" ngày {when.day}/{when.month}/{when.year}" if hasattr(when, "year") else ""))
    return "Căn cứ: " + "; ".join(parts) if parts else ""


def form_title(pack: Pack) -> str:
    doc = pack.documents.get("unit_form")
    if doc is not None and doc.kind == "self_assessment":
        return "PHIẾU TỰ ĐÁNH GIÁ, XẾP LOẠI ĐƠN VỊ CẤP XÃ"
    return "PHIẾU ĐÁNH GIÁ, XẾP LOẠI ĐƠN VỊ CẤP XÃ"


def signature_roles(pack: Pack) -> tuple[Role, ...]:
    doc = pack.documents.get("unit_form")
    return doc.signatures if doc is not None and doc.signatures else DEFAULT_SIGNATURES


def spans(n_signatures: int, last: int) -> list[tuple[int, int]]:
    """Column spans of the signature blocks, left to right (the last one always at the right)."""
    if n_signatures <= 1:
        return [(2, last)]
    if n_signatures == 2:
        return [(0, 1), (2, last)]
    if last >= 6:
        return [(0, 1), (2, 3), (4, last)][:n_signatures]
    return [(0, 1), (2, 2), (3, last)][:n_signatures]


# ---- the layout, measured -----------------------------------------------------------------------

@dataclass
class Cell:
    first_col: int
    last_col: int
    text: str
    fmt: Any
    kind: str = "text"  # text | number | sum (of a column over the criteria rows)
    value: Any = None
    char_pt: float = CHAR_PT


@dataclass
class Row:
    cells: list[Cell]
    lines_pt: float = LINE_PT
    fixed: Optional[float] = None  # a height in points on paper (the signing space)
    min_lines: int = 1
    role: str = ""  # head: the table's headings; criterion: a criterion's row


def width_shares(scored: bool) -> list[float]:
    """Each column's share of the printable width."""
    return [0.055, 0.405, 0.16, 0.21, 0.095, 0.075] if scored else [0.06, 0.43, 0.17, 0.22, 0.12]


def widths_at(scale: float, scored: bool) -> list[float]:
    """Column widths (sheet units) that fill the printable width at a print scale."""
    shares = width_shares(scored)
    room = (printable()[0] * 0.98 / scale - 5 * len(shares)) / 7
    return [round(share * room, 2) for share in shares]


def measure(rows: list[Row], widths: list[float], scale: float) -> list[float]:
    """Each row's height in points (sheet units, before the print scale)."""
    heights = []
    for row in rows:
        if row.fixed is not None:
            heights.append(row.fixed / scale)
            continue
        lines = row.min_lines
        for cell in row.cells:
            points = sum(col_points(widths[c]) for c in range(cell.first_col, cell.last_col + 1))
            lines = max(lines, text_lines(cell.text, points, cell.char_pt))
        heights.append(row_height(lines, row.lines_pt))
    return heights


def printable() -> tuple[float, float]:
    width = PAGE_W - 72 * (MARGINS["left"] + MARGINS["right"])
    height = (PAGE_H - 72 * (MARGINS["top"] + MARGINS["bottom"])) * SAFETY
    return width, height


def layout(rows: list[Row], scored: bool) -> Optional[tuple[int, list[float], list[float]]]:
    """The print scale (per cent), the column widths and the row heights: the largest scale from
    100 % down to SCALE_MIN at which the form fits one page, the columns filling the page width at
    that scale (wider columns, fewer wrapped lines); None when it does not fit even at SCALE_MIN
    (a smaller scale only makes the form longer on paper relative to the page: tried first)."""
    room_h = printable()[1]

    def fits(scale: int):
        widths = widths_at(scale / 100, scored)
        heights = measure(rows, widths, scale / 100)
        return (scale, widths, heights) if sum(heights) * scale / 100 <= room_h else None

    if fits(SCALE_MIN) is None:
        return None
    for scale in range(100, SCALE_MIN - 1, -1):
        found = fits(scale)
        if found is not None:
            return found
    return None  # pragma: no cover - SCALE_MIN fits


# ---- the sheet --------------------------------------------------------------------------------

def unit_sheet(bk: Book, r: UnitResult) -> None:
    """A printable form for one unit: one A4 page, with each criterion's citation when the page
    holds it at SCALE_MIN or more, else without (the "Căn cứ" line and "Chứng cứ" keep them).
    A form whose text does not fit one page at that size (long legal titles) takes two pages,
    broken between criteria, the table's headings repeated, "Trang 1/2" and "Trang 2/2" at the
    foot of each (never a smaller type)."""
    ws = bk.wb.add_worksheet(bk.unit_sheet_name(r.unit.code))
    for cites in (True, False):
        rows = form_rows(bk, r, cites)
        found = layout(rows, bk.scored)
        if found is not None:
            scale, widths, heights = found
            write_rows(ws, rows, widths, heights)
            page_setup(ws, scale, len(rows) - 1, len(widths) - 1, PAGE_FOOTER)
            return
    rows = form_rows(bk, r, cites=True)
    scale, widths, rows, heights, first_of_page_2 = two_pages(rows, bk)
    write_rows(ws, rows, widths, heights)
    page_setup(ws, scale, len(rows) - 1, len(widths) - 1, "")
    ws.set_h_pagebreaks([first_of_page_2])


def two_pages(rows: list[Row], bk: Book) -> tuple[int, list[float], list[Row], list[float], int]:
    """The form over two pages at the largest scale that holds it (SCALE_MIN or more when it can):
    page 1 down to a criterion, page 2 from the next one under the repeated headings; each page
    ends with its page mark, page 1's pushed to the foot of the page."""
    f = form_formats(bk.wb)
    last = len(width_shares(bk.scored)) - 1
    head = next(i for i, row in enumerate(rows) if row.role == "head")
    crit = [i for i, row in enumerate(rows) if row.role == "criterion"]
    room = printable()[1]
    for scale in range(100, 9, -1):
        s = scale / 100
        widths = widths_at(s, bk.scored)
        heights = measure(rows, widths, s)
        mark = row_height(1)
        limit = room / s - 4
        for k in reversed(crit[1:]):  # page 2 starts at criterion row k
            if sum(heights[:k]) + mark > limit:
                continue
            if heights[head] + sum(heights[k:]) + mark > limit:
                break  # moving the break up only makes page 2 longer
            spacer = limit - sum(heights[:k]) - mark
            page1 = rows[:k] + [Row([Cell(0, last, "", f.page_mark)], fixed=spacer * s),
                                Row([Cell(0, last, "Trang 1/2", f.page_mark)])]
            page2 = [rows[head]] + rows[k:] + [Row([Cell(0, last, "Trang 2/2", f.page_mark)])]
            out = page1 + page2
            return scale, widths, out, measure(out, widths, s), len(page1)
    raise ValueError("a unit form does not fit two pages")  # pragma: no cover - 10 % always fits


def form_rows(bk: Book, r: UnitResult, cites: bool) -> list[Row]:
    """The form's rows, top to bottom, each with its cells."""
    unit, outcome = r.unit, r.outcome
    f, level, pack, scored = form_formats(bk.wb), bk.level, bk.pack, bk.scored
    wording = Wording(pack, level)
    last = 5 if scored else 4
    right = 2  # the heading block's right half starts here
    rows: list[Row] = []

    def line(*cells: Cell, **kw) -> Row:
        row = Row(list(cells), **kw)
        rows.append(row)
        return row

    # heading block (ND 30/2020): the unit's People's Committee left; Quốc hiệu, Tiêu ngữ right
    line(Cell(0, 1, committee_name(unit.name, unit.type), f.body_left, char_pt=CAPS_PT),
         Cell(right, last, COUNTRY, f.country, char_pt=CAPS_PT))
    line(Cell(0, 1, "", f.body_left), Cell(right, last, MOTTO, f.motto, char_pt=6.2))
    line(Cell(0, last, "", f.subtitle), fixed=8)
    if bk.batch.notes:  # the signed sheet must carry the batch's notes too: in row 4, above the title
        line(Cell(0, last, f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes), f.note))
    line(Cell(0, last, form_title(pack), f.title, char_pt=CAPS_PT * 13 / 11), lines_pt=17)
    year = "" if unit.year is None else f", năm {unit.year}"
    line(Cell(0, last, f"{pack.title}{year}", f.subtitle))
    basis = basis_line(pack)
    if basis:
        line(Cell(0, last, basis, f.subtitle))
    banner = STATUS_BANNER.get(pack.status)
    if banner:  # an illustrative pack says so in the title block, prominently
        line(Cell(0, last, banner, f.banner, char_pt=CAPS_PT * 12 / 11), lines_pt=16, min_lines=2)
    line(Cell(0, last, "", f.subtitle), fixed=6)
    # the unit: verify reads the labels in column A and the values in column C
    province = bk.province_label(unit.province_code)
    line(Cell(0, 1, "Tên đơn vị", f.label), Cell(2, 2, unit.name, f.value),
         Cell(3, 3, "Tỉnh, thành phố", f.label), Cell(4, last, province, f.value))
    line(Cell(0, 1, "Mã đơn vị", f.label), Cell(2, 2, unit.code, f.value),
         Cell(3, 3, "Năm đánh giá", f.label), Cell(4, last, "" if unit.year is None else str(unit.year), f.value))
    line(Cell(0, last, "", f.subtitle), fixed=6)
    heads = ["Tiêu chí", "Nội dung", "Số liệu", "Ngưỡng", "Kết quả"] + (["Điểm"] if scored else [])
    line(*[Cell(c, c, h, f.head) for c, h in enumerate(heads)], role="head")
    criteria: list[Criterion] = bk.criteria
    for criterion, ev in zip(criteria, criteria_evidence(level, unit.values, outcome)):
        cite = short_cite(pack, criterion.cite) if cites else ""
        title = f"{criterion.title} ({cite})" if cite else criterion.title
        threshold = "\n".join(wording.criterion(criterion).split("; "))
        if criterion.scored and len(criterion.bands) == 1:
            threshold += f": {criterion.max_points} điểm"
        reads = [name for name in criterion.reads if name in ev["inputs"]]
        values = readings_text(wording, reads, ev["inputs"])
        if wording.needs_labels(reads):  # values told apart by their labels: under the title, in full
            title += "\nSố liệu: " + values.replace("\n", "; ")
            values = "\n".join(reading_text(level, name, ev["inputs"][name]) for name in reads)
        cells = [Cell(0, 0, criterion.id, f.centre), Cell(1, 1, title, f.value),
                 Cell(2, 2, values, f.value),
                 Cell(3, 3, threshold, f.value),
                 Cell(4, 4, met_text(ev["met"]), f.met if ev["met"] else f.not_met)]
        if scored:
            if criterion.scored:
                cells.append(Cell(5, 5, "", f.int, "number", ev["points"]))
            else:
                cells.append(Cell(5, 5, "", f.int))
        line(*cells, role="criterion")
    if scored:  # the sums' ranges: the criteria rows where they end up (see write_rows)
        line(Cell(0, 1, "Tổng điểm", f.label), Cell(2, 4, f"(tối đa {max_total(level)} điểm)", f.value),
             Cell(5, 5, "", f.total, "sum", ("F", outcome.total)))
    results = [("Xếp loại", class_cell_text(level, outcome.class_id, r.also_meets), f.klass)]
    if r.also_meets is not None:  # the pack's order of classes hid a class whose condition holds too
        results.append(("Cũng đạt", also_text(level, r.also_meets).replace(f" ({r.also_meets})", ""), f.value))
    if bk.has_vetoes:
        vetoes = "; ".join(f"{v} – {level.vetoes[v].title}" if v in level.vetoes else v for v in outcome.vetoes)
        results.append(("Điểm liệt", vetoes or "Không có", f.value))
    results.append(("Thứ hạng", f"{r.rank_province} trong tỉnh, {r.rank_national} trong toàn bộ danh sách", f.value))
    for label, value, fmt in results:
        line(Cell(0, 1, label, f.label), Cell(2, last, value, fmt))
    # place and date, then the signature blocks: each in its own row, nothing drawn over another
    roles = signature_roles(pack)
    blocks = spans(len(roles), last)
    line(Cell(0, last, "", f.subtitle), fixed=6)
    place = place_name(unit.name, unit.type)  # the commune signs its own form: its own name
    date_first, date_last = blocks[-1]
    line(Cell(date_first, date_last, f"{place}, ngày …… tháng …… năm {unit.year or '……'}", f.date))
    line(*[Cell(a, b, role.title_for(unit.type), f.sign_title, char_pt=CAPS_PT)
           for (a, b), role in zip(blocks, roles)], lines_pt=15)
    line(*[Cell(a, b, role.note, f.sign_note) for (a, b), role in zip(blocks, roles)])
    line(Cell(0, last, "", f.subtitle), fixed=SIGN_SPACE_MM / 25.4 * 72)
    names = [bk.profile.signatory(role.id).name if role.level != "unit" else None for role in roles]
    if any(names):
        line(*[Cell(a, b, name or DOTS, f.sign_name) for (a, b), name in zip(blocks, names)])

    return rows


def write_rows(ws, rows: list[Row], widths: list[float], heights: list[float]) -> None:
    crit = [i for i, row in enumerate(rows) if row.role == "criterion"]
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    for index, (row, height) in enumerate(zip(rows, heights)):
        ws.set_row(index, round(height, 1))
        for cell in row.cells:
            if cell.kind == "number":
                ws.write_number(index, cell.first_col, cell.value, cell.fmt)
            elif cell.kind == "sum":
                letter, value = cell.value
                ws.write_formula(index, cell.first_col, f"=SUM({letter}{crit[0] + 1}:{letter}{crit[-1] + 1})",
                                 cell.fmt, value)
            else:
                merge_or_write(ws, index, cell.first_col, index, cell.last_col, cell.text, cell.fmt)


def page_setup(ws, scale: int, last_row: int, last_col: int, footer: str) -> None:
    """A4 portrait at the computed scale, the form's own rows and columns only; the footer
    "Trang 1/1" of a one-page form (LibreOffice numbers pages across the whole workbook: &P/&N
    would print "Trang 48/177")."""
    ws.set_paper(A4)
    ws.set_portrait()
    ws.set_print_scale(scale)
    ws.set_margins(**MARGINS)
    ws.set_header("", margin=HEADER_MARGIN)
    ws.set_footer(footer, margin=FOOTER_MARGIN)
    ws.print_area(0, 0, last_row, last_col)
    ws.center_horizontally()
    ws.hide_gridlines(2)
