"""How every workbook lanhmanh writes looks and speaks: the house font and colours, the class
colours, the Vietnamese labels shared by several workbooks, and how a value, a province or a piece
of text is shown in a cell. Used by the scorecard, the national folder, the template, the diff
workbook and `verify` (which reads back what the scorecard wrote). See docs/scorecard.md."""
from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Iterable, Optional

from lanhmanh.engine.analysis.wording import Wording, number_text
from lanhmanh.engine.evaluation.evidence import ZeroRatio, value_for_output
from lanhmanh.engine.model.admin_units import UnitLists
from lanhmanh.engine.model.pack import UNCLASSIFIED, Level

if TYPE_CHECKING:
    from lanhmanh.engine.evaluation.scoring import BatchResult

# ---- styles -------------------------------------------------------------------------------------

# texts never become formulas, numbers or links: a unit named "=SUM(1,2)" stays text
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                    "nan_inf_to_errors": True}
FONT = {"font_name": "Times New Roman", "font_size": 11}
HEAD_BG = "#DDEBF7"  # column headings
GROUP_BG = "#BDD7EE"  # a heading over a group of columns
HEADING = {"bold": True, "text_wrap": True, "align": "center", "valign": "vcenter", "border": 1, "bg_color": HEAD_BG}
BOXED = {"border": 1, "valign": "top"}  # a cell of a table
A4 = 9  # XlsxWriter's paper size number

# class colours, best → worst through yellow: light fills for cells, strong fills for charts
LIGHT_STOPS = ((0xC6, 0xEF, 0xCE), (0xFF, 0xEB, 0x9C), (0xFF, 0xC7, 0xCE))
STRONG_STOPS = ((0x63, 0xBE, 0x7B), (0xFF, 0xEB, 0x84), (0xF8, 0x69, 0x6B))
GREY_LIGHT, GREY_STRONG = "#D9D9D9", "#A6A6A6"  # `unclassified`


def house_format(wb, **properties):
    """A cell format in the house font."""
    return wb.add_format({**FONT, **properties})


def class_order(level: Level, batch: Optional[BatchResult] = None) -> list[str]:
    """Class ids best first (the pack's ranking order), then `unclassified` if the batch has any."""
    order = list(level.best_first or [c.id for c in level.classes])
    order += [c.id for c in level.classes if c.id not in order]
    if batch is None or any(r.outcome.class_id == UNCLASSIFIED for r in batch.units):
        order.append(UNCLASSIFIED)
    return order


def class_colours(order: list[str], class_id: str) -> tuple[str, str]:
    """(cell fill, chart fill) of a class: green for the best, red for the worst, yellow between,
    grey for `unclassified`."""
    if class_id == UNCLASSIFIED:
        return GREY_LIGHT, GREY_STRONG
    ranked = [c for c in order if c != UNCLASSIFIED]
    position = ranked.index(class_id) / (len(ranked) - 1) if len(ranked) > 1 else 0.0
    return _blend(LIGHT_STOPS, position), _blend(STRONG_STOPS, position)


def _blend(stops, position: float) -> str:
    """The colour at `position` (0 → 1) along three colour stops."""
    segment, along = (0, position * 2) if position <= 0.5 else (1, (position - 0.5) * 2)
    start, end = stops[segment], stops[segment + 1]
    return "#" + "".join(f"{round(a + (b - a) * along):02X}" for a, b in zip(start, end))


# ---- Vietnamese labels --------------------------------------------------------------------------

# the scorecard's sheets, in tab order (also read back by `verify`; the national summary shares
# the last three)
SUMMARY = "Tổng hợp"
PROVINCES = "Tỉnh"
PROVINCE_CRITERIA = "Tiêu chí cấp tỉnh"
CHARTS = "Biểu đồ"
EVIDENCE = "Chứng cứ"
REJECTS = "Hồ sơ bị loại"
WARNINGS = "Cảnh báo"
INFO = "Thông tin"

MET, NOT_MET, DASH = "Đạt", "Không đạt", "—"
YES, NO = "Có", "Không"
INFO_DIGEST_LABEL = "Mã kiểm tra kết quả (SHA-256)"
NOTE_LABEL = "Lưu ý"  # a note of the batch: its label on Thông tin, the prefix of the summary's note line
STATUS_VI = {"official": "chính thức", "illustrative": "minh họa", "draft": "dự thảo"}


def status_text(status: str) -> str:
    """A pack's status in Vietnamese ("chính thức")."""
    return STATUS_VI.get(status, status)


def met_text(met: bool) -> str:
    return MET if met else NOT_MET


# ---- values as shown ----------------------------------------------------------------------------

def value_text(value: Any) -> str:
    """A value as the evidence holds it (already exact: int, 'n/d', decimal text) → cell text."""
    if value is True:
        return "có"
    if value is False:
        return "không"
    if value is None:
        return "(trống)"
    if isinstance(value, ZeroRatio):  # never a silent 100 %: "0/0 (không phát sinh, tính là 100%)"
        return f"{value} ({zero_text(value)})"
    if type(value) is int or type(value) is str:
        return str(value)
    return str(value_for_output(value))


def zero_text(value: ZeroRatio) -> str:
    """What a rate with a zero denominator is taken as: "không phát sinh, tính là 100%"."""
    if value.counted_as is None:
        return f"{value.shown}, không xác định"
    percent = Decimal(value.counted_as.numerator * 100) / value.counted_as.denominator
    return f"{value.shown}, tính là {vn_number(percent)}%"


def inputs_text(inputs: dict) -> str:
    """'users_with_records=55; population=40640; user_rate=55/40640' (exact values, as in the JSON)."""
    return "; ".join(f"{name}={value_text(value)}" for name, value in inputs.items())


def vn_number(value) -> str:
    """1000000 → "1.000.000", 0.5 → "0,5" (Vietnamese separators; wording.number_text)."""
    return number_text(value)


def province_name(code: str, year: Optional[int] = None) -> str:
    """The province's name from the official list of the batch year (the list in force when the
    year is not known); its code when it is not there."""
    try:
        return UnitLists().for_year(year).province(code) or code
    except Exception:  # the list is a nicety here: never a reason to fail writing a workbook
        return code


def batch_year(batch: BatchResult) -> Optional[int]:
    """The batch year: as `score` decided it, else (a batch made directly) its units' year."""
    if batch.year is not None:
        return batch.year
    return next((r.unit.year for r in batch.units if r.unit.year is not None), None)


# ---- text in cells, formulas and page headers -----------------------------------------------------

def text_width(texts: Iterable[str], low: float, high: float) -> float:
    """A column width that fits the longest text (Vietnamese letters are NFC: one per glyph)."""
    longest = max((len(t) for t in texts if t), default=0)
    return max(low, min(high, longest * 1.1 + 2))


def text_lines(text: str, width: float) -> int:
    """The lines a text takes wrapped in a column of `width`."""
    return sum(max(1, math.ceil(len(part) * 1.1 / width)) for part in str(text).split("\n"))


def fit_row(ws, row: int, cells: list[tuple[str, float]]) -> None:
    """A row height for wrapped texts, given as (text, column width) (spreadsheets do not always
    re-fit rows on opening)."""
    ws.set_row(row, 15 * max([1] + [text_lines(text, width) for text, width in cells]))


def merge_or_write(ws, first_row: int, first_col: int, last_row: int, last_col: int, text: str, fmt) -> None:
    """A text over a merged range (or in one cell)."""
    if (first_row, first_col) == (last_row, last_col):
        ws.write_string(first_row, first_col, text, fmt)
    else:
        ws.merge_range(first_row, first_col, last_row, last_col, "", fmt)
        ws.write_string(first_row, first_col, text, fmt)


def quote_sheet(name: str) -> str:
    """A sheet name as a formula names it: 'Tổng hợp'."""
    return "'" + name.replace("'", "''") + "'"


def excel_text(text: str) -> str:
    """A text as a string literal inside a formula (double quotes doubled)."""
    return '"' + text.replace('"', '""') + '"'


def header_text(text: str) -> str:
    """Text inside a page header or footer: '&' is a control character there."""
    return str(text).replace("&", "&&")


def pack_header(pack: Any) -> str:
    """The pack as a page header names it: its title and version, and "minh họa" / "dự thảo" when
    it is not official; never its id (no machine id on a printed page)."""
    status = "" if pack.status == "official" else f" ({status_text(pack.status)})"
    return header_text(f"{pack.title}, phiên bản {pack.version}{status}")


def page_setup(ws, pack: Any, what: str, landscape: bool, title_rows: Optional[tuple[int, int]] = None,
               one_page: bool = False, fit_width: int = 1) -> None:
    """A4, fitted to `fit_width` pages wide (and one page high with `one_page`), the pack's title
    in the page header and `what` at its right, the page number in the footer counted from 1 on
    every sheet (LibreOffice's page total counts the whole workbook: a one-page sheet says
    "Trang 1/1", a longer one "Trang N")."""
    ws.set_paper(A4)
    if landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.fit_to_pages(fit_width, 1 if one_page else 0)
    ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
    if title_rows is not None:
        ws.repeat_rows(*title_rows)
    ws.set_header(f"&L&8{pack_header(pack)}&R&8{header_text(what)}")
    ws.set_footer("&C&8Trang 1/1" if one_page else "&C&8Trang &P")
    ws.set_start_page(1)


# ---- values as people read them (printed forms) ---------------------------------------------------

def rate_text(value: Any) -> str:
    """A rate as evidence holds it ("60/10000") → "0,60% (60/10.000)". Exact to 4 decimals of a
    per cent; a longer one is cut (never rounded up past a threshold) and marked "≈"."""
    if isinstance(value, ZeroRatio):
        return f"{value.shown[:1].upper()}{value.shown[1:]} ({value}), " + zero_text(value).split(", ", 1)[-1]
    num, sep, den = str(value).partition("/")
    if not sep:
        return vn_number(Decimal(num) * 100) + "%"
    if num.isascii() and num.isdigit() and den.isascii() and den.isdigit():  # counts: integers only
        count, of = int(num), int(den)
        num_text, den_text = vn_number(count), vn_number(of)
        if of == 0:
            return f"{num_text}/{den_text}"
        return f"{_count_percent(count, of)}% ({num_text}/{den_text})"
    else:
        n, d = Fraction(Decimal(num)), Fraction(Decimal(den))
        num_text, den_text = vn_number(num), vn_number(den)
    if d == 0:
        return f"{num_text}/{den_text}"
    percent = n * 100 / d
    scaled = percent * 10_000
    if percent == 0:
        text = "0"
    elif percent.denominator == 1:
        text = str(percent.numerator)
    elif scaled.denominator == 1:  # exact in 4 decimals
        text = _at_least_two_decimals(vn_number(Decimal(scaled.numerator) / 10_000))
    else:  # cut to 2 decimals, 4 below 1 %: "≈0,13%", "≈0,0052%"
        places = 100 if percent >= 1 else 10_000
        text = "≈" + _at_least_two_decimals(vn_number(Decimal(math.floor(percent * places)) / places))
    return f"{text}% ({num_text}/{den_text})"


def _count_percent(count: int, of: int) -> str:
    """count/of (of > 0) as rate_text writes the per cent, in integer arithmetic: what the
    Fraction computation gives, without a Fraction per rate (a national batch has 60,000)."""
    if count == 0:
        return "0"
    if count * 100 % of == 0:
        return str(count * 100 // of)
    scaled, rest = divmod(count * 1_000_000, of)
    if rest == 0:  # exact in 4 decimals
        return _at_least_two_decimals(vn_number(Decimal(scaled) / 10_000))
    places = 100 if count * 100 >= of else 10_000  # cut to 2 decimals, 4 below 1 %
    return "≈" + _at_least_two_decimals(vn_number(Decimal(count * 100 * places // of) / places))


def reading_text(level: Level, name: str, value: Any) -> str:
    """One value as people read it: "1.234 cây", "Có", "0,60% (60/10.000)", "(trống)"."""
    if value is None:
        return "(trống)"
    if value is True or value is False:
        return YES if value else NO
    if name in level.derived:
        return rate_text(value)
    indicator = level.indicators.get(name)
    unit = f" {indicator.unit}" if indicator is not None and indicator.unit else ""
    try:
        return vn_number(value) + unit
    except (ArithmeticError, ValueError, TypeError):
        return str(value)


def readings_text(wording: Wording, names: Iterable[str], inputs: dict, sep: str = "\n") -> str:
    """The values a criterion reads (its own `reads`), each as people read it; with the
    indicator's label when their units alone do not tell them apart."""
    names = [n for n in names if n in inputs]
    named = wording.needs_labels(names)
    parts = []
    for name in names:
        text = reading_text(wording.level, name, inputs[name])
        parts.append(f"{wording.label(name)}: {text}" if named else text)
    return sep.join(parts)


def _at_least_two_decimals(text: str) -> str:
    whole, comma, fraction = text.partition(",")
    return f"{whole},{fraction.ljust(2, '0')}"
