"""Provincial variants: `pack: {extends: BASE}` with `overrides:` (issue 4 part 7).

Every expected error position is computed from the text the test writes (`at(text, needle)`).
The temporary variants extend a copy of the suite's `xlm-test` pack by relative path.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from lmtest import XLM_TEST, pack_for_year, xlm_row

from lanhmanh.engine.analysis.overrides import describe_overrides, overrides
from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.versions import shipped_packs

VARIANT = """\
pack:
  id: xlm-variant
  extends: base.yaml
  title: Biến thể thử
  version: "1"
  status: illustrative
  effective_from: 2025-01-01
overrides:
  criteria:
    B1:
      bands:
        - {when: communication_sessions >= 15, points: 10}
        - {when: communication_sessions >= 8, points: 5}
  classes:
    healthy: {when: total >= 95 and not vetoed}
cases:
  - name: 12 buổi chỉ được 5 điểm
    given: {}
    expect: {class: healthy, total: 95, points: {B1: 5}}
"""


def at(text: str, needle: str, shift: int = 0) -> tuple[int, int]:
    i = text.index(needle) + shift
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


@pytest.fixture
def base(tmp_path) -> Path:
    """A copy of the suite's xlm-test pack as base.yaml in the temporary folder."""
    p = tmp_path / "base.yaml"
    shutil.copyfile(XLM_TEST, p)
    return p


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def errors_of(path: Path) -> list:
    with pytest.raises(RuleFileError) as info:
        load_pack(path)
    return [p for p in info.value.problems if p.severity == "error"]


def positions(errs) -> list[tuple]:
    return [(p.path, p.line, p.col) for p in errs]


# ---- loading --------------------------------------------------------------------------------------

def test_a_variant_is_its_base_with_the_overrides_applied(tmp_path, base):
    path = write(tmp_path, "variant.yaml", VARIANT)
    pack, warns = load_pack(path)
    original, _ = load_pack(base)
    assert warns == []
    assert (pack.id, pack.version, pack.path) == ("xlm-variant", "1", str(path))
    assert [(b.text, b.points) for b in pack.commune.criteria["B1"].bands] == [
        ("communication_sessions >= 15", 10), ("communication_sessions >= 8", 5)]
    assert pack.commune.classes[0].text == "(total >= 95) and (not vetoed)"
    # everything not overridden is the base's
    for cid, c in original.commune.criteria.items():
        if cid != "B1":
            assert pack.commune.criteria[cid].threshold == c.threshold
            assert pack.commune.criteria[cid].title == c.title
    assert [c.id for c in pack.commune.classes] == [c.id for c in original.commune.classes]
    assert list(pack.commune.indicators) == list(original.commune.indicators)
    assert [c.id for c in pack.commune.constraints] == [c.id for c in original.commune.constraints]
    assert pack.extends == {"id": "xlm-test", "version": "2025.1-test", "sha256": original.sha256, "path": str(base)}
    assert pack.meta()["extends"] == {"id": "xlm-test", "version": "2025.1-test", "sha256": original.sha256}
    assert pack.sha256 != original.sha256
    assert [c.name for c in pack.cases] == ["12 buổi chỉ được 5 điểm"]  # only the variant's own cases


def test_the_shipped_variant_loads_and_extends_xa_lanh_manh():
    pack, warns = load_pack("xa-lanh-manh-nghe-an")
    base = pack_for_year("xa-lanh-manh")  # the version in force on the variant's effective_from: 2025.1
    assert warns == []
    assert pack.status == "illustrative" and pack.extends["id"] == "xa-lanh-manh"
    assert pack.extends["sha256"] == base.sha256
    assert [(b.text, b.points) for b in pack.commune.criteria["C1"].bands] == [
        ("inspected_share == 100%", 15), ("inspected_share >= 70%", 8)]
    assert "98/KH-UBND" in pack.commune.criteria["C1"].cite
    assert sum(c.max_points for c in pack.commune.criteria.values()) == 100
    assert sum(g["points"] for g in pack.groups.values()) == 100
    assert "NQLT01_2008" in pack.sources and "NA_KH98_2020" in pack.sources  # base sources kept
    text = Path(pack.path).read_text(encoding="utf-8")
    assert "MINH HỌA" in text.split("pack:")[0] and "ILLUSTRATIVE" in text.split("pack:")[0]


def test_a_variant_of_a_variant_takes_both_sets_of_overrides(tmp_path, base):
    write(tmp_path, "variant.yaml", VARIANT)
    text = """\
pack: {id: xlm-variant-2, extends: variant.yaml, title: T, version: "1", status: illustrative, effective_from: 2025-06-01}
overrides:
  criteria:
    A1: {points: 3}
"""
    pack, _ = load_pack(write(tmp_path, "v2.yaml", text))
    assert pack.commune.criteria["A1"].max_points == 3
    assert pack.commune.criteria["B1"].bands[0].text == "communication_sessions >= 15"
    assert pack.extends["id"] == "xlm-variant"
    assert [(o.kind, o.id, o.field, o.base, o.variant) for o in overrides(pack)] == [
        ("criterion", "A1", "points", "5", "3")]  # against its direct base


def test_overrides_as_data_and_as_lines(tmp_path, base):
    pack, _ = load_pack(write(tmp_path, "variant.yaml", VARIANT))
    assert [(o.kind, o.id, o.field, o.base, o.variant) for o in overrides(pack)] == [
        ("criterion", "B1", "band 1 condition", "communication_sessions >= 12", "communication_sessions >= 15"),
        ("criterion", "B1", "band 2 condition", "communication_sessions >= 6", "communication_sessions >= 8"),
        ("class", "healthy", "condition", "(total >= 90) and (not vetoed)", "(total >= 95) and (not vetoed)"),
    ]
    lines = describe_overrides(pack)
    sha = pack.extends["sha256"]
    assert lines == [
        f"  extends xlm-test 2025.1-test ({base}, sha256 {sha[:12]}…): 3 override(s)",
        "    criterion B1, band 1 condition: communication_sessions >= 12 → communication_sessions >= 15",
        "    criterion B1, band 2 condition: communication_sessions >= 6 → communication_sessions >= 8",
        "    class healthy, condition: (total >= 90) and (not vetoed) → (total >= 95) and (not vetoed)",
    ]
    assert describe_overrides(load_pack(base)[0]) == []


def test_an_override_equal_to_the_base_lists_nothing(tmp_path, base):
    text = VARIANT.split("overrides:")[0] + "overrides:\n  criteria:\n    A1: {points: 5}\n"
    pack, _ = load_pack(write(tmp_path, "same.yaml", text))
    assert overrides(pack) == []
    assert describe_overrides(pack)[1] == "    (none: the variant scores exactly as its base)"


# ---- scoring end to end ----------------------------------------------------------------------------

def test_a_commune_healthy_under_the_base_is_not_under_the_nghe_an_variant(run_cli, files, workdir):
    rows = [xlm_row(1), xlm_row(2, has_annual_plan=False, venues_prostitution_violations=1)]
    inp = files.csv("x.csv", rows)
    for rules, out in (("xa-lanh-manh", "base.json"), ("xa-lanh-manh-nghe-an", "variant.json")):
        r = run_cli("score", str(inp), "--rules", rules, "--unit-list", "none", "--engine", "python", "--json", out)
        assert r.exit_code == 0, r.output
    base_doc = json.loads((workdir / "base.json").read_text(encoding="utf-8"))
    var_doc = json.loads((workdir / "variant.json").read_text(encoding="utf-8"))
    cls = lambda doc: {u["unit_code"]: (u["class"], u["total"]) for u in doc["units"]}  # noqa: E731
    assert cls(base_doc) == {"00001": ("healthy", 100), "00002": ("healthy", 90)}
    assert cls(var_doc) == {"00001": ("healthy", 100), "00002": ("substantially_reduced", 90)}
    assert var_doc["pack"]["id"] == "xa-lanh-manh-nghe-an"
    assert var_doc["pack"]["extends"]["id"] == "xa-lanh-manh"
    assert var_doc["pack"]["extends"]["sha256"] == base_doc["pack"]["sha256"]
    assert "extends" not in base_doc["pack"]


def test_the_variants_cases_run_and_not_the_bases(run_cli, tmp_path, base):
    path = write(tmp_path, "variant.yaml", VARIANT)
    r = run_cli("test", str(path), "--engine", "python")
    assert r.exit_code == 0, r.output
    assert r.output.splitlines()[-1] == "1 passed, 0 failed"


def _failed(output: str) -> set[str]:
    return {ln.split("] ", 1)[1].split(" (")[0] for ln in output.splitlines() if ln.startswith("FAIL ")}


def test_inherit_cases_runs_the_bases_cases_and_a_same_name_case_replaces_one(run_cli, tmp_path, base):
    inherit = VARIANT.replace("effective_from: 2025-01-01", "effective_from: 2025-01-01\n  inherit_cases: true")
    path = write(tmp_path, "inherit.yaml", inherit)
    r = run_cli("test", str(path), "--engine", "python")
    assert r.exit_code == 1, r.output
    # the base's cases whose expectations the new B1 bands and healthy threshold move
    assert _failed(r.output) == {"đủ 100 điểm", "điểm liệt", "dải điểm giữa"}
    n_base = len(load_pack(base)[0].cases)
    fixed = inherit + """\
  - name: đủ 100 điểm
    given: {communication_sessions: 15}
    expect: {class: healthy, total: 100}
"""
    path = write(tmp_path, "fixed.yaml", fixed)
    pack, _ = load_pack(path)
    assert len(pack.cases) == n_base + 1
    assert {c.name: c.path for c in pack.cases}["điểm liệt"] == str(base)  # written in the base
    assert {c.name: c.path for c in pack.cases}["đủ 100 điểm"] == str(path)  # the variant's replaces it
    r = run_cli("test", str(path), "--engine", "python")
    assert r.exit_code == 1, r.output
    assert _failed(r.output) == {"điểm liệt", "dải điểm giữa"}
    assert "PASS xlm-variant [python] đủ 100 điểm" in r.output


@pytest.mark.slow
def test_every_shipped_pack_still_checks_and_tests(run_cli):
    assert any(p.stem == "xa-lanh-manh-nghe-an" for p in shipped_packs())
    r = run_cli("test", "-q", "--engine", "python")
    assert r.exit_code == 0, r.output
    assert "0 failed" in r.output.splitlines()[-1]
    r = run_cli("check", *[str(p) for p in shipped_packs()])
    assert r.exit_code == 0, r.output



def test_check_lists_what_a_variant_overrides(run_cli):
    r = run_cli("check", "xa-lanh-manh-nghe-an")
    assert r.exit_code == 0, r.output
    assert "extends xa-lanh-manh 2025.1" in r.output
    assert "criterion C1, band 2 condition: inspected_share >= 50% → inspected_share >= 70%" in r.output
    assert "class healthy, condition: (total >= 90) and (not vetoed) → (total >= 95) and (not vetoed)" in r.output


# ---- errors --------------------------------------------------------------------------------------------

def test_an_override_of_an_unknown_criterion_says_where_and_suggests(run_cli, tmp_path, base):
    text = VARIANT.replace("    B1:\n      bands", "    B11:\n      bands")
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.path, err.line, err.col) == (str(path), *at(text, "B11:"))
    assert "unknown criterion 'B11'" in err.message and "did you mean 'B1'?" in err.message
    assert "cannot add" in err.message
    r = run_cli("check", str(path))
    assert r.exit_code == 3 and f"{path}:{err.line}:{err.col}: error:" in r.output


def test_an_override_of_an_unknown_class_suggests_the_closest(tmp_path, base):
    text = VARIANT.replace("    healthy: {when", "    helthy: {when")
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.line, err.col) == at(text, "helthy:")
    assert "did you mean 'healthy'?" in err.message


def test_a_name_error_in_an_override_points_into_the_variant(tmp_path, base):
    text = VARIANT.replace("communication_sessions >= 15", "communication_sesions >= 15")
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.path, err.line, err.col) == (str(path), *at(text, "communication_sesions"))
    assert "did you mean 'communication_sessions'?" in err.message


def test_a_class_made_unreachable_by_an_override_is_reported_at_the_override(tmp_path, base):
    text = VARIANT.replace("    healthy: {when: total >= 95 and not vetoed}",
                           "    substantially_reduced: {when: total >= 90 and not vetoed}")
    text = text.replace("{class: healthy, total: 95", "{total: 95")
    path = write(tmp_path, "v.yaml", text)
    errs = errors_of(path)
    assert [(e.path, e.line, e.col) for e in errs] == [(str(path), *at(text, "total >= 90 and not vetoed"))]
    assert "can never be reached" in errs[0].message


def test_an_unknown_key_inside_overrides_is_an_error(tmp_path, base):
    text = VARIANT.replace("    B1:\n      bands", "    B1:\n      treshold: 3\n      bands")
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.line, err.col) == at(text, "treshold")
    assert "cannot be overridden" in err.message


def test_a_variant_cannot_redefine_whole_sections(tmp_path, base):
    text = VARIANT + "criteria:\n  Z1: {title: Z, when: has_annual_plan, points: 1}\n"
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.line, err.col) == at(text, "criteria:\n  Z1")
    assert "overrides:" in err.message


def test_points_alone_on_a_banded_criterion_is_refused(tmp_path, base):
    text = VARIANT.split("overrides:")[0] + "overrides:\n  criteria:\n    B1: {points: 7}\n"
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.line, err.col) == at(text, "points: 7")
    assert "bands" in err.message


def test_the_residual_class_takes_no_condition(tmp_path, base):
    text = VARIANT.split("overrides:")[0] + "overrides:\n  classes:\n    not_met: {when: total < 10}\n"
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.line, err.col) == at(text, "when: total < 10")
    assert "residual" in err.message


def test_a_cycle_of_extends_is_refused(tmp_path):
    head = 'pack: {{id: {id}, extends: {other}, title: T, version: "1", status: illustrative, effective_from: 2025-01-01}}\n'
    a = write(tmp_path, "a.yaml", head.format(id="aa", other="b.yaml"))
    write(tmp_path, "b.yaml", head.format(id="bb", other="a.yaml"))
    errs = errors_of(a)
    assert any("extends cycle" in e.message for e in errs), errs
    cyc = next(e for e in errs if "extends cycle" in e.message)
    assert cyc.path.endswith("b.yaml") and "a.yaml" in cyc.message


def test_a_pack_that_extends_itself_is_refused(tmp_path):
    text = 'pack: {id: selfish, extends: selfish, title: T, version: "1", status: illustrative, effective_from: 2025-01-01}\n'
    path = write(tmp_path, "s.yaml", text)
    (err,) = errors_of(path)
    assert "extends itself" in err.message
    assert (err.line, err.col) == at(text, "selfish, title")


def test_a_base_by_id_must_be_in_force_on_the_variants_first_day(tmp_path):
    text = VARIANT.replace("extends: base.yaml", "extends: xa-lanh-manh").replace(
        "effective_from: 2025-01-01", "effective_from: 2019-06-01")
    path = write(tmp_path, "v.yaml", text)
    (err,) = errors_of(path)
    assert (err.line, err.col) == at(text, "xa-lanh-manh")
    assert "no version of xa-lanh-manh is in force on 2019-06-01" in err.message


def test_an_unknown_base_id_suggests_the_closest(tmp_path):
    text = VARIANT.replace("extends: base.yaml", "extends: xa-lanh-mahn")
    (err,) = errors_of(write(tmp_path, "v.yaml", text))
    assert "did you mean 'xa-lanh-manh'?" in err.message


def test_an_error_in_the_base_is_reported_in_the_bases_file(tmp_path, base):
    broken = base.read_text(encoding="utf-8").replace("when: has_annual_plan, points: 5",
                                                      "when: has_anual_plan, points: 5")
    base.write_text(broken, encoding="utf-8")
    path = write(tmp_path, "v.yaml", VARIANT)
    errs = errors_of(path)
    assert (errs[0].path, errs[0].line, errs[0].col) == (str(base), *at(broken, "has_anual_plan"))
    assert errs[-1].path == str(path) and "base pack" in errs[-1].message and "invalid" in errs[-1].message


def test_a_province_override_needs_a_base_with_a_province_level(tmp_path, base):
    text = VARIANT.split("overrides:")[0] + "overrides:\n  province:\n    criteria: {}\n"
    (err,) = errors_of(write(tmp_path, "v.yaml", text))
    assert (err.line, err.col) == at(text, "province:")
    assert "no province level" in err.message


def test_a_province_criterion_of_qd28_can_be_overridden(tmp_path):
    from lanhmanh.engine.model.loader import RULES_DIR

    base = load_pack(RULES_DIR / "qd-28-2025.yaml")[0]
    cid = next(iter(base.province.criteria))
    text = f"""\
pack:
  id: qd-28-2025-test-variant
  extends: qd-28-2025
  title: T
  version: "1"
  status: official
  effective_from: 2025-09-01
overrides:
  province:
    criteria:
      {cid}: {{title: Tiêu đề khác}}
"""
    pack, _ = load_pack(write(tmp_path, "q.yaml", text))
    assert pack.province.criteria[cid].title == "Tiêu đề khác"
    assert [(o.level, o.kind, o.id, o.field) for o in overrides(pack)] == [("province", "criterion", cid, "title")]
