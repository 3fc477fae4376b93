"""What every sheet of the scorecard shares: the batch and its names (`Book`), the cell formats made
once (`Formats`), the summary's columns that other sheets' formulas point into (`SummaryLayout`),
the page setup, and valid, unique sheet names."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Optional

from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from lanhmanh.engine.batch.previous import key_area_classes
from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.engine.model.admin_units import UnitLists
from lanhmanh.engine.model.pack import UNDETERMINED, Criterion, Level, Pack, references
from lanhmanh.scorecards.outputs.digest import results_digest
from lanhmanh.scorecards.outputs.presentation import (
    BOXED,
    CHARTS,
    GROUP_BG,
    HEADING,
    SUMMARY,
    batch_year,
    class_colours,
    class_order,
    house_format,
    met_text,
    page_setup,
    province_name,
    quote_sheet,
)
from lanhmanh.scorecards.outputs.profile import CouncilProfile
from lanhmanh.scorecards.outputs.scorecard.heading import HEADING_ROWS

# the summary's column headings by key (`verify` finds the columns by them)
HEADINGS = {"rank_province": "Hạng trong tỉnh", "rank_national": "Hạng toàn quốc", "code": "Mã đơn vị",
            "name": "Tên đơn vị", "type": "Loại đơn vị", "province_code": "Mã tỉnh",
            "province": "Tỉnh, thành phố", "class": "Xếp loại", "class_id": "Mã xếp loại",
            "total": "Tổng điểm", "vetoes": "Điểm liệt", "prev_class": "Năm trước", "prev_total": "Điểm năm trước",
            "change": "So với năm trước", "maintained": "Giữ vững", "transformed": "Chuyển hóa",
            "rank_district": "Hạng trong huyện", "district_code": "Mã huyện", "district": "Quận, huyện"}
PREVIOUS_GROUP = "So với năm trước"
CHANGE_VI = {"improved": "Tiến bộ", "same": "Giữ nguyên", "worsened": "Tụt hạng"}
MARK = "x"  # the mark of a maintained (giữ vững) or transformed (chuyển hóa) unit
NO_PREVIOUS = "Không có số liệu năm trước"
UNIT_FORMS_MAX = 200  # one printable form per unit up to this many units in a workbook
NATIONAL_FORMS_MAX = 2000  # a national batch larger than this gets no forms (scorecards/outputs/national.py)


def forms_note_text(pack_id: str) -> str:
    """Why a workbook has no per-unit forms, and how to make them for one province."""
    return (f"Tệp này không kèm phiếu đánh giá từng đơn vị cấp xã: phiếu chỉ được lập khi lô có đến "
            f"{UNIT_FORMS_MAX} đơn vị, và không lập trong lô toàn quốc trên {NATIONAL_FORMS_MAX:,} đơn vị"
            .replace(",", ".") + ". Để lập phiếu cho một tỉnh, chấm riêng số liệu của tỉnh đó: lanhmanh score "
            f"<tệp số liệu của tỉnh> --rules {pack_id} --out <tệp kết quả>.xlsx")


class Book:
    """The workbook being written: the batch, formats made once, sheet names, the summary layout."""

    def __init__(self, wb, batch: BatchResult, now: dt.datetime, unit_sheets: bool = False,
                 profile: Optional[CouncilProfile] = None):
        self.wb = wb
        self.profile = profile or CouncilProfile()  # who issues and signs the printed sheets
        self.batch = batch
        self.unit_sheets = unit_sheets
        self.pack: Pack = batch.pack
        self.level: Level = batch.pack.commune
        self.now = now
        self.criteria = list(self.level.criteria.values())
        self.scored = self.level.scored
        self.has_vetoes = bool(self.level.vetoes)
        self.province_codes = [p.province_code for p in batch.provinces]
        self.multi_province = len(self.province_codes) > 1
        self.has_province_sheet = bool(batch.units)
        self.has_province_level = batch.pack.province is not None and any(
            p.outcome is not None for p in batch.provinces)
        self.year = year = batch_year(batch)
        self.district_names = district_names(batch, year)
        self.province_names = {code: province_name(code, year) for code in
                               dict.fromkeys([r.unit.province_code for r in batch.units] + self.province_codes)}
        self.classes = class_order(self.level, batch)
        self.class_counts = Counter(r.outcome.class_id for r in batch.units)
        self.names_used: set[str] = set()
        self.unit_sheet_names: dict[str, str] = {}
        self.charts_name = CHARTS
        self.formats = Formats(wb, self.classes)
        self.layout = SummaryLayout(self)
        self.digest = results_digest(batch)

    def sheet(self, name: str, worksheet_class=None):
        """A new worksheet whose name is valid in Excel and unique in this workbook."""
        return self.wb.add_worksheet(sheet_name(name, self.names_used), worksheet_class=worksheet_class)

    def unit_sheet_name(self, code: str) -> str:
        """The name of a unit's scorecard sheet, reserved on first use (the summary links to it
        before the sheet is added)."""
        name = self.unit_sheet_names.get(code)
        if name is None:
            name = self.unit_sheet_names[code] = sheet_name(code, self.names_used)
        return name

    def province_label(self, code: str) -> str:
        return self.province_names.get(code, code)

    def print_setup(self, ws, what: str, landscape: bool, title_rows: Optional[tuple[int, int]] = None,
                    one_page: bool = False) -> None:
        """A4, fitted to the page width (and height, `one_page`), the pack's title in the page
        header, `what` at its right, page numbers from 1 in the footer."""
        page_setup(ws, self.pack, what, landscape, title_rows, one_page)


class Formats:
    """Every cell format, made once and reused (a format per cell would cost time and styles)."""

    def __init__(self, wb, classes: list[str]):
        def fmt(**properties):
            return house_format(wb, **properties)

        self.title = fmt(bold=True, font_size=14, align="center", valign="vcenter")
        self.subtitle = fmt(italic=True, align="center", valign="vcenter", text_wrap=True)
        self.bold = fmt(bold=True)
        self.plain = fmt()
        self.italic_center = fmt(italic=True, align="center")
        self.sign_title = fmt(bold=True, align="center", text_wrap=True)
        self.head = fmt(**HEADING)
        self.group = fmt(**{**HEADING, "bg_color": GROUP_BG})
        self.text = fmt(**BOXED)
        self.wrap = fmt(text_wrap=True, **BOXED)
        self.center = fmt(align="center", **BOXED)
        self.int = fmt(num_format="0", align="center", **BOXED)
        self.total = fmt(num_format="0", align="center", bold=True, **BOXED)
        self.met = fmt(align="center", font_color="#006100", **BOXED)
        self.not_met = fmt(align="center", font_color="#9C0006", **BOXED)
        self.label = fmt(bold=True, **BOXED)
        self.value = fmt(text_wrap=True, **BOXED)
        self.link = fmt(font_color="#0563C1", underline=1, **BOXED)
        self.note = fmt(bold=True, font_color="#9C0006", text_wrap=True, valign="vcenter")
        self.fills: dict[str, Any] = {}
        self.wrapped_fills: dict[str, Any] = {}  # for a class column narrower than its labels
        self.chart_colours: dict[str, str] = {}
        for class_id in classes:
            light, strong = class_colours(classes, class_id)
            self.fills[class_id] = fmt(bg_color=light, **BOXED)
            self.wrapped_fills[class_id] = fmt(bg_color=light, text_wrap=True, **BOXED)
            self.chart_colours[class_id] = strong

    def class_fill(self, class_id: str, wrap: bool = False):
        return (self.wrapped_fills if wrap else self.fills).get(class_id, self.wrap)

    def result(self, met: Optional[bool]):
        """Đạt in green, Không đạt in red, Chưa xác định (a province criterion the missing communes
        could change) in the plain centred format."""
        return self.center if met is None else self.met if met else self.not_met


UNDETERMINED_TEXT = "Chưa xác định"


def result_text(met: Optional[bool]) -> str:
    """Đạt / Không đạt, or Chưa xác định for a province criterion that communes of the official
    list not scored could change."""
    return UNDETERMINED_TEXT if met is None else met_text(met)


def also_evidence_notes(level: Level, r: Any) -> dict[str, str]:
    """For a unit with `also_meets`: the note on the "Chứng cứ" rows of the criteria met that the
    also-met class's condition reads (criterion id → note); {} otherwise."""
    also = getattr(r, "also_meets", None)
    if also is None:
        return {}
    cls = next((c for c in level.classes if c.id == also), None)
    if cls is None or cls.cond is None:
        return {}
    note = (f"Cũng đạt điều kiện của {level.class_label(also)} ({also}); xếp loại "
            f"{level.class_label(r.outcome.class_id)} theo thứ tự xét của bộ tiêu chí")
    ids = list(level.criteria)
    return {cid: note for cid in references(cls.cond, level)
            if cid in level.criteria and r.outcome.outcomes[ids.index(cid)][0]}


def province_note(level: Level, p: Any) -> str:
    """What the "Tỉnh" sheet says of a province's roll-up: how many of the official list's
    communes were scored, what the missing ones leave undetermined, the class also met."""
    parts = []
    if p.n_official is None:
        parts.append(f"Không có danh mục đơn vị hành chính (--unit-list none): tỷ lệ tính trên {p.n_units} "
                     "đơn vị đã chấm")
    elif p.n_missing:
        parts.append(f"Đã chấm {p.n_units}/{p.n_official} đơn vị cấp xã trong danh mục, thiếu {p.n_missing}")
        if p.undetermined:
            parts.append(f"chưa xác định: {', '.join(p.undetermined)}")
        if p.outcome is not None and p.outcome.class_id == UNDETERMINED:
            parts.append("xếp loại tỉnh phụ thuộc vào các xã thiếu")
    if p.also_meets is not None:
        parts.append(f"cũng đạt điều kiện của {level.class_label(p.also_meets)}; xếp loại "
                     f"{level.class_label(p.outcome.class_id)} theo thứ tự xét của bộ tiêu chí")
    return "; ".join(parts)


def class_cell_text(level: Level, class_id: str, also: Optional[str] = None) -> str:
    """A class as its cell shows it: the label, and the later class it also meets when its
    condition holds too ("Địa bàn không ma túy (cũng đạt: … loại I)")."""
    label = level.class_label(class_id)
    return label if also is None else f"{label} (cũng đạt: {level.class_label(also)})"


def also_text(level: Level, also: Optional[str]) -> str:
    """'Cũng đạt điều kiện của …' for a unit whose class hid a later class it also meets."""
    if also is None:
        return ""
    return f"Cũng đạt điều kiện của {level.class_label(also)} ({also}); theo thứ tự xét của bộ tiêu chí, xếp loại trên"


class SummaryLayout:
    """Columns of "Tổng hợp" (the province sheet's formulas point into it)."""

    def __init__(self, bk: Book):
        # a batch before the July 2025 reform: its district and the rank within it too
        self.districts = any(r.unit.district_code for r in bk.batch.units)
        cols = ["rank_province", "rank_national"] + (["rank_district"] if self.districts else [])
        cols += ["code", "name", "type", "province_code", "province"]
        cols += (["district_code", "district"] if self.districts else []) + ["class", "class_id"]
        if bk.scored:
            cols.append("total")
        if bk.has_vetoes:
            cols.append("vetoes")
        self.last_result = len(cols) - 1
        self.prev_cols = previous_columns(bk)  # last year's results (--previous), after the result
        cols.extend(self.prev_cols)
        self.fixed = cols
        self.col = {key: i for i, key in enumerate(cols)}
        self.first_crit = len(cols)
        self.last_col = self.first_crit + len(bk.criteria) - 1 if bk.criteria else len(cols) - 1
        # the notes line (not printed: the notes print under the table), then the heading block
        self.notes_row = 0 if bk.batch.notes else None
        self.heading_row = 1 if bk.batch.notes else 0
        self.top = self.heading_row + HEADING_ROWS
        self.group_row, self.head_row = self.top, self.top + 1
        self.first_row = self.top + 2  # two header rows
        self.last_row = self.first_row + max(len(bk.batch.units), 1) - 1

    def column_range(self, key: str) -> str:
        """An absolute reference to a column's data cells, e.g. 'Tổng hợp'!$F$3:$F$132."""
        letter = xl_col_to_name(self.col[key])
        return f"{quote_sheet(SUMMARY)}!${letter}${self.first_row + 1}:${letter}${self.last_row + 1}"


def previous_columns(bk: Book) -> list[str]:
    """The summary's columns about last year (none without --previous): last year's class (and
    total for a scored pack), the change, the giữ vững mark, and the chuyển hóa mark for a pack
    with key areas."""
    if bk.batch.previous is None:
        return []
    cols = ["prev_class"] + (["prev_total"] if bk.scored else []) + ["change", "maintained"]
    return cols + (["transformed"] if key_area_classes(bk.pack) else [])


def criterion_note(criterion: Criterion) -> str:
    """The comment on a criterion's heading: title, threshold, points, citation."""
    points = f"\nĐiểm tối đa: {criterion.max_points}" if criterion.scored else ""
    cite = f"\nCăn cứ: {criterion.cite}" if criterion.cite else ""
    return f"{criterion.id}: {criterion.title}\nNgưỡng: {criterion.threshold}{points}{cite}"


def max_total(level: Level) -> int:
    return sum(c.max_points for c in level.criteria.values() if c.scored)


def sheet_name(wanted: str, used: set[str]) -> str:
    """A valid, unique sheet name: no []:*?/\\, no leading/trailing apostrophe, ≤ 31 characters."""
    base = "".join("-" if ch in '[]:*?/\\' else ch for ch in wanted).strip().strip("'") or "Trang"
    base = base[:31]
    name, k = base, 2
    while name.lower() in used:
        suffix = f" ({k})"
        name = base[:31 - len(suffix)] + suffix
        k += 1
    used.add(name.lower())
    return name


def district_names(batch: BatchResult, year: Optional[int]) -> dict[str, str]:
    """District code → name for the batch's units (lists before the reform only)."""
    codes = {r.unit.district_code for r in batch.units if r.unit.district_code}
    if not codes:
        return {}
    try:
        units = UnitLists().for_year(year)
        return {code: units.district_name(code) or code for code in codes}
    except Exception:  # the list is a nicety here: never a reason to fail writing the scorecard
        return {code: code for code in codes}
