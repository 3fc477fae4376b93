"""The ranked scorecard workbook of `lanhmanh score ... --out FILE.xlsx`, in Vietnamese, ready to print.

Sheets, in this order:

- "Tổng hợp": one row per unit in national rank order: ranks, identity, class (coloured, best
  class green … worst red, unclassified grey), total (an Excel SUM of the row's points, scored
  packs), vetoes, then every criterion under its group's heading (points, or Đạt/— for a
  criterion without points); when the batch carries notes (`BatchResult.notes`, e.g. a pack
  applied outside its period with --force) they fill a line above the headings, printed on
  every page;
- "Tỉnh": per province the number of units and the units per class as COUNTIF(S) formulas over
  "Tổng hợp", and for a pack with a province level the province class and each province
  criterion met or not;
- "Tiêu chí cấp tỉnh" (packs with a province level): the province criteria's evidence;
- one ranking sheet per province ("40 Nghệ An") when the batch spans several provinces;
- "Biểu đồ": small tables and charts (classes per province; totals per bucket, or classes);
- "Chứng cứ": one row per unit and criterion: values read, threshold, met, points, citation;
- "Hồ sơ bị loại" and "Cảnh báo": every rejected row and every warning;
- "Thông tin": pack, inputs with their sha256, engine, time of generation, results digest, and
  one "Lưu ý" row per note of the batch;
- for batches of up to UNIT_SHEETS_MAX units, one printable scorecard per unit, named by its code.

Every text from the inputs is written with write_string (and the workbook refuses to turn
strings into formulas, numbers or links): a name such as "=SUM(1,2)" stays text. Formulas carry
the engine's figure as their cached value. The file is written to a temporary file beside the
target and renamed onto it at the end: never a half-written workbook, and an existing target is
left untouched when anything fails.
"""
from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Optional

from xlsxwriter.utility import xl_col_to_name

from .. import __version__
from ..engine import expr as E
from ..engine.evidence import criteria_evidence, value_for_output
from ..engine.pack import UNCLASSIFIED, Level, Pack
from ..engine.scoring import BatchResult, UnitResult
from .atomic import write_workbook
from .digest import DIGEST_FORMAT, results_digest

SUMMARY = "Tổng hợp"
PROVINCES = "Tỉnh"
PROVINCE_CRITERIA = "Tiêu chí cấp tỉnh"
CHARTS = "Biểu đồ"
EVIDENCE = "Chứng cứ"
REJECTS = "Hồ sơ bị loại"
WARNINGS = "Cảnh báo"
INFO = "Thông tin"
UNIT_SHEETS_MAX = 200  # one printable scorecard per unit up to this many units

MET, NOT_MET, DASH = "Đạt", "Không đạt", "—"
INFO_DIGEST_LABEL = "Mã kiểm tra kết quả (SHA-256)"
NOTE_LABEL = "Lưu ý"  # a note of the batch: Thông tin's label, and the prefix of the summary's note line
STATUS_VI = {"official": "chính thức", "illustrative": "minh họa", "draft": "dự thảo"}

WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
                    "nan_inf_to_errors": True}
FONT = {"font_name": "Times New Roman", "font_size": 11}
HEAD_BG = "#DDEBF7"
# class colours: light fills for cells, strong fills for charts; best → worst through yellow
_LIGHT = ((0xC6, 0xEF, 0xCE), (0xFF, 0xEB, 0x9C), (0xFF, 0xC7, 0xCE))
_STRONG = ((0x63, 0xBE, 0x7B), (0xFF, 0xEB, 0x84), (0xF8, 0x69, 0x6B))
GREY_LIGHT, GREY_STRONG = "#D9D9D9", "#A6A6A6"


# ---- entry point --------------------------------------------------------------------------------

def write_scorecard(batch: BatchResult, out: Path, now: Optional[dt.datetime] = None,
                    unit_sheets: Optional[bool] = None) -> None:
    """Write the scorecard workbook for a scored batch to `out` (atomically). `unit_sheets`: one
    printable sheet per unit; by default when the batch has up to UNIT_SHEETS_MAX units."""
    if unit_sheets is None:
        unit_sheets = len(batch.units) <= UNIT_SHEETS_MAX
    write_workbook(out, WORKBOOK_OPTIONS,
                   lambda wb: build(wb, batch, now or dt.datetime.now(dt.timezone.utc), unit_sheets))


def build(wb, batch: BatchResult, now: dt.datetime, unit_sheets: bool) -> None:
    """Every sheet of the scorecard, in tab order."""
    bk = Book(wb, batch, now, unit_sheets)
    summary_sheet(bk)
    if bk.has_province_sheet:
        province_sheet(bk)
    if bk.has_province_level:
        province_criteria_sheet(bk)
    if bk.multi_province:
        for code in bk.province_codes:
            province_ranking_sheet(bk, code)
    charts_sheet(bk)
    evidence_sheet(bk)
    rejects_sheet(bk)
    warnings_sheet(bk)
    info_sheet(bk)
    if bk.unit_sheets:
        for r in batch.units:
            unit_sheet(bk, r)
    bk.properties()


# ---- shared state: pack, layout, formats --------------------------------------------------------

class Book:
    """The workbook being written: the batch, formats made once, sheet names, the summary layout."""

    def __init__(self, wb, batch: BatchResult, now: dt.datetime, unit_sheets: bool = False):
        self.wb = wb
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
        year = batch_year(batch)
        self.district_names = district_names(batch, year)
        self.province_names = {c: province_name(c, year) for c in
                               dict.fromkeys([r.unit.province_code for r in batch.units] + self.province_codes)}
        self.classes = class_order(self.level, batch)
        self.class_counts = Counter(r.outcome.class_id for r in batch.units)
        self.names_used: set[str] = set()
        self.unit_sheet_names: dict[str, str] = {}
        self.charts_name = CHARTS
        self.f = Formats(wb, self.level, self.classes)
        self.layout = SummaryLayout(self)
        self.digest = results_digest(batch)

    def sheet(self, name: str):
        """A new worksheet whose name is valid in Excel and unique in this workbook."""
        return self.wb.add_worksheet(sheet_name(name, self.names_used))

    def unit_sheet_name(self, code: str) -> str:
        """The name of a unit's scorecard sheet, reserved on first use (the summary links to it
        before the sheet is added)."""
        name = self.unit_sheet_names.get(code)
        if name is None:
            name = self.unit_sheet_names[code] = sheet_name(code, self.names_used)
        return name

    def header_footer(self, ws, what: str) -> None:
        p = self.pack
        ws.set_header(f"&L&8{_hf(p.id)} {_hf(p.version)} ({_hf(STATUS_VI.get(p.status, p.status))})"
                      f"&R&8{_hf(what)}")
        ws.set_footer("&C&8Trang &P / &N")

    def print_setup(self, ws, what: str, landscape: bool, title_rows: Optional[tuple[int, int]] = None,
                    one_page: bool = False) -> None:
        ws.set_paper(9)  # A4
        if landscape:
            ws.set_landscape()
        else:
            ws.set_portrait()
        ws.fit_to_pages(1, 1 if one_page else 0)
        ws.set_margins(left=0.5, right=0.5, top=0.75, bottom=0.75)
        if title_rows is not None:
            ws.repeat_rows(*title_rows)
        self.header_footer(ws, what)

    def properties(self) -> None:
        p = self.pack
        self.wb.set_properties({
            "title": f"Bảng xếp hạng theo bộ tiêu chí {p.id} {p.version}",
            "subject": p.title,
            "author": f"lanhmanh {__version__}",
            "comments": "Tạo bằng lanhmanh: phân loại, chấm điểm, xếp hạng đơn vị cấp xã theo bộ tiêu chí.",
            "created": self.now.astimezone(dt.timezone.utc).replace(tzinfo=None),
        })
        for name, value in (("lanhmanh.pack_id", p.id), ("lanhmanh.pack_version", p.version),
                            ("lanhmanh.pack_sha256", p.sha256), ("lanhmanh.results_digest", self.digest),
                            ("lanhmanh.digest_format", DIGEST_FORMAT), ("lanhmanh.version", __version__)):
            self.wb.set_custom_property(name, value, "text")


class Formats:
    """Every cell format, made once and reused (a format per cell would cost time and styles)."""

    def __init__(self, wb, level: Level, classes: list[str]):
        def fmt(**kw):
            return wb.add_format({**FONT, **kw})

        cell = {"border": 1, "valign": "top"}
        self.title = fmt(bold=True, font_size=14, align="center", valign="vcenter")
        self.subtitle = fmt(italic=True, align="center", valign="vcenter", text_wrap=True)
        self.bold = fmt(bold=True)
        self.plain = fmt()
        self.italic_center = fmt(italic=True, align="center")
        self.sign_title = fmt(bold=True, align="center", text_wrap=True)
        self.head = fmt(bold=True, text_wrap=True, align="center", valign="vcenter", border=1, bg_color=HEAD_BG)
        self.group = fmt(bold=True, text_wrap=True, align="center", valign="vcenter", border=1, bg_color="#BDD7EE")
        self.text = fmt(**cell)
        self.wrap = fmt(text_wrap=True, **cell)
        self.center = fmt(align="center", **cell)
        self.int = fmt(num_format="0", align="center", **cell)
        self.total = fmt(num_format="0", align="center", bold=True, **cell)
        self.met = fmt(align="center", font_color="#006100", **cell)
        self.not_met = fmt(align="center", font_color="#9C0006", **cell)
        self.label = fmt(bold=True, **cell)
        self.value = fmt(text_wrap=True, **cell)
        self.link = fmt(font_color="#0563C1", underline=1, **cell)
        self.note = fmt(bold=True, font_color="#9C0006", text_wrap=True, valign="vcenter")
        self.fills: dict[str, Any] = {}
        self.chart_colours: dict[str, str] = {}
        for cid in classes:
            light, strong = class_colours(classes, cid)
            self.fills[cid] = fmt(bg_color=light, **cell)
            self.chart_colours[cid] = strong

    def class_fill(self, cid: str):
        return self.fills.get(cid, self.wrap)


def class_order(level: Level, batch: Optional[BatchResult] = None) -> list[str]:
    """Class ids best first (the pack's ranking order), then `unclassified` if the batch has any."""
    order = list(level.best_first or [c.id for c in level.classes])
    order += [c.id for c in level.classes if c.id not in order]
    if batch is None or any(r.outcome.class_id == UNCLASSIFIED for r in batch.units):
        order.append(UNCLASSIFIED)
    return order


def class_colours(order: list[str], cid: str) -> tuple[str, str]:
    """(cell fill, chart fill) for a class: green for the best, red for the worst, yellow between,
    grey for `unclassified`."""
    if cid == UNCLASSIFIED:
        return GREY_LIGHT, GREY_STRONG
    ranked = [c for c in order if c != UNCLASSIFIED]
    t = ranked.index(cid) / (len(ranked) - 1) if len(ranked) > 1 else 0.0
    return _blend(_LIGHT, t), _blend(_STRONG, t)


def _blend(stops, t: float) -> str:
    seg, u = (0, t * 2) if t <= 0.5 else (1, (t - 0.5) * 2)
    a, b = stops[seg], stops[seg + 1]
    return "#" + "".join(f"{round(x + (y - x) * u):02X}" for x, y in zip(a, b))


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
        self.col = {k: i for i, k in enumerate(cols)}
        self.first_crit = len(cols)
        self.last_col = self.first_crit + len(bk.criteria) - 1 if bk.criteria else len(cols) - 1
        self.top = 1 if bk.batch.notes else 0  # the notes line above the headings
        self.group_row, self.head_row = self.top, self.top + 1
        self.first_row = self.top + 2  # two header rows
        self.last_row = self.first_row + max(len(bk.batch.units), 1) - 1

    def column_range(self, key: str) -> str:
        """An absolute reference to a column's data cells, e.g. 'Tổng hợp'!$F$3:$F$132."""
        c = xl_col_to_name(self.col[key])
        return f"{quote_sheet(SUMMARY)}!${c}${self.first_row + 1}:${c}${self.last_row + 1}"


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


def previous_columns(bk) -> list[str]:
    """The summary's columns about last year (none without --previous): last year's class (and
    total for a scored pack), the change, the giữ vững mark, and the chuyển hóa mark for a pack
    with key areas."""
    prev = bk.batch.previous
    if prev is None:
        return []
    from ..engine.previous import key_area_classes

    cols = ["prev_class"] + (["prev_total"] if bk.scored else []) + ["change", "maintained"]
    return cols + (["transformed"] if key_area_classes(bk.pack) else [])


# ---- Tổng hợp -----------------------------------------------------------------------------------

def summary_sheet(bk: Book) -> None:
    """One row per unit in national rank order, criteria under their groups' headings."""
    ws = bk.sheet(SUMMARY)
    ws.activate()
    f, lay, level = bk.f, bk.layout, bk.level
    col = lay.col
    if bk.batch.notes:
        notes_line(bk, ws)
    # header row group_row: the column groups; head_row: the columns
    spans = [("Thứ hạng", col["rank_province"], col["rank_district" if lay.districts else "rank_national"]),
             ("Đơn vị", col["code"], col["district" if lay.districts else "province"]),
             ("Kết quả", col["class"], lay.last_result)]
    if lay.prev_cols:
        spans.append((PREVIOUS_GROUP, col[lay.prev_cols[0]], col[lay.prev_cols[-1]]))
    c0 = lay.first_crit
    for heading, ids in criterion_groups(bk.pack, level):
        spans.append((heading, c0, c0 + len(ids) - 1))
        c0 += len(ids)
    g, h = lay.group_row, lay.head_row
    for text, a, b in spans:
        _merge_or_write(ws, g, a, g, b, text, f.group)
    for key, c in col.items():
        ws.write_string(h, c, HEADINGS[key], f.head)
    for i, c in enumerate(bk.criteria):
        ws.write_string(h, lay.first_crit + i, c.id, f.head)
        ws.write_comment(h, lay.first_crit + i, criterion_note(c), {"x_scale": 2.5, "y_scale": 2})
    _summary_rows(bk, ws)
    # widths that fit Vietnamese text; frozen header and identity; filter; print layout
    names = [r.unit.name for r in bk.batch.units]
    widths = {"rank_province": 8, "rank_national": 8, "code": 8, "name": text_width(names, 12, 40),
              "type": 9, "province_code": 6, "province": text_width(bk.province_names.values(), 10, 24),
              "class": text_width([level.class_label(c) for c in bk.classes], 12, 50),
              "class_id": text_width(bk.classes, 10, 24),
              "total": 8, "vetoes": 10, "prev_class": text_width([level.class_label(c) for c in bk.classes], 12, 50),
              "prev_total": 8, "change": 11, "maintained": 8, "transformed": 9,
              "rank_district": 8, "district_code": 6, "district": text_width(bk.district_names.values(), 10, 24)}
    for key, c in col.items():
        ws.set_column(c, c, widths[key])
    span_width = {}
    for text, a, b in spans:
        if a < lay.first_crit:
            span_width[a] = sum(widths[k] for k in lay.fixed[a:b + 1])
        else:  # criterion columns: narrow, but a group of one or two gets room for its heading
            w = max(7 if bk.scored else 6, math.ceil(14 / (b - a + 1)))
            ws.set_column(a, b, w)
            span_width[a] = w * (b - a + 1)
    ws.set_row(g, 15 * max(_lines(text, span_width[a]) for text, a, _ in spans))
    ws.set_row(h, 45)
    ws.freeze_panes(lay.first_row, col["name"] + 1)
    ws.autofilter(h, 0, lay.last_row if bk.batch.units else h, lay.last_col)
    bk.print_setup(ws, "Tổng hợp xếp loại, xếp hạng", landscape=True, title_rows=(0, h))


def notes_line(bk: Book, ws) -> None:
    """The batch's notes in one line above the headings, across the whole table."""
    text = f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes)
    _merge_or_write(ws, 0, 0, 0, max(bk.layout.last_col, 1), text, bk.f.note)
    ws.set_row(0, 15 * _lines(text, 160))


def _summary_rows(bk: Book, ws) -> None:
    f, lay = bk.f, bk.layout
    ws_s, ws_n, ws_f = ws.write_string, ws.write_number, ws.write_formula
    col = lay.col
    c_total = col.get("total")
    c_vetoes = col.get("vetoes")
    first = lay.first_crit
    crit_scored = [c.scored for c in bk.criteria]
    a, b = xl_col_to_name(first), xl_col_to_name(lay.last_col)
    labels = {cid: bk.level.class_label(cid) for cid in bk.classes}
    pnames = bk.province_names
    links = bk.unit_sheets
    f_int, f_text, f_center, f_met, f_total = f.int, f.text, f.center, f.met, f.total
    for i, r in enumerate(bk.batch.units):
        row = lay.first_row + i
        u, out = r.unit, r.outcome
        ws_n(row, col["rank_province"], r.rank_province, f_int)
        ws_n(row, col["rank_national"], r.rank_national, f_int)
        c_code = col["code"]
        if links:  # the code links to the unit's own scorecard sheet
            ws.write_url(row, c_code, f"internal:{quote_sheet(bk.unit_sheet_name(u.code))}!A1", f.link, u.code)
        else:
            ws_s(row, c_code, u.code, f_text)
        ws_s(row, col["name"], u.name, f_text)
        ws_s(row, col["type"], u.type, f_text)
        ws_s(row, col["province_code"], u.province_code, f_center)
        ws_s(row, col["province"], pnames.get(u.province_code, u.province_code), f_text)
        if lay.districts:
            if r.rank_district is not None:
                ws_n(row, col["rank_district"], r.rank_district, f_int)
            ws_s(row, col["district_code"], u.district_code or "", f_center)
            ws_s(row, col["district"], bk.district_names.get(u.district_code or "", ""), f_text)
        cid = out.class_id
        ws_s(row, col["class"], labels.get(cid) or bk.level.class_label(cid), f.class_fill(cid))
        ws_s(row, col["class_id"], cid, f_text)
        if c_total is not None:
            ws_f(row, c_total, f"=SUM({a}{row + 1}:{b}{row + 1})", f_total, out.total)
        if c_vetoes is not None:
            ws_s(row, c_vetoes, ", ".join(out.vetoes), f_center)
        for j, (met, pts, _band) in enumerate(out.outcomes):
            if crit_scored[j]:
                ws_n(row, first + j, pts, f_int)
            else:
                ws_s(row, first + j, MET if met else DASH, f_met if met else f_center)
        if lay.prev_cols:
            previous_cells(bk, ws, row, r)


def previous_cells(bk: Book, ws, row: int, r: UnitResult) -> None:
    """Last year's class (and total), the change, and the giữ vững / chuyển hóa marks of one unit."""
    f, col, p = bk.f, bk.layout.col, r.previous
    if p is None:
        ws.write_string(row, col["prev_class"], NO_PREVIOUS, f.center)
    else:
        ws.write_string(row, col["prev_class"], bk.level.class_label(p.class_id), f.class_fill(p.class_id))
    if "prev_total" in col:
        if p is not None and p.total is not None:
            ws.write_number(row, col["prev_total"], p.total, f.int)
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
    for c in level.criteria.values():
        h = criterion_heading(pack, level, c)
        if runs and runs[-1][0] == h:
            runs[-1][1].append(c.id)
        else:
            runs.append((h, [c.id]))
    return runs


def criterion_heading(pack: Pack, level: Level, c) -> str:
    if c.group:
        g = pack.groups.get(c.group) or {}
        title = g.get("title") or c.group
        pts = g.get("points")
        return f"{c.group}. {title}" + (f" ({pts} điểm)" if pts is not None else "")
    for cl in level.classes:
        if cl.cond is not None and any(n.id == c.id for n in E.names_in(cl.cond)):
            return cl.label
    if c.tier:
        return f"Tiêu chí loại {c.tier}"
    return "Tiêu chí"


def criterion_note(c) -> str:
    pts = f"\nĐiểm tối đa: {c.max_points}" if c.scored else ""
    cite = f"\nCăn cứ: {c.cite}" if c.cite else ""
    return f"{c.id}: {c.title}\nNgưỡng: {c.threshold}{pts}{cite}"


# ---- Tỉnh ---------------------------------------------------------------------------------------

def province_sheet(bk: Book) -> None:
    """Per province: units and units per class (formulas over "Tổng hợp"), the province class and
    its criteria; below, the province criteria's evidence."""
    ws = bk.sheet(PROVINCES)
    f, lay = bk.f, bk.layout
    plevel = bk.pack.province
    pcrit = list(plevel.criteria.values()) if plevel is not None else []
    with_level = plevel is not None and any(p.outcome is not None for p in bk.batch.provinces)
    classes = bk.classes
    c_units, c_cls = 2, 3
    c_pclass = c_cls + len(classes)
    c_pcrit = c_pclass + 1
    c_supplied = c_pcrit + len(pcrit)
    # headers
    ws.write_string(1, 0, "Mã tỉnh", f.head)
    ws.write_string(1, 1, "Tỉnh, thành phố", f.head)
    ws.write_string(1, c_units, "Số đơn vị", f.head)
    _merge_or_write(ws, 0, 0, 0, c_units, "Tỉnh, thành phố", f.group)
    _merge_or_write(ws, 0, c_cls, 0, c_pclass - 1, "Số đơn vị theo xếp loại", f.group)
    for k, cid in enumerate(classes):
        ws.write_string(1, c_cls + k, bk.level.class_label(cid), f.head)
    if with_level:
        _merge_or_write(ws, 0, c_pclass, 0, c_supplied, "Xếp loại cấp tỉnh", f.group)
        ws.write_string(1, c_pclass, "Xếp loại tỉnh", f.head)
        for k, c in enumerate(pcrit):
            ws.write_string(1, c_pcrit + k, c.id, f.head)
            ws.write_comment(1, c_pcrit + k, criterion_note(c), {"x_scale": 2.5, "y_scale": 2})
        ws.write_string(1, c_supplied, "Số liệu tỉnh nhập trực tiếp", f.head)
    ws.set_row(1, 62)
    # one row per province: formulas with the engine's figures as cached values
    prov_range, class_range = lay.column_range("province_code"), lay.column_range("class_id")
    row = 2
    for p in bk.batch.provinces:
        ref = f"$A{row + 1}"
        ws.write_string(row, 0, p.province_code, f.center)
        ws.write_string(row, 1, bk.province_names.get(p.province_code, p.province_code), f.text)
        ws.write_formula(row, c_units, f"=COUNTIF({prov_range},{ref})", f.int, p.n_units)
        for k, cid in enumerate(classes):
            ws.write_formula(row, c_cls + k, f"=COUNTIFS({prov_range},{ref},{class_range},{excel_text(cid)})",
                             f.int, p.class_counts.get(cid, 0))
        if with_level and p.outcome is not None:
            ws.write_string(row, c_pclass, plevel.class_label(p.outcome.class_id), f.text)
            for k, (met, _pts, _band) in enumerate(p.outcome.outcomes):
                ws.write_string(row, c_pcrit + k, MET if met else NOT_MET, f.met if met else f.not_met)
            ws.write_string(row, c_supplied, ", ".join(p.supplied) or DASH, f.center)
        row += 1
    # totals over the provinces
    ws.write_string(row, 0, "", f.label)
    ws.write_string(row, 1, "Tổng cộng", f.label)
    for c in range(c_units, c_pclass):
        letter = xl_col_to_name(c)
        value = len(bk.batch.units) if c == c_units else bk.class_counts.get(classes[c - c_cls], 0)
        ws.write_formula(row, c, f"=SUM({letter}3:{letter}{row})", f.total, value)
    province_previous_counts(bk, ws, (c_supplied + 1) if with_level else c_pclass, row)
    ws.set_column(0, 0, 7)
    ws.set_column(1, 1, text_width(bk.province_names.values(), 14, 26))
    ws.set_column(2, 2, 9)
    ws.set_column(c_cls, c_pclass - 1, 17)
    if with_level:
        ws.set_column(c_pclass, c_pclass, text_width([c.label for c in plevel.classes], 16, 64))
        ws.set_column(c_pcrit, c_supplied - 1, 9)
        ws.set_column(c_supplied, c_supplied, 16)
    ws.freeze_panes(2, 2)
    bk.print_setup(ws, "Tổng hợp theo tỉnh", landscape=True, title_rows=(0, 1))


def province_previous_counts(bk: Book, ws, c0: int, total_row: int) -> None:
    """With --previous: per province the units maintained (giữ vững), and for a pack with key
    areas those transformed (chuyển hóa), as COUNTIFS over the summary's mark columns."""
    keys = [k for k in ("maintained", "transformed") if k in bk.layout.prev_cols]
    if not keys:
        return
    f, lay = bk.f, bk.layout
    _merge_or_write(ws, 0, c0, 0, c0 + len(keys) - 1, PREVIOUS_GROUP, f.group)
    prov_range = lay.column_range("province_code")
    for k, key in enumerate(keys):
        c = c0 + k
        ws.write_string(1, c, "Số đơn vị " + HEADINGS[key].lower(), f.head)
        mark_range = lay.column_range(key)
        for i, p in enumerate(bk.batch.provinces):
            row = 2 + i
            n = sum(1 for r in bk.batch.units if r.unit.province_code == p.province_code and getattr(r, key))
            ws.write_formula(row, c, f"=COUNTIFS({prov_range},$A{row + 1},{mark_range},{excel_text(MARK)})", f.int, n)
        letter = xl_col_to_name(c)
        ws.write_formula(total_row, c, f"=SUM({letter}3:{letter}{total_row})", f.total,
                         sum(1 for r in bk.batch.units if getattr(r, key)))
        ws.set_column(c, c, 12)


def province_criteria_sheet(bk: Book) -> None:
    """The province criteria's evidence: values read (sums of the communes unless the province row
    gives them), threshold, met, citation; one row per province and criterion."""
    ws = bk.sheet(PROVINCE_CRITERIA)
    f, plevel = bk.f, bk.pack.province
    heads = ["Mã tỉnh", "Tỉnh, thành phố", "Tiêu chí", "Nội dung", "Số liệu đã đọc", "Ngưỡng", "Kết quả", "Căn cứ"]
    widths = (7, text_width(bk.province_names.values(), 12, 24), 8, 48, 34, 26, 10, 30)
    for c, h in enumerate(heads):
        ws.write_string(0, c, h, f.head)
    ws.set_row(0, 30)
    row = 1
    for p in bk.batch.provinces:
        if p.outcome is None:
            continue
        name = bk.province_names.get(p.province_code, p.province_code)
        for c, ev in zip(plevel.criteria.values(), criteria_evidence(plevel, p.values, p.outcome)):
            ws.write_string(row, 0, p.province_code, f.center)
            ws.write_string(row, 1, name, f.text)
            ws.write_string(row, 2, c.id, f.center)
            values = inputs_text(ev["inputs"]).replace("; ", "\n")
            ws.write_string(row, 3, c.title, f.wrap)
            ws.write_string(row, 4, values, f.wrap)
            ws.write_string(row, 5, ev["threshold"], f.wrap)
            ws.write_string(row, 6, MET if ev["met"] else NOT_MET, f.met if ev["met"] else f.not_met)
            ws.write_string(row, 7, ev["cite"] or "", f.wrap)
            fit_row(ws, row, [(c.title, widths[3]), (values, widths[4]), (ev["threshold"], widths[5]),
                              (ev["cite"] or "", widths[7])])
            row += 1
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(row - 1, 1), len(heads) - 1)
    bk.print_setup(ws, "Tiêu chí cấp tỉnh", landscape=True, title_rows=(0, 0))


# ---- per-province ranking -----------------------------------------------------------------------

def province_ranking_sheet(bk: Book, code: str) -> None:
    """The units of one province in province rank order (a lighter set of columns)."""
    name = bk.province_names.get(code, code)
    ws = bk.sheet(f"{code} {name}")
    f = bk.f
    heads = ["Hạng trong tỉnh", "Hạng toàn quốc", "Mã đơn vị", "Tên đơn vị", "Loại đơn vị", "Xếp loại"]
    heads += ["Tổng điểm"] if bk.scored else []
    heads += ["Điểm liệt"] if bk.has_vetoes else []
    last = len(heads) - 1
    _merge_or_write(ws, 0, 0, 0, last, f"Xếp hạng các đơn vị cấp xã: {name} (mã {code})", f.title)
    for c, h in enumerate(heads):
        ws.write_string(1, c, h, f.head)
    ws_s, ws_n = ws.write_string, ws.write_number
    row = 2
    names = []
    for r in bk.batch.units:
        u, out = r.unit, r.outcome
        if u.province_code != code:
            continue
        names.append(u.name)
        ws_n(row, 0, r.rank_province, f.int)
        ws_n(row, 1, r.rank_national, f.int)
        ws_s(row, 2, u.code, f.center)
        ws_s(row, 3, u.name, f.text)
        ws_s(row, 4, u.type, f.text)
        ws_s(row, 5, bk.level.class_label(out.class_id), f.class_fill(out.class_id))
        c = 6
        if bk.scored:
            ws_n(row, c, out.total, f.total)
            c += 1
        if bk.has_vetoes:
            ws_s(row, c, ", ".join(out.vetoes), f.center)
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


# ---- Biểu đồ ------------------------------------------------------------------------------------

def charts_sheet(bk: Book) -> None:
    """Tables and charts: units per class and province (stacked); totals per bucket (scored packs)
    or units per class (packs without points)."""
    ws = bk.sheet(CHARTS)
    bk.charts_name = ws.name
    f = bk.f
    units = bk.batch.units
    labels = [bk.level.class_label(c) for c in bk.classes]
    ws.set_column(0, 0, text_width([*bk.province_names.values(), *labels], 18, 50))
    ws.set_column(1, len(bk.classes), 17)
    ws.write_string(0, 0, "Số đơn vị theo xếp loại và tỉnh, thành phố", f.bold)
    ws.write_string(1, 0, "Tỉnh, thành phố", f.head)
    for k, cid in enumerate(bk.classes):
        ws.write_string(1, 1 + k, bk.level.class_label(cid), f.head)
    ws.set_row(1, 62)
    for i, p in enumerate(bk.batch.provinces):
        ws.write_string(2 + i, 0, bk.province_names.get(p.province_code, p.province_code), f.text)
        for k, cid in enumerate(bk.classes):
            ws.write_number(2 + i, 1 + k, p.class_counts.get(cid, 0), f.int)
    n_prov = len(bk.batch.provinces)
    top2 = 2 + n_prov + 2
    if bk.scored:
        ws.write_string(top2, 0, "Phân bố tổng điểm", f.bold)
        rows = total_buckets([r.outcome.total for r in units], max_total(bk.level))
        ws.write_string(top2 + 1, 0, "Khoảng điểm", f.head)
    else:
        ws.write_string(top2, 0, "Số đơn vị theo xếp loại (toàn bộ)", f.bold)
        rows = [(bk.level.class_label(cid), bk.class_counts.get(cid, 0)) for cid in bk.classes]
        ws.write_string(top2 + 1, 0, "Xếp loại", f.head)
    ws.write_string(top2 + 1, 1, "Số đơn vị", f.head)
    for i, (label, n) in enumerate(rows):
        ws.write_string(top2 + 2 + i, 0, label, f.text)
        ws.write_number(top2 + 2 + i, 1, n, f.int)
    bk.print_setup(ws, "Biểu đồ", landscape=True)
    if not units:  # a chart of nothing would be an empty frame
        ws.write_string(top2 + 2 + len(rows), 0, "Không có đơn vị nào được xếp loại.", f.plain)
        return
    chart_col = len(bk.classes) + 2
    ws.insert_chart(0, chart_col, _class_chart(bk, n_prov))
    ws.insert_chart(max(top2, 20), chart_col, _second_chart(bk, top2, len(rows)))


def _class_chart(bk: Book, n_prov: int):
    name = bk.charts_name
    ch = bk.wb.add_chart({"type": "column", "subtype": "stacked"})
    for k, cid in enumerate(bk.classes):
        ch.add_series({
            "name": [name, 1, 1 + k],
            "categories": [name, 2, 0, 1 + n_prov, 0],
            "values": [name, 2, 1 + k, 1 + n_prov, 1 + k],
            "fill": {"color": bk.f.chart_colours.get(cid, GREY_STRONG)},
            "gap": 60,
        })
    ch.set_title({"name": "Số đơn vị theo xếp loại và tỉnh, thành phố", "name_font": {"size": 12}})
    ch.set_y_axis({"name": "Số đơn vị", "major_gridlines": {"visible": True}})
    ch.set_legend({"position": "bottom"})
    ch.set_size({"width": max(640, 26 * n_prov + 260), "height": 380})
    return ch


def _second_chart(bk: Book, top: int, n: int):
    name = bk.charts_name
    ch = bk.wb.add_chart({"type": "column"})
    series = {"name": [name, top + 1, 1], "categories": [name, top + 2, 0, top + 1 + n, 0],
              "values": [name, top + 2, 1, top + 1 + n, 1], "gap": 40,
              "data_labels": {"value": True}}
    if bk.scored:
        series["fill"] = {"color": "#5B9BD5"}
        title, axis = "Phân bố tổng điểm", "Khoảng điểm"
    else:
        series["points"] = [{"fill": {"color": bk.f.chart_colours.get(cid, GREY_STRONG)}} for cid in bk.classes]
        title, axis = "Số đơn vị theo xếp loại", "Xếp loại"
    ch.add_series(series)
    ch.set_title({"name": title, "name_font": {"size": 12}})
    ch.set_x_axis({"name": axis})
    ch.set_y_axis({"name": "Số đơn vị", "major_gridlines": {"visible": True}})
    ch.set_legend({"none": True})
    ch.set_size({"width": 640, "height": 360})
    return ch


def max_total(level: Level) -> int:
    return sum(c.max_points for c in level.criteria.values() if c.scored)


def total_buckets(totals: Iterable[Optional[int]], top: int) -> list[tuple[str, int]]:
    """Counts per bucket of totals, about ten buckets of a round width ("90–99", "100")."""
    totals = [t for t in totals if t is not None]
    top = max([top, *totals]) if totals else top
    width = next(w for w in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 10 ** 6, 10 ** 12)
                 if top // w + 1 <= 11)
    counts = Counter(t // width for t in totals)
    out = []
    for b in range(min(0, min(counts, default=0)), top // width + 1):
        lo, hi = b * width, min(b * width + width - 1, top)
        out.append((str(lo) if lo == hi else f"{lo}–{hi}", counts.get(b, 0)))
    return out


# ---- Chứng cứ -----------------------------------------------------------------------------------

def evidence_sheet(bk: Book) -> None:
    """One row per unit and criterion: values read, threshold, met, points, citation."""
    ws = bk.sheet(EVIDENCE)
    f, level = bk.f, bk.level
    heads = ["Mã đơn vị", "Tên đơn vị", "Tiêu chí", "Số liệu đã đọc", "Ngưỡng", "Kết quả"]
    heads += ["Điểm"] if bk.scored else []
    heads += ["Căn cứ"]
    c_cite = len(heads) - 1
    for c, h in enumerate(heads):
        ws.write_string(0, c, h, f.head)
    ws_s, ws_n = ws.write_string, ws.write_number
    f_text, f_center, f_met, f_not, f_int = f.text, f.center, f.met, f.not_met, f.int
    static = [(c.id, c.threshold, c.cite or "") for c in bk.criteria]
    scored = bk.scored
    row = 1
    longest = 10
    for r in bk.batch.units:
        u = r.unit
        code, name = u.code, u.name
        for (cid, threshold, cite), ev in zip(static, criteria_evidence(level, u.values, r.outcome)):
            ws_s(row, 0, code, f_center)
            ws_s(row, 1, name, f_text)
            ws_s(row, 2, cid, f_center)
            text = inputs_text(ev["inputs"])
            if len(text) > longest:
                longest = len(text)
            ws_s(row, 3, text, f_text)
            ws_s(row, 4, threshold, f_text)
            if ev["met"]:
                ws_s(row, 5, MET, f_met)
            else:
                ws_s(row, 5, NOT_MET, f_not)
            if scored and ev["points"] is not None:
                ws_n(row, 6, ev["points"], f_int)
            ws_s(row, c_cite, cite, f_text)
            row += 1
    ws.set_column(0, 0, 9)
    ws.set_column(1, 1, text_width([r.unit.name for r in bk.batch.units], 12, 32))
    ws.set_column(2, 2, 8)
    ws.set_column(3, 3, min(70, longest + 2))
    ws.set_column(4, 4, text_width([s[1] for s in static], 12, 60))
    ws.set_column(5, 5, 10)
    if scored:
        ws.set_column(6, 6, 6)
    ws.set_column(c_cite, c_cite, text_width([s[2] for s in static], 12, 50))
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(row - 1, 1), c_cite)
    bk.print_setup(ws, "Chứng cứ từng tiêu chí", landscape=True, title_rows=(0, 0))


def inputs_text(inputs: dict) -> str:
    """'users_with_records=55; population=40640; user_rate=55/40640' (exact values, as in the JSON)."""
    return "; ".join(f"{k}={_show(v)}" for k, v in inputs.items())


def _show(v: Any) -> str:
    """A value as the evidence holds it (already exact: int, 'n/d', decimal text) → cell text."""
    if v is True:
        return "có"
    if v is False:
        return "không"
    if v is None:
        return "(trống)"
    if type(v) is int or type(v) is str:
        return str(v)
    return str(value_for_output(v))


# ---- Hồ sơ bị loại, Cảnh báo ---------------------------------------------------------------------

def rejects_sheet(bk: Book) -> None:
    """Every rejected row: file, sheet, cell (or row and column), value, reason."""
    rows = [(r.path, r.sheet, r.cell, r.row, r.column, r.value, r.reason) for r in bk.batch.rejected]
    _problem_table(bk, REJECTS, "Giá trị", "Lý do bị loại", rows,
                   "Không có dòng số liệu nào bị loại.", with_value=True)


def warnings_sheet(bk: Book) -> None:
    rows = [(w.path, w.sheet, w.cell, w.row, w.column, None, w.message) for w in bk.batch.warnings]
    _problem_table(bk, WARNINGS, None, "Nội dung cảnh báo", rows, "Không có cảnh báo nào.", with_value=False)


def _problem_table(bk: Book, title: str, value_head: Optional[str], reason_head: str, rows: list,
                   empty: str, with_value: bool) -> None:
    ws = bk.sheet(title)
    f = bk.f
    heads = ["STT", "Tệp", "Trang tính", "Ô", "Dòng", "Cột"] + ([value_head] if with_value else []) + [reason_head]
    last = len(heads) - 1
    for c, h in enumerate(heads):
        ws.write_string(0, c, h, f.head)
    for i, (path, sheet, cell, rowno, column, value, reason) in enumerate(rows, start=1):
        ws.write_number(i, 0, i, f.int)
        ws.write_string(i, 1, path or "", f.text)
        ws.write_string(i, 2, sheet or "", f.text)
        ws.write_string(i, 3, cell or "", f.center)
        if rowno is not None:
            ws.write_number(i, 4, rowno, f.int)
        else:
            ws.write_string(i, 4, "", f.int)
        ws.write_string(i, 5, column or "", f.text)
        if with_value:
            ws.write_string(i, 6, "" if value is None else str(value), f.text)
        ws.write_string(i, last, reason, f.wrap)
    if not rows:
        ws.write_string(1, 1, empty, f.plain)
    ws.set_column(0, 0, 5)
    ws.set_column(1, 1, text_width([r[0] or "" for r in rows], 12, 40))
    ws.set_column(2, 2, 12)
    ws.set_column(3, 4, 7)
    ws.set_column(5, 5, text_width([r[4] or "" for r in rows], 10, 28))
    if with_value:
        ws.set_column(6, 6, 14)
    ws.set_column(last, last, 70)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), last)
    bk.print_setup(ws, title, landscape=True, title_rows=(0, 0))


# ---- Thông tin ----------------------------------------------------------------------------------

def info_sheet(bk: Book) -> None:
    """The pack, the inputs, the engine, the time, the results digest (what `verify` checks)."""
    ws = bk.sheet(INFO)
    f, p, batch = bk.f, bk.pack, bk.batch
    meta = p.meta()
    ws.write_string(0, 0, "THÔNG TIN VỀ BẢNG XẾP HẠNG", f.title)
    items = [
        ("Bộ tiêu chí (mã)", meta["id"]),
        ("Tên bộ tiêu chí", meta["title"]),
        ("Phiên bản", meta["version"]),
        ("Trạng thái", f"{STATUS_VI.get(meta['status'], meta['status'])} ({meta['status']})"),
        ("Hiệu lực từ ngày", meta["effective_from"]),
        ("Hiệu lực đến ngày", meta["effective_to"] or "(chưa hết hiệu lực)"),
        ("SHA-256 của tệp tiêu chí", meta["sha256"]),
        ("Bộ máy suy luận (engine)", batch.engine),
        ("Phiên bản lanhmanh", __version__),
        ("Thời điểm lập (UTC)", bk.now.astimezone(dt.timezone.utc).isoformat(timespec="seconds")),
        ("Số đơn vị được xếp loại", len(batch.units)),
        ("Số tỉnh, thành phố", len(batch.provinces)),
        ("Số lỗi dữ liệu bị loại", len(batch.rejected)),
        ("Số cảnh báo", len(batch.warnings)),
        (INFO_DIGEST_LABEL, bk.digest),
        ("Cách tính mã kiểm tra", f"{DIGEST_FORMAT} (lanhmanh/scorecards/digest.py)"),
        *previous_info(batch),
        *((NOTE_LABEL, note) for note in batch.notes),
    ]
    for i, (k, v) in enumerate(items, start=2):
        ws.write_string(i, 0, k, f.label)
        if isinstance(v, int):
            ws.write_number(i, 1, v, f.int)
        else:
            ws.write_string(i, 1, str(v), f.value)
    top = 2 + len(items) + 1
    ws.write_string(top, 0, "Tệp số liệu đầu vào", f.bold)
    for c, h in enumerate(("Tệp", "SHA-256", "Số dòng", "Trang tính")):
        ws.write_string(top + 1, c, h, f.head)
    for i, inp in enumerate(batch.inputs, start=top + 2):
        ws.write_string(i, 0, str(inp.get("path", "")), f.value)
        ws.write_string(i, 1, str(inp.get("sha256", "")), f.text)
        ws.write_number(i, 2, int(inp.get("rows", 0)), f.int)
        ws.write_string(i, 3, str(inp.get("sheet") or ""), f.text)
    ws.set_column(0, 0, 34)
    ws.set_column(1, 1, 70)
    ws.set_column(2, 3, 12)
    bk.print_setup(ws, "Thông tin", landscape=True)


PREVIOUS_INFO = {"path": "Kết quả năm trước (tệp)", "sha256": "SHA-256 của kết quả năm trước",
                 "year": "Năm của kết quả năm trước", "crosswalk": "Bảng chuyển đổi mã đơn vị"}


def previous_info(batch: BatchResult) -> list[tuple[str, Any]]:
    """Thông tin's rows about last year's results (--previous), none without them."""
    prev = batch.previous
    if prev is None:
        return []
    rows = [(PREVIOUS_INFO["path"], prev.path), (PREVIOUS_INFO["sha256"], prev.sha256),
            (PREVIOUS_INFO["year"], prev.year if prev.year is not None else "(không rõ)")]
    return rows + ([(PREVIOUS_INFO["crosswalk"], prev.crosswalk)] if prev.crosswalk else [])


# ---- one scorecard per unit ---------------------------------------------------------------------

def unit_sheet(bk: Book, r: UnitResult) -> None:
    """A printable scorecard for one unit: header, criteria table, total, class, vetoes, signatures."""
    u, out = r.unit, r.outcome
    ws = bk.wb.add_worksheet(bk.unit_sheet_name(u.code))
    f, level = bk.f, bk.level
    scored = bk.scored
    heads = ["Tiêu chí", "Nội dung (căn cứ)", "Số liệu đã đọc", "Ngưỡng", "Kết quả"]
    heads += ["Điểm", "Tối đa"] if scored else []
    last = len(heads) - 1
    widths = [8, 42, 28, 24, 11] + ([7, 7] if scored else [])
    for c, w in enumerate(widths):
        ws.set_column(c, c, w)
    p = bk.pack
    _merge_or_write(ws, 0, 0, 0, last, "PHIẾU ĐÁNH GIÁ, XẾP LOẠI ĐƠN VỊ CẤP XÃ", f.title)
    _merge_or_write(ws, 1, 0, 1, last, p.title, f.subtitle)
    _merge_or_write(ws, 2, 0, 2, last, f"Bộ tiêu chí {p.id}, phiên bản {p.version} "
                                       f"({STATUS_VI.get(p.status, p.status)})", f.italic_center)
    ws.set_row(0, 22)
    ws.set_row(1, 32)
    if bk.batch.notes:  # in the blank row under the pack line: the signed sheet must say it too
        text = f"{NOTE_LABEL}: " + "; ".join(bk.batch.notes)
        _merge_or_write(ws, 3, 0, 3, last, text, f.note)
        ws.set_row(3, 15 * _lines(text, sum(widths)))
    ident = [("Tên đơn vị", u.name), ("Mã đơn vị", u.code), ("Loại đơn vị", u.type),
             ("Tỉnh, thành phố", f"{bk.province_names.get(u.province_code, u.province_code)} "
                                 f"(mã {u.province_code})"),
             ("Năm đánh giá", "" if u.year is None else str(u.year))]
    row = 4
    for k, v in ident:
        _merge_or_write(ws, row, 0, row, 1, k, f.label)
        _merge_or_write(ws, row, 2, row, last, v, f.value)
        row += 1
    row += 1
    for c, h in enumerate(heads):
        ws.write_string(row, c, h, f.head)
    row += 1
    first = row
    for c, ev in zip(bk.criteria, criteria_evidence(level, u.values, out)):
        title = f"{c.title}\n({c.cite})" if c.cite else c.title
        values = inputs_text(ev["inputs"])
        ws.write_string(row, 0, c.id, f.center)
        ws.write_string(row, 1, title, f.wrap)
        ws.write_string(row, 2, values.replace("; ", "\n"), f.wrap)
        ws.write_string(row, 3, ev["threshold"], f.wrap)
        ws.write_string(row, 4, MET if ev["met"] else NOT_MET, f.met if ev["met"] else f.not_met)
        if scored:
            if c.scored:
                ws.write_number(row, 5, ev["points"], f.int)
                ws.write_number(row, 6, c.max_points, f.int)
            else:
                ws.write_string(row, 5, "", f.int)
                ws.write_string(row, 6, "", f.int)
        fit_row(ws, row, [(title, 42), (values.replace("; ", "\n"), 28), (ev["threshold"], 24)])
        row += 1
    end = row - 1
    if scored:
        _merge_or_write(ws, row, 0, row, 4, "Tổng điểm", f.label)
        ws.write_formula(row, 5, f"=SUM(F{first + 1}:F{end + 1})", f.total, out.total)
        ws.write_formula(row, 6, f"=SUM(G{first + 1}:G{end + 1})", f.total, max_total(level))
        row += 1
    vetoes = "; ".join(f"{v} – {level.vetoes[v].title}" if v in level.vetoes else v for v in out.vetoes)
    results = [("Xếp loại", level.class_label(out.class_id), f.class_fill(out.class_id))]
    if bk.has_vetoes:
        results.append(("Điểm liệt", vetoes or "Không có", f.value))
    results.append(("Thứ hạng", f"{r.rank_province} trong tỉnh, {r.rank_national} trong toàn bộ danh sách", f.value))
    for k, v, fmt in results:
        _merge_or_write(ws, row, 0, row, 1, k, f.label)
        _merge_or_write(ws, row, 2, row, last, v, fmt)
        row += 1
    _signatures(bk, ws, row + 1, last)
    bk.print_setup(ws, f"{u.code} {u.name}", landscape=False, one_page=True)
    ws.center_horizontally()


def _signatures(bk: Book, ws, row: int, last: int) -> None:
    f = bk.f
    _merge_or_write(ws, row, max(0, last - 3), row, last,
                    "……………, ngày …… tháng …… năm ……", f.italic_center)
    blocks = _thirds(last + 1)
    titles = [("NGƯỜI LẬP BIỂU", "(Ký, ghi rõ họ tên)"),
              ("CHỦ TỊCH UBND XÃ/PHƯỜNG", "(Ký tên, đóng dấu)"),
              ("HỘI ĐỒNG THẨM ĐỊNH", "(Ký, ghi rõ họ tên)")]
    for (a, b), (title, hint) in zip(blocks, titles):
        _merge_or_write(ws, row + 1, a, row + 1, b, title, f.sign_title)
        _merge_or_write(ws, row + 2, a, row + 2, b, hint, f.italic_center)
    for k in range(3, 8):
        ws.set_row(row + k, 15)


def _thirds(n: int) -> list[tuple[int, int]]:
    """Three column spans over n columns: 0–1 | the middle | the rest."""
    if n >= 7:
        return [(0, 1), (2, 3), (4, n - 1)]
    return [(0, 1), (2, 2), (3, n - 1)]


# ---- helpers ------------------------------------------------------------------------------------

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


def quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def excel_text(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def _hf(s: str) -> str:
    """Text inside a page header or footer: '&' is a control character there."""
    return str(s).replace("&", "&&")


def _merge_or_write(ws, r1: int, c1: int, r2: int, c2: int, text: str, fmt) -> None:
    if (r1, c1) == (r2, c2):
        ws.write_string(r1, c1, text, fmt)
    else:
        ws.merge_range(r1, c1, r2, c2, "", fmt)
        ws.write_string(r1, c1, text, fmt)


def text_width(texts: Iterable[str], lo: float, hi: float) -> float:
    """A column width that fits the longest text (Vietnamese letters are NFC: one per glyph)."""
    longest = max((len(t) for t in texts if t), default=0)
    return max(lo, min(hi, longest * 1.1 + 2))


def _lines(text: str, width: float) -> int:
    return sum(max(1, math.ceil(len(part) * 1.1 / width)) for part in str(text).split("\n"))


def fit_row(ws, row: int, cells: list[tuple[str, float]]) -> None:
    """A row height for wrapped text (spreadsheets do not always re-fit rows on opening)."""
    ws.set_row(row, 15 * max([1] + [_lines(t, w) for t, w in cells]))


def province_name(code: str, year: Optional[int] = None) -> str:
    """The province's name from the official list of the batch year (the list in force when the
    year is not known); its code when it is not there."""
    try:
        from ..engine.admin_units import UnitLists

        return UnitLists().for_year(year).province(code) or code
    except Exception:  # the list is a nicety here: never a reason to fail writing the scorecard
        return code


def district_names(batch: BatchResult, year: Optional[int]) -> dict[str, str]:
    """District code → name for the batch's units (lists before the reform only)."""
    codes = {r.unit.district_code for r in batch.units if r.unit.district_code}
    if not codes:
        return {}
    try:
        from ..engine.admin_units import UnitLists

        lst = UnitLists().for_year(year)
        return {c: lst.district_name(c) or c for c in codes}
    except Exception:  # the list is a nicety here: never a reason to fail writing the scorecard
        return {c: c for c in codes}


def batch_year(batch: BatchResult) -> Optional[int]:
    """The batch year: as `score` decided it, else (a batch made directly) its units' year."""
    if batch.year is not None:
        return batch.year
    return next((r.unit.year for r in batch.units if r.unit.year is not None), None)


__all__ = ["write_scorecard", "UNIT_SHEETS_MAX", "SUMMARY", "PROVINCES", "CHARTS", "EVIDENCE", "REJECTS",
           "WARNINGS", "INFO", "INFO_DIGEST_LABEL", "NOTE_LABEL", "HEADINGS", "class_colours", "class_order",
           "total_buckets"]
