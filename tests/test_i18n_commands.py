"""The commands speak Vietnamese: `check`, `test`, `diff`, `explain`, `history`, `template`, `verify`
and `report` print their lines, tables, errors and help in Vietnamese by default (tables stay
aligned with Vietnamese headings), and English with LANHMANH_LANG=en as before."""
from __future__ import annotations

import re
import unicodedata

import pytest
from lmtest import xlm_row

from lanhmanh.commands.explain import width_of
from lanhmanh.engine.model.loader import RULES_DIR

XLM_2025 = str(RULES_DIR / "xa-lanh-manh.yaml")
NONE = ("--unit-list", "none")


def _pack_copy(tmp_path, edits: list[tuple[str, str]]):
    """xa-lanh-manh 2025.1 with each (old, new) text replaced once, without its scenario cases."""
    text = (RULES_DIR / "xa-lanh-manh.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    cut = text.find("\ncase_defaults:")
    cut = cut if cut >= 0 else text.find("\ncases:")
    path = tmp_path / "copy.yaml"
    path.write_text(text[:cut + 1] if cut >= 0 else text, encoding="utf-8")
    return path


def test_check_and_test_speak_vietnamese(vietnamese, run_cli):
    r = run_cli("check", "xa-lanh-manh", "qd-28-2025")
    assert r.exit_code == 0, r.output
    assert re.search(r"xa-lanh-manh(-\d+)?\.yaml: hợp lệ: xa-lanh-manh \S+ \(minh họa\), \d+ chỉ tiêu, \d+ tiêu chí, "
                     r"\d+ tiêu chí loại trừ, \d+ xếp loại, \d+ trường hợp kiểm thử", r.output), r.output
    assert re.search(r"qd-28-2025\.yaml: hợp lệ: qd-28-2025 \S+ \(chính thức\), .*, cấp tỉnh có \d+ tiêu chí, ", r.output), r.output
    usage = run_cli("check", "xa-lanh-manh", "--budget", "5")
    assert usage.exit_code == 2
    assert "--budget chỉ dùng cùng --completeness" in usage.output
    t = run_cli("test", "xa-lanh-manh", "--engine", "python")
    assert t.exit_code == 0, t.output
    assert t.output.splitlines()[0].startswith("ĐẠT xa-lanh-manh [python] ")
    assert re.search(r"^\d+ trường hợp đạt, 0 trường hợp không đạt$", t.output, re.M), t.output


def test_diff_speaks_vietnamese_and_its_class_table_stays_aligned(vietnamese, run_cli, files, tmp_path):
    copy = _pack_copy(tmp_path, [("when: total >= 90 and not vetoed", "when: total >= 101 and not vetoed")])
    inp = files.csv("in.csv", [xlm_row(1), xlm_row(2), xlm_row(3, prostitution_hotspots=2)])
    r = run_cli("diff", XLM_2025, copy, inp, *NONE)
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "Thay đổi quy tắc (có thể làm thay đổi kết quả): 1" in out
    assert "    ~ xếp loại healthy  condition: (total >= 90) and (not vetoed) → (total >= 101) and (not vetoed)" in out
    assert "Đơn vị: 3 đơn vị được cả hai gói quy tắc chấm điểm; 2 đổi xếp loại" in out
    assert "Đổi xếp loại (2, theo thứ hạng toàn quốc cũ):" in out
    assert "(mọi tiêu chí như trước: điều kiện xếp loại đã thay đổi)" in out
    lines = out.splitlines()
    start = lines.index(next(x for x in lines if x.startswith("Xếp loại (dòng: cũ, xa-lanh-manh; cột: mới, ")))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].split()[0] == "tổng")
    table = lines[start + 1:end + 1]
    assert table[0].split()[-1] == "tổng" and len(table) >= 3, table
    assert len({width_of(x) for x in table}) == 1, table  # right-aligned columns: every line as wide
    same = run_cli("diff", "xa-lanh-manh", "xa-lanh-manh")
    assert "Quy tắc: giống hệt nhau" in same.stdout


def test_explain_prints_vietnamese_headings_and_an_aligned_table(vietnamese, run_cli, files):
    inp = files.csv("in.csv", [xlm_row(1, name="Xã Đồng Hỷ"), xlm_row(2, prostitution_hotspots=2)])
    r = run_cli("explain", "00002", inp, "--rules", "xa-lanh-manh", *NONE)
    assert r.exit_code == 0, r.output
    lines = r.stdout.splitlines()
    text = " ".join(r.stdout.split())  # the header lines are wrapped to the terminal
    assert text.startswith("Đơn vị 00002 Xã 00002 (xã), tỉnh 01, năm 2025 · từ ")
    assert "Xếp hạng: 2/2 trong tỉnh 01 · 2/2 trong đợt" in text
    head = next(x for x in lines if x.startswith("Mã "))
    assert [c.strip() for c in head.split("│")] == ["Mã", "Tiêu chí", "Giá trị đã đọc", "Ngưỡng", "Kết quả", "Điểm"]
    # every line of the table puts its column rules at the same terminal columns as the headings
    rules = [i for i, ch in enumerate(unicodedata.normalize("NFC", head)) if ch == "│"]
    table = lines[lines.index(head):]
    table = table[:next((i for i, x in enumerate(table) if not x.strip()), len(table))]
    for x in table[2:]:
        marks = [width_of(x[:i]) for i, ch in enumerate(x) if ch in "│┼"]
        assert marks == rules[:len(marks)], (x, rules)
    assert "Vì sao " in r.stdout
    unknown = run_cli("explain", "00099", inp, "--rules", "xa-lanh-manh", *NONE)
    assert unknown.exit_code == 2
    assert "lanhmanh: đơn vị 00099 không thuộc 2 đơn vị được chấm điểm từ dữ liệu đầu vào" in unknown.stderr


def test_history_tables_and_errors_in_vietnamese(vietnamese, run_cli, files):
    inp = files.csv("in.csv", [xlm_row(1), xlm_row(2, prostitution_hotspots=2)])
    assert run_cli("score", inp, "--rules", "xa-lanh-manh", *NONE, "--db", "h.sqlite").exit_code == 0
    runs = run_cli("history", "--runs", "--db", "h.sqlite")
    assert runs.exit_code == 0, runs.output
    lines = runs.stdout.splitlines()
    assert lines[0] == "1 lượt chạy trong h.sqlite"
    header, row = lines[1], lines[2]
    assert header.startswith("lượt chạy  thời điểm ghi (UTC)")
    at = 0
    for heading, value in (("năm", "2025"), ("gói quy tắc", "xa-lanh-manh 2025.1"), ("bị loại", "0"),
                           ("loại", "đợt"), ("tệp đầu vào (sha256)", "in.csv ")):
        at = (header + " ").index("  " + heading + " ", at) + 2  # columns in order, each after the one before
        assert row[at:].startswith(value) and row[at - 2:at] == "  ", (heading, lines)
    unit = run_cli("history", "00002", "--db", "h.sqlite")
    assert unit.exit_code == 0, unit.output
    assert unit.stdout.splitlines()[0].startswith("00002 Xã 00002 (xã, tỉnh 01) · h.sqlite")
    assert unit.stdout.splitlines()[1].split("  ")[0] == "năm"
    void = run_cli("history", "--void", "1", "--reason", "nhầm tệp", "--db", "h.sqlite")
    assert void.exit_code == 0 and " đã được đánh dấu hủy trong h.sqlite bởi " in void.stdout
    assert "đợt ĐÃ HỦY" in run_cli("history", "--runs", "--db", "h.sqlite").stdout
    bad = run_cli("history", "--reason", "x", "--db", "h.sqlite")
    assert bad.exit_code == 2 and "--reason dùng cùng --void RUN" in bad.output
    missing = run_cli("history", "00099", "--db", "h.sqlite")
    assert missing.exit_code == 2
    assert "lanhmanh: đơn vị 00099 không có trong lượt chạy nào đã ghi của h.sqlite" in missing.stderr


def test_template_verify_and_report_say_it_in_vietnamese(vietnamese, run_cli, files, workdir):
    t = run_cli("template", "--rules", "xa-lanh-manh", "--year", "2025", "--out", "mau.xlsx")
    assert t.exit_code == 0, t.output
    assert t.stdout.startswith("đã ghi mẫu nhập số liệu cho xa-lanh-manh 2025.1 vào mau.xlsx: ")
    assert "dòng trống để điền" in t.stdout
    bad = run_cli("template", "--rules", "xa-lanh-manh", "--out", "mau.csv")
    assert bad.exit_code == 2 and "mau.csv: hãy đặt tên mẫu nhập số liệu có đuôi .xlsx" in bad.output
    inp = files.csv("in.csv", [xlm_row(1), xlm_row(2, prostitution_hotspots=2)])
    assert run_cli("score", inp, "--rules", "xa-lanh-manh", *NONE, "--no-db", "--out", "s.xlsx").exit_code == 0
    ok = run_cli("verify", "s.xlsx", inp, "--rules", "xa-lanh-manh", *NONE)
    assert ok.exit_code == 0, ok.output
    assert ok.stdout.startswith("nguyên vẹn: s.xlsx khớp với dữ liệu đầu vào và quy tắc: ")
    gone = run_cli("verify", "khong-co.xlsx", inp, "--rules", "xa-lanh-manh", *NONE)
    assert gone.exit_code == 4
    assert "lanhmanh: không đọc được bảng kết quả khong-co.xlsx: không có tệp này" in gone.stderr
    rep = run_cli("report", inp, "--rules", "xa-lanh-manh", "--out", "bao-cao.pdf")
    assert rep.exit_code == 2 and "bao-cao.pdf: báo cáo là một tệp Word; hãy đặt tên tệp có đuôi .docx" in rep.output


@pytest.mark.parametrize("command, said, english", [
    ("check", "Kiểm tra tệp quy tắc: cú pháp, tên, kiểu", "Validate rule files"),
    ("test", "Chạy các trường hợp kiểm thử viết trong tệp quy tắc", "Run the scenario cases"),
    ("diff", "So sánh hai gói quy tắc", "Compare two rule packs"),
    ("explain", "Vì sao đơn vị UNIT_CODE được xếp loại như vậy", "Why UNIT_CODE got its class"),
    ("history", "Hiện xếp loại, tổng điểm và thứ hạng của UNIT_CODE", "Show UNIT_CODE's class"),
    ("template", "Ghi mẫu nhập số liệu của một gói quy tắc", "Write the data-entry workbook"),
    ("verify", "Tính lại kết quả của một bảng kết quả", "Re-derive the results"),
    ("report", "Chấm điểm mọi đơn vị trong các tệp INPUT", "Score every unit in INPUT files"),
])
def test_command_help_is_vietnamese(vietnamese, run_cli, command, said, english):
    r = run_cli(command, "--help")
    assert r.exit_code == 0
    text = " ".join(r.output.split())  # help is re-wrapped to the terminal
    assert said in text and english not in text


def test_option_help_and_the_command_list_are_vietnamese(vietnamese, run_cli):
    text = " ".join(run_cli("history", "--help").output.split())
    assert "--runs Liệt kê các lượt chạy đã ghi" in text and "--reason TEXT Cùng --void: lý do hủy" in text
    text = " ".join(run_cli("--help").output.split())
    assert "verify Đối chiếu bảng kết quả với dữ liệu đầu vào và quy tắc" in text
    assert "report Viết báo cáo của tỉnh (Word, thể thức văn bản hành chính) cho một đợt." in text


def test_english_on_request_is_unchanged(run_cli, files):
    inp = files.csv("in.csv", [xlm_row(1)])
    r = run_cli("explain", "00099", inp, "--rules", "xa-lanh-manh", *NONE, "--lang", "en")
    assert "lanhmanh: unit 00099 is not among the 1 unit(s) scored from the inputs" in r.stderr
    assert "ok: xa-lanh-manh" in run_cli("check", "xa-lanh-manh", "--lang", "en").output
