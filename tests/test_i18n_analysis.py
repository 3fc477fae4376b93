"""Issue 14, the analysis side in Vietnamese: the completeness report, `explain`'s reasons, the
coverage report, scenario failures, what a variant overrides, and the history, last year's results
and targets as a council official reads them (terminal, JSON). Ids, paths and values stay as they are."""
from __future__ import annotations

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest
from lmtest import XLM_TEST, csv_as_year, scored_batch, shipped_pack, xlm_row

from lanhmanh.engine.analysis import coverage, explain
from lanhmanh.engine.analysis.overrides import describe_overrides
from lanhmanh.engine.analysis.scenarios import run_case
from lanhmanh.engine.batch import history as H
from lanhmanh.engine.batch.previous import PreviousError, load_previous_from_history
from lanhmanh.engine.batch.targets import TargetsError, read_targets
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.pack import Case

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MA_TUY_CSV = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
MUONG_TIP = "16858"


def test_completeness_counterexample_reads_in_vietnamese(run_cli, vietnamese):
    shipped_pack("qd-28-2025-literal")
    result = run_cli("check", "qd-28-2025-literal", "--completeness")
    assert result.exit_code == 3, result.output
    out = result.output
    assert "tính đầy đủ của các xếp loại trong qd-28-2025-literal 2025.1:" in out
    assert "cấp xã (4 xếp loại, không có loại còn lại): LỌT QUA MỌI XẾP LOẠI: có bộ số liệu hợp lệ không " \
           "đạt xếp loại nào (đã xét " in out
    assert "đã xét hết: mọi tổ hợp giá trị đúng/sai" in out
    assert "phản ví dụ:" in out and "bộ máy durable: unclassified (cùng xếp loại)" in out
    for cls in ("drug_free", "type_1", "type_2", "type_3"):  # class ids are not translated
        assert re.search(rf"xếp loại {cls}: `.*` không thỏa mãn \(đạt: ", out), cls
    assert re.search(r"tiêu chí đạt: [A-Z]", out)
    # the case to paste stays a YAML case of the pack: its keys and values are not translated
    assert "dán vào mục `cases:` của gói quy tắc để giữ ví dụ này:" in out
    assert "# completeness: không đạt xếp loại nào (đạt " in out
    assert "expect: {class: unclassified}}" in out
    assert "falls through" not in out.lower() and "counterexample" not in out


def test_completeness_of_a_pack_with_a_residual_class_in_vietnamese(run_cli, vietnamese):
    result = run_cli("check", "qd-28-2025", "--completeness")
    assert result.exit_code == 0, result.output
    assert "cấp xã (4 xếp loại, loại còn lại type_3): không xã nào có thể lọt qua mọi xếp loại (loại còn " \
           "lại nhận mọi trường hợp); đã xét " in result.output
    assert re.search(r"mọi xếp loại đều đạt được: drug_free \d+, type_1 \d+", result.output)
    assert "cấp tỉnh (3 xếp loại, loại còn lại not_key_area): không tỉnh nào có thể lọt qua" in result.output


def test_explain_says_why_in_vietnamese_and_keeps_its_keys_and_ids(run_cli, vietnamese, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    result = run_cli("explain", MUONG_TIP, str(MA_TUY_CSV), "--rules", "qd-28-2025", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["class"] == "type_2" and doc["why"]["class"] == "type_2"
    assert doc["why"]["explanation"] == "cần đạt ít nhất 3 trong số II.a, II.b, II.c, II.d, II.đ; đạt 3: " \
                                        "II.a, II.c, II.d"
    first = doc["why_not"][0]
    assert first["class"] == "drug_free" and first["kind"] == "all"
    assert first["explanation"].startswith("cần đạt tất cả DF.1, DF.2, DF.3; không đạt: ")
    table = run_cli("explain", MUONG_TIP, str(MA_TUY_CSV), "--rules", "qd-28-2025")
    assert "cần đạt ít nhất 3 trong số I.a, I.b, I.c, I.d, I.đ; đạt 2: I.a, I.c" in " ".join(table.output.split())


def test_a_province_share_is_explained_in_vietnamese(run_cli, vietnamese):
    result = run_cli("explain", "40", str(MA_TUY_CSV), "--rules", "qd-28-2025", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    share = doc["why_not"][0]
    assert share["class"] == "drug_free"
    assert share["explanation"].startswith("`share(drug_free) == 100%` không thỏa mãn (share(drug_free) = ")
    assert doc["why"]["explanation"].startswith("cần đạt ít nhất 4 trong số P.1, P.2, P.3, P.4, P.5, P.6; đạt ")


def test_values_in_an_explanation_in_vietnamese(vietnamese):
    level = load_pack(XLM_TEST)[0].commune
    assert explain.rate_text(60, 10000) == "60/10000 = 0,6%"  # numbers are the same in both languages
    assert explain.rate_text(1, 0, "unknown") == "1/0 (mẫu số bằng 0: không có giá trị)"
    assert explain.rate_text(0, 0, Fraction(1)) == "0/0 (mẫu số bằng 0: tính là 100%)"
    assert explain.display_value(level, "villages_total", None) == "(trống)"
    assert explain.display_value(level, "has_annual_plan", True) == "có"


def test_coverage_report_in_vietnamese(vietnamese):
    pack = load_pack(XLM_TEST)[0]
    n = len(coverage.pack_items(pack))
    nothing = coverage.render(coverage.case_coverage(pack, cases=[]), counts=True)
    assert nothing[0] == f"xlm-test: 0/{n} kết quả đạt được qua 0 tình huống, 0/{n} được kiểm tra"
    assert nothing[1] == "  cấp xã, 0 tình huống:"
    assert "    tiêu chí A1 đạt: 0/0" in nothing and "    tiêu chí B1 mức 1 (10 điểm): 0/0" in nothing
    assert f"  chưa đạt được ({n}):" in nothing
    cases = coverage.render(coverage.case_coverage(pack), unasserted=True)
    assert re.fullmatch(rf"xlm-test: \d+/{n} kết quả đạt được qua 3 tình huống, \d+/{n} được kiểm tra", cases[0])
    assert any(line.endswith(": tiêu chí B1 không đạt mức nào (0 điểm)") for line in cases)


def test_scenario_failures_in_vietnamese(vietnamese):
    pack = load_pack(XLM_TEST)[0]
    case = next(c for c in pack.cases if c.level == "commune")
    got = run_case(pack, case, "python").reached
    assert got is not None
    actual = got[2]
    wrong = Case(case.name, "commune", dict(case.given), {"class": "not_met", "total": -1, "met": ["A1"]}, case.line)
    failures = run_case(pack, wrong, "python").failures
    assert f"class: cần not_met, nhận được {actual.class_id}" in failures
    assert f"total: cần -1, nhận được {actual.total}" in failures
    rejected = Case("bị loại", "commune", {**case.given, "villages_total": "abc"}, {"class": "healthy"}, 1)
    (reason,) = run_case(pack, rejected, "python").failures
    assert reason.startswith("dữ liệu đầu vào của tình huống bị loại: villages_total=")


def test_what_a_variant_overrides_in_vietnamese(vietnamese):
    variant = load_pack("xa-lanh-manh-nghe-an")[0]
    lines = describe_overrides(variant)
    assert re.fullmatch(r"  mở rộng xa-lanh-manh \S+ \(.*xa-lanh-manh\.yaml, sha256 [0-9a-f]{12}…\): \d+ điểm thay đổi",
                        lines[0])
    assert "    group B, points: 15 → 10" in lines  # kinds and fields are ids, as `lanhmanh diff` names them


def test_history_refusals_in_vietnamese(run_cli, workdir, vietnamese):
    notes = workdir / "notes.sqlite"
    notes.write_text("unit_code,name\n1,x\n", encoding="utf-8")
    before = notes.read_bytes()
    res = run_cli("history", "--runs", "--db", str(notes))
    assert res.exit_code == 4
    assert f"{notes} không phải cơ sở dữ liệu lịch sử của lanhmanh: đây không phải tệp SQLite; tệp chỉ được " \
           "mở để đọc và được giữ nguyên" in res.output
    assert notes.read_bytes() == before
    db = workdir / "h.sqlite"
    H.record_run(db, scored_batch("xa-lanh-manh", [{**xlm_row(1), "year": 2025}]))
    with pytest.raises(H.NoSuchRun) as e:
        H.void_run(db, 7, "x")
    assert str(e.value) == f"lượt chạy 7 không có trong {db} (các lượt chạy là từ 1 đến 1; `lanhmanh history " \
                           "--runs` liệt kê các lượt chạy)"
    with pytest.raises(ValueError, match="^cần nêu lý do để hủy một lượt chạy$"):
        H.void_run(db, 1, "  ")
    run = H.void_run(db, 1, "nhầm tệp")
    assert run.describe().startswith("lượt chạy 1 (ghi lúc ") and run.describe().endswith(", năm 2025, 1 đơn vị)")
    assert H.why_skipped(run) == "lượt chạy 1 (đã hủy: nhầm tệp)"


def test_no_previous_run_in_the_history_in_vietnamese(tmp_path, vietnamese):
    pack = load_pack("xa-lanh-manh")[0]
    db = tmp_path / "none.sqlite"
    with pytest.raises(PreviousError) as e:
        load_previous_from_history(str(db), pack, 2026)
    detail = f"không tìm thấy lượt chạy năm trước: cơ sở dữ liệu lịch sử {db} không có lượt chạy nào của " \
             "xa-lanh-manh cho năm 2025; hãy chấm điểm đợt năm trước trước, hoặc cung cấp tệp JSON kết quả năm trước"
    assert e.value.detail == detail
    assert str(e.value) == "kết quả năm trước lấy từ cơ sở dữ liệu lịch sử: " + detail
    assert e.value.exit_code == 2 and not db.exists()


def test_the_comparison_with_last_year_in_vietnamese(run_cli, workdir, vietnamese):
    last = run_cli("score", str(MA_TUY_CSV), "--rules", "qd-28-2025", "--json", "2025.json", "--no-db")
    assert last.exit_code == 0, last.output
    y26 = csv_as_year(MA_TUY_CSV, workdir / "2026.csv", 2026)
    res = run_cli("score", str(y26), "--rules", "qd-28-2025", "--previous", "2025.json", "--json", "2026.json",
                  "--no-db")
    assert res.exit_code == 0, res.output
    assert re.search(r"so sánh với 2025\.json \(qd-28-2025 \S+, năm 2025\): giữ vững \d+, tiến bộ 0, không đổi 130, "
                     r"giảm 0, không có trong kết quả năm trước 0, chuyển hóa 0", res.output), res.output
    units = json.loads((workdir / "2026.json").read_text(encoding="utf-8"))["units"]
    assert {u["change"] for u in units} == {"same"}  # the JSON's values are ids, not translated


def test_a_targets_file_error_in_vietnamese(tmp_path, vietnamese):
    path = tmp_path / "targets.csv"
    path.write_text("province_code,class,share\n40,drug_free,120%\n", encoding="utf-8")
    with pytest.raises(TargetsError) as e:
        read_targets(path, ["drug_free", "type_1"])
    assert str(e.value) == f"{path}: dòng 2, cột share, giá trị '120%': tỷ lệ phải từ 0% đến 100%"
    path.write_text("tinh,loai,ty_le\n", encoding="utf-8")
    with pytest.raises(TargetsError) as e:
        read_targets(path, ["drug_free"])
    assert str(e.value) == f"{path}: dòng 1: tiêu đề là 'tinh,loai,ty_le'; cần 'province_code,class,share'"
