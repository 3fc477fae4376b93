"""The workbook of `lanhmanh diff OLD NEW INPUT... --out FILE.xlsx`, in Vietnamese: the rule
changes, the units whose class, total or rank changed, the old-class × new-class matrix, the
provinces, the units scored on one side only, and where it all came from."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from lanhmanh.engine.analysis.diff import REJECTED, RESIDUAL, Impact
from lanhmanh.engine.model.pack import UNCLASSIFIED
from lanhmanh.i18n import _
from lanhmanh.scorecards.outputs.atomic import write_workbook
from lanhmanh.scorecards.outputs.presentation import HEAD_BG, INFO, NO, WORKBOOK_OPTIONS, YES, house_format
from lanhmanh.version import __version__


def class_counts_text(pack, p, labels: bool = False) -> str:
    """A province's communes by class, in the pack's class order (by id, or by Vietnamese label)."""
    if p is None:
        return "" if labels else _("(none)")
    order = [c.id for c in pack.commune.classes] + [UNCLASSIFIED]
    if labels:
        return "; ".join(f"{pack.commune.class_label(k)}: {p.class_counts[k]}" for k in order if p.class_counts.get(k))
    return ", ".join(f"{k} {p.class_counts[k]}" for k in order if p.class_counts.get(k))


OPS_VI = {"+": "Thêm", "-": "Bỏ", "~": "Sửa"}
LEVELS_VI = {"pack": "Gói", "commune": "Cấp xã", "province": "Cấp tỉnh"}
KINDS_VI = {"pack": "Gói quy tắc", "group": "Nhóm tiêu chí", "indicator": "Chỉ tiêu", "derived": "Giá trị tính",
            "constraint": "Ràng buộc", "criterion": "Tiêu chí", "veto": "Điểm liệt", "class": "Loại",
            "classes": "Thứ tự xét loại", "ranking": "Xếp hạng", "level": "Cấp đánh giá"}
FIELDS_VI = {"condition": "điều kiện", "points": "điểm", "label": "nhãn", "title": "tên", "note": "ghi chú",
             "cite": "trích dẫn", "group": "nhóm", "tier": "mức", "aspect": "khía cạnh", "min": "tối thiểu",
             "max": "tối đa", "type": "kiểu", "required": "bắt buộc", "decimals": "số chữ số thập phân",
             "unit": "đơn vị tính", "description": "mô tả", "expr": "công thức",
             "zero_denominator": "khi mẫu số bằng 0", "rule": "quy tắc", "message": "thông báo",
             "order": "thứ tự", "best first": "thứ tự loại (tốt nhất trước)", "then": "tiêu chí phụ",
             "bands": "các mức", "id": "mã", "version": "phiên bản", "status": "trạng thái",
             "effective_from": "hiệu lực từ", "effective_to": "hiệu lực đến", "engine_min": "phiên bản máy tối thiểu",
             "reading": "cách đọc", "sources": "văn bản nguồn", "tiers": "các mức loại"}
RESIDUAL_VI = "loại còn lại (mọi đơn vị không thuộc các loại xét trước)"
CHANGES_VI = {"class": "Xếp loại", "total": "Tổng điểm", "rank": "Thứ hạng", "criteria": "Tiêu chí"}


def _field_vi(name) -> str:
    if not name:
        return ""
    if name.startswith("band "):
        k, rest = name[5:].split(" ", 1)
        return f"mức {k}: {FIELDS_VI.get(rest, rest)}"
    return FIELDS_VI.get(name, name)


def write_diff_workbook(out: Path, old_pack, new_pack, changes, old_batch, new_batch, impact) -> None:
    """The comparison as a workbook: rule changes, changed units, the class matrix, the provinces,
    the units scored on one side only, and where it all came from. Written atomically."""
    def build(wb) -> None:
        fmt = Formats(wb)
        _rules_sheet(wb, fmt, changes)
        if impact is not None:
            _units_sheet(wb, fmt, old_batch, new_batch, impact)
            _matrix_sheet(wb, fmt, old_batch, new_batch, impact)
            if old_pack.province is not None or new_pack.province is not None:
                _provinces_sheet(wb, fmt, old_batch, new_batch, impact)
            _one_sided_sheet(wb, fmt, old_batch, new_batch, impact)
        _info_sheet(wb, fmt, old_pack, new_pack, old_batch)

    write_workbook(out, WORKBOOK_OPTIONS, build)


class Formats:
    def __init__(self, wb):
        self.head = house_format(wb, bold=True, bg_color=HEAD_BG, border=1, text_wrap=True, valign="vcenter")
        self.text = house_format(wb, text_wrap=True, valign="top")
        self.num = house_format(wb, valign="top")
        self.bold = house_format(wb, bold=True)


def _table(ws, fmt: Formats, heads: Sequence[tuple[str, float]], rows: list[list], top: int = 0) -> None:
    """Headings, then rows (ints as numbers, None blank, the rest as text); frozen headings, filters."""
    for c, (h, w) in enumerate(heads):
        ws.set_column(c, c, w)
        ws.write_string(top, c, h, fmt.head)
    for r, row in enumerate(rows, start=top + 1):
        for c, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, int) and not isinstance(v, bool):
                ws.write_number(r, c, v, fmt.num)
            else:
                ws.write_string(r, c, str(v), fmt.text)
    ws.freeze_panes(top + 1, 0)
    ws.autofilter(top, 0, top + max(len(rows), 1), len(heads) - 1)


def _rules_sheet(wb, fmt: Formats, changes) -> None:
    ws = wb.add_worksheet("Thay đổi quy tắc")
    heads = [("Thay đổi", 9), ("Cấp", 10), ("Mục", 16), ("Mã", 14), ("Phần thay đổi", 22), ("Cũ", 60),
             ("Mới", 60), ("Ảnh hưởng kết quả", 12)]
    def shown(value):
        return RESIDUAL_VI if value == RESIDUAL else value

    rows = [[OPS_VI[c.op], LEVELS_VI[c.level], KINDS_VI.get(c.kind, c.kind), None if c.kind == "pack" else c.id,
             _field_vi(c.field), shown(c.old), shown(c.new), YES if c.effect else NO] for c in changes]
    _table(ws, fmt, heads, rows)


def _criterion_change_vi(change) -> str:
    """'C2: đạt (10 điểm) → không đạt (0 điểm)'."""
    def side(result):
        if result is None:
            return "không có"
        met, points = result[0], result[1]
        return ("đạt" if met else "không đạt") + (f" ({points} điểm)" if points is not None else "")
    return f"{change.id}: {side(change.old)} → {side(change.new)}"


def _units_sheet(wb, fmt: Formats, old_batch, new_batch, impact: Impact) -> None:
    ws = wb.add_worksheet("Đơn vị thay đổi")
    old_level, new_level = old_batch.pack.commune, new_batch.pack.commune
    heads = [("Mã đơn vị", 10), ("Tên đơn vị", 24), ("Tỉnh", 6), ("Thay đổi", 11), ("Loại cũ", 28),
             ("Loại mới", 28), ("Tổng điểm cũ", 9), ("Tổng điểm mới", 9), ("Hạng cũ", 8), ("Hạng mới", 8),
             ("Hạng trong tỉnh cũ", 9), ("Hạng trong tỉnh mới", 9), ("Tiêu chí khác nhau", 50)]
    rows = []
    for c in impact.changes:
        old, new = c.old, c.new
        rows.append([c.code, old.unit.name, old.unit.province_code, CHANGES_VI[c.change],
                     old_level.class_label(old.outcome.class_id), new_level.class_label(new.outcome.class_id),
                     old.outcome.total, new.outcome.total, old.rank_national, new.rank_national,
                     old.rank_province, new.rank_province,
                     "\n".join(_criterion_change_vi(x) for x in c.criteria) or None])
    _table(ws, fmt, heads, rows)


def _matrix_sheet(wb, fmt: Formats, old_batch, new_batch, impact: Impact) -> None:
    ws = wb.add_worksheet("Ma trận loại")
    m = impact.matrix
    old_level, new_level = old_batch.pack.commune, new_batch.pack.commune

    def name(level, class_id):
        return "Bị loại (không chấm)" if class_id == REJECTED else level.class_label(class_id)

    ws.write_string(0, 0, f"Hàng: loại theo {old_batch.pack.id} {old_batch.pack.version}; cột: loại theo "
                          f"{new_batch.pack.id} {new_batch.pack.version}", fmt.bold)
    ws.set_column(0, 0, 40)
    ws.set_column(1, len(m.columns) + 1, 18)
    ws.write_string(2, 0, "Loại cũ \\ loại mới", fmt.head)
    for j, c in enumerate(m.columns, start=1):
        ws.write_string(2, j, name(new_level, c), fmt.head)
    ws.write_string(2, len(m.columns) + 1, "Tổng", fmt.head)
    for i, r in enumerate(m.rows, start=3):
        ws.write_string(i, 0, name(old_level, r), fmt.head)
        for j, c in enumerate(m.columns, start=1):
            ws.write_number(i, j, m.counts[r][c], fmt.num)
        ws.write_number(i, len(m.columns) + 1, m.row_total(r), fmt.num)
    last = 3 + len(m.rows)
    ws.write_string(last, 0, "Tổng", fmt.head)
    for j, c in enumerate(m.columns, start=1):
        ws.write_number(last, j, m.column_total(c), fmt.num)
    ws.write_number(last, len(m.columns) + 1, sum(m.row_total(r) for r in m.rows), fmt.num)


def _provinces_sheet(wb, fmt: Formats, old_batch, new_batch, impact: Impact) -> None:
    ws = wb.add_worksheet("Tỉnh")
    old_pack, new_pack = old_batch.pack, new_batch.pack

    def label(pack, p):
        if p is None or p.outcome is None or pack.province is None:
            return None
        return pack.province.class_label(p.outcome.class_id)

    heads = [("Mã tỉnh", 8), ("Số đơn vị (cũ)", 9), ("Số đơn vị (mới)", 9), ("Loại cũ", 30), ("Loại mới", 30),
             ("Số xã theo loại (cũ)", 40), ("Số xã theo loại (mới)", 40), ("Tiêu chí khác nhau", 40)]
    rows = [[p.province_code, p.old.n_units if p.old else None, p.new.n_units if p.new else None,
             label(old_pack, p.old), label(new_pack, p.new), class_counts_text(old_pack, p.old, True),
             class_counts_text(new_pack, p.new, True),
             "\n".join(_criterion_change_vi(x) for x in p.criteria) or None]
            for p in impact.provinces]
    _table(ws, fmt, heads, rows)


def _one_sided_sheet(wb, fmt: Formats, old_batch, new_batch, impact: Impact) -> None:
    ws = wb.add_worksheet("Chỉ chấm một bên")
    heads = [("Mã đơn vị", 10), ("Tên đơn vị", 24), ("Tỉnh", 6), ("Chấm theo gói", 20), ("Loại", 30),
             ("Lý do gói kia không chấm", 70)]
    rows = []
    for sided, batch in ((impact.only_old, old_batch), (impact.only_new, new_batch)):
        for s in sided:
            u = s.result.unit
            rows.append([u.code, u.name, u.province_code, batch.pack.id,
                         batch.pack.commune.class_label(s.result.outcome.class_id), "; ".join(s.reasons)])
    _table(ws, fmt, heads, rows)


def _info_sheet(wb, fmt: Formats, old_pack, new_pack, old_batch) -> None:
    ws = wb.add_worksheet(INFO)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 90)
    rows = [("Gói cũ", f"{old_pack.id} {old_pack.version} ({old_pack.status})"), ("Tệp gói cũ", old_pack.path),
            ("sha256 gói cũ", old_pack.sha256),
            ("Gói mới", f"{new_pack.id} {new_pack.version} ({new_pack.status})"), ("Tệp gói mới", new_pack.path),
            ("sha256 gói mới", new_pack.sha256)]
    for source in (old_batch.inputs if old_batch is not None else []):
        rows.append(("Tệp số liệu", f"{source['path']} ({source['rows']} dòng) sha256 {source['sha256']}"))
    rows.append(("Máy tính", f"lanhmanh {__version__}"))
    for r, (k, v) in enumerate(rows):
        ws.write_string(r, 0, k, fmt.bold)
        ws.write_string(r, 1, str(v), fmt.text)
