"""The data-entry workbook of `lanhmanh template --rules PACK [--province CODE] --out FILE.xlsx`:
the data sheet "Số liệu" (title, note, headings in row 3, column ids in row 4, one row per unit
from row 5; locked headings, validated yellow input cells) and the instructions "Hướng dẫn".
Layout, validation and constraints: docs/scorecard.md, "The data-entry template"."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, Optional, Sequence

from xlsxwriter.utility import xl_col_to_name  # type: ignore[import-untyped]

from lanhmanh.engine.evaluation.validate import COMMUNE_TYPES, IDENTITY_LABELS, MAX_MAGNITUDE, PROVINCE_TYPES
from lanhmanh.engine.language import nodes
from lanhmanh.engine.model.admin_units import AdminUnit, current
from lanhmanh.engine.model.pack import Constraint, Indicator, Level, Pack
from lanhmanh.scorecards.outputs.atomic import write_workbook
from lanhmanh.scorecards.outputs.presentation import (
    HEADING,
    NO,
    WORKBOOK_OPTIONS,
    YES,
    fit_row,
    house_format,
    page_setup,
    status_text,
    text_lines,
    text_width,
    vn_number,
)

DATA_SHEET = "Số liệu"
HELP_SHEET = "Hướng dẫn"
LABEL_ROW, ID_ROW, FIRST_ROW = 3, 4, 5  # as Excel numbers them
BLANK_ROWS = 200  # rows of an empty template (no --province)
IDENTITY_COLUMNS = ("unit_code", "unit_name", "unit_type", "province_code", "year")
TEXT_LIMIT = 255  # Excel's limit on a validation's message and formula
TITLE_LIMIT = 32  # and on its titles

INPUT_BG, CLOSED_BG, ID_GREY = "#FFF2CC", "#D9D9D9", "#808080"
WARN_BG, WARN_FONT = "#F8CBAD", "#833C0B"  # a figure breaking a plausibility check
IDENTITY_HELP = {
    "unit_code": ("Văn bản (5 chữ số)", "Mã đơn vị hành chính cấp xã theo danh mục chính thức, 5 chữ số, giữ "
                                         "các số 0 ở đầu. Dòng của tỉnh: bỏ trống."),
    "unit_name": ("Văn bản", "Tên xã, phường, đặc khu (dòng của tỉnh: tên tỉnh, thành phố)."),
    "unit_type": ("Văn bản", "Loại đơn vị: " + ", ".join(COMMUNE_TYPES) + " (dòng của tỉnh: "
                  + " hoặc ".join(PROVINCE_TYPES) + ")."),
    "province_code": ("Văn bản (2 chữ số)", "Mã tỉnh, thành phố theo danh mục chính thức, 2 chữ số."),
    "year": ("Số nguyên", "Năm đánh giá: đợt đánh giá từ ngày 15/12 năm trước đến ngày 14/12 năm này."),
}


@dataclass
class Column:
    id: str
    heading: str  # row 3
    level: str  # identity | commune | province
    letter: str
    ind: Optional[Indicator] = None


# ---- entry point --------------------------------------------------------------------------------

def write_template(pack: Pack, out: Path, *, units: list[AdminUnit], province_code: Optional[str],
                   year: int) -> int:
    """Write the data-entry workbook (atomically). Returns the number of unit rows: the official
    units pre-filled, or BLANK_ROWS empty rows when no province is given (a province row is not a
    unit row)."""
    return write_workbook(out, WORKBOOK_OPTIONS,
                          lambda wb: Template(wb, pack, units, province_code, year).build())


def columns(pack: Pack) -> list[Column]:
    """The data sheet's columns, in order."""
    out = [Column(c, IDENTITY_LABELS[c], "identity", "") for c in IDENTITY_COLUMNS]
    out += [Column(i, heading(ind), "commune", "", ind) for i, ind in pack.commune.indicators.items()]
    out += [Column(i, heading(ind), "province", "", ind) for i, ind in province_only(pack).items()]
    for n, c in enumerate(out):
        c.letter = xl_col_to_name(n)
    return out


def province_only(pack: Pack) -> dict[str, Indicator]:
    """The province-level indicators entered on the province row (not summed from the communes)."""
    if pack.province is None:
        return {}
    return {k: v for k, v in pack.province.indicators.items() if k not in pack.province.summed}


def heading(ind: Indicator) -> str:
    return f"{ind.label} ({ind.unit})" if ind.unit else ind.label


# ---- cross-field constraints as Excel formulas ---------------------------------------------------

def excel_condition(node: nodes.Node, refs: dict[str, str]) -> Optional[str]:
    """An Excel formula (without "=") for a constraint over numeric indicators, `refs` giving each
    indicator's cell; None when Excel cannot say it (booleans, functions, division)."""
    if isinstance(node, nodes.Num):
        v = node.value
        return str(v.numerator) if v.denominator == 1 else f"({v.numerator}/{v.denominator})"
    if isinstance(node, nodes.Name):
        return refs.get(node.id)
    if isinstance(node, nodes.Neg):
        inner = excel_condition(node.operand, refs)
        return None if inner is None else f"-({inner})"
    if isinstance(node, nodes.Arith) and node.op in "+-*" or isinstance(node, nodes.Compare):
        left, right = excel_condition(node.left, refs), excel_condition(node.right, refs)
        if left is None or right is None:
            return None
        op = {"==": "=", "!=": "<>"}.get(node.op, node.op)
        return f"({left}{op}{right})" if isinstance(node, nodes.Arith) else f"{left}{op}{right}"
    if isinstance(node, nodes.Not):
        inner = excel_condition(node.operand, refs)
        return None if inner is None else f"NOT({inner})"
    if isinstance(node, nodes.BoolOp):
        items = [excel_condition(a, refs) for a in node.items]
        known = [item for item in items if item is not None]
        return None if len(known) < len(items) else f"{node.op.upper()}({','.join(known)})"
    return None


def constraint_formula(c: Constraint, refs: dict[str, str], level: Level) -> Optional[str]:
    """The constraint checked on its first indicator's cell; it holds while another cell it reads
    is blank, as the validator skips a constraint with a value not given. A rate (a derived value)
    is its cells divided, `(G5/F5)`; the validator skips a zero denominator, and Excel's #DIV/0!
    fails the check (a rejecting rate's zero denominator is rejected anyway)."""
    reads: list[str] = []
    rates: dict[str, str] = {}
    for name in dict.fromkeys(n.id for n in nodes.names_in(c.cond)):
        d = level.derived.get(name)
        if d is not None:
            reads += [*d.num, *d.den]
            if any(x not in refs for x in d.reads):
                return None
            num, den = ("+".join(refs[x] for x in part) for part in (d.num, d.den))
            rates[name] = f"({_grouped(num)}/{_grouped(den)})"
        else:
            reads.append(name)
    if any(not level.indicators[n].numeric for n in reads):
        return None
    cond = excel_condition(c.cond, {**refs, **rates})
    if cond is None:
        return None
    others = [refs[n] for n in dict.fromkeys(reads) if n != c.first]
    return f"OR({','.join(f'ISBLANK({r})' for r in others)},{cond})" if others else cond


def _grouped(terms: str) -> str:
    """A sum of cells as one operand: `F5`, `(F5+G5)`."""
    return f"({terms})" if "+" in terms else terms


# ---- the workbook --------------------------------------------------------------------------------

class Template:
    """One template being written: the pack, the rows it holds, its formats and constraint plan."""

    def __init__(self, wb, pack: Pack, units: list[AdminUnit], province_code: Optional[str], year: int):
        self.wb, self.pack, self.units, self.year = wb, pack, units, year
        self.province_code = province_code
        self.cols = columns(pack)
        self.by_id = {c.id: c for c in self.cols}
        self.province_name = province_display(province_code) if province_code else None
        self.with_province_row = bool(province_code) and pack.province is not None
        self.first_commune = FIRST_ROW + (1 if self.with_province_row else 0)
        self.last_row = self.first_commune + (len(units) if province_code else BLANK_ROWS) - 1
        self.checks, self.unchecked = self.plan_constraints()
        self.warns, self.flags = self.plan_soft_constraints()
        def fmt(**properties):
            return house_format(wb, **properties)

        box = {"border": 1, "valign": "top"}
        self.f_title = fmt(bold=True, font_size=14, align="center", valign="vcenter", text_wrap=True)
        self.f_note = fmt(italic=True, text_wrap=True, valign="top")
        self.f_head = fmt(**HEADING)
        self.f_id = fmt(font_size=8, font_color=ID_GREY, align="center", border=1)
        self.f_code = fmt(num_format="@", **box)
        self.f_text = fmt(**box)
        self.f_int = fmt(num_format="0", align="center", **box)
        self.f_province = fmt(bold=True, **box)
        self.f_input = fmt(locked=False, bg_color=INPUT_BG, **box)
        self.f_input_code = fmt(locked=False, bg_color=INPUT_BG, num_format="@", **box)
        self.f_closed = fmt(bg_color=CLOSED_BG, **box)
        self.f_bold = fmt(bold=True)
        self.f_key = fmt(bold=True, valign="top")
        self.f_wrap = fmt(text_wrap=True, valign="top")
        self.f_cell = fmt(text_wrap=True, **box)

    def build(self) -> int:
        self.data_sheet()
        self.help_sheet()
        self.wb.set_properties({"title": f"Biểu mẫu nhập số liệu: {self.pack.title}",
                                "comments": f"lanhmanh template {self.pack.id} {self.pack.version}"})
        return len(self.units) if self.province_code else BLANK_ROWS

    def plan_constraints(self) -> tuple[dict[str, list[tuple[Constraint, str]]], list[Constraint]]:
        """Which constraints Excel checks, on which indicator's cells (formulas for the first
        commune row), and which it cannot."""
        level = self.pack.commune
        refs = {c.id: f"{c.letter}{self.first_commune}" for c in self.cols if c.level == "commune"}
        checks: dict[str, list[tuple[Constraint, str]]] = {}
        unchecked = []
        for c in level.constraints:
            f = constraint_formula(c, refs, level)
            own = checks.setdefault(c.first, [])
            if f is None or len(typed_formula(level.indicators[c.first], refs[c.first],
                                              [x for _, x in own] + [f])) > TEXT_LIMIT:
                unchecked.append(c)
            else:
                own.append((c, f))
        return checks, unchecked

    def plan_soft_constraints(self) -> tuple[dict[str, list[tuple[Constraint, str]]], dict[str, str]]:
        """The plausibility checks (`severity: warning`): as a "warning" validation on their first
        indicator's cells when that column carries no rejecting constraint (a cell holds one
        validation, of one kind, and the rejecting kind wins); and, for every one Excel can say, its
        formula to colour the cell orange while it is broken (by check id)."""
        level = self.pack.commune
        refs = {c.id: f"{c.letter}{self.first_commune}" for c in self.cols if c.level == "commune"}
        warns: dict[str, list[tuple[Constraint, str]]] = {}
        flags: dict[str, str] = {}
        for c in level.soft_constraints:
            f = constraint_formula(c, refs, level)
            if f is None:
                continue
            flags[c.id] = f
            if self.checks.get(c.first):
                continue
            own = warns.setdefault(c.first, [])
            if len(typed_formula(level.indicators[c.first], refs[c.first], [x for _, x in own] + [f])) <= TEXT_LIMIT:
                own.append((c, f))
        return warns, flags

    # ---- "Số liệu" ----

    def data_sheet(self) -> None:
        ws = self.wb.add_worksheet(DATA_SHEET)
        ws.activate()
        cols, last_col = self.cols, len(self.cols) - 1
        widths = {c.id: 20.0 for c in cols}
        widths.update(unit_code=10, unit_type=11, province_code=9, year=10,
                      unit_name=text_width([u.name for u in self.units] + [self.province_name or ""], 18, 34))
        for n, c in enumerate(cols):
            ws.set_column(n, n, widths[c.id])

        where = f"{self.province_name}, " if self.province_name else ""
        title = f"{self.pack.title}\nBIỂU MẪU NHẬP SỐ LIỆU: {where.upper()}NĂM {self.year}"
        note = (f"Nhập số liệu vào các ô màu vàng, mỗi đơn vị một dòng, từ dòng {FIRST_ROW}; ô màu xám không "
                f"nhập. Cột Có/Không: chọn từ danh sách. Ô không bắt buộc bỏ trống nghĩa là «không có số liệu». "
                f"Không sửa, xóa hay chèn dòng {LABEL_ROW} và dòng {ID_ROW} (dòng {ID_ROW} là mã cột để phần "
                f"mềm đọc tệp), không thêm, xóa, đổi thứ tự cột, không đổi tên trang. Xem trang «{HELP_SHEET}».")
        span = note_span(cols, widths)
        ws.merge_range(0, 0, 0, span, "", self.f_title)
        ws.write_string(0, 0, title, self.f_title)
        span_width = sum(widths[c.id] for c in cols[:span + 1])
        ws.set_row(0, 20 * sum(text_lines(t, span_width / 1.3) for t in title.split("\n")))
        ws.merge_range(1, 0, 1, span, "", self.f_note)
        ws.write_string(1, 0, note, self.f_note)
        fit_row(ws, 1, [(note, span_width)])
        for n, c in enumerate(cols):
            ws.write_string(LABEL_ROW - 1, n, c.heading, self.f_head)
            ws.write_string(ID_ROW - 1, n, c.id, self.f_id)
        fit_row(ws, LABEL_ROW - 1, [(c.heading, widths[c.id]) for c in cols])

        if self.with_province_row:
            self.province_row(ws, FIRST_ROW - 1)
        if self.province_code:
            for i, u in enumerate(self.units):
                self.commune_row(ws, self.first_commune - 1 + i, u)
        else:
            for r in range(self.first_commune - 1, self.last_row):
                self.blank_row(ws, r)
        self.validations(ws)

        ws.freeze_panes(ID_ROW, 2)
        ws.ignore_errors({"number_stored_as_text": f"A{FIRST_ROW}:D{max(self.last_row, FIRST_ROW)}"})
        ws.protect("", {"format_columns": True, "format_rows": True})
        # A4 landscape, at most two pages wide (the code and name repeated on each), as long as needed
        page_setup(ws, self.pack, "Biểu mẫu nhập số liệu", landscape=True, title_rows=(LABEL_ROW - 1, ID_ROW - 1),
                   fit_width=2)
        ws.repeat_columns(0, 1)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.print_area(0, 0, max(self.last_row, FIRST_ROW) - 1, last_col)

    def commune_row(self, ws, r: int, u: AdminUnit) -> None:
        for n, text in enumerate((u.code, u.name, u.type, u.province_code)):
            ws.write_string(r, n, text, self.f_code if n in (0, 3) else self.f_text)
        ws.write_number(r, 4, self.year, self.f_int)
        for n, c in enumerate(self.cols[5:], start=5):
            ws.write_blank(r, n, None, self.f_input if c.level == "commune" else self.f_closed)

    def province_row(self, ws, r: int) -> None:
        name = self.province_name or ""
        kind = PROVINCE_TYPES[1] if name.lower().startswith(PROVINCE_TYPES[1]) else PROVINCE_TYPES[0]
        ws.write_blank(r, 0, None, self.f_province)
        ws.write_string(r, 1, name, self.f_province)
        ws.write_string(r, 2, kind, self.f_province)
        ws.write_string(r, 3, self.province_code, self.f_province)
        ws.write_number(r, 4, self.year, self.f_int)
        for n, c in enumerate(self.cols[5:], start=5):
            ws.write_blank(r, n, None, self.f_input if c.level == "province" else self.f_closed)

    def blank_row(self, ws, r: int) -> None:
        for n, c in enumerate(self.cols):
            ws.write_blank(r, n, None, self.f_input_code if c.id in ("unit_code", "province_code") else self.f_input)

    def validations(self, ws) -> None:
        """Data validation on the open cells of each column. A formula is written for the range's
        first cell; Excel shifts it down the range."""
        communes = (self.first_commune, self.last_row)
        for c in self.cols:
            first, last = communes
            if self.province_code:  # identity pre-filled; province cells open on the province row only
                first, last = {"commune": communes, "province": (FIRST_ROW, FIRST_ROW)}.get(c.level, (0, -1))
            if last < first:
                continue
            cell = f"{c.letter}{first}"
            commune = c.level == "commune"
            opts = identity_validation(self.pack, c) if c.level == "identity" else \
                indicator_validation(c, cell, self.checks.get(c.id, []) if commune else [],
                                     self.warns.get(c.id, []) if commune else [])
            ws.data_validation(f"{cell}:{c.letter}{last}", opts)
        self.flag_implausible(ws)

    def flag_implausible(self, ws) -> None:
        """Cells breaking a plausibility check turn orange as soon as the figures are typed, in
        whatever order (a validation only looks at the cell being typed)."""
        first, last = self.first_commune, self.last_row
        if last < first:
            return
        orange = house_format(self.wb, bg_color=WARN_BG, font_color=WARN_FONT)
        for c in self.pack.commune.soft_constraints:
            f = self.flags.get(c.id)
            if f is None:
                continue
            letter = self.by_id[c.first].letter
            ws.conditional_format(f"{letter}{first}:{letter}{last}", {
                "type": "formula", "criteria": f"=AND(NOT(ISBLANK({letter}{first})),NOT({f}))", "format": orange})

    # ---- "Hướng dẫn" ----

    def help_sheet(self) -> None:
        ws = self.wb.add_worksheet(HELP_SHEET)
        p = self.pack
        widths = [7, 48, 16, 10, 26, 14, 60]
        for n, w in enumerate(widths):
            ws.set_column(n, n, w)
        ws.write_string(0, 0, "HƯỚNG DẪN NHẬP SỐ LIỆU", house_format(self.wb, bold=True, font_size=14))
        status = status_text(p.status)
        if p.status == "illustrative":
            status += (" — BẢNG ĐIỂM MINH HỌA, KHÔNG PHẢI BẢNG ĐIỂM CHÍNH THỨC: Hội đồng, Ban chỉ đạo địa "
                       "phương thay các tiêu chí, ngưỡng, điểm bằng quy định của mình trước khi dùng để xét "
                       "công nhận")
        elif p.status != "official":
            status += " — chưa phải bản chính thức"
        when = f"từ {p.effective_from:%d/%m/%Y}" + (f" đến {p.effective_to:%d/%m/%Y}" if p.effective_to else "")
        where = f"{self.province_code} — {self.province_name}" if self.province_code else \
            "chưa chọn (biểu mẫu trống: tự điền các cột nhận diện)"
        facts = [("Gói quy tắc (mã)", p.id), ("Phiên bản", p.version), ("Tên", p.title), ("Tình trạng", status),
                 ("Hiệu lực", when), ("Tỉnh, thành phố", where), ("Năm đánh giá", str(self.year))]
        r = 2
        for k, v in facts:
            self.line(ws, r, widths, [(0, 1, k, self.f_key), (2, 6, v, self.f_wrap)])
            r += 1

        r += 1
        ws.write_string(r, 0, "Cách nhập", self.f_bold)
        r += 1
        for n, text in enumerate(self.how_to(), start=1):
            self.line(ws, r, widths, [(0, 0, f"{n}.", self.f_wrap), (1, 6, text, self.f_wrap)])
            r += 1

        r += 1
        ws.write_string(r, 0, f"Các cột của trang «{DATA_SHEET}»", self.f_bold)
        r += 1
        column_heads = ("Cột", f"Tiêu đề cột (dòng {LABEL_ROW}) và mã cột (dòng {ID_ROW})", "Kiểu", "Đơn vị",
                        "Giá trị cho phép", "Bắt buộc", "Mô tả")
        self.line(ws, r, widths, [(n, n, h, self.f_head) for n, h in enumerate(column_heads)])
        r += 1
        for column in self.cols:
            # heading and id in one cell: a row naming two pack columns would look like a header row
            facts_of_column = [column.letter, f"{column.heading}\nMã: {column.id}",
                               *column_facts(column, bool(self.province_code))]
            self.line(ws, r, widths, [(n, n, v, self.f_cell) for n, v in enumerate(facts_of_column)])
            r += 1

        constraints = self.pack.commune.constraints + self.pack.commune.soft_constraints
        if constraints:
            r += 1
            ws.write_string(r, 0, "Ràng buộc giữa các cột và kiểm tra tính hợp lý của số liệu", self.f_bold)
            r += 1
            spans = ((0, 0), (1, 1), (2, 4), (5, 6))
            constraint_heads = ("STT", "Ràng buộc", "Biểu thức", "Kiểm tra khi nhập")
            self.line(ws, r, widths, [(a, b, h, self.f_head) for (a, b), h in zip(spans, constraint_heads)])
            r += 1
            for n, constraint in enumerate(constraints, start=1):
                how = self.how_checked(constraint)
                message = constraint.message + (f"\n{constraint.note}" if constraint.note else "")
                row_texts = (str(n), message, constraint.text, how)
                self.line(ws, r, widths, [(a, b, v, self.f_cell) for (a, b), v in zip(spans, row_texts)])
                r += 1
        page_setup(ws, self.pack, HELP_SHEET, landscape=True)

    def how_checked(self, c: Constraint) -> str:
        """The instructions' "Kiểm tra khi nhập" of a constraint or plausibility check."""
        letter = self.by_id[c.first].letter
        if c.severity == "error":
            return (f"Excel kiểm tra khi nhập cột {letter}" if c not in self.unchecked
                    else "Excel không kiểm tra được; phần mềm kiểm tra khi chấm điểm và loại dòng vi phạm")
        how = "Chỉ cảnh báo (dòng vẫn được chấm điểm, không đổi kết quả): "
        if any(c is w for w, _ in self.warns.get(c.first, [])):
            how += f"Excel cảnh báo khi nhập cột {letter} và tô màu cam ô vượt ngưỡng; "
        elif c.id in self.flags:
            how += f"Excel tô màu cam ô cột {letter} vượt ngưỡng; "
        return how + "phần mềm cảnh báo khi chấm điểm, nêu rõ ô"

    @staticmethod
    def line(ws, r: int, widths: Sequence[float], cells: list[tuple[int, int, str, object]]) -> None:
        """One row of texts, each over columns first..last (merged), the row as tall as they need."""
        for first, last, text, fmt in cells:
            if first != last:
                ws.merge_range(r, first, r, last, "", fmt)
            ws.write_string(r, first, text, fmt)
        fit_row(ws, r, [(text, sum(widths[first:last + 1])) for first, last, text, _ in cells])

    def how_to(self) -> list[str]:
        booleans = [c for c in self.cols if c.ind is not None and not c.ind.numeric]
        steps = []
        if self.province_code:
            steps.append(f"Trang «{DATA_SHEET}» có sẵn một dòng cho mỗi đơn vị hành chính cấp xã của "
                         f"{self.province_name} theo danh mục chính thức ({len(self.units)} đơn vị), từ dòng "
                         f"{self.first_commune}. Các cột mã đơn vị, tên, loại đơn vị, mã tỉnh, năm đã điền sẵn "
                         "và bị khóa.")
        else:
            steps.append(f"Mỗi dòng của trang «{DATA_SHEET}», từ dòng {FIRST_ROW}, là một đơn vị: điền mã đơn vị "
                         "(5 chữ số, theo danh mục chính thức), tên, loại đơn vị, mã tỉnh (2 chữ số) và năm, "
                         f"rồi số liệu. Có {BLANK_ROWS} dòng trống; dòng để trống hoàn toàn được bỏ qua.")
        steps.append("Nhập số liệu vào các ô màu vàng; ô màu xám không nhập. Khi chọn một ô, Excel hiện kiểu "
                     "số liệu và giá trị cho phép của cột, và từ chối giá trị sai kiểu, ngoài giới hạn hoặc "
                     "vi phạm ràng buộc giữa các cột.")
        if booleans:
            steps.append(f"Cột Có/Không: chọn «{YES}» hoặc «{NO}» từ danh sách. Với cột bắt buộc, ô bỏ trống "
                         f"được tính là «{NO}»; hãy chọn rõ ràng.")
        steps.append("Cột số: nhập số (không kèm chữ hoặc đơn vị), kể cả số 0. Ô bỏ trống ở cột không bắt buộc "
                     "nghĩa là «không có số liệu», không phải 0; cột bắt buộc không được bỏ trống.")
        extra = province_only(self.pack)
        if extra:
            names = ", ".join(f"«{ind.label}»" for ind in extra.values())
            if self.with_province_row:
                steps.append(f"Dòng {FIRST_ROW} là dòng của tỉnh ({self.province_name}): chỉ nhập các chỉ tiêu "
                             f"cấp tỉnh ({names}); các số liệu khác của tỉnh được cộng từ các xã.")
            else:
                steps.append(f"Chỉ tiêu cấp tỉnh ({names}) nhập trên một dòng riêng của tỉnh: loại đơn vị "
                             f"«{PROVINCE_TYPES[0]}» hoặc «{PROVINCE_TYPES[1]}», mã đơn vị bỏ trống, mã tỉnh, tên "
                             "tỉnh; dòng của xã để trống các cột này.")
        steps.append(f"Không sửa, xóa hay chèn dòng {LABEL_ROW} và dòng {ID_ROW} (dòng {ID_ROW} là mã cột để "
                     f"phần mềm đọc tệp), không thêm, xóa hay đổi thứ tự cột, không đổi tên trang «{DATA_SHEET}». "
                     "Gửi lại chính tệp này (định dạng .xlsx), giữ nguyên bố cục.")
        steps.append("Trang số liệu được khóa (không đặt mật khẩu) để tránh sửa nhầm tiêu đề và cột nhận diện. "
                     "Nếu thật cần sửa (ví dụ đơn vị có thay đổi trong danh mục): thẻ Review (Xem lại) → Unprotect "
                     "Sheet (Bỏ bảo vệ trang tính); sửa xong bật lại bằng Protect Sheet (Bảo vệ trang tính).")
        steps.append(f"Kiểm tra trước khi gửi: lanhmanh score TÊN-TỆP.xlsx --rules {self.pack.id} "
                     "(mỗi ô sai được chỉ rõ trang, ô và lý do).")
        return steps


def note_span(cols: list[Column], widths: dict[str, float], want: float = 100) -> int:
    """The last column of the merged title and note: about one printed page (or screen) wide."""
    total = 0.0
    for n, c in enumerate(cols):
        total += widths[c.id]
        if total >= want:
            return n
    return len(cols) - 1


def province_display(code: str) -> str:
    """"Tỉnh Nghệ An", "Thành phố Hà Nội": the official name with its type word."""
    name = current().province(code) or code
    return name if name.lower().startswith(("tỉnh", "thành phố")) else f"Tỉnh {name}"


# ---- what a column allows ----------------------------------------------------------------------

def allowed(ind: Indicator) -> str:
    if not ind.numeric:
        return f"{YES} hoặc {NO}"
    kind = "Số nguyên" if ind.type == "integer" else f"Số, tối đa {ind.decimals} chữ số thập phân"
    if ind.min is not None and ind.max is not None:
        return f"{kind} từ {vn_number(ind.min)} đến {vn_number(ind.max)}"
    if ind.min is not None:
        return f"{kind} ≥ {vn_number(ind.min)}"
    if ind.max is not None:
        return f"{kind} ≤ {vn_number(ind.max)}"
    return kind


def required_text(ind: Indicator) -> str:
    if ind.required:
        return f"Bắt buộc (bỏ trống = {NO})" if not ind.numeric else "Bắt buộc"
    return "Không bắt buộc (bỏ trống = không có số liệu)"


def column_facts(c: Column, prefilled: bool) -> list[str]:
    """Kiểu, Đơn vị, Giá trị cho phép, Bắt buộc, Mô tả of one column, for the instructions sheet."""
    if c.ind is None:
        kind, text = IDENTITY_HELP[c.id]
        need = "Điền sẵn" if prefilled else ("Nên điền" if c.id == "year" else "Bắt buộc")
        return [kind, "", "", need, text]
    ind = c.ind
    kind = {"integer": "Số nguyên", "decimal": "Số thập phân", "boolean": "Có/Không"}[ind.type]
    if c.level == "province":
        kind += " (cấp tỉnh: chỉ nhập trên dòng của tỉnh)"
    return [kind, ind.unit or "", allowed(ind), required_text(ind), ind.description or ""]


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def typed_formula(ind: Indicator, cell: str, constraints: list[str]) -> str:
    """A custom validation formula: the indicator's own type and bounds, and its constraints."""
    parts = [f"ISNUMBER({cell})"]
    if ind.type == "integer":
        parts.append(f"{cell}=INT({cell})")
    for op, bound in ((">=", ind.min), ("<=", ind.max)):
        if bound is not None:
            parts.append(f"{cell}{op}{_num(bound)}")
    return f"AND({','.join(parts + constraints)})"


def indicator_validation(c: Column, cell: str, checks: list[tuple[Constraint, str]],
                         warns: Sequence[tuple[Constraint, str]] = ()) -> dict:
    """XlsxWriter data-validation options for an indicator column whose first cell is `cell`.
    `checks` are rejecting constraints ("stop"); `warns`, plausibility checks, make the cell's
    validation a "warning" (given only for a column without rejecting constraints)."""
    ind = c.ind
    assert ind is not None  # an indicator column
    what = allowed(ind)
    prompt = f"{heading(ind)}. {what}. {required_text(ind)}."
    opts: dict[str, Any] = {"input_title": clip(ind.label, TITLE_LIMIT), "error_title": "Số liệu không hợp lệ",
            "error_type": "stop", "ignore_blank": True}
    if not ind.numeric:
        opts.update(validate="list", source=[YES, NO], error_message=f"Chọn «{YES}» hoặc «{NO}».")
    elif warns and not checks:
        messages = " ".join(con.message.rstrip(".") + "." for con, _ in warns)
        opts.update(validate="custom", value=typed_formula(ind, cell, [f for _, f in warns]),
                    error_type="warning", error_title="Số liệu bất thường",
                    error_message=f"{messages} Giá trị cho phép: {what}; giá trị sai kiểu hoặc ngoài giới hạn "
                                  "bị loại khi chấm điểm.")
    elif checks:
        messages = " ".join(con.message.rstrip(".") + "." for con, _ in checks)
        opts.update(validate="custom", value=typed_formula(ind, cell, [f for _, f in checks]),
                    error_message=f"{messages} Giá trị cho phép: {what}.")
        prompt += " " + messages
    else:
        lo = ind.min if ind.min is not None else -MAX_MAGNITUDE
        hi = ind.max if ind.max is not None else MAX_MAGNITUDE
        opts["validate"] = "integer" if ind.type == "integer" else "decimal"
        if ind.max is None and ind.min is not None:
            opts.update(criteria=">=", value=_num(lo))
        else:
            opts.update(criteria="between", minimum=_num(lo), maximum=_num(hi))
        opts["error_message"] = f"Giá trị cho phép: {what}."
    opts["input_message"] = clip(prompt, TEXT_LIMIT)
    opts["error_message"] = clip(opts["error_message"], TEXT_LIMIT)
    return opts


def identity_validation(pack: Pack, c: Column) -> dict:
    """For the identity columns of an empty template."""
    types = list(COMMUNE_TYPES) + (list(PROVINCE_TYPES) if pack.province is not None else [])
    opts: dict[str, Any] = {"ignore_blank": True, "error_type": "stop", "error_title": "Không hợp lệ",
                            "input_title": c.heading}
    specs: dict[str, dict[str, Any]] = {
        "unit_code": dict(validate="length", criteria="==", value=5,
                          error_message="Mã đơn vị gồm đúng 5 chữ số (giữ số 0 ở đầu)."),
        "unit_name": dict(validate="any"),
        "unit_type": dict(validate="list", source=types, error_message="Chọn: " + ", ".join(types) + "."),
        "province_code": dict(validate="length", criteria="between", minimum=1, maximum=2,
                              error_message="Mã tỉnh gồm 2 chữ số."),
        "year": dict(validate="integer", criteria="between", minimum=2000, maximum=2100,
                     error_message="Năm đánh giá, ví dụ 2025."),
    }
    opts.update(specs[c.id])
    opts["input_message"] = clip(IDENTITY_HELP[c.id][1], TEXT_LIMIT)
    return opts


def _num(v) -> int | float:
    """A bound as XlsxWriter writes it: an int when whole."""
    f = Fraction(Decimal(v))
    return int(f) if f.denominator == 1 else float(f)


__all__ = ["write_template", "columns", "excel_condition", "constraint_formula", "DATA_SHEET", "HELP_SHEET",
           "BLANK_ROWS", "FIRST_ROW", "LABEL_ROW", "ID_ROW", "IDENTITY_COLUMNS"]
