"""`form_title`: a criterion's short wording for the printed commune form. Optional, at most
FORM_TITLE_MAX characters (checked on load, with file:line:col); the legal `title` stays whole."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from lmtest import shipped_pack

from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model.loader import FORM_TITLE_MAX, load_pack

SHIPPED = ["qd-28-2025", "qd-28-2025-literal", "xa-lanh-manh", "xa-lanh-manh-2026", "xa-lanh-manh-nghe-an"]


def shipped_file(ref: str) -> Path:
    """The rule file itself (`xa-lanh-manh` resolves to its newest version: its 2025 file is named)."""
    return shipped_pack(ref).parent / f"{ref}.yaml"


@pytest.mark.parametrize("ref", SHIPPED)
def test_every_shipped_commune_criterion_has_a_short_form_title(ref):
    pack, _ = load_pack(shipped_file(ref))
    for c in pack.commune.criteria.values():
        assert c.form_title, c.id
        assert len(c.form_title) <= FORM_TITLE_MAX
        assert c.form_title != "" and c.title  # the legal wording is kept beside it
        assert not re.search(r"[a-z]_[a-z]|>=|<=|==", c.form_title), c.form_title  # words, not machine text


def test_the_legal_title_is_unchanged_and_the_form_title_is_shorter():
    pack, _ = load_pack("qd-28-2025")
    df1 = pack.commune.criteria["DF.1"]
    assert df1.title.startswith("Không có người nghiện, người sử dụng trái phép chất ma túy cư trú trên địa bàn, "
                                "trừ người đang tham gia điều trị")
    assert df1.form_title == "Người nghiện, người sử dụng ma túy cư trú trên địa bàn (trừ diện loại trừ)"
    assert all(len(c.form_title) < len(c.title) for c in pack.commune.criteria.values()
               if c.form_title != c.title)
    # the variant inherits the base's form titles with its criteria
    variant, _ = load_pack("xa-lanh-manh-nghe-an")
    assert variant.commune.criteria["B1"].form_title == "Số buổi tuyên truyền, phổ biến pháp luật trong năm"


def with_form_title(tmp_path: Path, text: str) -> Path:
    """xa-lanh-manh (2025) with criterion A1's form_title replaced by `text`."""
    src = shipped_file("xa-lanh-manh").read_text(encoding="utf-8")
    old = "    form_title: Ban hành kế hoạch phòng, chống tệ nạn xã hội năm\n"
    assert src.count(old) == 1
    path = tmp_path / "xlm-form-title.yaml"
    path.write_text(src.replace(old, f"    form_title: {text}\n"), encoding="utf-8")
    return path


def test_a_form_title_past_the_limit_is_an_error_at_its_line_and_column(tmp_path):
    path = with_form_title(tmp_path, "Ban hành kế hoạch " + "rất dài " * 30)
    line = next(i for i, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text.startswith("    form_title: Ban hành kế hoạch rất dài"))
    with pytest.raises(RuleFileError) as err:
        load_pack(path)
    [problem] = [p for p in err.value.problems if p.severity == "error"]
    assert problem.path.endswith("xlm-form-title.yaml") and problem.line == line and problem.col == 17
    assert f"at most {FORM_TITLE_MAX}" in problem.message and "'A1'" in problem.message
    assert str(problem).startswith(f"{problem.path}:{line}:17: error:")


def test_a_form_title_at_the_limit_loads_and_an_empty_one_does_not(tmp_path):
    exact = ("Ban hành kế hoạch " * 20)[:FORM_TITLE_MAX].strip()
    pack, _ = load_pack(with_form_title(tmp_path, exact))
    assert pack.commune.criteria["A1"].form_title == exact
    for blank in ('""', '"   "'):
        with pytest.raises(RuleFileError) as err:
            load_pack(with_form_title(tmp_path, blank))
        assert any("form_title" in str(p) for p in err.value.problems)


def test_check_reports_a_long_form_title_with_exit_3(run_cli, tmp_path):
    path = with_form_title(tmp_path, "x " * 100)
    r = run_cli("check", str(path))
    assert r.exit_code == 3, r.output
    assert "`form_title` of criterion 'A1' has 199 characters; at most 160" in r.output


def test_the_json_keeps_the_legal_title(run_cli, files):
    from lmtest import xlm_row
    inp = files.csv("in/x.csv", [xlm_row(1)])
    r = run_cli("score", str(inp), "--rules", "xa-lanh-manh", "--out", "s.xlsx", "--json", "s.json",
                "--unit-list", "none", "--no-db")
    assert r.exit_code == 0, r.output
    doc = json.loads(Path("s.json").read_text(encoding="utf-8"))
    d1 = next(c for c in doc["pack"]["criteria"] if c["id"] == "D1")
    assert d1["title"] == "Không phát sinh người nghiện ma túy mới, hoặc giảm so với năm trước"
