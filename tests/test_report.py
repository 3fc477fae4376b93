"""`lanhmanh report`: the province's report as a Word document, read back with python-docx (heading
block, title, "Căn cứ", the counts per class equal to the batch's, the province's class and
criteria, the chart, signatures, the annex listing every unit), last year's counts with
--previous, no machine id anywhere; printed by LibreOffice (slow)."""
from __future__ import annotations

import json
import re
import subprocess
from collections import Counter
from fractions import Fraction
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from lmtest import identity, need_tool, qd28_values, scored_batch, xlm_row

import lanhmanh
from lanhmanh.cli import cli
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs.json_out import result_dict
from lanhmanh.scorecards.outputs.profile import DOTS
from lanhmanh.scorecards.outputs.report import content

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
SAMPLE = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
TIEU_NGU = "Độc lập - Tự do - Hạnh phúc"
PROFILE_FLAGS = ["--issuing-body", "CÔNG AN TỈNH NGHỆ AN", "--superior-body", "UBND TỈNH NGHỆ AN",
                 "--place", "Nghệ An", "--doc-number", "125", "--doc-symbol", "BC-CAT", "--doc-date", "2025-12-18",
                 "--signer", "proposes=Nguyễn Văn An"]


def invoke(*args) -> "object":
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output, result.output
    return result


def cells_text(table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def all_text(document) -> str:
    """Every paragraph and table cell of the document (body, headers), one per line."""
    out = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            for cell in row.cells:
                out.append(cell.text)
    for section in document.sections:
        out += [p.text for p in section.header.paragraphs]
    return "\n".join(out)


def table_after(document, caption_start: str):
    """The table right after the paragraph whose text starts with `caption_start`."""
    body = document.element.body
    found = False
    for child in body.iterchildren():
        if child.tag.endswith("}p") and "".join(child.itertext()).startswith(caption_start):
            found = True
        elif found and child.tag.endswith("}tbl"):
            return next(t for t in document.tables if t._tbl is child)
    raise AssertionError(f"no table after {caption_start!r}")


@pytest.fixture(scope="module")
def sample_batch():
    return lanhmanh.score(SAMPLE, rules="qd-28-2025", engine="python")


@pytest.fixture(scope="module")
def sample_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "bao-cao.docx"
    result = invoke("report", SAMPLE, "--rules", "qd-28-2025", "--engine", "python", "--out", out, *PROFILE_FLAGS)
    assert result.exit_code == 0, result.output
    return out, result.output


# ---- what the report says ------------------------------------------------------------------------

def test_the_heading_block_holds_the_bodies_the_national_title_number_place_and_date(sample_report):
    document = docx.Document(str(sample_report[0]))
    head = cells_text(document.tables[0])
    left, right = head[0][0], head[0][1]
    assert left.splitlines()[:2] == ["UBND TỈNH NGHỆ AN", "CÔNG AN TỈNH NGHỆ AN"]
    assert right.splitlines()[:2] == [QUOC_HIEU, TIEU_NGU]
    assert head[1] == ["Số: 125/BC-CAT", "Nghệ An, ngày 18 tháng 12 năm 2025"]
    # the heading block has no borders; the place and date are in italics
    assert document.tables[0].style.name != "Table Grid"
    date_run = document.tables[0].cell(1, 1).paragraphs[0].runs[0]
    assert date_run.italic


def test_title_subject_and_the_legal_basis(sample_report):
    document = docx.Document(str(sample_report[0]))
    texts = [p.text for p in document.paragraphs]
    k = texts.index("BÁO CÁO")
    subject = texts[k + 1]
    assert subject.startswith("Kết quả đánh giá, phân loại theo tiêu chí xác định địa bàn trọng điểm phức tạp")
    assert subject.endswith("trên địa bàn tỉnh Nghệ An năm 2025")
    assert "cách đọc" not in subject  # the pack title's parenthesis stays out
    basis = [t for t in texts if t.startswith("Căn cứ ")]
    assert basis == ["Căn cứ Quyết định 28/2025/QĐ-TTg ngày 24 tháng 8 năm 2025 ban hành tiêu chí xác định tuyến, "
                     "địa bàn trọng điểm phức tạp về ma túy, địa bàn không ma túy."]


def test_the_class_table_counts_and_shares_are_the_batchs(sample_report, sample_batch):
    document = docx.Document(str(sample_report[0]))
    rows = cells_text(table_after(document, "Bảng 1."))
    level = sample_batch.pack.commune
    counts = Counter(r.outcome.class_id for r in sample_batch.units)
    n = len(sample_batch.units)
    assert n == 130
    expected = {level.class_label(cid): counts[cid] for cid in counts}
    body = {r[1]: int(r[2]) for r in rows[1:-1]}
    assert body == expected
    assert rows[-1][1:] == ["Tổng số", "130", "100,00"]
    shares = {r[1]: r[3] for r in rows[1:-1]}
    assert shares[level.class_label("drug_free")] == "18,46"  # 24/130
    assert shares[level.class_label("type_1")] == "3,85"  # 5/130
    # best class first, in the pack's order
    assert [r[1] for r in rows[1:-1]] == [level.class_label(c) for c in level.best_first]


def test_the_provinces_own_class_and_criteria(sample_report, sample_batch):
    document = docx.Document(str(sample_report[0]))
    plevel = sample_batch.pack.province
    p = sample_batch.provinces[0]
    met = sum(1 for m, _p, _b in p.outcome.outcomes if m)
    texts = [x.text for x in document.paragraphs]
    line = next(t for t in texts if t.startswith("Tỉnh Nghệ An đạt"))
    assert line == f"Tỉnh Nghệ An đạt {met}/6 tiêu chí, được xác định là: {plevel.class_label(p.outcome.class_id)}."
    rows = cells_text(table_after(document, "Bảng 2."))
    assert rows[0] == ["STT", "Tiêu chí", "Kết quả", "Căn cứ"]
    assert [(r[1], r[2]) for r in rows[1:]] == [
        (c.title, "Đạt" if m else "Không đạt") for c, (m, _p, _b) in zip(plevel.criteria.values(), p.outcome.outcomes)]
    assert rows[1][3] == "Điều 5, khoản 1"


def test_the_chart_is_a_png_image(sample_report):
    document = docx.Document(str(sample_report[0]))
    assert len(document.inline_shapes) == 1
    blip = document.inline_shapes[0]._inline.graphic.graphicData.pic.blipFill.blip
    image = document.part.related_parts[blip.embed].image
    assert image.content_type == "image/png" and image.px_width > 1000
    assert any(p.text.startswith("Biểu đồ 1. Số đơn vị cấp xã theo kết quả phân loại năm 2025")
               for p in document.paragraphs)


def test_signatures_from_the_pack_names_from_the_profile_blank_as_dots(sample_report):
    document = docx.Document(str(sample_report[0]))
    table = next(t for t in document.tables if "GIÁM ĐỐC CÔNG AN TỈNH" in t.cell(0, 0).text)
    rows = cells_text(table)
    assert rows[0] == ["GIÁM ĐỐC CÔNG AN TỈNH", "TM. ỦY BAN NHÂN DÂN TỈNH\nCHỦ TỊCH"]
    assert rows[1] == ["(Ký tên, đóng dấu)", "(Ký tên, đóng dấu)"]
    assert rows[3] == ["Nguyễn Văn An", DOTS]
    text = all_text(document)
    assert "Nơi nhận:" in text and "- Lưu: VT." in text


def test_the_annex_lists_every_unit_under_its_class(sample_report, sample_batch):
    document = docx.Document(str(sample_report[0]))
    texts = [p.text for p in document.paragraphs]
    assert "Phụ lục" in texts
    assert "(Kèm theo Báo cáo số 125/BC-CAT ngày 18 tháng 12 năm 2025 của CÔNG AN TỈNH NGHỆ AN)" in texts
    annex = document.tables[-1]
    rows = cells_text(annex)
    assert rows[0] == ["STT", "Mã đơn vị", "Tên đơn vị", "Loại hình", "Kết quả phân loại"]
    level = sample_batch.pack.commune
    listed = {r[1]: (r[2], r[3], r[4]) for r in rows[1:] if r[0] != r[1]}  # group rows are merged cells
    assert listed == {r.unit.code: (r.unit.name, r.unit.type.capitalize(), level.class_label(r.outcome.class_id))
                      for r in sample_batch.units}
    groups = [r[0] for r in rows[1:] if r[0] == r[-1]]
    counts = Counter(r.outcome.class_id for r in sample_batch.units)
    assert groups[0] == f"I. {level.class_label('drug_free')}: {counts['drug_free']} đơn vị"
    # the annex starts a section of its own whose pages are numbered from 1
    assert len(document.sections) == 2
    assert document.sections[1]._sectPr.xpath("./w:pgNumType/@w:start") == ["1"]


def test_no_class_id_indicator_id_or_criterion_id_in_the_document(sample_report):
    text = all_text(docx.Document(str(sample_report[0])))
    pack = load_pack("qd-28-2025")[0]
    ids = ({c.id for c in pack.commune.classes} | {c.id for c in pack.province.classes}
           | set(pack.commune.indicators) | set(pack.commune.derived) | set(pack.province.indicators))
    for machine_id in ids:
        assert not re.search(rf"(?<![\w.]){re.escape(machine_id)}(?![\w])", text), machine_id
    for criterion in list(pack.commune.criteria) + list(pack.province.criteria):
        assert not re.search(rf"(?<![\w.]){re.escape(criterion)}(?![\w.])", text), criterion
    assert "qd-28-2025" not in text


def test_page_setup_follows_nd_30(sample_report):
    document = docx.Document(str(sample_report[0]))
    for section in document.sections:
        assert round(section.page_width.cm, 1) == 21.0 and round(section.page_height.cm, 1) == 29.7
        assert 2.0 <= round(section.top_margin.cm, 1) <= 2.5 and 2.0 <= round(section.bottom_margin.cm, 1) <= 2.5
        assert 3.0 <= round(section.left_margin.cm, 1) <= 3.5 and 1.5 <= round(section.right_margin.cm, 1) <= 2.0
        assert section.different_first_page_header_footer  # no page number on the first page
    normal = document.styles["Normal"].font
    assert normal.name == "Times New Roman" and 13 <= normal.size.pt <= 14


def test_the_command_prints_the_counts_and_records_nothing(sample_report):
    output = sample_report[1]
    assert "Địa bàn không ma túy: 24" in output
    assert "report written to" in output
    assert "recorded" not in output


def test_report_writes_no_history(run_cli, tmp_path, files, workdir):
    path = files.csv("in.csv", [{**identity(16681, province="40"), **qd28_values()}])
    result = run_cli("report", path, "--rules", "qd-28-2025", "--unit-list", "none", "--out", "bc.docx")
    assert result.exit_code == 0, result.output
    assert (workdir / "bc.docx").is_file()
    assert not (tmp_path / "history.sqlite").exists()


# ---- last year, other packs, bad calls -----------------------------------------------------------

def qd_rows(year: int) -> list[dict]:
    """Four units of province 40: two drug-free, one type II (I.a, II.b, II.c met), one type III."""
    type_2 = qd28_values(users_with_records=60, harbouring_points=1, drug_arrests=6, resident_users_untreated=1)
    type_3 = qd28_values(resident_users_untreated=1)
    values = [qd28_values(), qd28_values(), type_2, type_3]
    return [{**identity(16681 + k, province="40", year=year), **v} for k, v in enumerate(values)]


def test_previous_year_counts_and_the_change(run_cli, files, tmp_path, workdir):
    doc = result_dict(scored_batch("qd-28-2025", qd_rows(2024)))
    # last year: the first unit was type I, the others as this year
    doc["units"] = [{**u, "class": "type_1"} if u["unit_code"] == "16681" else u for u in doc["units"]]
    prev = tmp_path / "2024.json"
    prev.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    path = files.csv("in.csv", qd_rows(2025))
    result = run_cli("report", path, "--rules", "qd-28-2025", "--engine", "python", "--unit-list", "none",
                     "--out", "bc.docx", "--previous", prev)
    assert result.exit_code == 0, result.output
    document = docx.Document("bc.docx")
    rows_out = cells_text(table_after(document, "Bảng 1."))
    assert rows_out[0][4:] == ["Số đơn vị năm 2024", "Tăng, giảm"]
    level = load_pack("qd-28-2025")[0].commune
    got = {r[1]: (r[2], r[4], r[5]) for r in rows_out[1:-1]}
    assert got == {level.class_label("drug_free"): ("2", "1", "Tăng 1"),
                   level.class_label("type_3"): ("1", "1", "Không đổi"),
                   level.class_label("type_2"): ("1", "1", "Không đổi"),
                   level.class_label("type_1"): ("0", "1", "Giảm 1")}
    assert rows_out[-1][2:] == ["4", "100,00", "4", "Không đổi"]
    line = next(p.text for p in document.paragraphs if p.text.startswith("So với năm 2024:"))
    assert line.startswith("So với năm 2024: 1 đơn vị giữ vững địa bàn không ma túy; 1 đơn vị chuyển hóa")


def test_an_illustrative_pack_says_so_and_has_no_province_section(run_cli, files, workdir):
    path = files.csv("in.csv", [xlm_row(16681, province="40"), xlm_row(16690, province="40")])
    result = run_cli("report", path, "--rules", "xa-lanh-manh", "--engine", "python", "--unit-list", "none",
                     "--year", "2025", "--out", "bc.docx")
    assert result.exit_code == 0, result.output
    document = docx.Document("bc.docx")
    texts = [p.text for p in document.paragraphs]
    assert any("minh họa" in t and "không phải tiêu chí chính thức" in t for t in texts)
    assert not any("XẾP LOẠI CẤP TỈNH" in t for t in texts)
    assert any(t.startswith("Căn cứ Nghị quyết liên tịch số 546/2003") for t in texts)
    rows = cells_text(table_after(document, "Bảng 1."))
    assert sum(int(r[2]) for r in rows[1:-1]) == 2
    signatures = next(t for t in document.tables if "HỘI ĐỒNG THẨM ĐỊNH" in t.cell(0, 1).text)
    assert signatures.cell(0, 0).text == "NGƯỜI LẬP BIỂU"


def test_rejected_rows_are_reported_and_the_rest_written(run_cli, files, workdir):
    rows = [{**identity(k, province="40"), **qd28_values()} for k in (16681, 16690)]
    rows.append({**identity(16774, province="40"), **qd28_values(population="mười")})
    path = files.csv("in.csv", rows)
    result = run_cli("report", path, "--rules", "qd-28-2025", "--engine", "python", "--unit-list", "none",
                     "--out", "bc.docx")
    assert result.exit_code == 1, result.output
    assert "population" in result.output
    document = docx.Document("bc.docx")
    assert any("1 dòng số liệu không hợp lệ chưa được đánh giá" in p.text for p in document.paragraphs)
    rows_out = cells_text(table_after(document, "Bảng 1."))
    assert rows_out[-1][2] == "2"


def test_an_output_over_an_input_is_refused(run_cli, files, workdir):
    path = files.csv("in.csv", [{**identity(16681, province="40"), **qd28_values()}])
    result = run_cli("report", path, "--rules", "qd-28-2025", "--unit-list", "none", "--out", path.parent / "bc.docx")
    assert result.exit_code == 0, result.output  # beside the input is fine: a file, not a folder
    result = run_cli("report", path.parent, "--rules", "qd-28-2025", "--unit-list", "none",
                     "--out", path.parent / "bc2.docx")
    assert result.exit_code == 2
    assert "lies in the input folder" in result.output
    assert not (path.parent / "bc2.docx").exists()


def test_the_report_must_be_named_docx(run_cli, workdir):
    result = run_cli("report", SAMPLE, "--rules", "qd-28-2025", "--out", "bc.doc")
    assert result.exit_code == 2
    assert "name it .docx" in result.output
    assert not Path("bc.doc").exists()


def test_a_report_that_cannot_be_written_leaves_the_old_one(run_cli, files, workdir, monkeypatch):
    path = files.csv("in.csv", [{**identity(16681, province="40"), **qd28_values()}])
    old = workdir / "bc.docx"
    old.write_bytes(b"old report")

    def fail(*args, **kwargs):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr("docx.document.Document.save", fail)
    result = run_cli("report", path, "--rules", "qd-28-2025", "--unit-list", "none", "--out", old)
    assert result.exit_code == 6
    assert "cannot write" in result.output
    assert old.read_bytes() == b"old report"
    assert [p.name for p in workdir.iterdir()] == ["bc.docx"]  # no temporary file left


# ---- the numbers as written --------------------------------------------------------------------

@pytest.mark.parametrize("share, text", [
    (Fraction(24, 130), "18,46"), (Fraction(5, 130), "3,85"), (Fraction(1, 8), "12,50"),
    (Fraction(1, 800), "0,13"), (Fraction(1), "100,00"), (Fraction(0), "0,00"), (Fraction(2, 3), "66,67"),
])
def test_percent_text(share, text):
    assert content.percent_text(share) == text


def test_change_text():
    assert content.change_text(None, 3) == "—"
    assert content.change_text(2, 5) == "Tăng 3"
    assert content.change_text(5, 2) == "Giảm 3"
    assert content.change_text(4, 4) == "Không đổi"


# ---- printed by LibreOffice ----------------------------------------------------------------------

def pdf_text(pdf: Path, *args: str) -> str:
    return subprocess.run([need_tool("pdftotext"), *args, str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


@pytest.mark.slow
def test_libreoffice_prints_the_report_with_its_heading_block(sample_report, tmp_path):
    need_tool("soffice", "libreoffice")
    from lanhmanh.scorecards.outputs.pdf import convert_to_pdf

    pdf = tmp_path / "bao-cao.pdf"
    convert_to_pdf(sample_report[0], pdf)
    first = pdf_text(pdf, "-layout", "-f", "1", "-l", "1")
    assert QUOC_HIEU in first  # on one line
    assert TIEU_NGU in first
    assert "UBND TỈNH NGHỆ AN" in first and "CÔNG AN TỈNH" in first  # (may wrap: a font wider than Times)
    assert "Số: 125/BC-CAT" in first and "Nghệ An, ngày 18 tháng 12 năm 2025" in first
    assert "BÁO CÁO" in first and "tỉnh Nghệ An" in first
    text = pdf_text(pdf)
    assert "Phụ lục" in text and "Xã Nghĩa Đàn" in text
    assert "Nguyễn Văn An" in text


@pytest.mark.slow
def test_report_pdf_option(run_cli, workdir):
    need_tool("soffice", "libreoffice")
    result = run_cli("report", SAMPLE, "--rules", "qd-28-2025", "--engine", "python", "--out", "bc.docx",
                     "--pdf", "bc.pdf")
    assert result.exit_code == 0, result.output
    assert "PDF written to bc.pdf" in result.output
    assert "Tỉnh Nghệ An đạt" in " ".join(pdf_text(workdir / "bc.pdf").split())
