"""Issue 14, the input side in Vietnamese: the reasons a row is rejected, how a value is shown in
them, the one-line diagnosis of another pack's file, the warnings of scoring and the errors of the
CSV, JSON and workbook readers, as a council official reads them (terminal, JSON)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lmtest import XLM_TEST, xlm_row
from openpyxl import Workbook

from lanhmanh.engine.evaluation import validate
from lanhmanh.engine.evaluation.validate import CellError, Rejection, Validator, parse_value, shown
from lanhmanh.engine.model import loader
from lanhmanh.errors import InputError
from lanhmanh.scorecards.inputs.readers import read

REPO = Path(__file__).resolve().parent.parent
ROWS = [xlm_row(1), xlm_row(2), xlm_row(3)]
COLS = list(ROWS[0])


@pytest.fixture(scope="module")
def pack():
    loaded, problems = loader.load_pack(XLM_TEST)
    return loaded


def reason(pack, indicator: str, raw) -> str:
    with pytest.raises(CellError) as e:
        parse_value(pack.commune.indicators[indicator], raw)
    return str(e.value)


def score(run_cli, *inputs, rules: Path = XLM_TEST):
    return run_cli("score", *map(str, inputs), "--rules", str(rules), "--unit-list", "none",
                   "--json", "o.json", "--no-db")


def test_values_are_shown_in_vietnamese(vietnamese):
    assert shown(None) == "trống"
    assert shown("  ") == "trống"
    assert shown(10 ** 1000) == "(một số có khoảng 1000 chữ số)"
    assert shown("1" * 5000) == repr("1" * 30 + "…(5000 ký tự)")
    assert shown(12) == "12" and shown("abc") == "'abc'"  # values stay as typed


def test_values_are_shown_in_english_by_default():
    assert shown(None) == "blank"
    assert shown(10 ** 1000) == "(a number of about 1000 digits)"
    assert shown("1" * 5000) == repr("1" * 30 + "…(5000 characters)")


def test_rejection_reasons_of_a_cell_in_vietnamese(pack, vietnamese):
    assert reason(pack, "villages_total", "0") == "nhỏ hơn giá trị tối thiểu 1"
    assert reason(pack, "villages_reached", "-3") == "số âm (phải ≥ 0)"
    assert reason(pack, "villages_reached", "mười") == "không phải là số nguyên"
    assert reason(pack, "villages_reached", "") == "thiếu giá trị (bắt buộc)"
    assert reason(pack, "has_annual_plan", "chưa rõ").startswith("không phải giá trị có/không")
    assert reason(pack, "villages_reached", "1.000").startswith("không rõ nghĩa: dấu chấm hoặc dấu phẩy")
    assert reason(pack, "villages_reached", "9" * 40) == "một số có hơn 30 chữ số"
    assert reason(pack, "villages_reached", 10 ** 13) == "lớn bất thường (trên 1.000.000.000.000)"


def test_a_decimal_reason_follows_the_language_it_is_asked_in(vietnamese):
    from lanhmanh.i18n import set_language

    set_language("en")  # the same text read in English first: its reason is remembered per language
    with pytest.raises(CellError, match="more than 2 decimal places"):
        validate._to_decimal("1.2345", 2)
    set_language("vi")
    with pytest.raises(CellError) as e:
        validate._to_decimal("1.2345", 2)
    assert str(e.value) == "quá 2 chữ số thập phân"


def test_a_rejection_line_reads_in_vietnamese(pack, vietnamese):
    v = Validator(pack)
    bad = {**ROWS[0], "villages_total": "abc"}
    bad.pop("addicts_total")
    assert v.row("t.csv", 2, bad) is None
    lines = {r.column: r.line() for r in v.rejected}
    assert lines["villages_total"] == ("t.csv: dòng 2 (đơn vị 00001 Xã 00001), cột villages_total, "
                                       "giá trị 'abc': không phải là số nguyên")
    assert lines["addicts_total"] == "t.csv: dòng 2 (đơn vị 00001 Xã 00001), cột addicts_total: thiếu cột (bắt buộc)"
    r = Rejection("b.xlsx", 7, "year", "", "year phải là một năm, ví dụ 2025", "Dữ liệu", "E7")
    assert r.line() == "b.xlsx, trang tính 'Dữ liệu', ô E7, cột year, giá trị trống: year phải là một năm, ví dụ 2025"


def test_identity_and_duplicate_reasons_in_vietnamese(pack, vietnamese):
    v = Validator(pack)
    assert v.row("t.csv", 2, ROWS[0]) is not None
    assert v.row("t.csv", 3, {**ROWS[0], "unit_type": "làng", "unit_name": ""}) is None
    reasons = {r.column: r.reason for r in v.rejected}
    assert reasons["unit_type"].startswith("loại đơn vị không hợp lệ (xã, phường, đặc khu, thị trấn")
    assert reasons["unit_name"] == "thiếu tên đơn vị"
    assert v.row("u.csv", 4, ROWS[0]) is None
    assert v.rejected[-1].reason == "unit_code bị trùng: đã có ở t.csv dòng 2"


def test_the_cli_reports_rejections_and_skipped_rows_in_vietnamese(run_cli, files, workdir, vietnamese):
    rows = [ROWS[0], {**ROWS[1], "villages_total": 0}, {**ROWS[2], "communication_sessions": "mười hai"},
            {**xlm_row(4), **{k: None for k in COLS[5:]}}]
    result = score(run_cli, files.csv("vao.csv", rows))
    assert result.exit_code == 1, result.output
    out = result.output
    assert ("vao.csv: dòng 3 (đơn vị 00002 Xã 00002), cột villages_total, giá trị '0': "
            "nhỏ hơn giá trị tối thiểu 1") in out
    assert "cột communication_sessions, giá trị 'mười hai': không phải là số nguyên" in out
    doc = json.loads((workdir / "o.json").read_text(encoding="utf-8"))
    assert {r["reason"] for r in doc["rejected"]} == {"nhỏ hơn giá trị tối thiểu 1", "không phải là số nguyên"}
    assert any(w["message"] == "1 dòng chưa điền số liệu (dòng 5): bỏ qua, không chấm điểm" for w in doc["warnings"])
    assert "below the minimum" not in out and "not a whole number" not in out


def test_another_packs_file_is_diagnosed_in_vietnamese(run_cli, workdir, vietnamese):
    csv = REPO / "examples" / "nghe-an-2025-lanh-manh.csv"
    result = run_cli("score", csv, "--rules", "qd-28-2025", "--json", "o.json", "--no-db")
    assert result.exit_code == 1
    first = next(ln for ln in result.output.splitlines() if ln.startswith(str(csv)))
    assert "dòng bị loại: các cột này khớp với gói quy tắc xa-lanh-manh" in first
    assert "hãy chấm điểm tệp với --rules xa-lanh-manh" in first
    assert "these columns match" not in first  # one language at a time


def test_an_uncalculated_formula_is_named_in_vietnamese(run_cli, files, workdir, vietnamese):
    wb = Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    ws.append(COLS)
    for r in ROWS:
        ws.append(["có" if r[c] is True else r[c] for c in COLS])
    sessions = COLS.index("communication_sessions") + 1  # column H
    ws.cell(3, sessions).value = "=I2+2"  # another row: not calculated
    wb.save(files.path("cong-thuc.xlsx"))
    result = score(run_cli, files.root / "cong-thuc.xlsx")
    assert result.exit_code == 1, result.output
    (r,) = json.loads((workdir / "o.json").read_text(encoding="utf-8"))["rejected"]
    assert r["reason"] == ("ô H3 chứa công thức chưa được tính (=I2+2: công thức đọc ô ở dòng khác): hãy mở tệp "
                           "bằng Excel hoặc LibreOffice và lưu lại")
    assert "never calculated" not in result.output


def test_reader_errors_in_vietnamese(tmp_path, vietnamese):
    empty = tmp_path / "rong.csv"
    empty.write_bytes(b"")
    with pytest.raises(InputError) as e:
        read(empty)
    assert e.value.message == "tệp trống"
    doc = tmp_path / "d.json"
    doc.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(doc)
    assert e.value.message == 'tệp đầu vào JSON phải là một danh sách đối tượng (hoặc {"units": [...]})'
    old = tmp_path / "cu.xls"
    old.write_bytes(b"<html>not a workbook</html>")
    from lanhmanh.scorecards.inputs.xlsx_reader import read_workbook

    with pytest.raises(InputError) as e:
        read_workbook(old, lambda h: True)
    assert e.value.message.startswith("không phải tệp Excel đọc được (tệp .xls cũ hoặc không chuẩn")
    assert e.value.message.endswith("hãy mở tệp bằng Excel và lưu lại dưới dạng .xlsx "
                                    "(File → Save As → Excel Workbook)")


def test_json_input_error_keeps_its_braces_in_english(tmp_path):
    doc = tmp_path / "d.json"
    doc.write_text('{"a": 1}', encoding="utf-8")
    with pytest.raises(InputError) as e:
        read(doc)
    assert e.value.message == 'JSON input must be a list of objects (or {"units": [...]})'


def test_an_engine_refusal_reads_in_vietnamese(pack, vietnamese):
    from lanhmanh.engine.evaluation.scoring import score_units

    pytest.importorskip("durable_rules_engine")
    v = Validator(pack)
    units = [u for i, r in enumerate(ROWS) if (u := v.row("t.csv", i + 2, r)) is not None]
    units[0].values["communication_sessions"] = 10 ** 18  # beyond durable_rules' exact int64 arithmetic
    batch = score_units(pack, units, "durable")
    (r,) = batch.rejected
    assert r.reason.startswith("bộ máy durable từ chối dòng này: giá trị 1000000000000000000 quá lớn đối với "
                               "phép tính số học 64 bit chính xác trong durable_rules")
    assert r.reason.endswith("hãy dùng --engine python")
