"""The rule-file loader and checker speak Vietnamese: problems of rule files keep their
file:line:column place and say "lỗi"/"cảnh báo" with the message in Vietnamese; did-you-mean, type
errors, syntax errors, versions and the unit lists too. English stays as it was (LANHMANH_LANG=en)."""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from lmtest import MINI_CLASSES, MINI_PACK_HEAD

from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model import admin_units, versions
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.i18n import set_language

HEAD = MINI_PACK_HEAD
CLASSES = MINI_CLASSES


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def problems(path) -> list[str]:
    with pytest.raises(RuleFileError) as e:
        load_pack(path)
    return [str(p) for p in e.value.problems]


def test_check_reports_an_unknown_name_in_vietnamese_at_its_place(vietnamese, run_cli, files):
    text = HEAD + "criteria:\n  A:\n    title: A\n    when: populaton >= 100\n" + CLASSES
    path = files.rules("ten.yaml", text)
    result = run_cli("check", str(path))
    assert result.exit_code == 3, result.output
    line = line_of(text, "populaton")
    col = text.splitlines()[line - 1].index("populaton") + 1
    assert f"{path}:{line}:{col}: lỗi: không có tên 'populaton'; có phải là 'population'?" in result.output


def test_unknown_key_is_a_vietnamese_warning_and_english_is_unchanged(files):
    text = HEAD.replace("  effective_from:", "  titel: x\n  effective_from:") + \
        "criteria:\n  A: {title: A, when: population >= 100}\n" + CLASSES
    path = files.rules("khoa.yaml", text)
    set_language("vi")
    _pack, warnings = load_pack(path)
    line = line_of(text, "titel")
    assert [str(w) for w in warnings] == [f"{path}:{line}:3: cảnh báo: khóa lạ 'titel' bị bỏ qua; có phải là 'title'?"]
    set_language("en")
    _pack, warnings = load_pack(path)
    assert [str(w) for w in warnings] == [f"{path}:{line}:3: warning: unknown key 'titel' is ignored; "
                                          "did you mean 'title'?"]


def test_type_and_syntax_errors_in_vietnamese(vietnamese, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: on_route >= false}
  B: {title: B, when: "population >= 100 and"}
  C: {title: C, when: population + on_route > 1}
  D: {title: D, when: on_route == 3}
""" + CLASSES
    found = "\n".join(problems(files.rules("kieu.yaml", text)))
    assert "lỗi: '>=' cần số; giá trị đúng/sai chỉ so sánh bằng == hoặc !=" in found
    assert "lỗi: cú pháp: cần một giá trị, nhưng gặp 'hết biểu thức' trong `population >= 100 and`" in found
    assert "lỗi: sai kiểu: '+' cần số, `on_route` là giá trị đúng/sai" in found
    assert "lỗi: sai kiểu: không so sánh được một giá trị đúng/sai với một số" in found
    assert ": error:" not in found and "type mismatch" not in found


def test_schema_errors_of_pydantic_in_vietnamese(vietnamese, files):
    text = HEAD.replace("type: integer, min: 1}", "type: integer, min: 1, decimals: two}") + \
        "criteria:\n  A: {title: A, when: population >= 100, points: many}\n" + CLASSES
    found = "\n".join(problems(files.rules("kieu_du_lieu.yaml", text)))
    assert "lỗi: indicators.population.decimals: Giá trị phải là số nguyên, không đọc được chuỗi thành số nguyên" \
        in found
    assert "Input should be" not in found


def test_literal_choices_keep_their_values_and_say_or_in_vietnamese(vietnamese, files):
    text = HEAD.replace("status: illustrative", "status: draft") + \
        "criteria:\n  A: {title: A, when: population >= 100}\n" + CLASSES
    found = "\n".join(problems(files.rules("trang_thai.yaml", text)))
    assert "pack.status: Giá trị phải là 'official' hoặc 'illustrative'" in found


def test_reference_cycle_and_unreachable_class_in_vietnamese(vietnamese, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: B}
  B: {title: B, when: A}
classes:
  - {id: all, label: Tất cả, when: "true"}
  - {id: high, label: Cao, when: A}
  - {id: low, label: Thấp, residual: true}
"""
    found = "\n".join(problems(files.rules("vong.yaml", text)))
    assert "lỗi: tham chiếu vòng: A → B → A" in found or "lỗi: tham chiếu vòng: B → A → B" in found
    assert "lỗi: không đơn vị nào được xếp loại 'high': xếp loại 'all' đứng trước đã nhận mọi đơn vị" in found


def test_a_missing_pack_says_so_in_vietnamese(vietnamese, run_cli):
    result = run_cli("check", "qd-28-2052")
    assert result.exit_code == 3, result.output
    assert "không có tệp quy tắc hay gói quy tắc nào tên 'qd-28-2052'; có phải là" in result.output


def test_variant_of_unknown_criterion_in_vietnamese(vietnamese, files):
    base = files.rules("goc.yaml", HEAD + "criteria:\n  A: {title: A, when: population >= 100}\n" + CLASSES)
    variant = files.rules("bien_the.yaml", f"""\
pack:
  id: mini-hn
  title: Mini Hà Nội
  version: "1"
  status: illustrative
  effective_from: 2025-01-01
  extends: {base.name}
overrides:
  criteria:
    AA: {{when: population >= 200}}
""")
    found = "\n".join(problems(variant))
    assert "lỗi: ghi đè tiêu chí không có 'AA'; có phải là 'A'? (biến thể chỉ ghi đè các tiêu chí của gói quy tắc " \
           "gốc; không thêm được tiêu chí mới)" in found


def test_version_refusal_in_vietnamese(vietnamese):
    pack = SimpleNamespace(id="qd-28-2025", version="2025.1", path="qd-28-2025.yaml",
                           effective_from=dt.date(2025, 8, 24), effective_to=None)
    text = versions.refusal(pack, 2024, [])
    assert text.startswith("gói quy tắc qd-28-2025 2025.1 (qd-28-2025.yaml) có hiệu lực từ 2025-08-24; gói này "
                           "không áp dụng cho đợt năm 2024 (kỳ đánh giá 2023-12-15 đến 2024-12-14;")
    assert "Không có phiên bản nào của qd-28-2025" in text and "--force" in text
    assert versions.describe([]) == "(không có)"


def test_unit_list_messages_and_titles_in_vietnamese(vietnamese, files):
    bad = files.text("ds.csv", "unit_code,unit_name\n00004,Phường Ba Đình\n")
    with pytest.raises(ValueError, match="danh mục đơn vị cần có các cột province_code, unit_code"):
        admin_units.from_csv(bad)
    good = files.text("ds2.csv", "unit_code,unit_name,unit_type,province_code\n00004,Phường Ba Đình,phường,01\n")
    lst = admin_units.from_csv(good)
    assert lst.title == f"danh mục đơn vị {good}"
    assert lst.suggest("00005", "Ba Đình") == "; có phải là 00004 (Phường Ba Đình, tỉnh 01)?"
    set_language("en")  # the title is said in the language in force when it is said, not when it was built
    assert lst.title == f"the unit list {good}"
