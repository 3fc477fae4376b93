"""The printed commune form (one sheet per unit) and the "Chứng cứ" sheet as a council prints them:
read back with openpyxl, and (slow) printed through LibreOffice and read from the PDF."""
from __future__ import annotations

import dataclasses
import re
import subprocess
import zlib
from pathlib import Path

import openpyxl
import pytest
from lmtest import identity, need_tool, pack_for_year, qd28_values, xlm_row

from lanhmanh.engine.analysis.wording import Wording
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs import presentation
from lanhmanh.scorecards.outputs.scorecard import unit_form

COUNTRY, MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
SIGN_SPACE_PT = 35 / 25.4 * 72
# what a printed page must never show: expressions, `name=value`, ids with underscores
MACHINE = re.compile(r">=|<=|==|!=|\w=\w|\band\b|\bor\b|at_least|or_higher|\w_\w")


def qd28_batch(files) -> Path:
    rows = [{**identity(1, "Xã Một", "xã"), **qd28_values(users_with_records=60, resident_users_untreated=1)},
            {**identity(2, "Phường Hai", "phường"), **qd28_values(harbouring_points=2, on_key_route=True)},
            {**identity(3, "Đặc khu Ba", "đặc khu"), **qd28_values(drug_plants=1234)}]
    return files.csv("in/qd.csv", rows)


def score(run_cli, inp: Path, rules: str, out: str = "s.xlsx"):
    r = run_cli("score", str(inp), "--rules", rules, "--out", out, "--unit-list", "none", "--no-db")
    assert r.exit_code == 0, r.output
    return openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)


def texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def machine_ids(pack_ref: str) -> set[str]:
    level = pack_for_year(pack_ref, 2025).commune
    return set(level.indicators) | set(level.derived) | {c.id for c in level.classes}


def form_checks(ws, pack_ref: str) -> int:
    """What every form must hold: the heading block, A4 portrait at ≥ 10 pt, the page marks, the
    signing space, no machine text. Returns the print scale."""
    found = texts(ws)
    assert COUNTRY in found and MOTTO in found
    scale = ws.page_setup.scale or 100
    assert unit_form.FONT_PT * scale / 100 >= 10
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage
    if ws.row_breaks.brk:  # two pages: each ends with its own mark, nothing in the footer
        assert "Trang 1/2" in found and "Trang 2/2" in found and not ws.oddFooter.center.text
    else:
        assert ws.oddFooter.center.text == "Trang 1/1"
    notes = [c.row for row in ws.iter_rows() for c in row if c.value in ("(Ký tên, đóng dấu)",)]
    assert notes and ws.row_dimensions[notes[0] + 1].height * scale / 100 >= SIGN_SPACE_PT
    ids = machine_ids(pack_ref)
    for text in found:
        if text.startswith("=SUM("):
            continue
        assert not MACHINE.search(text), text
        assert not set(re.findall(r"[\w.]+", text)) & ids, text
    return scale


def test_the_qd28_form_in_the_administrative_format(run_cli, files):
    wb, _ = score(run_cli, qd28_batch(files), "qd-28-2025")
    for code, committee, police in (("00001", "UBND XÃ MỘT", "TRƯỞNG CÔNG AN XÃ"),
                                    ("00002", "UBND PHƯỜNG HAI", "TRƯỞNG CÔNG AN PHƯỜNG"),
                                    ("00003", "UBND ĐẶC KHU BA", "TRƯỞNG CÔNG AN ĐẶC KHU")):
        ws = wb[code]
        form_checks(ws, "qd-28-2025")
        found = texts(ws)
        assert ws["A1"].value == committee and ws["C1"].value == COUNTRY
        assert police in found and "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH" in found  # the pack's roles, left to right
        assert "Căn cứ: Quyết định 28/2025/QĐ-TTg ngày 24/8/2025" in found
        assert not any("MINH HỌA" in t for t in found)
        rows = {ws.cell(r, 1).value: [ws.cell(r, c).value for c in range(1, 6)] for r in range(1, ws.max_row + 1)}
        assert rows["I.a"][3] == "Từ 0,5% trở lên" and rows["I.b"][3] == "Có từ 2 điểm trở lên"
        assert rows["I.đ"][3].startswith("Ít nhất 2 tiêu chí loại II trở lên")
        head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Tiêu chí")
        assert [ws.cell(head, c).value for c in range(1, 6)] == ["Tiêu chí", "Nội dung", "Số liệu", "Ngưỡng",
                                                                 "Kết quả"]
        # the date line has a row of its own, above the signature titles
        date = next(r for r in range(1, ws.max_row + 1) if "ngày …… tháng" in str(ws.cell(r, 3).value))
        assert ws.cell(date + 1, 3).value == "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    one = {ws.cell(r, 1).value: ws.cell(r, 3).value for ws in [wb["00001"]] for r in range(1, ws.max_row + 1)}
    assert one["I.a"] == "0,60% (60/10.000)" and one["I.đ"] == "Không"
    assert one["Xếp loại"] == "Địa bàn trọng điểm phức tạp về ma túy loại III"
    three = {ws.cell(r, 1).value: ws.cell(r, 3).value for ws in [wb["00003"]] for r in range(1, ws.max_row + 1)}
    assert three["I.d"] == "1.234 cây\n0 m²" and three["Tên đơn vị"] == "Đặc khu Ba"


def test_an_illustrative_pack_says_so_in_the_title_block_and_verify_reads_the_forms(run_cli, files):
    inp = files.csv("in/x.csv", [xlm_row(1), xlm_row(2, communication_sessions=7, harbouring_points=1)])
    wb, cached = score(run_cli, inp, "xa-lanh-manh")
    for code in ("00001", "00002"):
        ws = wb[code]
        form_checks(ws, "xa-lanh-manh")
        top = [str(ws.cell(r, 1).value) for r in range(1, 9)]
        assert any(t.startswith("BẢNG ĐIỂM MINH HỌA, KHÔNG PHẢI BẢNG ĐIỂM CHÍNH THỨC") for t in top)
        total = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Tổng điểm")
        assert ws.cell(total, 6).value.startswith("=SUM(F") and ws.cell(total, 3).value == "(tối đa 100 điểm)"
        assert "NGƯỜI LẬP BIỂU" in texts(ws)
    rows = {wb["00002"].cell(r, 1).value: r for r in range(1, wb["00002"].max_row + 1)}
    assert wb["00002"].cell(rows["B1"], 4).value == "Từ 12 buổi trở lên: 10 điểm\nTừ 6 đến 11 buổi: 5 điểm"
    assert cached["00002"].cell(rows["B1"], 6).value == 5
    assert wb["00002"].cell(rows["Điểm liệt"], 3).value.startswith("V2 – ")
    v = run_cli("verify", "s.xlsx", str(inp), "--rules", "xa-lanh-manh", "--unit-list", "none")
    assert v.exit_code == 0, v.output


def test_signatures_default_when_a_pack_declares_none_and_blocks_run_left_to_right():
    pack, _ = load_pack("qd-28-2025")
    assert [r.id for r in unit_form.signature_roles(pack)] == ["prepares", "signs"]
    bare = dataclasses.replace(pack, documents={})
    assert unit_form.signature_roles(bare) == unit_form.DEFAULT_SIGNATURES
    assert unit_form.spans(1, 4) == [(2, 4)]
    assert unit_form.spans(2, 4) == [(0, 1), (2, 4)]
    assert unit_form.spans(3, 5) == [(0, 1), (2, 2), (3, 5)]
    assert unit_form.committee_name("Phường Hai", "phường") == "UBND PHƯỜNG HAI"
    assert unit_form.committee_name("Hai", "xã") == "UBND XÃ HAI"
    assert unit_form.place_name("Đặc khu Ba", "đặc khu") == "Ba"


def test_rows_are_sized_by_their_wrapped_text():
    width = unit_form.col_points(10)  # 75 pt: 10 characters of 6.4 pt after the padding
    assert unit_form.text_lines("một hai", width) == 1
    assert unit_form.text_lines("một hai ba bốn năm sáu", width) == 3
    assert unit_form.text_lines("a\nb\n\nc", width) == 4
    assert unit_form.text_lines("x" * 25, width) == 3  # a word longer than the line breaks inside


def test_values_as_people_read_them():
    pack, _ = load_pack("qd-28-2025")
    w = Wording(pack, pack.commune)
    assert presentation.rate_text("60/10000") == "0,60% (60/10.000)"
    assert presentation.rate_text("1/3") == "≈33,33% (1/3)"
    assert presentation.rate_text("3/57225") == "≈0,0052% (3/57.225)"  # cut, never rounded up
    assert presentation.reading_text(pack.commune, "on_key_route", True) == "Có"
    assert presentation.reading_text(pack.commune, "drug_plants", 1234) == "1.234 cây"
    assert presentation.reading_text(pack.commune, "drug_plant_area_m2", "12.50") == "12,5 m²"
    both = presentation.readings_text(w, ["resident_drug_violators", "wanted_drug_fugitives"],
                                      {"resident_drug_violators": 0, "wanted_drug_fugitives": 2})
    assert both == ("Số người cư trú trên địa bàn vi phạm pháp luật về ma túy: 0 người\n"
                    "Số đối tượng truy nã về ma túy lẩn trốn trên địa bàn: 2 người")


# ---- Chứng cứ ----------------------------------------------------------------------------------

def test_evidence_prints_words_and_keeps_the_machine_text_hidden(run_cli, files):
    inp = files.csv("in/x.csv", [xlm_row(1), xlm_row(2, communication_sessions=7)])
    wb, _ = score(run_cli, inp, "xa-lanh-manh")
    ws = wb[presentation.EVIDENCE]
    heads = {c.value: c.column_letter for c in ws[1] if c.value}
    assert list(heads)[:6] == ["Mã đơn vị", "Tên đơn vị", "Tiêu chí", "Số liệu đã đọc", "Ngưỡng", "Kết quả"]
    hidden_cols = {c for d in ws.column_dimensions.values() if d.hidden for c in range(d.min, d.max + 1)}
    hidden = {h for h, letter in heads.items()
              if openpyxl.utils.column_index_from_string(letter) in hidden_cols}
    assert hidden == {"Số liệu đã đọc", "Ngưỡng", "Căn cứ", "Ghi chú"}
    printed = [h for h in heads if h not in hidden]
    assert printed == ["Mã đơn vị", "Tên đơn vị", "Tiêu chí", "Kết quả", "Điểm", "Số liệu", "Ngưỡng đạt",
                       "Văn bản căn cứ", "Lưu ý"]
    assert str(ws.print_area).endswith(f"${heads['Lưu ý']}${ws.max_row}")  # the hidden ones at the end do not print
    pack = pack_for_year("xa-lanh-manh", 2025)
    words = {c.id: Wording(pack, pack.commune).criterion(c) for c in pack.commune.criteria.values()}
    col = {h: openpyxl.utils.column_index_from_string(letter) for h, letter in heads.items()}
    for r in range(2, ws.max_row + 1):
        cid = ws.cell(r, col["Tiêu chí"]).value
        assert ws.cell(r, col["Ngưỡng đạt"]).value == words[cid]
        assert ws.cell(r, col["Ngưỡng đạt"]).alignment.wrap_text
        assert ws.cell(r, col["Văn bản căn cứ"]).value.startswith("Nghị quyết liên tịch số")
        for h in printed:
            value = ws.cell(r, col[h]).value
            assert not (isinstance(value, str) and MACHINE.search(value)), (h, value)
        assert ws.row_dimensions[r].height >= 15
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "landscape"


# ---- printed through LibreOffice ----------------------------------------------------------------

def soffice() -> str:
    need_tool("pdftotext")
    return need_tool("soffice", "libreoffice")


def to_pdf(xlsx: Path, tmp: Path) -> Path:
    subprocess.run([soffice(), f"-env:UserInstallation=file://{tmp / 'lo'}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp), str(xlsx)], check=True, capture_output=True, timeout=300)
    return tmp / (xlsx.stem + ".pdf")


def page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")[:-1]


def page_font_sizes(pdf: Path) -> list[set[float]]:
    """Per page, the font sizes its text is set in (the `Tf` operators of its content stream, as
    LibreOffice writes them: the size on paper, after the print scale)."""
    data = pdf.read_bytes()
    starts = {int(m.group(1)): m.end() for m in re.finditer(rb"(?<![\d])(\d+) 0 obj", data)}

    def head(num: int) -> bytes:  # an object's dictionary (up to its stream, if any)
        at = starts[num]
        end = data.find(b"endobj", at)
        stream = data.find(b"stream", at, end)
        return data[at:stream if stream >= 0 else end]

    def content(num: int) -> bytes:
        at, dictionary = starts[num], head(num)
        length = re.search(rb"/Length\s+(\d+)(\s+0\s+R)?", dictionary)
        size = int(length.group(1)) if not length.group(2) else int(re.search(rb"\d+", head(int(length.group(1))))
                                                                    .group(0))
        begin = data.index(b"stream", at) + len(b"stream")
        begin += 2 if data[begin:begin + 2] == b"\r\n" else 1
        return zlib.decompress(data[begin:begin + size])

    def pages(num: int) -> list[int]:
        if re.search(rb"/Type\s*/Pages", head(num)):
            kids = re.search(rb"/Kids\s*\[(.*?)\]", head(num), re.S).group(1)
            return [p for k in re.findall(rb"(\d+) 0 R", kids) for p in pages(int(k))]
        return [num]

    root = next(n for n in starts if re.search(rb"/Type\s*/Pages", head(n)) and b"/Parent" not in head(n))
    out = []
    for page in pages(root):
        contents = int(re.search(rb"/Contents\s+(\d+) 0 R", head(page)).group(1))
        out.append({float(x) for x in re.findall(rb"([\d.]+) Tf", content(contents))})
    return out


@pytest.mark.slow
@pytest.mark.parametrize("rules", ["qd-28-2025", "xa-lanh-manh"])
def test_printed_forms_hold_their_pages_type_size_and_signatures(run_cli, files, tmp_path, rules):
    if rules == "qd-28-2025":
        inp = qd28_batch(files)
        titles = ["TRƯỞNG CÔNG AN", "TM. ỦY BAN NHÂN DÂN"]
    else:
        inp = files.csv("in/x.csv", [xlm_row(1), xlm_row(2, harbouring_points=1)])
        titles = ["NGƯỜI LẬP BIỂU", "TM. ỦY BAN NHÂN DÂN"]
    wb, _ = score(run_cli, inp, rules)
    codes = [n for n in wb.sheetnames if n.isdigit()]
    pdf = to_pdf(Path("s.xlsx").resolve(), tmp_path)
    texts_ = page_texts(pdf)
    sizes = page_font_sizes(pdf)
    assert len(texts_) == len(sizes)
    forms: list[list[int]] = []  # the pages of each form, in order
    for i, text in enumerate(texts_):
        if COUNTRY in text:
            if "Trang 1/1" in text or "Trang 1/2" in text:
                forms.append([i])
        elif forms and "Trang 2/2" in text and len(forms[-1]) == 1:
            forms[-1].append(i)
    assert len(forms) == len(codes)
    ids = machine_ids(rules)
    for pages_ in forms:
        first, last = texts_[pages_[0]], texts_[pages_[-1]]
        marks = ["Trang 1/1"] if len(pages_) == 1 else ["Trang 1/2", "Trang 2/2"]
        assert all(mark in texts_[p] for mark, p in zip(marks, pages_))
        assert MOTTO in first and "PHIẾU TỰ ĐÁNH GIÁ, XẾP LOẠI ĐƠN VỊ CẤP XÃ" in first
        assert all(t in last for t in titles), last
        for p in pages_:
            assert not MACHINE.search(texts_[p]), texts_[p]
            assert not set(re.findall(r"[\w.]+", texts_[p])) & ids
            assert min(sizes[p]) >= 9.95, sizes[p]  # body type at least 10 pt on paper
    evidence = [t for t in texts_ if "Ngưỡng đạt" in t]
    assert evidence and not any(MACHINE.search(t) for t in evidence)
