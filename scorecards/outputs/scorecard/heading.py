"""The parts of an administrative document (Nghị định 30/2020/NĐ-CP) drawn on a worksheet above and
below its table: the heading block (issuing body left; Quốc hiệu and Tiêu ngữ right), number, place
and date, title, the "Căn cứ" lines, and at the foot the signature blocks (the pack's
`documents:` roles, names from the council profile, blank → dotted line) and "Nơi nhận". Used by
"Tổng hợp", the province sheets and the national summary. The blocks span the table's columns
in proportion to their widths, so they follow the table when the page is fitted to its width."""
from __future__ import annotations

import datetime as dt
import re
from typing import Optional, Sequence

from lanhmanh.engine.model.pack import Document, Pack
from lanhmanh.scorecards.outputs.presentation import house_format, text_lines
from lanhmanh.scorecards.outputs.profile import DOTS, CouncilProfile, date_words, or_dots

QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
RECIPIENTS = "Nơi nhận:"
HEADING_ROWS = 5  # rows of the heading block: bodies ×2, number and date, title, Căn cứ
# what the pack says a document is (pack.documents[...].kind), under the title
KIND_TEXT = {"self_assessment": "(Tự đánh giá của đơn vị)", "proposal": "(Đề nghị phê duyệt)",
             "approval": "(Phê duyệt)", "report": "(Báo cáo kết quả)"}
STATUS_LINE = {"illustrative": "BẢNG MINH HỌA - KHÔNG PHẢI VĂN BẢN CHÍNH THỨC",
               "draft": "DỰ THẢO - CHƯA PHẢI VĂN BẢN CHÍNH THỨC"}
SIGN_SPACE = 80  # points left blank to sign and stamp (before the page is fitted to its width)


class DocFormats:
    """The formats of the heading and foot, made once per workbook."""

    def __init__(self, wb):
        def fmt(**p):
            return house_format(wb, **{"align": "center", "valign": "top", "text_wrap": True, **p})

        self.body = fmt(font_size=12)
        self.body_bold = fmt(font_size=12, bold=True)
        self.national = fmt(font_size=12, bold=True)
        self.motto = fmt(font_size=13, bold=True, underline=1)  # the line under it, as long as the text
        self.plain = fmt(font_size=12)
        self.number = fmt(font_size=12, valign="vcenter")
        self.date = fmt(font_size=12, italic=True, valign="vcenter")
        self.title = fmt(font_size=14, bold=True, valign="vcenter")
        self.italic = fmt(font_size=12, italic=True)
        self.bold_red = fmt(font_size=12, bold=True, font_color="#9C0006")
        self.basis = fmt(font_size=12, italic=True, align="left", valign="vcenter")
        self.left = fmt(font_size=12, align="left")
        self.recipients_head = fmt(font_size=12, bold=True, italic=True, align="left")
        self.recipients = fmt(font_size=11, align="left")
        self.sign_title = fmt(font_size=12, bold=True)
        self.sign_name = fmt(font_size=12, bold=True, valign="bottom")


def doc_formats(wb) -> DocFormats:
    """The workbook's DocFormats (made on first use)."""
    made = getattr(wb, "_lanhmanh_doc_formats", None)
    if made is None:
        made = DocFormats(wb)
        wb._lanhmanh_doc_formats = made
    return made


# ---- texts ----------------------------------------------------------------------------------------

def subject(pack: Pack) -> str:
    """What the pack assesses, from its title: 'Tiêu chí xác định địa bàn …, địa bàn không ma túy
    (QĐ 28…)' → 'địa bàn …, địa bàn không ma túy'."""
    text = re.split(r"\s+[—–]\s+", pack.title)[0]
    text = re.sub(r"\s*\([^()]*\)\s*$", "", text)
    text = re.sub(r"^(bộ\s+)?(tiêu chí|bảng điểm|bảng chấm điểm)(\s+minh họa)?"
                  r"(\s+(xác định|đánh giá|chấm điểm|phân loại|công nhận))?\s+", "", text, flags=re.IGNORECASE)
    return text.strip() or pack.title


def document_title(pack: Pack, year: Optional[int], where: str = "") -> str:
    """'BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI … [TỈNH NGHỆ AN] NĂM 2025'."""
    parts = ["BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI", subject(pack)]
    if where:
        parts.append(where)
    if year is not None:
        parts.append(f"NĂM {year}")
    return " ".join(parts).upper()


def source_date(value) -> str:
    """A source's date as ND 30 writes it: 'ngày 24 tháng 8 năm 2025' ('' when unknown)."""
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, dt.date):
        return ""
    return date_words(value)


# a source's title that starts with one of these follows its date directly ("… ngày 24 tháng 8 năm
# 2025 ban hành tiêu chí …"); any other is introduced by "về"
VERBS = ("ban hành", "quy định", "hướng dẫn", "thực hiện", "phê duyệt", "sửa đổi", "triển khai")


def sentence_start(text: str) -> str:
    """`text` lower-cased at its first letter to go inside a sentence, unless it starts with an
    acronym ("UBND", "QĐ")."""
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def basis_texts(pack: Pack) -> list[str]:
    """One "Căn cứ …" sentence per legal document of the pack (pack.sources), in its order, without
    the closing punctuation: the documents that print them (scorecard sheets, the report) share it."""
    lines = []
    for source in pack.sources.values():
        document = str(source.get("document") or "").strip()
        if not document:
            continue
        text = f"Căn cứ {document}"
        when = source_date(source.get("date"))
        if when:
            text += f" {when}"
        title = str(source.get("title") or "").strip()
        if title:
            title = sentence_start(title)
            text += (" " if title.startswith(VERBS) else " về ") + title
        lines.append(text)
    return lines


def basis_lines(pack: Pack) -> list[str]:
    """basis_texts punctuated as a list in a document: ';' after each, '.' after the last."""
    lines = basis_texts(pack)
    return [line + (";" if i < len(lines) - 1 else ".") for i, line in enumerate(lines)]


def recipients_text(profile: CouncilProfile) -> str:
    """The lines under "Nơi nhận:": '- Bộ Công an;' …, the last ending in '.'; dotted lines to fill
    in by hand when the profile names none."""
    names = list(profile.recipients) or [DOTS, DOTS, "Lưu: VT"]
    return "\n".join(f"- {n.rstrip(';.')}" + (";" if i < len(names) - 1 else ".") for i, n in enumerate(names))


# ---- placing blocks on the columns ----------------------------------------------------------------

def spans(widths: Sequence[float], shares: Sequence[float]) -> list[tuple[int, int]]:
    """Split columns 0..len(widths)-1 into consecutive runs of about `shares` of the total width
    (hidden columns count 0); each run has at least one column."""
    n = len(widths)
    if n == 0:
        return [(0, 0)] * len(shares)
    total = sum(widths) or 1
    out, start, acc = [], 0, 0.0
    for k, share in enumerate(shares):
        if k == len(shares) - 1:
            out.append((start, max(start, n - 1)))
            break
        target, end = acc + share * total, start
        while end < n - (len(shares) - k - 1) - 1 and acc + widths[end] + widths[end + 1] / 2 <= target:
            acc += widths[end]
            end += 1
        acc += widths[end]
        out.append((start, min(end, n - 1)))
        start = min(end + 1, n - 1)
    return out


def _width(widths: Sequence[float], a: int, b: int) -> float:
    return sum(widths[a:b + 1]) or 10


def _merge(ws, row: int, a: int, b: int, fmt) -> None:
    if a != b:
        ws.merge_range(row, a, row, b, "", fmt)


def _text(ws, row: int, a: int, b: int, text: str, fmt) -> None:
    _merge(ws, row, a, b, fmt)
    ws.write_string(row, a, text, fmt)


def _lines(text: str, width: float, size: float = 12) -> int:
    return text_lines(text, width * 11 / size)


# ---- the heading ------------------------------------------------------------------------------------

def draw_heading(ws, wb, pack: Pack, profile: CouncilProfile, today: dt.date, widths: Sequence[float], top: int,
                 title: str, document: str) -> int:
    """The heading block in rows top..top+HEADING_ROWS-1 over the columns of `widths`; returns the
    row after it. `document`: the pack's document ("summary", "national") naming the kind."""
    f = doc_formats(wb)
    (la, lb), (ra, rb) = spans(widths, [0.42, 0.58])
    left_w, right_w = _width(widths, la, lb), _width(widths, ra, rb)
    # cơ quan chủ quản (ND 30: "nếu có"; dotted only when the issuing body is not given either) / QUỐC HIỆU
    superior = profile.superior_body.upper() if profile.superior_body else "" if profile.issuing_body else DOTS
    _text(ws, top, la, lb, superior, f.body)
    _text(ws, top, ra, rb, QUOC_HIEU, f.national)
    ws.set_row(top, 17 * max(_lines(superior, left_w), _lines(QUOC_HIEU, right_w, 13)))
    # CƠ QUAN BAN HÀNH and its short rule / Tiêu ngữ, underlined
    issuing = profile.issuing_body.upper() if profile.issuing_body else DOTS
    rule = "—" * max(4, min(12, len(issuing) // 3))
    _merge(ws, top + 1, la, lb, f.body_bold)
    ws.write_rich_string(top + 1, la, f.body_bold, issuing, f.plain, "\n" + rule, f.body_bold)
    _text(ws, top + 1, ra, rb, TIEU_NGU, f.motto)
    ws.set_row(top + 1, 17 * (_lines(issuing, left_w) + 1))
    # Số / địa danh, ngày tháng năm
    _text(ws, top + 2, la, lb, profile.number_line(), f.number)
    _text(ws, top + 2, ra, rb, profile.place_date_line(today), f.date)
    ws.set_row(top + 2, 24)
    # the title, the kind of document, an illustrative pack's warning
    doc: Optional[Document] = pack.documents.get(document)
    segments: list = [f.title, title]
    lines = _lines(title, _width(widths, 0, len(widths) - 1), 15)
    kind = KIND_TEXT.get(doc.kind, "") if doc is not None else ""
    if kind:
        segments += [f.italic, "\n" + kind]
        lines += 1
    if pack.status in STATUS_LINE:
        segments += [f.bold_red, "\n" + STATUS_LINE[pack.status]]
        lines += 1
    last = len(widths) - 1
    _merge(ws, top + 3, 0, last, f.title)
    if len(segments) > 2:
        ws.write_rich_string(top + 3, 0, *segments, f.title)
    else:
        ws.write_string(top + 3, 0, title, f.title)
    ws.set_row(top + 3, 20 * lines + 12)
    # Căn cứ …
    basis = "\n".join(basis_lines(pack))
    _text(ws, top + 4, 0, last, basis, f.basis)
    ws.set_row(top + 4, 17 * _lines(basis, _width(widths, 0, last)) + 8 if basis else 6)
    return top + HEADING_ROWS


# ---- the foot: signatures and Nơi nhận ---------------------------------------------------------------

def draw_signatures(ws, wb, pack: Pack, profile: CouncilProfile, widths: Sequence[float], row: int, document: str,
                    unit_type: Optional[str] = None, province: Optional[str] = None) -> int:
    """From `row` (leave a blank row above it): "Nơi nhận" left, then a signature block per role of
    pack.documents[document], left to right; returns the row after the foot."""
    f = doc_formats(wb)
    doc = pack.documents.get(document)
    roles = list(doc.signatures) if doc is not None else []
    shares = [0.34] + [0.66 / len(roles)] * len(roles) if roles else [1.0]
    runs = spans(widths, shares)
    (na, nb), sign_runs = runs[0], runs[1:]
    recipients = recipients_text(profile)
    _text(ws, row, na, nb, RECIPIENTS, f.recipients_head)
    ws.merge_range(row + 1, na, row + 3, nb, "", f.recipients)
    ws.write_string(row + 1, na, recipients, f.recipients)
    title_lines, rec_lines = 1, _lines(recipients, _width(widths, na, nb), 11)
    for role, (a, b) in zip(roles, sign_runs):
        who = profile.signatory(role.id)
        title = who.title or role.title_for(unit_type, province)
        _text(ws, row, a, b, title, f.sign_title)
        _text(ws, row + 1, a, b, role.note or "", f.italic)
        _merge(ws, row + 2, a, b, f.plain)
        _text(ws, row + 3, a, b, or_dots(who.name), f.sign_name)
        title_lines = max(title_lines, _lines(title, _width(widths, a, b)))
    ws.set_row(row, 17 * title_lines)
    ws.set_row(row + 1, 17)
    ws.set_row(row + 2, max(SIGN_SPACE, 15 * rec_lines - 34))
    ws.set_row(row + 3, 18)
    return row + 4
