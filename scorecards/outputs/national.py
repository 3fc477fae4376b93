"""A national batch written as a folder (`lanhmanh score ... --out-dir DIR`): one scorecard workbook
per province (`DIR/40-nghe-an.xlsx`) and the national summary `DIR/toan-quoc.xlsx` ("Toàn quốc",
"Chỉ tiêu", "Hồ sơ bị loại", "Cảnh báo", "Thông tin"). All or nothing for a new folder; what is
left after a failure: docs/scorecard.md, "The national folder"."""
from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import re
import shutil
import tempfile
import unicodedata
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Optional

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell  # type: ignore[import-untyped]

from lanhmanh.engine.batch.targets import NATIONAL
from lanhmanh.engine.evaluation.scoring import BatchResult, UnitResult
from lanhmanh.scorecards.outputs.atomic import sweep_stale, write_workbook
from lanhmanh.scorecards.outputs.digest import results_digest
from lanhmanh.scorecards.outputs.presentation import (
    DASH,
    HEAD_BG,
    INFO,
    NOTE_LABEL,
    REJECTS,
    WARNINGS,
    WORKBOOK_OPTIONS,
    batch_year,
    class_colours,
    class_order,
    fit_row,
    house_format,
    met_text,
    page_setup,
    province_name,
    status_text,
    text_lines,
    text_width,
)
from lanhmanh.scorecards.outputs.profile import CouncilProfile
from lanhmanh.scorecards.outputs.scorecard.book import NATIONAL_FORMS_MAX, UNIT_FORMS_MAX
from lanhmanh.scorecards.outputs.scorecard.heading import HEADING_ROWS, document_title, draw_heading, draw_signatures
from lanhmanh.scorecards.outputs.scorecard.workbook import write_scorecard

SUMMARY_FILE = "toan-quoc.xlsx"
NATIONAL_SHEET = "Toàn quốc"
TARGETS_SHEET = "Chỉ tiêu"
NOT_IN_BATCH = "Không có trong lô"
PROGRAMME_GOAL = ("Mục tiêu của Chương trình: đến năm 2030 ít nhất 50% đơn vị cấp xã không ma túy "
                  "(ghi để tham chiếu, không kiểm tra)")
NATIONAL_LABEL = "Toàn quốc"
CHART_SHEET = "Biểu đồ"
FORMS_LABEL = "Lập phiếu từng đơn vị cho một tỉnh"


# ---- file names ---------------------------------------------------------------------------------

def ascii_slug(text: str) -> str:
    """'Nghệ An' → 'nghe-an', 'Đắk Lắk' → 'dak-lak': diacritics stripped, đ → d, lower case."""
    text = text.replace("đ", "d").replace("Đ", "D")
    plain = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    plain = re.sub(r"^(thanh pho|tinh)\s+", "", plain.strip(), flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")


def province_file_name(code: str, name: str) -> str:
    """'40-nghe-an.xlsx'; '40.xlsx' when the province has no name besides its code."""
    slug = ascii_slug(name) if name and name != code else ""
    return f"{code}-{slug}.xlsx" if slug else f"{code}.xlsx"


# ---- a province's view of the batch --------------------------------------------------------------

def province_batch(batch: BatchResult, code: str, n_rejected: int = 0,
                   units: Optional[list[UnitResult]] = None) -> BatchResult:
    """The batch restricted to one province: its units (national ranks kept; `units` when the
    caller has picked them out already), its roll-up, the warnings of its rows; the notes say the
    ranks are national and where the rejected rows are."""
    if units is None:
        units = [r for r in batch.units if r.unit.province_code == code]
    rows = {(r.unit.path, r.unit.row, r.unit.sheet) for r in units}
    rows |= {(p.row.path, p.row.row, p.row.sheet) for p in batch.provinces
             if p.province_code == code and p.row is not None}
    warnings = [w for w in batch.warnings if (w.path, w.row, w.sheet) in rows
                or (not w.path and f"province {code}:" in w.message)]
    notes = list(batch.notes)
    notes.append(f"Trích từ lô toàn quốc ({len(batch.units)} đơn vị, {len(batch.provinces)} tỉnh): "
                 "cột Hạng toàn quốc là thứ hạng trong cả lô")
    if n_rejected:
        notes.append(f"{n_rejected} dòng dữ liệu của lô bị loại: xem {SUMMARY_FILE}, trang {REJECTS}")
    return BatchResult(batch.pack, batch.engine, units, [p for p in batch.provinces if p.province_code == code],
                       [], warnings, list(batch.inputs), notes=notes, previous=batch.previous, year=batch.year)


# ---- the national figures ------------------------------------------------------------------------

@dataclass
class ProvinceLine:
    code: str
    name: str
    file: str
    n_units: int
    counts: dict[str, int]
    class_id: Optional[str]  # the province class (packs with a province level)
    rank: int = 0
    digest: str = ""


@dataclass
class National:
    batch: BatchResult
    classes: list[str]  # best first
    lines: list[ProvinceLine]  # in rank order
    checks: list = field(default_factory=list)  # targets.TargetCheck

    @property
    def best(self) -> str:
        return self.classes[0]


def national_figures(batch: BatchResult, checks: Optional[list] = None) -> National:
    """One line per province ranked by the share of the best class (exact; equal shares share a
    rank, listed by code), with its file name."""
    classes = class_order(batch.pack.commune, batch)
    year = batch_year(batch)
    lines, used = [], set()
    for p in batch.provinces:
        name = province_name(p.province_code, year)
        fname = province_file_name(p.province_code, name)
        while fname in used:  # two codes with one slug cannot happen (the code leads), but be sure
            fname = fname[:-5] + "-1.xlsx"
        used.add(fname)
        lines.append(ProvinceLine(p.province_code, name, fname, p.n_units, dict(p.class_counts),
                                  p.outcome.class_id if p.outcome is not None else None))
    best = classes[0]
    share = {ln.code: Fraction(ln.counts.get(best, 0), ln.n_units) for ln in lines}
    lines.sort(key=lambda ln: (-share[ln.code], ln.code))
    prev, rank = None, 0
    for i, ln in enumerate(lines, start=1):
        if share[ln.code] != prev:
            rank, prev = i, share[ln.code]
        ln.rank = rank
    return National(batch, classes, lines, list(checks or []))


# ---- writing the folder ------------------------------------------------------------------------

def write_national(batch: BatchResult, out_dir: Path, checks: Optional[list] = None,
                   step: Optional[Callable[[], None]] = None, now: Optional[dt.datetime] = None,
                   workers: int = 1, profile: Optional[CouncilProfile] = None) -> National:
    """Write every province workbook and the summary into `out_dir` (see the module docstring for
    how a failure is left). `step()` is called after each workbook. Raises OSError when the folder
    cannot be written; nothing looking complete is left behind then."""
    now = now or dt.datetime.now(dt.timezone.utc)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(20, "not a folder", str(out_dir))
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    nat = national_figures(batch, checks)
    sweep_stale(out_dir.parent)  # the staging folders of killed runs, left for 15 minutes or more
    stage = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", suffix=".partial", dir=out_dir.parent))
    try:
        os.chmod(stage, 0o777 & ~_umask())
        profile = profile or CouncilProfile()
        write_provinces(nat, stage, now, step, workers, profile,
                        meanwhile=lambda: write_summary(nat, stage / SUMMARY_FILE, now, profile))
        if step:
            step()
        publish(stage, out_dir, [ln.file for ln in nat.lines])
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    return nat


# a national batch larger than this gets no printable per-unit sheets in its province workbooks:
# 10,000 such sheets are three quarters of a national run's time (a province runs its own batch
# for the sheets it signs)
UNIT_SHEETS_BATCH_MAX = NATIONAL_FORMS_MAX


def write_provinces(nat: National, folder: Path, now: dt.datetime, step, workers: int,
                    profile: CouncilProfile, meanwhile: Optional[Callable[[], None]] = None) -> None:
    """Every province workbook, by `workers` processes when more than one, the largest first; the
    digests, then `meanwhile()` (the summary), made by this process while they write."""
    n_rejected = len({(r.path, r.row, r.sheet) for r in nat.batch.rejected})
    unit_sheets = None if len(nat.batch.units) <= UNIT_SHEETS_BATCH_MAX else False
    by_province: dict[str, list[UnitResult]] = {ln.code: [] for ln in nat.lines}
    for r in nat.batch.units:  # in rank order, as each province's units are
        if r.unit.province_code in by_province:
            by_province[r.unit.province_code].append(r)
    views = [(province_batch(nat.batch, ln.code, n_rejected, by_province[ln.code]), ln) for ln in nat.lines]
    views.sort(key=lambda v: -len(v[0].units))  # the largest first: the writers end together

    def digests_then_meanwhile() -> None:
        for view, ln in views:
            ln.digest = results_digest(view)
        if meanwhile is not None:
            meanwhile()

    if workers > 1 and len(views) > 1:
        context = multiprocessing.get_context()
        inherit = context.get_start_method() == "fork"  # a forked writer has the views already: no pickling
        _VIEWS[:] = views if inherit else []
        try:
            with ProcessPoolExecutor(workers, mp_context=context) as pool:
                futures = [pool.submit(_write_view, i, None if inherit else view, folder / ln.file, now,
                                       unit_sheets, profile) for i, (view, ln) in enumerate(views)]
                digests_then_meanwhile()
                for fut in futures:
                    fut.result()
                    if step:
                        step()
        finally:
            _VIEWS.clear()
        return
    for view, ln in views:
        write_scorecard(view, folder / ln.file, now, unit_sheets, profile)
        if step:
            step()
    digests_then_meanwhile()


_VIEWS: list = []  # (province batch, line) of the run, for writer processes forked from this one


def _write_view(i: int, view: Optional[BatchResult], path: Path, now: dt.datetime, unit_sheets,
                profile: CouncilProfile) -> None:
    """A writer process's task: province `i` of the run (`view` when it was not inherited)."""
    write_scorecard(view if view is not None else _VIEWS[i][0], path, now, unit_sheets, profile)


def publish(stage: Path, out_dir: Path, files: list[str]) -> None:
    """Move the finished run from the temporary folder to `out_dir`: one rename for a new (or
    empty) folder; else the old summary removed, the workbooks moved, the summary last."""
    if out_dir.is_dir() and not any(out_dir.iterdir()):
        out_dir.rmdir()
    if not out_dir.exists():
        os.rename(stage, out_dir)
        return
    old = out_dir / SUMMARY_FILE
    if old.exists():
        old.unlink()
    for f in files:
        os.replace(stage / f, out_dir / f)
    os.replace(stage / SUMMARY_FILE, out_dir / SUMMARY_FILE)
    stage.rmdir()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# ---- the summary workbook --------------------------------------------------------------------------

def write_summary(nat: National, out: Path, now: dt.datetime, profile: Optional[CouncilProfile] = None) -> None:
    write_workbook(out, WORKBOOK_OPTIONS, lambda wb: build_summary(wb, nat, now, profile or CouncilProfile()))


class Formats:
    """The summary's cell formats (every one centred vertically)."""

    def __init__(self, wb, classes: list[str]):
        def fmt(**properties):
            return house_format(wb, **{"valign": "vcenter", **properties})

        self.title = fmt(bold=True, font_size=14)
        self.head = fmt(bold=True, bg_color=HEAD_BG, border=1, text_wrap=True, align="center")
        self.text = fmt(border=1)
        self.wrap = fmt(border=1, text_wrap=True)
        self.center = fmt(border=1, align="center")
        self.int = fmt(border=1, num_format="0")
        self.pct = fmt(border=1, num_format="0.00%")
        self.total_text = fmt(border=1, bold=True)
        self.total_int = fmt(border=1, bold=True, num_format="0")
        self.total_pct = fmt(border=1, bold=True, num_format="0.00%")
        self.note = fmt(italic=True, text_wrap=True)
        best, worst = class_colours(["a", "b"], "a")[0], class_colours(["a", "b"], "b")[0]
        self.met = fmt(border=1, align="center", bg_color=best)
        self.not_met = fmt(border=1, align="center", bg_color=worst)
        self.cls = {c: fmt(border=1, bg_color=class_colours(classes, c)[0]) for c in classes}
        self.strong = {c: class_colours(classes, c)[1] for c in classes}


def build_summary(wb, nat: National, now: dt.datetime, profile: Optional[CouncilProfile] = None) -> None:
    pack = nat.batch.pack
    fmt = Formats(wb, nat.classes)
    profile = profile or CouncilProfile()
    national_sheet(wb, nat, fmt, now, profile)
    chart_sheet(wb, nat)
    if nat.checks:
        targets_sheet(wb, nat, fmt)
    problems_sheet(wb, nat, REJECTS, ["Tệp", "Trang", "Dòng", "Cột", "Mã đơn vị", "Tên đơn vị", "Giá trị", "Lý do"],
                   fmt, [(r.path, r.sheet or "", r.row, r.column, r.unit_code or "", r.unit_name or "", r.value,
                          r.reason) for r in nat.batch.rejected])
    problems_sheet(wb, nat, WARNINGS, ["Tệp", "Trang", "Dòng", "Cột", "Nội dung"], fmt,
                   [(w.path, w.sheet or "", w.row, w.column or "", w.message) for w in nat.batch.warnings])
    info_sheet(wb, nat, fmt, now)
    wb.set_properties({"title": f"Tổng hợp toàn quốc — {pack.title}", "subject": f"{pack.id} {pack.version}",
                       "comments": "Tạo bởi lanhmanh"})
    # what tells lanhmanh's own outputs from submissions in an input folder (xlsx_reader.made_by_lanhmanh)
    for name, value in (("lanhmanh.document", "national_summary"), ("lanhmanh.pack_id", pack.id),
                        ("lanhmanh.pack_version", pack.version)):
        wb.set_custom_property(name, value, "text")


def forms_text(nat: National) -> str:
    """Where the per-unit forms of a national run are (printed under the national table)."""
    if len(nat.batch.units) > UNIT_SHEETS_BATCH_MAX:
        return (f"Phiếu đánh giá từng đơn vị cấp xã không được lập trong lô này (lô toàn quốc trên "
                f"{UNIT_SHEETS_BATCH_MAX:,} đơn vị)".replace(",", ".") + ". Để lập phiếu cho một tỉnh, chấm "
                "riêng tệp số liệu của tỉnh đó (lệnh ghi ở trang Thông tin).")
    return ("Phiếu đánh giá từng đơn vị cấp xã: trong tệp kết quả của từng tỉnh (cột «Tệp kết quả của tỉnh»), "
            f"mỗi đơn vị một trang tính, với tỉnh có đến {UNIT_FORMS_MAX} đơn vị; tỉnh lớn hơn chấm riêng "
            "tệp số liệu của tỉnh đó (lệnh ghi ở trang Thông tin).")


def national_sheet(wb, nat: National, fmt: Formats, now: dt.datetime, profile: CouncilProfile) -> None:
    """An administrative document: the heading block; per province the counts per class, shares as
    formulas, the province class; totals; where the forms are; signatures and Nơi nhận."""
    ws = wb.add_worksheet(NATIONAL_SHEET)
    ws.activate()
    pack, level = nat.batch.pack, nat.batch.pack.commune
    labels = {c: level.class_label(c) for c in nat.classes}
    has_prov = pack.province is not None and any(ln.class_id for ln in nat.lines)
    n_cls = len(nat.classes)
    c_units, c_count0 = 3, 4
    c_share0 = c_count0 + n_cls
    c_prov = c_share0 + n_cls
    c_file = c_prov + (1 if has_prov else 0)
    prov_labels = [pack.province.class_label(ln.class_id) if ln.class_id and pack.province is not None else DASH
                   for ln in nat.lines]
    widths = [11.0, 7.0, 22.0] + [12.0] * (c_prov - c_units)
    widths += [text_width(prov_labels, 16, 32)] if has_prov else []
    widths += [text_width([ln.file for ln in nat.lines], 16, 30)]
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    head = draw_heading(ws, wb, pack, profile, now.date(), widths, 0,
                        document_title(pack, batch_year(nat.batch), "TOÀN QUỐC"), "national")
    heads = ([f"Hạng (theo tỷ lệ {labels[nat.best]})", "Mã tỉnh", "Tỉnh, thành phố", "Số đơn vị"]
             + [f"Số đơn vị: {labels[c]}" for c in nat.classes] + [f"Tỷ lệ: {labels[c]}" for c in nat.classes]
             + (["Xếp loại cấp tỉnh"] if has_prov else []) + ["Tệp kết quả của tỉnh"])
    for j, h in enumerate(heads):
        ws.write_string(head, j, h, fmt.head)
    ws.set_row(head, 15 * max(text_lines(h, w) for h, w in zip(heads, widths)))
    first = head + 1
    for i, ln in enumerate(nat.lines):
        row = first + i
        ws.write_number(row, 0, ln.rank, fmt.int)
        ws.write_string(row, 1, ln.code, fmt.center)
        ws.write_string(row, 2, ln.name, fmt.text)
        ws.write_number(row, c_units, ln.n_units, fmt.int)
        _class_cells(ws, row, nat, ln.counts, ln.n_units, c_units, c_count0, c_share0, fmt.int, fmt.pct)
        if has_prov:
            ws.write_string(row, c_prov, prov_labels[i], fmt.wrap)
            fit_row(ws, row, [(prov_labels[i], widths[c_prov])])
        ws.write_url(row, c_file, f"external:{ln.file}", fmt.text, ln.file)
    last = first + len(nat.lines) - 1
    total = last + 1
    ws.write_string(total, 0, "", fmt.total_text)
    ws.write_string(total, 1, "", fmt.total_text)
    ws.write_string(total, 2, NATIONAL_LABEL, fmt.total_text)
    n_all = sum(ln.n_units for ln in nat.lines)
    sums = {c: sum(ln.counts.get(c, 0) for ln in nat.lines) for c in nat.classes}
    for j, value in [(c_units, n_all)] + [(c_count0 + k, sums[c]) for k, c in enumerate(nat.classes)]:
        col = xl_col_to_name(j)
        ws.write_formula(total, j, f"=SUM({col}{first + 1}:{col}{last + 1})", fmt.total_int, value)
    _share_formulas(ws, total, nat, sums, n_all, c_units, c_count0, c_share0, fmt.total_pct)
    note = forms_text(nat)
    ws.merge_range(total + 2, 0, total + 2, c_file, "", fmt.note)
    ws.write_string(total + 2, 0, note, fmt.note)
    ws.set_row(total + 2, 15 * text_lines(note, sum(widths)))
    end = draw_signatures(ws, wb, pack, profile, widths, total + 4, "national")
    ws.freeze_panes(first, 3, first, 3)
    ws.autofilter(head, 0, last, c_file)
    page_setup(ws, pack, "Tổng hợp toàn quốc", landscape=True, title_rows=(head, head))
    ws.print_area(0, 0, end - 1, c_file)


def chart_sheet(wb, nat: National) -> None:
    """"Biểu đồ": the classes per province as stacked bars, alone on one page (a chart under the
    table was cut across pages, with the repeated headings drawn over it)."""
    ws = wb.add_worksheet(CHART_SHEET)
    head = HEADING_ROWS  # the national table's heading row, under the heading block
    first, last = head + 1, head + len(nat.lines)
    strong = {c: class_colours(nat.classes, c)[1] for c in nat.classes}
    chart = wb.add_chart({"type": "bar", "subtype": "stacked"})
    for k, c in enumerate(nat.classes):
        col = 4 + k
        chart.add_series({"name": [NATIONAL_SHEET, head, col], "categories": [NATIONAL_SHEET, first, 2, last, 2],
                          "values": [NATIONAL_SHEET, first, col, last, col], "fill": {"color": strong[c]},
                          "gap": 40})
    chart.set_title({"name": "Xếp loại đơn vị cấp xã theo tỉnh, thành phố"})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 900, "height": max(420, 18 * len(nat.lines) + 140)})
    ws.insert_chart(0, 0, chart)
    page_setup(ws, nat.batch.pack, "Biểu đồ", landscape=len(nat.lines) <= 20, one_page=True)


def _class_cells(ws, row, nat, counts, n_units, c_units, c_count0, c_share0, f_int, f_pct) -> None:
    for k, c in enumerate(nat.classes):
        ws.write_number(row, c_count0 + k, counts.get(c, 0), f_int)
    _share_formulas(ws, row, nat, counts, n_units, c_units, c_count0, c_share0, f_pct)


def _share_formulas(ws, row, nat, counts, n_units, c_units, c_count0, c_share0, f_pct) -> None:
    """Share = count / units as a formula; its cached value is the exact fraction, shown rounded."""
    units = xl_rowcol_to_cell(row, c_units)
    for k, c in enumerate(nat.classes):
        cnt = xl_rowcol_to_cell(row, c_count0 + k)
        share = Fraction(counts.get(c, 0), n_units) if n_units else Fraction(0)
        ws.write_formula(row, c_share0 + k, f"=IF({units}=0,0,{cnt}/{units})", f_pct, float(share))


def targets_sheet(wb, nat: National, fmt: Formats) -> None:
    """Each target against the actual share: met when actual ≥ target (decided with Fractions)."""
    ws = wb.add_worksheet(TARGETS_SHEET)
    level = nat.batch.pack.commune
    heads = ["Mã tỉnh", "Tỉnh, thành phố", "Xếp loại", "Chỉ tiêu", "Số đơn vị đạt xếp loại", "Số đơn vị",
             "Tỷ lệ thực tế", "Tỷ lệ thực tế (phân số)", "Kết quả"]
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, fmt.head)
    ws.set_row(0, 45)
    names = {ln.code: ln.name for ln in nat.lines}
    for i, chk in enumerate(nat.checks, start=1):
        t = chk.target
        national = t.province_code == NATIONAL
        ws.write_string(i, 0, "" if national else t.province_code, fmt.center)
        ws.write_string(i, 1, NATIONAL_LABEL if national else names.get(t.province_code)
                        or province_name(t.province_code, batch_year(nat.batch)), fmt.text)
        ws.write_string(i, 2, level.class_label(t.class_id), fmt.text)
        ws.write_number(i, 3, float(t.share), fmt.pct)
        ws.write_number(i, 4, chk.count, fmt.int)
        ws.write_number(i, 5, chk.n_units, fmt.int)
        if chk.actual is None:
            ws.write_string(i, 6, DASH, fmt.center)
            ws.write_string(i, 7, DASH, fmt.center)
            ws.write_string(i, 8, NOT_IN_BATCH, fmt.center)
            continue
        ws.write_formula(i, 6, f"=IF(F{i + 1}=0,0,E{i + 1}/F{i + 1})", fmt.pct, float(chk.actual))
        ws.write_string(i, 7, f"{chk.count}/{chk.n_units}", fmt.center)
        ws.write_string(i, 8, met_text(chk.met), fmt.met if chk.met else fmt.not_met)
    row = len(nat.checks) + 2
    if not any(c.target.province_code == NATIONAL for c in nat.checks):
        ws.write_string(row, 0, PROGRAMME_GOAL, fmt.note)
        row += 1
    ws.write_string(row, 0, "Đạt khi tỷ lệ thực tế bằng hoặc cao hơn chỉ tiêu (so sánh chính xác bằng phân số).",
                    fmt.note)
    for j, w in enumerate([8, 22, 30, 10, 12, 10, 12, 14, 16]):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    page_setup(ws, nat.batch.pack, TARGETS_SHEET, landscape=True, title_rows=(0, 0))


def problems_sheet(wb, nat: National, name: str, heads: list[str], fmt: Formats, rows: list[tuple]) -> None:
    ws = wb.add_worksheet(name)
    for j, h in enumerate(heads):
        ws.write_string(0, j, h, fmt.head)
    for i, values in enumerate(rows, start=1):
        for j, v in enumerate(values):
            if isinstance(v, int) and not isinstance(v, bool):
                ws.write_number(i, j, v, fmt.int)
            else:
                ws.write_string(i, j, "" if v is None else str(v), fmt.wrap)
    if not rows:
        ws.write_string(1, 0, "Không có", fmt.text)
    for j, w in enumerate([30, 10, 7, 22] + [24] * (len(heads) - 5) + [70]):
        ws.set_column(j, j, w)
    page_setup(ws, nat.batch.pack, name, landscape=True, title_rows=(0, 0))
    if not rows:  # nothing to print: the print area is a blank cell (LibreOffice skips the empty page)
        ws.print_area(3, 0, 3, 0)


def info_sheet(wb, nat: National, fmt: Formats, now: dt.datetime) -> None:
    ws = wb.add_worksheet(INFO)
    batch, pack = nat.batch, nat.batch.pack
    rows = [("Bộ tiêu chí", f"{pack.title} ({pack.id})"), ("Phiên bản", str(pack.version)),
            ("Trạng thái", status_text(pack.status)), ("Bộ máy tính", batch.engine),
            ("Thời điểm tạo", now.strftime("%Y-%m-%d %H:%M:%S UTC")),
            ("Số đơn vị", str(len(batch.units))), ("Số tỉnh", str(len(nat.lines))),
            ("Mã kiểm tra kết quả cả lô (SHA-256)", results_digest(batch))]
    rows += [("Dữ liệu đầu vào", f"{source['path']} (sha256 {source['sha256']}, {source['rows']} dòng)")
             for source in batch.inputs]
    rows += [(NOTE_LABEL, note) for note in batch.notes]
    rows += [(f"Tệp {ln.file}", f"mã kiểm tra {ln.digest}") for ln in nat.lines]
    rows.append((FORMS_LABEL, f"lanhmanh score <tệp số liệu của tỉnh> --rules {pack.id} --out <tệp kết quả>.xlsx"))
    ws.write_string(0, 0, "Mục", fmt.head)
    ws.write_string(0, 1, "Nội dung", fmt.head)
    for i, (label, value) in enumerate(rows, start=1):
        ws.write_string(i, 0, label, fmt.wrap)
        ws.write_string(i, 1, value, fmt.wrap)
        fit_row(ws, i, [(label, 36), (value, 100)])
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 100)
    page_setup(ws, pack, INFO, landscape=True, title_rows=(0, 0))


__all__ = ["NATIONAL_SHEET", "SUMMARY_FILE", "TARGETS_SHEET", "ascii_slug", "national_figures", "province_batch",
           "province_file_name", "write_national"]
