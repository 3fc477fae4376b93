"""The printed commune form (one sheet per unit) and the "Chứng cứ" sheet as a council prints them:
read back with openpyxl, and (slow) printed through LibreOffice and read from the PDF. Each form of
the shipped packs is one A4 portrait page at 10 pt or more, rows sized to their text."""
from __future__ import annotations

import csv
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
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
SAMPLES = {"qd-28-2025": EXAMPLES / "nghe-an-2025-ma-tuy.csv", "xa-lanh-manh": EXAMPLES / "nghe-an-2025-lanh-manh.csv"}
HEADS = ["Tiêu chí", "Nội dung", "Ngưỡng", "Số liệu", "Kết quả"]
# LibreOffice's rendering of the body font (Times New Roman → DejaVu Serif) at 11 pt: points a
# character on average (0.515 em); the form sizes its rows with some room above this
LO_CHAR_PT = 5.67
# what a printed page must never show: expressions, `name=value`, ids with underscores
MACHINE = re.compile(r">=|<=|==|!=|\w=\w|\band\b|\bor\b|at_least|or_higher|\w_\w")


def qd28_batch(files) -> Path:
    rows = [{**identity(1, "Xã Một", "xã"), **qd28_values(users_with_records=60, resident_users_untreated=1)},
            {**identity(2, "Phường Hai", "phường"), **qd28_values(harbouring_points=2, on_key_route=True)},
            {**identity(3, "Đặc khu Ba", "đặc khu"), **qd28_values(drug_plants=1234)}]
    return files.csv("in/qd.csv", rows)


def sample_slice(files, rules: str, n: int) -> Path:
    """The first `n` units of the Nghệ An sample of a pack."""
    with SAMPLES[rules].open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))[:n]
    return files.csv(f"in/{rules}.csv", rows)


def score(run_cli, inp: Path, rules: str, out: str = "s.xlsx"):
    r = run_cli("score", str(inp), "--rules", rules, "--out", out, "--unit-list", "none", "--no-db")
    assert r.exit_code == 0, r.output
    return openpyxl.load_workbook(out), openpyxl.load_workbook(out, data_only=True)


def texts(ws) -> list[str]:
    return [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]


def machine_ids(pack_ref: str) -> set[str]:
    level = pack_for_year(pack_ref, 2025).commune
    return set(level.indicators) | set(level.derived) | {c.id for c in level.classes}


def width_pt(ws, cell) -> float:
    """The printed width in points of a cell, merged or not (LibreOffice: 7 px a unit + 5, a point a px)."""
    first, last = cell.column, cell.column
    for rng in ws.merged_cells.ranges:
        if rng.min_row <= cell.row <= rng.max_row and rng.min_col <= cell.column <= rng.max_col:
            first, last = rng.min_col, rng.max_col
    letter = openpyxl.utils.get_column_letter
    return sum(unit_form.col_points(ws.column_dimensions[letter(c)].width) for c in range(first, last + 1))


def threshold(ws, row: int) -> str:
    """A criterion's threshold: in "Ngưỡng", or under the title when the two share a cell."""
    return ws.cell(row, 3).value or ws.cell(row, 2).value.split("\nNgưỡng: ", 1)[1]


def one_page_checks(ws) -> None:
    """One A4 page: no page break, the rows' heights at the print scale within the printable
    height, the page mark "Trang 1/1" in the footer; every criterion row sized to its text (it holds
    the text as LibreOffice sets it, with at most one line to spare)."""
    scale = (ws.page_setup.scale or 100) / 100
    assert not ws.row_breaks.brk and ws.oddFooter.center.text == "Trang 1/1"
    area = ws.print_area if isinstance(ws.print_area, str) else ws.print_area[0]
    last_row = int(re.search(r"\$(\d+)$", area).group(1))
    heights = [ws.row_dimensions[r].height for r in range(1, last_row + 1)]
    printable = (unit_form.PAGE_H - 72 * (ws.page_margins.top + ws.page_margins.bottom))
    assert sum(heights) * scale <= printable
    head = next(r for r in range(1, last_row + 1) if ws.cell(r, 1).value == "Tiêu chí")
    for r in range(head + 1, last_row + 1):
        if ws.cell(r, 5).value not in ("Đạt", "Không đạt"):
            continue
        lines = max(unit_form.text_lines(c.value, width_pt(ws, c), LO_CHAR_PT)
                    for c in ws[r] if isinstance(c.value, str))
        height = ws.row_dimensions[r].height
        assert unit_form.form_row_height(lines) <= height + 0.38, (ws.cell(r, 1).value, height)  # ¾ pt steps
        assert height <= unit_form.form_row_height(lines + 1) + 0.38, (ws.cell(r, 1).value, height, lines)


def form_checks(ws, pack_ref: str) -> int:
    """What every form must hold: the heading block, A4 portrait on one page at ≥ 10 pt, the page
    mark, the signing space, no machine text. Returns the print scale."""
    found = texts(ws)
    assert COUNTRY in found and MOTTO in found
    scale = ws.page_setup.scale or 100
    assert unit_form.FONT_PT * scale / 100 >= 10
    assert ws.page_setup.paperSize == 9 and ws.page_setup.orientation == "portrait"
    assert not ws.sheet_properties.pageSetUpPr or not ws.sheet_properties.pageSetUpPr.fitToPage
    one_page_checks(ws)
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
        at = {ws.cell(r, 1).value: r for r in range(1, ws.max_row + 1)}
        assert threshold(ws, at["I.a"]) == "Từ 0,5% trở lên" and threshold(ws, at["I.b"]) == "Có từ 2 điểm trở lên"
        assert threshold(ws, at["I.đ"]).lower().startswith("ít nhất 2 tiêu chí loại ii trở lên")
        head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Tiêu chí")
        assert [ws.cell(head, c).value for c in range(1, 6)] == HEADS
        # the pack's short form wording, not the legal title (that one is in the JSON)
        pack = pack_for_year("qd-28-2025", 2025)
        for cid, r in at.items():
            if cid in pack.commune.criteria:
                c = pack.commune.criteria[cid]
                assert ws.cell(r, 2).value.split("\n")[0] == c.form_title
                assert not any(c.title in t for t in found)
        # the date line has a row of its own, above the signature titles
        date = next(r for r in range(1, ws.max_row + 1) if "ngày …… tháng" in str(ws.cell(r, 3).value))
        assert ws.cell(date + 1, 3).value == "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH"
    one = {ws.cell(r, 1).value: ws.cell(r, 4).value for ws in [wb["00001"]] for r in range(1, ws.max_row + 1)}
    assert one["I.a"] == "0,60% (60/10.000)" and one["I.đ"] == "Không"
    assert wb["00001"].cell(next(r for r in range(1, 60) if wb["00001"].cell(r, 1).value == "Xếp loại"), 3).value \
        == "Địa bàn trọng điểm phức tạp về ma túy loại III"
    # DF.2 reads two counts: one a line, in the order its threshold names them
    df2 = next(r for r in range(1, 60) if wb["00001"].cell(r, 1).value == "DF.2")
    assert wb["00001"].cell(df2, 4).value == "0 người\n0 người"
    assert threshold(wb["00001"], df2).startswith("số người cư trú trên địa bàn vi phạm pháp luật về ma túy bằng 0 "
                                                  "và số đối tượng truy nã")
    three = {ws.cell(r, 1).value: ws.cell(r, 4).value for ws in [wb["00003"]] for r in range(1, ws.max_row + 1)}
    names = {ws.cell(r, 1).value: ws.cell(r, 3).value for ws in [wb["00003"]] for r in range(1, ws.max_row + 1)}
    assert three["I.d"] == "1.234 cây\n0 m²" and names["Tên đơn vị"] == "Đặc khu Ba"


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
    assert threshold(wb["00002"], rows["B1"]) == "Từ 12 buổi trở lên: 10 điểm\nTừ 6 đến 11 buổi: 5 điểm"
    # D1 reads two counts of people: its form_title names them in that order
    d1 = wb["00002"].cell(rows["D1"], 2).value
    assert d1.startswith("Số người nghiện ma túy mới phát sinh trong năm và năm trước")
    assert wb["00002"].cell(rows["D1"], 4).value == "0 người\n(trống)"  # last year not given
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


@pytest.mark.parametrize("rules", ["qd-28-2025", "xa-lanh-manh"])
def test_forms_of_the_nghe_an_samples_are_one_page_with_the_short_wording(run_cli, files, rules):
    """The first units of the Nghệ An samples (all 130 print in the slow test below): one page each
    at ≥ 10 pt, the columns and print setup of one workbook alike, each criterion's form_title."""
    wb, _ = score(run_cli, sample_slice(files, rules, 8), rules)
    pack = pack_for_year(rules, 2025)
    forms = [wb[n] for n in wb.sheetnames if n.isdigit()]
    assert len(forms) == 8
    widths = {tuple(round(ws.column_dimensions[c].width, 2) for c in "ABCDE") for ws in forms}
    assert len(widths) <= 2  # at most two print scales, each with its widths
    for ws in forms:
        form_checks(ws, rules)
        assert ws.page_margins.top >= 0.25 and ws.page_margins.bottom >= 0.35  # room for the page mark
        head = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Tiêu chí")
        assert [ws.cell(head, c).value for c in range(1, 6)] == HEADS
        for r in range(head + 1, head + 1 + len(pack.commune.criteria)):
            c = pack.commune.criteria[ws.cell(r, 1).value]
            assert ws.cell(r, 2).value.split("\n")[0] == c.form_title
            assert ws.cell(r, 2).alignment.wrap_text and ws.cell(r, 4).alignment.wrap_text


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


SIGNERS = {"qd-28-2025": ["TRƯỞNG CÔNG AN", "TM. ỦY BAN NHÂN DÂN", "(Ký tên, đóng dấu)"],
           "xa-lanh-manh": ["NGƯỜI LẬP BIỂU", "TM. ỦY BAN NHÂN DÂN", "(Ký tên, đóng dấu)"]}


@pytest.mark.slow
@pytest.mark.parametrize("rules, sample", [("qd-28-2025", False), ("xa-lanh-manh", False),
                                           ("qd-28-2025", True), ("xa-lanh-manh", True)])
def test_every_printed_form_is_one_page_with_its_heading_signatures_and_10_pt(run_cli, files, tmp_path, rules,
                                                                             sample):
    """Printed through LibreOffice: each commune form is exactly one page (the Nghệ An samples: all
    130), with the heading block, the title, the unit, the signature blocks and the page mark
    "Trang 1/1" on it, its type at least 10 pt, no machine text."""
    if sample:
        inp = SAMPLES[rules]
    elif rules == "qd-28-2025":
        inp = qd28_batch(files)
    else:
        inp = files.csv("in/x.csv", [xlm_row(1), xlm_row(2, harbouring_points=1)])
    wb, _ = score(run_cli, inp, rules)
    codes = [n for n in wb.sheetnames if n.isdigit()]
    assert len(codes) == (130 if sample else len(codes))
    pdf = to_pdf(Path("s.xlsx").resolve(), tmp_path)
    texts_ = page_texts(pdf)
    sizes = page_font_sizes(pdf)
    assert len(texts_) == len(sizes)
    forms = [i for i, text in enumerate(texts_) if "PHIẾU TỰ ĐÁNH GIÁ, XẾP LOẠI ĐƠN VỊ CẤP XÃ" in text]
    assert len(forms) == len(codes)
    assert not any("Trang 1/2" in text or "Trang 2/2" in text for text in texts_)
    ids = machine_ids(rules)
    for code, p in zip(codes, forms):
        page = texts_[p]
        assert COUNTRY in page and MOTTO in page and "Trang 1/1" in page
        assert re.search(rf"Mã đơn vị\s+{code}\b", page), page
        assert all(t in page for t in SIGNERS[rules]), page
        assert not MACHINE.search(page), page
        assert not set(re.findall(r"[\w.]+", page)) & ids
        assert min(sizes[p]) >= 9.95, sizes[p]  # body type at least 10 pt on paper
    evidence = [t for t in texts_ if "Ngưỡng đạt" in t]
    assert evidence and not any(MACHINE.search(t) for t in evidence)
