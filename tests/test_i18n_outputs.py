"""The outputs speak Vietnamese: `verify`'s differences (named by sheet and cell, values as they
are), files that are no scorecard, the council profile's errors and warnings, outputs refused over
inputs, LibreOffice missing for --pdf. The workbooks themselves were Vietnamese already; English
stays as it was (LANHMANH_LANG=en)."""
from __future__ import annotations

import warnings

import openpyxl
import pytest
from lmtest import scored_batch, xlm_row

from lanhmanh.errors import LanhmanhWarning, UsageError
from lanhmanh.i18n import set_language
from lanhmanh.scorecards.outputs import presentation
from lanhmanh.scorecards.outputs.paths import refuse_outputs_over_inputs
from lanhmanh.scorecards.outputs.profile import load_profile
from lanhmanh.scorecards.outputs.scorecard.workbook import write_scorecard
from lanhmanh.scorecards.outputs.verify import NotAScorecard, compare, open_scorecard
from lanhmanh.scorecards.outputs.xlsx_diff import class_counts_text

ARGS = ("--rules", "xa-lanh-manh", "--unit-list", "none")


def heading_row(ws) -> int:
    return next(r for r in range(1, 25) if "Mã đơn vị" in {c.value for c in ws[r]})


def column(ws, row: int, heading: str) -> int:
    return next(c.column for c in ws[row] if c.value == heading)


def test_verify_names_an_edited_total_in_vietnamese(vietnamese, run_cli, workdir, files):
    inp = files.csv("in.csv", [xlm_row(1), xlm_row(2, prostitution_hotspots=1)])
    assert run_cli("score", inp, *ARGS, "--out", "s.xlsx").exit_code == 0
    wb = openpyxl.load_workbook(workdir / "s.xlsx")
    ws = wb[presentation.SUMMARY]
    h = heading_row(ws)
    c_total, c_code = column(ws, h, "Tổng điểm"), column(ws, h, "Mã đơn vị")
    code = ws.cell(h + 1, c_code).value
    ws.cell(h + 1, c_total).value = 7  # a number typed over the total's formula
    wb.save(workdir / "s.xlsx")
    result = run_cli("verify", "s.xlsx", inp, *ARGS)
    assert result.exit_code == 5, result.output
    ref = f"{presentation.SUMMARY}!{openpyxl.utils.get_column_letter(c_total)}{h + 1}"
    line = next(x.strip() for x in result.stdout.splitlines() if x.strip().startswith(ref))
    assert line.startswith(f"{ref}: tổng điểm của {code} ")
    assert ": trong tệp Excel là 7, tính lại được " in line and "được gõ đè lên công thức =SUM(" in line


def _card(tmp_path):
    batch = scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(2, prostitution_hotspots=1)])
    write_scorecard(batch, tmp_path / "s.xlsx")
    return batch


def test_differences_and_what_was_checked_are_vietnamese_english_unchanged(tmp_path, vietnamese):
    batch = _card(tmp_path)
    unit = batch.units[0].unit
    wb = openpyxl.load_workbook(tmp_path / "s.xlsx")
    del wb[unit.code]  # a unit's own sheet removed
    wb.save(tmp_path / "s.xlsx")
    with open_scorecard(tmp_path / "s.xlsx") as card:
        report = compare(card, batch)
    assert [str(d) for d in report.differences] == [
        f"trang tính {unit.code}: thiếu trang tính kết quả của {unit.code} {unit.name}"]
    assert "1 tệp đầu vào (theo sha256)" in report.checked
    assert "mã kiểm tra kết quả (ô và thuộc tính tài liệu)" in report.checked
    set_language("en")
    with open_scorecard(tmp_path / "s.xlsx") as card:
        report = compare(card, batch)
    assert [str(d) for d in report.differences] == [
        f"sheet {unit.code}: the scorecard sheet of {unit.code} {unit.name} is missing"]
    assert "1 input file(s) by sha256" in report.checked


def test_a_file_that_is_no_scorecard_is_said_in_vietnamese(vietnamese, run_cli, workdir, files, tmp_path):
    inp = files.csv("in.csv", [xlm_row(1)])
    with pytest.raises(NotAScorecard, match=r"^không mở được tệp như một tệp Excel \(\.xlsx\): "):
        open_scorecard(inp)
    with pytest.raises(NotAScorecard, match="^đây là thư mục, không phải tệp Excel$"):
        open_scorecard(tmp_path)
    wb = openpyxl.Workbook()
    wb.active.title = "Trang 1"
    wb.save(workdir / "x.xlsx")
    result = run_cli("verify", "x.xlsx", inp, *ARGS)
    assert result.exit_code == 4
    assert ("tệp không có trang tính 'Thông tin': đây không phải bảng kết quả do `lanhmanh score --out` ghi"
            in result.stderr)


def test_council_profile_errors_and_warnings_are_vietnamese(vietnamese, files):
    bad = files.text("hd.yaml", "place: Nghệ An\ndate: 15/12/2026\n")
    with pytest.raises(UsageError) as e:
        load_profile(bad)
    assert str(e.value) == f"{bad}:2: date: hãy ghi ngày theo dạng 2026-12-15"
    odd = files.text("hd2.yaml", "place: Nghệ An\nplaec: Vinh\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        profile = load_profile(odd)
    assert profile.place == "Nghệ An"
    said = [str(w.message) for w in caught if issubclass(w.category, LanhmanhWarning)]
    assert said == [f"{odd}:2: khóa không xác định 'plaec' trong tệp thông tin hội đồng bị bỏ qua "
                    "(có phải là 'place'?)"]


def test_an_output_over_an_input_is_refused_in_vietnamese(vietnamese, run_cli, workdir, files):
    inp = files.csv("in.csv", [xlm_row(1)])
    with pytest.raises(UsageError) as e:
        refuse_outputs_over_inputs([str(inp)], [("--json", str(inp))])
    assert str(e.value).startswith(f"--json {inp} chính là tệp đầu vào {inp}: số liệu nộp lên sẽ bị ghi đè")
    (workdir / "nop").mkdir()
    files_in = workdir / "nop" / "a.csv"
    files_in.write_bytes(inp.read_bytes())
    result = run_cli("score", "nop", *ARGS, "--out", "nop/kq.xlsx")
    assert result.exit_code == 2
    assert "--out nop/kq.xlsx nằm trong thư mục đầu vào nop: lượt chạy sau" in result.stderr
    assert not (workdir / "nop" / "kq.xlsx").exists()


def test_pdf_without_libreoffice_is_said_in_vietnamese(vietnamese, run_cli, workdir, files, monkeypatch):
    monkeypatch.setenv("LANHMANH_SOFFICE", str(workdir / "no-soffice"))
    inp = files.csv("in.csv", [xlm_row(1)])
    result = run_cli("score", inp, *ARGS, "--pdf", "kq.pdf")
    assert result.exit_code == 2, result.output
    assert f"--pdf cần LibreOffice, nhưng LANHMANH_SOFFICE={workdir / 'no-soffice'} không phải là một chương trình" \
        in result.stderr
    assert "chưa ghi kq.pdf" in result.stderr
    assert not (workdir / "kq.pdf").exists()


def test_a_province_without_units_in_the_diff_is_said_in_vietnamese(vietnamese):
    assert class_counts_text(None, None) == "(không có)"
