"""What the report says, apart from how it is laid out: the subject line, the "Căn cứ" lines, the
results per class (count, share as an exact fraction shown as a percentage, last year's count),
the provinces' own class and criteria, and the units per class for the annex. Labels only: no
class id, indicator id or expression reaches the text."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Optional

from lanhmanh.engine.batch.previous import best_class, key_area_classes
from lanhmanh.engine.evaluation.scoring import BatchResult, ProvinceResult, UnitResult
from lanhmanh.engine.model.pack import UNDETERMINED, Pack
from lanhmanh.scorecards.outputs.presentation import batch_year, class_order, province_name, vn_number
from lanhmanh.scorecards.outputs.profile import date_words  # noqa: F401  (the report's dates)
from lanhmanh.scorecards.outputs.scorecard.heading import basis_texts as basis_lines  # noqa: F401
from lanhmanh.scorecards.outputs.scorecard.heading import sentence_start

ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")
# a source's title that starts with a verb follows the document's name directly; otherwise "về"

@dataclass
class ClassLine:
    label: str
    count: int
    share: Fraction  # of the units scored
    colour_rank: str  # the class id, for its colour only (never shown)
    previous: Optional[int] = None  # last year's count among the units of both years


@dataclass
class CriterionLine:
    title: str
    result: str  # Đạt / Không đạt / Chưa xác định
    cite: str


@dataclass
class ProvinceLine:
    name: str  # "tỉnh Nghệ An"
    class_label: str
    met: int
    n_criteria: int
    criteria: list[CriterionLine]
    notes: list[str]


def percent_text(share: Fraction) -> str:
    """18/130 → '13,85' (two decimals, half up, Vietnamese comma); the fraction itself is exact."""
    q = (Decimal(share.numerator) * 100 / Decimal(share.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    whole, _, frac = f"{q:f}".partition(".")
    return f"{vn_number(int(whole))},{frac}"


def change_text(before: Optional[int], now: int) -> str:
    if before is None:
        return "—"
    if now > before:
        return f"Tăng {now - before}"
    if now < before:
        return f"Giảm {before - now}"
    return "Không đổi"


def pack_subject(pack: Pack) -> str:
    """The pack's title as the object of 'Kết quả đánh giá, phân loại theo …', without the
    parenthesis that names the decision and the reading."""
    title = re.sub(r"\s*\([^()]*\)\s*$", "", pack.title).strip()
    return sentence_start(title)


def area_name(code: str, year: Optional[int]) -> str:
    """'tỉnh Nghệ An', 'thành phố Hà Nội' (the official list's name; its type word added when the
    list gives the bare name)."""
    name = province_name(code, year)
    if name == code:
        return f"tỉnh, thành phố mã {code}"
    if name.startswith(("Tỉnh ", "Thành phố ")):
        return sentence_start(name)
    return f"tỉnh {name}"


def places(batch: BatchResult) -> Optional[str]:
    """'tỉnh Nghệ An' when the batch is one province's, else None."""
    codes = sorted({p.province_code for p in batch.provinces})
    return area_name(codes[0], batch_year(batch)) if len(codes) == 1 else None


def subject_line(batch: BatchResult) -> str:
    """'Kết quả đánh giá, phân loại theo tiêu chí xác định … trên địa bàn tỉnh Nghệ An năm 2025'."""
    where = places(batch)
    year = batch_year(batch)
    return (f"Kết quả đánh giá, phân loại theo {pack_subject(batch.pack)}"
            + (f" trên địa bàn {where}" if where else "") + (f" năm {year}" if year else ""))


def class_lines(batch: BatchResult) -> list[ClassLine]:
    """Every class of the commune level, best first, with its count and share of the units scored
    (a class no unit reached shows 0); with last year's results, last year's count among the units
    present both years."""
    level = batch.pack.commune
    counts = Counter(r.outcome.class_id for r in batch.units)
    before: Optional[Counter] = None
    if batch.previous is not None:
        before = Counter(r.previous.class_id for r in batch.units if r.previous is not None)
    order = class_order(level, batch)
    order += [c for c in (before or {}) if c not in order]
    n = len(batch.units)
    return [ClassLine(level.class_label(cid), counts.get(cid, 0), Fraction(counts.get(cid, 0), n or 1), cid,
                      None if before is None else before.get(cid, 0))
            for cid in order]


def unit_type_counts(batch: BatchResult) -> str:
    """'100 xã, 28 phường, 2 đặc khu'."""
    types = Counter((r.unit.type or "").strip().lower() for r in batch.units)
    return ", ".join(f"{n} {t}" for t, n in types.most_common() if t)


def rejected_rows(batch: BatchResult) -> int:
    return len({(r.path, r.row) for r in batch.rejected})


def official_total(batch: BatchResult) -> Optional[int]:
    """The communes of the batch's provinces in the official list, when every province has it."""
    if not batch.provinces or any(p.n_official is None for p in batch.provinces):
        return None
    return sum(p.n_official or 0 for p in batch.provinces)


def previous_sentence(batch: BatchResult) -> Optional[str]:
    """What changed since last year: units maintained, transformed, better, worse, the same."""
    prev = batch.previous
    if prev is None:
        return None
    units = batch.units
    level = batch.pack.commune
    year = prev.year or ((batch_year(batch) or 1) - 1)
    changes = Counter(r.change for r in units if r.change)
    best = sentence_start(level.class_label(best_class(level)))
    parts = [f"{sum(1 for r in units if r.maintained)} đơn vị giữ vững {best}"]
    if key_area_classes(batch.pack):
        parts.append(f"{sum(1 for r in units if r.transformed)} đơn vị chuyển hóa (giảm mức độ trọng điểm)")
    parts.append(f"{changes.get('improved', 0)} đơn vị được xếp loại tốt hơn, {changes.get('worsened', 0)} đơn vị "
                 f"bị xếp loại thấp hơn, {changes.get('same', 0)} đơn vị giữ nguyên loại")
    text = f"So với năm {year}: " + "; ".join(parts)
    missing = sum(1 for r in units if r.previous is None)
    if missing:
        text += f"; {missing} đơn vị không có trong kết quả năm {year} (không tính trong cột năm {year})"
    return text + "."


def result_text(met: Optional[bool]) -> str:
    return "Chưa xác định" if met is None else ("Đạt" if met else "Không đạt")


def province_lines(batch: BatchResult) -> list[ProvinceLine]:
    """The provinces' own class and criteria (packs with a province level)."""
    level = batch.pack.province
    if level is None:
        return []
    year = batch_year(batch)
    out = []
    for p in batch.provinces:
        if p.outcome is None:
            continue
        criteria = [CriterionLine(c.title, result_text(met), short_cite(batch.pack, c.cite or ""))
                    for c, (met, _points, _band) in zip(level.criteria.values(), p.outcome.outcomes)]
        out.append(ProvinceLine(area_name(p.province_code, year), level.class_label(p.outcome.class_id),
                                sum(1 for met, _p, _b in p.outcome.outcomes if met is True), len(criteria),
                                criteria, _province_notes(batch, p)))
    return out


def short_cite(pack: Pack, cite: str) -> str:
    """'Điều 5, khoản 1' for 'Quyết định 28/2025/QĐ-TTg, Điều 5, khoản 1' when the pack has that one
    source (named in the "Căn cứ" line above); the citation as it is otherwise."""
    documents = [str(s.get("document") or "") for s in pack.sources.values()]
    if len(documents) == 1 and documents[0] and cite.startswith(documents[0] + ", "):
        return capital(cite[len(documents[0]) + 2:])
    return cite


def _province_notes(batch: BatchResult, p: ProvinceResult) -> list[str]:
    level = batch.pack.province
    assert level is not None and p.outcome is not None
    notes = []
    if p.n_official is None:
        notes.append(f"Tỷ lệ tính trên {p.n_units} đơn vị đã đánh giá (không đối chiếu danh mục đơn vị hành chính).")
    elif p.n_missing:
        notes.append(f"Đã đánh giá {p.n_units}/{p.n_official} đơn vị cấp xã trong danh mục, còn thiếu "
                     f"{p.n_missing} đơn vị.")
        if p.outcome.class_id == UNDETERMINED:
            notes.append("Xếp loại cấp tỉnh chưa xác định được: phụ thuộc vào kết quả của các đơn vị còn thiếu.")
        elif p.undetermined:
            notes.append("Các tiêu chí «Chưa xác định» phụ thuộc vào các đơn vị còn thiếu, nhưng không làm thay "
                         "đổi xếp loại của tỉnh.")
    if p.also_meets is not None:
        notes.append(f"Tỉnh đồng thời đạt điều kiện của «{level.class_label(p.also_meets)}»; xếp loại theo "
                     "thứ tự xét của bộ tiêu chí.")
    return notes


def annex_groups(batch: BatchResult) -> list[tuple[str, list[UnitResult]]]:
    """The units per class, best class first, each in rank order (classes no unit reached left out)."""
    level = batch.pack.commune
    by_class: dict[str, list[UnitResult]] = {}
    for r in batch.units:  # already in rank order
        by_class.setdefault(r.outcome.class_id, []).append(r)
    return [(level.class_label(cid), by_class[cid]) for cid in class_order(level, batch) if cid in by_class]


def capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def type_text(unit_type: Optional[str]) -> str:
    return capital((unit_type or "").strip())
