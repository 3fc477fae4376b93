"""The printable per-unit form, one sheet named by the unit's code, in the administrative format
of Nghị định 30/2020/NĐ-CP: the heading block (the unit's People's Committee; Quốc hiệu and Tiêu
ngữ), the title, the unit, its criteria table (thresholds in words, values as people read them),
total, class, vetoes and ranks, the place and date and the pack's signature blocks.

A4 portrait, one page, body type at least 10 pt: each criterion is named by its `form_title`
(the pack's short wording), every row is sized to its text here, the column widths are fitted
once per workbook to the longest text of each cell, and the print scale is computed from the
row heights (never a blind fit-to-page that would shrink the type). A form of a pack whose text
does not hold on one page at that size takes two, broken between criteria (see unit_sheet)."""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Optional

from lanhmanh.engine.analysis.wording import Wording, lower_first
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
MARGINS = {"left": 0.6, "right": 0.4, "top": 0.3, "bottom": 0.4}  # inches
HEADER_MARGIN, FOOTER_MARGIN = 0.15, 0.2
SAFETY = 0.998  # of the printable height: what a renderer's rounding may take
FONT_PT = 11  # the form's body type, printed at SCALE_MIN or more: ≥ 10 pt on paper
SCALE_MIN = 91
SIGN_SPACE_MM = 35.3  # room to sign under the signature titles (≥ 35 mm on paper)
PAGE_FOOTER = "&C&11Trang 1/1"  # one page per form (not the running page count); scaled like the body

# the text model of the "Chứng cứ" sheet (evidence.py): points per character at 11 pt, per line,
# and a cell's padding, with room to spare
CHAR_PT, LINE_PT, PAD_PT = 6.4, 13.6, 3.0
# the form's text model, at 11 pt: points per character of mixed-case text and of bold capitals,
# per line and of a row's padding. Measured on LibreOffice's rendering (Times New Roman replaced
# by DejaVu Serif: 0.52 em a character on average, 0.78 em for bold capitals, lines 1.165 em
# apart), with about 5 % to spare; Times New Roman is narrower.
FORM_CHAR_PT, CAPS_PT, FORM_LINE_PT, ROW_PAD_PT = 6.0, 8.8, 12.9, 1.0
BOLD_PT, COUNTRY_PT = 6.8, 8.2  # bold mixed case; the Quốc hiệu (0.72 em)

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


def form_row_height(lines: int, line_pt: float = FORM_LINE_PT) -> float:
    return lines * line_pt + ROW_PAD_PT


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
        self.banner = fmt(bold=True, font_size=FONT_PT, font_color="#C00000", border=2, border_color="#C00000",
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
    char_pt: float = FORM_CHAR_PT


@dataclass
class Row:
    cells: list[Cell]
    lines_pt: float = FORM_LINE_PT
    fixed: Optional[float] = None  # a height in points on paper (the signing space)
    min_lines: int = 1
    role: str = ""  # top: the heading block; head: the table's headings; criterion: a criterion's row
    variants: list[list[Cell]] = field(default_factory=list)  # other ways to lay out its cells

    def layouts(self) -> list[list[Cell]]:
        return [self.cells, *self.variants]


def width_shares(scored: bool) -> list[float]:
    """Each column's share of the printable width before the columns are fitted to the text."""
    return [0.055, 0.405, 0.16, 0.21, 0.095, 0.075] if scored else [0.06, 0.43, 0.17, 0.22, 0.12]


def room_width(scale: float) -> float:
    """The printable width in points of the sheet (before the print scale)."""
    return printable()[0] * 0.98 / scale


def widths_at(scale: float, shares: list[float]) -> list[float]:
    """Column widths (sheet units) that fill the printable width at a print scale."""
    room = room_width(scale)
    return [round((share * room - 5) / 7, 2) for share in shares]


def measure(rows: list[Row], widths: list[float], scale: float) -> list[float]:
    """Each row's height in points (sheet units, before the print scale)."""
    return rows_at(rows, [col_points(w) for w in widths], scale)


def rows_at(rows: list[Row], points: list[float], scale: float) -> list[float]:
    return [height for height, _ in laid_out(rows, points, scale)]


def whole_pixels(points: float) -> float:
    """A row height as the workbook stores it: XlsxWriter rounds it to whole pixels (¾ pt)."""
    return int(points * 4 / 3 + 0.5) * 0.75


def laid_out(rows: list[Row], points: list[float], scale: float) -> list[tuple[float, list[Cell]]]:
    """Each row's height in points, as stored, and its cells, in the layout of the row that takes
    fewest lines."""
    out = []
    for row in rows:
        if row.fixed is not None:
            out.append((whole_pixels(row.fixed / scale), row.cells))
            continue
        best: Optional[tuple[int, list[Cell]]] = None
        for cells in row.layouts():
            lines = max([row.min_lines] + [text_lines(cell.text, sum(points[cell.first_col:cell.last_col + 1]),
                                                      cell.char_pt) for cell in cells])
            if best is None or lines < best[0]:
                best = (lines, cells)
        assert best is not None
        out.append((whole_pixels(form_row_height(best[0], row.lines_pt)), best[1]))
    return out


def min_points(rows: list[Row], n: int) -> list[float]:
    """The narrowest each column may be: its longest word, in cells of that column alone."""
    out = [24.0] * n
    for row in rows:
        for cell in row.cells:
            if cell.first_col == cell.last_col and cell.text:
                word = max(len(w) for w in cell.text.split())
                out[cell.first_col] = max(out[cell.first_col], word * cell.char_pt + 2 * PAD_PT)
    return out


def fitted_shares(rows: list[Row], scored: bool, steps: tuple[float, ...] = (3.0, 12.0, 36.0, 90.0)) -> list[float]:
    """Column shares that make the form shortest: starting from width_shares, width moves from one
    column to another (the move that takes most lines off the form first, at SCALE_MIN) until no
    move of any of `steps` points shortens it."""
    scale = SCALE_MIN / 100
    room = room_width(scale)
    points = [share * room for share in width_shares(scored)]
    least = min_points(rows, len(points))
    points = [max(p, m) for p, m in zip(points, least)]
    points = [p * room / sum(points) for p in points]

    def height(points: list[float]) -> float:  # with the widths as written (see widths_at)
        return sum(rows_at(rows, [col_points(round((p - 5) / 7, 2)) for p in points], scale))

    best = height(points)
    # first a coarse search over the threshold's and the values' widths (the title takes the rest)
    for a in range(int(least[2]), int(room / 2), 6):
        for b in range(int(least[3]), int(room / 3), 6):
            trial = list(points)
            trial[1] += trial[2] + trial[3] - a - b
            trial[2], trial[3] = a, b
            if trial[1] >= least[1]:
                total = height(trial)
                if total < best - 0.01:
                    best, points = total, trial
    for _ in range(400):
        move = None
        for i, j, step in ((i, j, step) for step in steps for i in range(len(points)) for j in range(len(points))):
            if i != j and points[i] - step >= least[i]:
                trial = list(points)
                trial[i] -= step
                trial[j] += step
                total = height(trial)
                if total < best - 0.01:
                    best, move = total, trial
        if move is None:
            break
        points = move
    return [p / room for p in points]


def printable() -> tuple[float, float]:
    width = PAGE_W - 72 * (MARGINS["left"] + MARGINS["right"])
    height = (PAGE_H - 72 * (MARGINS["top"] + MARGINS["bottom"])) * SAFETY
    return width, height


def layout(rows: list[Row], shares: list[float]) -> Optional[tuple[int, list[float], list[float]]]:
    """The print scale (per cent), the column widths and the row heights: the largest scale from
    100 % down to SCALE_MIN at which the form fits one page, the columns filling the page width at
    that scale; None when it does not fit even at SCALE_MIN."""
    room_h = printable()[1]

    def fits(scale: int):
        widths = widths_at(scale / 100, shares)
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
    holds them on every form of the batch at SCALE_MIN or more, else without (the "Căn cứ" line
    and the JSON keep them). A form whose text does not fit one page at that size (long legal
    titles, no `form_title`) takes two pages, broken between criteria, the table's headings
    repeated, "Trang 1/2" and "Trang 2/2" at the foot of each (never a smaller type)."""
    ws = bk.wb.add_worksheet(bk.unit_sheet_name(r.unit.code))
    for cites in ((True, False) if book_cites(bk, r) else (False,)):
        rows = form_rows(bk, r, cites)
        found = layout(rows, book_shares(bk, rows, cites))
        if found is not None:
            scale, widths, _ = found
            write_rows(ws, rows, widths, scale / 100)
            page_setup(ws, scale, len(rows) - 1, len(widths) - 1, PAGE_FOOTER)
            return
    rows = form_rows(bk, r, cites=True)
    scale, widths, rows, _, first_of_page_2 = two_pages(rows, bk, book_shares(bk, rows, True))
    write_rows(ws, rows, widths, scale / 100)
    page_setup(ws, scale, len(rows) - 1, len(widths) - 1, "")
    ws.set_h_pagebreaks([first_of_page_2])


# per workbook: with and without citations, the longest rows and the column shares fitted to them
_SHARES: "weakref.WeakKeyDictionary[Any, dict[bool, tuple[list[Row], list[float]]]]" = weakref.WeakKeyDictionary()
_CITES: "weakref.WeakKeyDictionary[Any, bool]" = weakref.WeakKeyDictionary()


def book_cites(bk: Book, r: UnitResult) -> bool:
    """Whether the forms of a workbook print the citations: when the longest text of every cell
    holds on one page with them (the forms of one workbook alike)."""
    if bk.wb not in _CITES:
        shares = book_shares(bk, form_rows(bk, r, cites=True), True)
        _CITES[bk.wb] = layout(_SHARES[bk.wb][True][0], shares) is not None
    return _CITES[bk.wb]


def book_shares(bk: Book, rows: list[Row], cites: bool) -> list[float]:
    """The column shares of every form of a workbook (with or without citations): the forms of
    one workbook look alike. Fitted to `rows` with each criterion's cells holding the longest
    text of any unit of the batch (its values differ from one unit to the next)."""
    made = _SHARES.setdefault(bk.wb, {})
    if cites not in made:
        longest = longest_rows(bk, rows, cites)
        made[cites] = (longest, fitted_shares(longest, bk.scored))
    return made[cites][1]


def longest_rows(bk: Book, rows: list[Row], cites: bool, sample: int = 500) -> list[Row]:
    """`rows` with each cell holding the longest text of that cell on the forms of the batch's units
    (rows matched by their first cell: a criterion's id, a label such as "Điểm liệt")."""
    def key(row: Row) -> str:
        if row.role == "top":
            return row.role
        return row.cells[0].text if row.cells and row.fixed is None else ""

    at = {key(row): i for i, row in enumerate(rows) if key(row)}
    out = list(rows)
    for r in bk.batch.units[:sample]:
        for row in form_rows(bk, r, cites):
            i = at.get(key(row))
            if i is None or len(row.cells) != len(out[i].cells):
                continue
            mine = out[i]
            layouts = [[a if len(a.text) >= len(b.text) else b for a, b in zip(x, y)]
                       for x, y in zip(mine.layouts(), row.layouts())]
            out[i] = Row(layouts[0], mine.lines_pt, mine.fixed, mine.min_lines, mine.role, layouts[1:])
    return out


def two_pages(rows: list[Row], bk: Book, shares: list[float]) -> tuple[int, list[float], list[Row], list[float], int]:
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
        widths = widths_at(s, shares)
        heights = measure(rows, widths, s)
        mark = form_row_height(1)
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
         Cell(right, last, COUNTRY, f.country, char_pt=COUNTRY_PT), role="top")
    line(Cell(0, 1, "", f.body_left), Cell(right, last, MOTTO, f.motto, char_pt=BOLD_PT))
    line(Cell(0, last, "", f.subtitle), fixed=4)
    if bk.batch.notes:  # the signed sheet must carry the batch's notes too: in row 4, above the title
        line(Cell(0, last, f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes), f.note))
    line(Cell(0, last, form_title(pack), f.title, char_pt=CAPS_PT * 13 / 11), lines_pt=FORM_LINE_PT * 13 / 11)
    year = "" if unit.year is None else f", năm {unit.year}"
    line(Cell(0, last, f"{pack.title}{year}", f.subtitle))
    basis = basis_line(pack)
    if basis:
        line(Cell(0, last, basis, f.subtitle))
    banner = STATUS_BANNER.get(pack.status)
    if banner:  # an illustrative pack says so in the title block, prominently
        line(Cell(0, last, banner, f.banner, char_pt=BOLD_PT), lines_pt=FORM_LINE_PT,
         min_lines=2)
    line(Cell(0, last, "", f.subtitle), fixed=3)
    # the unit: verify reads the labels in column A and the values in column C
    province = bk.province_label(unit.province_code)
    line(Cell(0, 1, "Tên đơn vị", f.label, char_pt=BOLD_PT), Cell(2, 2, unit.name, f.value),
         Cell(3, last, f"Tỉnh, thành phố: {province}", f.value))
    line(Cell(0, 1, "Mã đơn vị", f.label, char_pt=BOLD_PT), Cell(2, 2, unit.code, f.value),
         Cell(3, last, f"Năm đánh giá: {'' if unit.year is None else unit.year}", f.value))
    line(Cell(0, last, "", f.subtitle), fixed=3)
    heads = ["Tiêu chí", "Nội dung", "Ngưỡng", "Số liệu", "Kết quả"] + (["Điểm"] if scored else [])
    line(*[Cell(c, c, h, f.head, char_pt=BOLD_PT) for c, h in enumerate(heads)], role="head")
    criteria: list[Criterion] = bk.criteria
    for criterion, ev in zip(criteria, criteria_evidence(level, unit.values, outcome)):
        cite = short_cite(pack, criterion.cite) if cites else ""
        wording_ = criterion.form_title or criterion.title  # the pack's short wording for the form
        title = f"{wording_} ({cite})" if cite else wording_
        threshold = "\n".join(wording.criterion(criterion).split("; "))
        if criterion.scored and len(criterion.bands) == 1:
            threshold += f": {criterion.max_points} điểm"
        reads = [name for name in criterion.reads if name in ev["inputs"]]
        values = readings_text(wording, reads, ev["inputs"])
        if wording.needs_labels(reads):  # values told apart by their labels
            if any(band.label for band in criterion.bands) and not criterion.form_title:
                title += "\nSố liệu: " + values.replace("\n", "; ")
            # else the generated threshold, or the form_title, names them in this order
            values = "\n".join(reading_text(level, name, ev["inputs"][name]) for name in reads)
        tail = [Cell(3, 3, values, f.value), Cell(4, 4, met_text(ev["met"]), f.met if ev["met"] else f.not_met)]
        if scored:
            tail.append(Cell(5, 5, "", f.int, "number", ev["points"]) if criterion.scored else Cell(5, 5, "", f.int))
        split = [Cell(0, 0, criterion.id, f.centre), Cell(1, 1, title, f.value), Cell(2, 2, threshold, f.value)]
        # a long threshold may run under the title across both columns when that takes fewer lines
        below = lower_first(threshold) if "\n" not in threshold else threshold
        merged = [Cell(0, 0, criterion.id, f.centre), Cell(1, 2, f"{title}\nNgưỡng: {below}", f.value)]
        line(*split, *tail, role="criterion").variants = [merged + tail]
    if scored:  # the sums' ranges: the criteria rows where they end up (see write_rows)
        line(Cell(0, 1, "Tổng điểm", f.label, char_pt=BOLD_PT),
             Cell(2, 4, f"(tối đa {max_total(level)} điểm)", f.value),
             Cell(5, 5, "", f.total, "sum", ("F", outcome.total)))
    results = [("Xếp loại", class_cell_text(level, outcome.class_id, r.also_meets), f.klass)]
    if r.also_meets is not None:  # the pack's order of classes hid a class whose condition holds too
        results.append(("Cũng đạt", also_text(level, r.also_meets).replace(f" ({r.also_meets})", ""), f.value))
    if bk.has_vetoes:
        vetoes = "; ".join(f"{v} – {level.vetoes[v].title}" if v in level.vetoes else v for v in outcome.vetoes)
        results.append(("Điểm liệt", vetoes or "Không có", f.value))
    results.append(("Thứ hạng", f"{r.rank_province} trong tỉnh, {r.rank_national} trong toàn bộ danh sách", f.value))
    for label, value, fmt in results:
        line(Cell(0, 1, label, f.label, char_pt=BOLD_PT),
             Cell(2, last, value, fmt, char_pt=BOLD_PT if fmt is f.klass else FORM_CHAR_PT))
    # place and date, then the signature blocks: each in its own row, nothing drawn over another
    roles = signature_roles(pack)
    blocks = spans(len(roles), last)
    place = place_name(unit.name, unit.type)  # the commune signs its own form: its own name
    date_first, date_last = blocks[-1]
    line(Cell(date_first, date_last, f"{place}, ngày …… tháng …… năm {unit.year or '……'}", f.date))
    line(*[Cell(a, b, role.title_for(unit.type), f.sign_title, char_pt=CAPS_PT)
           for (a, b), role in zip(blocks, roles)])
    line(*[Cell(a, b, role.note, f.sign_note) for (a, b), role in zip(blocks, roles)])
    line(Cell(0, last, "", f.subtitle), fixed=SIGN_SPACE_MM / 25.4 * 72)
    names = [bk.profile.signatory(role.id).name if role.level != "unit" else None for role in roles]
    if any(names):
        line(*[Cell(a, b, name or DOTS, f.sign_name) for (a, b), name in zip(blocks, names)])

    return rows


def write_rows(ws, rows: list[Row], widths: list[float], scale: float) -> None:
    crit = [i for i, row in enumerate(rows) if row.role == "criterion"]
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    for index, (height, cells) in enumerate(laid_out(rows, [col_points(w) for w in widths], scale)):
        ws.set_row(index, height)
        for cell in cells:
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
