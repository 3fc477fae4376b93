"""The summary, the province sheets and the national summary as administrative documents
(Nghị định 30/2020/NĐ-CP): heading block, number, place and date, title, "Căn cứ", the table,
signatures and "Nơi nhận"; and the print layout of every sheet (A4, the pack's title in the page
header and never its id, no class id on a printed cell). Read back with openpyxl; printed with
LibreOffice in the slow tests (pdftotext, pdfinfo)."""
from __future__ import annotations

import datetime as dt
import re
import subprocess
from pathlib import Path

import openpyxl
import pytest
from lmtest import need_tool, qd28_row, scored_batch, xlm_row
from openpyxl.utils import get_column_letter, range_boundaries

from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs import national, presentation
from lanhmanh.scorecards.outputs.profile import DOTS, CouncilProfile, Signatory
from lanhmanh.scorecards.outputs.scorecard import heading
from lanhmanh.scorecards.outputs.scorecard import workbook as scorecard

NOW = dt.datetime(2026, 12, 15, 8, 0, tzinfo=dt.timezone.utc)
PROFILE = CouncilProfile(superior_body="Ủy ban nhân dân tỉnh Nghệ An", issuing_body="Công an tỉnh Nghệ An",
                         place="Nghệ An", number="125", symbol="BC-CAT", date=dt.date(2026, 12, 15),
                         signatories={"proposes": Signatory(name="Nguyễn Văn A")},
                         recipients=("Bộ Công an", "UBND tỉnh", "Lưu: VT, PC04"))
QD28_CLASSES = {"drug_free", "type_1", "type_2", "type_3", "unclassified", "key_area", "not_key_area"}


def qd28_batch(provinces=("40",)):
    rows = [qd28_row(i, province=provinces[i % len(provinces)], name=f"Xã Số {i}", users_with_records=i * 3)
            for i in range(1, 7)]
    return scored_batch("qd-28-2025", rows)


def write(tmp_path: Path, batch, profile=PROFILE, name: str = "s.xlsx") -> openpyxl.Workbook:
    scorecard.write_scorecard(batch, tmp_path / name, now=NOW, unit_sheets=False, profile=profile)
    return openpyxl.load_workbook(tmp_path / name)


def texts(ws) -> list[str]:
    return [str(c.value) for row in ws.iter_rows() for c in row if c.value is not None]


def printed_cells(ws):
    """(cell, text) of every cell inside the print area and not in a hidden column."""
    area = ws.print_area
    ranges = [area] if isinstance(area, str) else list(area or [])
    for ref in ranges:
        lo_c, lo_r, hi_c, hi_r = range_boundaries(ref.split("!")[-1].replace("$", ""))
        for r in range(lo_r, hi_r + 1):
            for c in range(lo_c, hi_c + 1):
                if ws.column_dimensions[get_column_letter(c)].hidden:
                    continue
                v = ws.cell(r, c).value
                if v is not None:
                    yield ws.cell(r, c).coordinate, str(v)


# ---- the heading block, the title, Căn cứ, signatures, Nơi nhận ---------------------------------------

def test_the_summary_is_an_administrative_document(tmp_path):
    wb = write(tmp_path, qd28_batch())
    ws = wb[presentation.SUMMARY]
    top = [[str(c.value) for c in ws[r] if c.value is not None] for r in range(1, heading.HEADING_ROWS + 1)]
    assert top[0] == ["ỦY BAN NHÂN DÂN TỈNH NGHỆ AN", heading.QUOC_HIEU]
    assert top[1][0].startswith("CÔNG AN TỈNH NGHỆ AN\n—") and top[1][1] == heading.TIEU_NGU
    assert ws["A2"].font.b  # the issuing body in bold, its short rule under it
    assert top[2] == ["Số: 125/BC-CAT", "Nghệ An, ngày 15 tháng 12 năm 2026"]
    title = top[3][0]
    assert title.startswith("BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI ĐỊA BÀN TRỌNG ĐIỂM PHỨC TẠP VỀ MA TÚY, "
                            "ĐỊA BÀN KHÔNG MA TÚY TỈNH NGHỆ AN NĂM 2025")
    assert title.endswith("\n(Đề nghị phê duyệt)")  # the kind of document, as the pack says (summary: proposal)
    assert top[4] == ["Căn cứ Quyết định 28/2025/QĐ-TTg ngày 24 tháng 8 năm 2025 ban hành tiêu chí xác định "
                      "tuyến, địa bàn trọng điểm phức tạp về ma túy, địa bàn không ma túy."]
    # the table follows; then Nơi nhận and the signature blocks of the pack's summary roles
    assert ws.cell(heading.HEADING_ROWS + 2, 1).value == "Hạng trong tỉnh"
    all_text = texts(ws)
    assert "Nơi nhận:" in all_text
    assert "- Bộ Công an;\n- UBND tỉnh;\n- Lưu: VT, PC04." in all_text
    assert {"GIÁM ĐỐC CÔNG AN TỈNH", "TM. ỦY BAN NHÂN DÂN TỈNH\nCHỦ TỊCH", "Nguyễn Văn A", DOTS,
            "(Ký tên, đóng dấu)"} <= set(all_text)
    # everything from the heading block to the signatures prints; the signatures after the table
    area = ws.print_area
    last = int(re.search(r"\$(\d+)$", area).group(1))
    assert area.startswith("'Tổng hợp'!$A$1:") and ws.cell(last, 1).value is None
    sign_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Nơi nhận:")
    assert sign_row < last and ws.row_dimensions[sign_row + 2].height >= 80  # room to sign and stamp


def test_a_blank_profile_prints_dotted_lines_to_fill_in(tmp_path):
    wb = write(tmp_path, qd28_batch(), profile=CouncilProfile())
    ws = wb[presentation.SUMMARY]
    assert ws["A1"].value == DOTS
    assert ws["A3"].value == "Số: ……/……"
    assert any(v.startswith(f"{DOTS}, ngày 15 tháng 12 năm 2026") for v in texts(ws))
    assert f"- {DOTS};\n- {DOTS};\n- Lưu: VT." in texts(ws)
    assert texts(ws).count(DOTS) >= 3  # superior and issuing body, and the unnamed signatories


def test_an_issuing_body_without_a_superior_body_stands_alone(tmp_path):
    wb = write(tmp_path, qd28_batch(), profile=CouncilProfile(issuing_body="Ủy ban nhân dân tỉnh Nghệ An"))
    ws = wb[presentation.SUMMARY]
    assert ws["A1"].value in (None, "") and ws["A2"].value.startswith("ỦY BAN NHÂN DÂN TỈNH NGHỆ AN\n—")


def test_an_illustrative_pack_says_so_in_its_title_and_names_its_own_roles(tmp_path):
    wb = write(tmp_path, scored_batch("xa-lanh-manh", [xlm_row(1, "40"), xlm_row(2, "40")]))
    ws = wb[presentation.SUMMARY]
    title = ws["A4"].value
    assert title.startswith("BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI XÃ, PHƯỜNG LÀNH MẠNH KHÔNG CÓ TỆ NẠN MA TÚY")
    assert heading.STATUS_LINE["illustrative"] in title
    assert {"NGƯỜI LẬP BIỂU", "TM. HỘI ĐỒNG THẨM ĐỊNH\nCHỦ TỊCH HỘI ĐỒNG"} <= set(texts(ws))
    basis = ws["A5"].value.split("\n")
    assert len(basis) == 3 and all(b.startswith("Căn cứ Nghị quyết liên tịch") for b in basis)
    assert basis[0].endswith(";") and basis[-1].endswith(".")


def test_province_sheets_are_documents_too(tmp_path):
    wb = write(tmp_path, qd28_batch(("40", "42")))
    for name in (presentation.PROVINCES, "40 Nghệ An", "42 Hà Tĩnh"):
        ws = wb[name]
        assert heading.QUOC_HIEU in texts(ws) and heading.TIEU_NGU in texts(ws), name
        assert "Nơi nhận:" in texts(ws), name
    assert "TỈNH NGHỆ AN NĂM 2025" in wb["40 Nghệ An"]["A4"].value
    assert "THEO TỈNH, THÀNH PHỐ NĂM 2025" in wb[presentation.PROVINCES]["A4"].value
    # a long class label wraps in the ranking sheet's class column
    ws = wb["40 Nghệ An"]
    head = next(r for r in range(1, 20) if ws.cell(r, 6).value == "Xếp loại")
    assert ws.cell(head + 1, 6).alignment.wrap_text


# ---- print layout ---------------------------------------------------------------------------------------

def test_every_sheet_is_a4_with_the_pack_title_and_no_machine_id(tmp_path):
    wb = write(tmp_path, qd28_batch(("40", "42")))
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == 9, ws.title
        header = ws.oddHeader.left.text or ""
        assert header.startswith("Tiêu chí xác định địa bàn trọng điểm"), ws.title
        assert "qd-28-2025" not in header and "chính thức" not in header, ws.title
        assert ws.oddFooter.center.text in ("Trang &P", "Trang 1/1"), ws.title
    charts = wb[presentation.CHARTS]  # the tables and charts whole on one page
    assert charts.page_setup.fitToHeight in (None, 1) and charts.sheet_properties.pageSetUpPr.fitToPage


def test_no_class_id_on_a_printed_cell(tmp_path):
    wb = write(tmp_path, qd28_batch(("40", "42")))
    for name in (presentation.SUMMARY, presentation.PROVINCES, "40 Nghệ An"):
        ws = wb[name]
        shown = list(printed_cells(ws))
        assert shown, name
        bad = [(ref, v) for ref, v in shown if v in QD28_CLASSES or "qd-28-2025" in v]
        assert not bad, (name, bad)
    # the class ids stay in the workbook for the formulas and `verify`: a hidden column
    ws = wb[presentation.SUMMARY]
    h = heading.HEADING_ROWS + 2
    c = next(c for c in range(1, ws.max_column + 1) if ws.cell(h, c).value == "Mã xếp loại")
    assert ws.column_dimensions[get_column_letter(c)].hidden


def test_empty_sheets_print_nothing_and_the_information_title_is_whole(tmp_path):
    wb = write(tmp_path, qd28_batch())
    for name in (presentation.REJECTS, presentation.WARNINGS):
        ws = wb[name]
        if ws.cell(2, 1).value is None:  # no rows: "Không có …" on screen, a blank cell to print
            assert ws.print_area.endswith("$A$4")
    info = wb[presentation.INFO]
    assert "A1:D1" in {str(m) for m in info.merged_cells.ranges}
    assert info["A1"].value == "THÔNG TIN VỀ BẢNG XẾP HẠNG"


def test_a_workbook_without_forms_says_how_to_make_them(tmp_path):
    ws = write(tmp_path, qd28_batch())[presentation.SUMMARY]
    note = next(v for v in texts(ws) if v.startswith("Tệp này không kèm phiếu"))
    assert "lanhmanh score <tệp số liệu của tỉnh> --rules qd-28-2025 --out" in note
    assert note not in {v for _, v in printed_cells(ws)}  # on screen, not on the signed paper


# ---- the national summary -----------------------------------------------------------------------------

def test_the_national_summary_is_a_document_with_a_print_setup(tmp_path):
    batch = qd28_batch(("40", "42", "01"))
    national.write_national(batch, tmp_path / "out", now=NOW, profile=PROFILE)
    wb = openpyxl.load_workbook(tmp_path / "out" / national.SUMMARY_FILE)
    assert wb.sheetnames[:2] == [national.NATIONAL_SHEET, national.CHART_SHEET]
    for ws in wb.worksheets:
        assert int(ws.page_setup.paperSize) == 9, ws.title
        assert ws.oddHeader.left.text and "qd-28-2025" not in ws.oddHeader.left.text, ws.title
        assert ws.oddFooter.center.text, ws.title
    ws = wb[national.NATIONAL_SHEET]
    all_text = texts(ws)
    assert {heading.QUOC_HIEU, heading.TIEU_NGU, "Nơi nhận:", "GIÁM ĐỐC CÔNG AN TỈNH", "Nguyễn Văn A"} <= set(all_text)
    assert "(Báo cáo kết quả)" in ws["A4"].value and "TOÀN QUỐC NĂM 2025" in ws["A4"].value
    assert any(v.startswith("Phiếu đánh giá từng đơn vị cấp xã: trong tệp kết quả của từng tỉnh") for v in all_text)
    assert not [v for _, v in printed_cells(ws) if v in QD28_CLASSES]
    head = heading.HEADING_ROWS + 1
    c = next(c for c in range(1, ws.max_column + 1) if ws.cell(head, c).value == "Xếp loại cấp tỉnh")
    assert ws.column_dimensions[get_column_letter(c)].width >= 16 and ws.cell(head + 1, c).alignment.wrap_text
    assert ws.print_title_rows == f"${head}:${head}"
    # the chart alone on its page, not under the table where the repeated headings covered it
    assert not ws._charts and len(wb[national.CHART_SHEET]._charts) == 1
    assert wb[national.CHART_SHEET].page_setup.fitToHeight in (None, 1)
    info = dict((r[0], r[1]) for r in wb[presentation.INFO].iter_rows(values_only=True))
    assert info[national.FORMS_LABEL].startswith("lanhmanh score <tệp số liệu của tỉnh> --rules qd-28-2025")


def test_a_large_national_run_says_the_forms_were_left_out(tmp_path, monkeypatch):
    monkeypatch.setattr(national, "UNIT_SHEETS_BATCH_MAX", 3)
    national.write_national(qd28_batch(("40", "42")), tmp_path / "out", now=NOW)
    ws = openpyxl.load_workbook(tmp_path / "out" / national.SUMMARY_FILE)[national.NATIONAL_SHEET]
    assert any(v.startswith("Phiếu đánh giá từng đơn vị cấp xã không được lập trong lô này") for v in texts(ws))


# ---- pieces ---------------------------------------------------------------------------------------------

def test_subject_and_title_come_from_the_pack():
    qd28, _ = load_pack("qd-28-2025")
    assert heading.subject(qd28) == "địa bàn trọng điểm phức tạp về ma túy, địa bàn không ma túy"
    variant, _ = load_pack("xa-lanh-manh-nghe-an")
    assert heading.subject(variant) == "xã, phường lành mạnh"
    assert heading.document_title(qd28, None) == ("BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI ĐỊA BÀN TRỌNG ĐIỂM "
                                                  "PHỨC TẠP VỀ MA TÚY, ĐỊA BÀN KHÔNG MA TÚY")
    assert heading.source_date(dt.date(2025, 2, 5)) == "ngày 05 tháng 02 năm 2025"
    assert heading.source_date("2025-08-24") == "ngày 24 tháng 8 năm 2025"
    assert heading.source_date("không rõ") == ""


@pytest.mark.parametrize("widths,shares", [([8, 8, 20, 9, 6, 14, 40, 0, 7, 7, 7], [0.42, 0.58]),
                                           ([7, 20, 9], [0.34, 0.33, 0.33]), ([50], [0.4, 0.6]),
                                           ([5] * 30, [0.34, 0.33, 0.33])])
def test_spans_cover_the_columns_in_order(widths, shares):
    runs = heading.spans(widths, shares)
    assert len(runs) == len(shares) and runs[0][0] == 0 and runs[-1][1] == len(widths) - 1
    for (a, b), (c, _d) in zip(runs, runs[1:]):
        assert a <= b and (c == b + 1 or (len(widths) < len(shares) and c == b))


# ---- printed with LibreOffice --------------------------------------------------------------------------

def soffice_or_skip() -> str:
    found = need_tool("soffice", "libreoffice")
    need_tool("pdftotext")
    need_tool("pdfinfo")
    return found


def to_pdf(soffice: str, xlsx: Path, tmp: Path) -> Path:
    profile = (tmp / "lo-profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--norestore", "--convert-to", "pdf",
                    "--outdir", str(tmp), str(xlsx)], check=True, capture_output=True, timeout=300)
    return tmp / (xlsx.stem + ".pdf")


def pdf_pages(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True,
                          text=True).stdout
    return text.split("\f")


def pdf_sizes(pdf: Path) -> set[str]:
    out = subprocess.run(["pdfinfo", "-f", "1", "-l", "999", str(pdf)], check=True, capture_output=True,
                         text=True).stdout
    return {re.sub(r"\s+", " ", m) for m in re.findall(r"Page\s+\d+\s+size:\s+(.*)", out)}


def squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text)


@pytest.mark.slow
def test_printed_summary_and_national_summary(tmp_path):
    soffice = soffice_or_skip()
    batch = qd28_batch(("40", "42"))
    write(tmp_path, batch)
    national.write_national(batch, tmp_path / "out", now=NOW, profile=PROFILE)
    for xlsx, first_title in ((tmp_path / "s.xlsx", "TỈNH"), (tmp_path / "out" / national.SUMMARY_FILE, "TOÀN QUỐC")):
        pdf = to_pdf(soffice, xlsx, tmp_path)
        pages = [p for p in pdf_pages(pdf) if p.strip()]
        assert all("A4" in size for size in pdf_sizes(pdf)), pdf_sizes(pdf)
        first = squeeze(pages[0])
        for words in (heading.QUOC_HIEU, heading.TIEU_NGU, "CÔNG AN TỈNH NGHỆ AN", "Số: 125/BC-CAT",
                      "Nghệ An, ngày 15 tháng 12 năm 2026", "BẢNG TỔNG HỢP KẾT QUẢ ĐÁNH GIÁ, PHÂN LOẠI",
                      "Căn cứ Quyết định 28/2025/QĐ-TTg"):
            assert words in first, (xlsx.name, words)
        assert first_title in first
        document = squeeze(" ".join(pages))
        assert "Nơi nhận:" in document and "GIÁM ĐỐC CÔNG AN TỈNH" in document and "Nguyễn Văn A" in document
        # no pack id, no class id on any printed page (the Thông tin page, technical, names the pack)
        for page in pages:
            if "THÔNG TIN VỀ BẢNG XẾP HẠNG" in page or "Mã kiểm tra kết quả" in page:
                continue
            assert "qd-28-2025" not in page, (xlsx.name, page[:300])
            assert not re.search(r"\b(drug_free|type_[123]|unclassified|key_area|not_key_area)\b", page), \
                (xlsx.name, page[:300])
        assert "Trang 1" in pages[0]
