"""Plausibility checks declared in packs (`constraints:` with `severity: warning`, and the rejecting
ones of qd-28-2025): a workbook saved with the wrong locale (10.000 residents read as 10) is
rejected or warned, naming file, sheet, cell, column and value, and never silently scored."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openpyxl import load_workbook

from lanhmanh.engine.analysis.diff import diff_packs
from lanhmanh.engine.analysis.scenarios import run_case
from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.model import admin_units
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.pack import Case
from lanhmanh.scorecards.outputs.template import DATA_SHEET, HELP_SHEET

REPO = Path(__file__).resolve().parent.parent
QD28 = REPO / "rules" / "qd-28-2025.yaml"
PACKS = ["qd-28-2025", "qd-28-2025-literal", str(REPO / "tests" / "packs" / "qd28-test.yaml")]
FIGURES = {"population": 10000, "users_with_records": 0, "harbouring_points": 0, "drug_arrests": 0,
           "drug_plants": 0, "drug_plant_area_m2": 0, "on_key_route": False, "resident_users_untreated": 1,
           "resident_drug_violators": 0, "wanted_drug_fugitives": 0}
HARD = ["users_le_population", "untreated_le_population", "violators_le_population"]
SOFT = ["fugitives_vs_population", "user_rate_plausible", "arrest_rate_plausible"]


def identity(n: int = 1, **kw) -> dict:
    return {"unit_code": f"{n:05d}", "unit_name": f"Xã {n}", "unit_type": "xã", "province_code": "01", **kw}


# ---- the packs declare them ----------------------------------------------------------------------

@pytest.mark.parametrize("ref", PACKS)
def test_packs_declare_hard_and_soft_checks(ref):
    pack, warnings = load_pack(ref)
    assert not warnings
    assert [c.id for c in pack.commune.constraints] == HARD
    assert [c.id for c in pack.commune.soft_constraints] == SOFT
    assert all(c.severity == "error" for c in pack.commune.constraints)
    assert all(c.severity == "warning" for c in pack.commune.soft_constraints)
    # a rate's check names the cell of its numerator
    assert {c.id: c.first for c in pack.commune.soft_constraints} == {
        "fugitives_vs_population": "wanted_drug_fugitives", "user_rate_plausible": "users_with_records",
        "arrest_rate_plausible": "drug_arrests"}
    # drug_arrests counts offenders who may live elsewhere: never a rejecting check
    assert not any("drug_arrests" in c.text for c in pack.commune.constraints)


@pytest.mark.parametrize("ref", ["qd-28-2025", "qd-28-2025-literal"])
def test_shipped_packs_say_why_in_notes(ref):
    pack, _ = load_pack(ref)
    for c in pack.commune.constraints + pack.commune.soft_constraints:
        assert c.note, c.id
    for c in pack.commune.soft_constraints:
        assert "Chỉ cảnh báo" in c.note and "dòng vẫn được chấm điểm" in c.message


# ---- the validator -------------------------------------------------------------------------------

@pytest.mark.parametrize("ref", PACKS)
def test_sixty_users_among_ten_residents_is_rejected_naming_the_cell(ref):
    pack, _ = load_pack(ref)
    v = Validator(pack)
    unit = v.row("bad.xlsx", 7, {**identity(), **FIGURES, "population": 10, "users_with_records": 60},
                 DATA_SHEET, {"population": "F", "users_with_records": "G"})
    assert unit is None
    assert [(r.column, r.value, r.sheet, r.cell) for r in v.rejected] == [
        ("users_with_records", 60, DATA_SHEET, "G7")]
    assert "users_with_records <= population" in v.rejected[0].reason
    assert v.warnings == []  # a rejected row gets no plausibility warning on top


@pytest.mark.parametrize("ref", PACKS)
@pytest.mark.parametrize("column", ["resident_users_untreated", "resident_drug_violators"])
def test_other_counts_of_residents_are_rejected(ref, column):
    pack, _ = load_pack(ref)
    v = Validator(pack)
    assert v.row("f.csv", 2, {**identity(), **FIGURES, "population": 10, column: 11}) is None
    assert [(r.column, r.value) for r in v.rejected] == [(column, 11)]
    v = Validator(pack)
    assert v.row("f.csv", 2, {**identity(), **FIGURES, "population": 10, column: 10}) is not None


@pytest.mark.parametrize("ref", PACKS)
def test_a_six_percent_user_rate_is_scored_with_a_warning_naming_the_cell(ref):
    pack, _ = load_pack(ref)
    v = Validator(pack)
    unit = v.row("f.xlsx", 9, {**identity(), **FIGURES, "users_with_records": 600}, DATA_SHEET,
                 {"users_with_records": "G"})
    assert unit is not None and unit.values["users_with_records"] == 600
    assert v.rejected == []
    [w] = v.warnings
    assert (w.path, w.sheet, w.cell, w.column, w.value, w.check) == (
        "f.xlsx", DATA_SHEET, "G9", "users_with_records", 600, "user_rate_plausible")
    assert w.message.startswith("column users_with_records, value 600: ")
    assert "users_with_records = 600, population = 10000" in w.message
    assert w.as_dict()["check"] == "user_rate_plausible" and w.as_dict()["value"] == 600


@pytest.mark.parametrize("users, arrests, fugitives, warned", [
    (500, 200, 0, []),  # exactly 5 % and 2 %: plausible
    (501, 200, 0, ["user_rate_plausible"]),
    (500, 201, 0, ["arrest_rate_plausible"]),
    (0, 10001, 0, ["arrest_rate_plausible"]),  # more arrests than residents: a warning, never a rejection
    (0, 0, 10001, ["fugitives_vs_population"]),
])
def test_soft_bounds_are_exact(users, arrests, fugitives, warned):
    pack, _ = load_pack("qd-28-2025")
    v = Validator(pack)
    unit = v.row("f.csv", 2, {**identity(), **FIGURES, "users_with_records": users, "drug_arrests": arrests,
                              "wanted_drug_fugitives": fugitives})
    assert unit is not None
    assert [w.check for w in v.warnings] == warned


def test_province_rows_are_checked_on_the_figures_they_give():
    pack, _ = load_pack("qd-28-2025")
    prow = {"unit_code": "", "unit_name": "Tỉnh", "unit_type": "tỉnh", "province_code": "01"}
    v = Validator(pack)
    assert v.row("f.csv", 2, {**prow, "population": 10, "users_with_records": 60}) is None
    assert [(r.column, r.value) for r in v.rejected] == [("users_with_records", 60)]
    v = Validator(pack)
    assert v.row("f.csv", 2, {**prow, "population": 10000, "users_with_records": 600}) is not None
    assert [w.check for w in v.warnings] == ["user_rate_plausible"]
    v = Validator(pack)  # users left to the communes' sum: nothing to compare on the row
    assert v.row("f.csv", 2, {**prow, "population": 10}) is not None
    assert v.rejected == [] and v.warnings == []


# ---- the command line: JSON and scorecard ------------------------------------------------------

def filled_workbook(run_cli, rows: list[dict]) -> str:
    """A blank qd-28-2025 template with `rows` typed in from row 5 (province 40's first units)."""
    result = run_cli("template", "--rules", "qd-28-2025", "--year", "2025", "--out", "in.xlsx")
    assert result.exit_code == 0, result.output
    wb = load_workbook("in.xlsx")
    ws = wb[DATA_SHEET]
    ids = [c.value for c in ws[4]]
    for r, (u, figures) in enumerate(zip(admin_units.current().units_of("40"), rows), start=5):
        values = {"unit_code": u.code, "unit_name": u.name, "unit_type": u.type, "province_code": "40",
                  "year": 2025, **FIGURES, **figures}
        for col, ident in enumerate(ids, start=1):
            v = values.get(ident)
            ws.cell(r, col).value = ({True: "Có", False: "Không"}[v] if isinstance(v, bool) else v)
    wb.save("in.xlsx")
    return "in.xlsx"


def test_cli_rejects_the_locale_error_and_warns_on_the_high_rate(run_cli, workdir):
    path = filled_workbook(run_cli, [{"population": 10, "users_with_records": 60},
                                     {"users_with_records": 600},
                                     {}])
    result = run_cli("score", path, "--rules", "qd-28-2025", "--json", "o.json", "--out", "o.xlsx")
    assert result.exit_code == 1, result.output  # a row rejected
    out = result.output
    assert re.search(r"in\.xlsx, sheet 'Số liệu', cell G5 \(unit 16681 Phường Thành Vinh\), "
                     r"column users_with_records, value 60: .*"
                     r"users_with_records <= population", out), out
    assert re.search(r"warning: in\.xlsx sheet 'Số liệu' cell G6: column users_with_records, value 600: "
                     r"Tỷ lệ .*vượt 5%", out), out
    doc = json.loads((workdir / "o.json").read_text(encoding="utf-8"))
    assert [(r["sheet"], r["cell"], r["column"], r["value"]) for r in doc["rejected"]] == [
        (DATA_SHEET, "G5", "users_with_records", 60)]
    soft = [w for w in doc["warnings"] if w.get("check")]
    assert [(w["sheet"], w["cell"], w["column"], w["value"], w["check"]) for w in soft] == [
        (DATA_SHEET, "G6", "users_with_records", 600, "user_rate_plausible")]
    assert len(doc["units"]) == 2  # the warned row is scored, the rejected one is not
    warned = next(u for u in doc["units"] if u["unit_code"] == admin_units.current().units_of("40")[1].code)
    assert {c["id"]: c["met"] for c in warned["criteria"]}["I.a"] is True

    wb = load_workbook(workdir / "o.xlsx")
    rejected = [r for r in wb["Hồ sơ bị loại"].iter_rows(min_row=2, values_only=True) if r[1]]
    assert [(r[2], r[3], r[5], r[6], r[7], r[8]) for r in rejected] == [
        (DATA_SHEET, "G5", "users_with_records", "16681", "Phường Thành Vinh", "60")]  # the row's unit named
    warns = [r for r in wb["Cảnh báo"].iter_rows(min_row=2, values_only=True) if r[6] and "vượt 5%" in r[6]]
    assert [(r[2], r[3], r[5]) for r in warns] == [(DATA_SHEET, "G6", "users_with_records")]


def test_soft_checks_never_change_results(run_cli, workdir, files):
    """The same rows scored with the pack and with a copy without its plausibility checks give the
    same units, classes and criteria; only the warnings differ."""
    text = QD28.read_text(encoding="utf-8")
    stripped = re.sub(r"^  - id: (fugitives_vs_population|user_rate_plausible|arrest_rate_plausible)\n"
                      r"(    .*\n)*", "", text, flags=re.MULTILINE)
    stripped = re.sub(r"warnings: \[[^\]]*\]", "warnings: null", stripped)  # the cases expect none now
    assert "user_rate_plausible" not in stripped and "users_le_population" in stripped
    plain = files.rules("plain.yaml", stripped)
    rows = [{**identity(n, province_code="40"), **FIGURES, **f} for n, f in enumerate(
        [{"users_with_records": 600}, {"drug_arrests": 300}, {"users_with_records": 49, "drug_arrests": 10},
         {"wanted_drug_fugitives": 20000}], start=1)]
    csv_path = files.csv("rows.csv", rows)
    docs = []
    for rules in (str(QD28), str(plain)):
        result = run_cli("score", csv_path, "--rules", rules, "--json", "o.json", "--unit-list", "none")
        assert result.exit_code == 0, result.output
        docs.append(json.loads((workdir / "o.json").read_text(encoding="utf-8")))
    with_checks, without = docs
    assert with_checks["units"] == without["units"]
    assert with_checks["provinces"] == without["provinces"]
    assert sorted(w["check"] for w in with_checks["warnings"] if w.get("check")) == [
        "arrest_rate_plausible", "fugitives_vs_population", "user_rate_plausible"]
    assert not any(w.get("check") for w in without["warnings"])


# ---- the rule language ---------------------------------------------------------------------------

def with_constraints(block: str) -> str:
    text = QD28.read_text(encoding="utf-8")
    start, end = text.index("\nconstraints:\n"), text.index("\nderived:\n")
    return text[:start] + "\nconstraints:\n" + block + text[end:]


def test_severity_is_typed_and_unknown_keys_warned(run_cli, files):
    path = files.rules("bad.yaml", with_constraints(
        "  - {id: a, rule: users_with_records <= population, message: m, severity: fatal}\n"
        "  - {id: b, rule: users_with_records <= population, message: m, severty: warning}\n"))
    result = run_cli("check", path)
    assert result.exit_code == 3, result.output
    line = next(n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "id: a," in t)
    assert re.search(rf"bad\.yaml:{line}:\d+: error: constraints\.0\.severity: ", result.output), result.output
    assert re.search(rf"bad\.yaml:{line + 1}:\d+: warning: unknown key 'severty' is ignored; "
                     r"did you mean 'severity'\?", result.output), result.output


def test_duplicate_and_malformed_ids_and_unknown_names_are_errors(run_cli, files):
    path = files.rules("bad.yaml", with_constraints(
        "  - {id: a, rule: users_with_records <= population, message: m}\n"
        "  - {id: a, rule: user_rate <= 5%, message: m, severity: warning}\n"
        "  - {id: b, rule: user_rat <= 5%, message: m, severity: warning}\n"))
    result = run_cli("check", path)
    assert result.exit_code == 3, result.output
    line = next(n for n, t in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if "id: a," in t)
    assert re.search(rf"bad\.yaml:{line + 1}:\d+: error: duplicate constraint id 'a'", result.output)
    assert re.search(rf"bad\.yaml:{line + 2}:\d+: error: unknown name 'user_rat'.*did you mean 'user_rate'",
                     result.output), result.output
    path = files.rules("bad2.yaml", with_constraints(
        "  - {id: 'x y', rule: users_with_records <= population, message: m}\n"))
    result = run_cli("check", path)
    assert result.exit_code == 3 and "constraints.0.id: String should match pattern" in result.output


def test_a_case_expecting_an_unknown_warning_is_an_error(run_cli, files):
    text = QD28.read_text(encoding="utf-8").replace(
        "expect: {warnings: []}", "expect: {warnings: [user_rate_plausibl]}", 1)
    path = files.rules("bad.yaml", text)
    result = run_cli("check", path)
    assert result.exit_code == 3, result.output
    assert "expects a warning from 'user_rate_plausibl'" in result.output
    assert "did you mean 'user_rate_plausible'" in result.output


@pytest.mark.parametrize("engine", ["python", "durable"])
def test_a_case_whose_warnings_differ_fails(engine):
    pack, _ = load_pack("qd-28-2025")
    given = {**pack.cases[0].given, "users_with_records": 600}
    case = Case("cảnh báo sai", "commune", given, {"warnings": ["arrest_rate_plausible"]}, 1)
    result = run_case(pack, case, engine)
    assert result.failures == ["warnings: expected ['arrest_rate_plausible'], got ['user_rate_plausible']"]
    ok = run_case(pack, Case("đúng", "commune", given, {"warnings": ["user_rate_plausible"]}, 1), engine)
    assert ok.ok


def test_diff_shows_a_severity_change(files):
    old, _ = load_pack("qd-28-2025")
    text = QD28.read_text(encoding="utf-8")
    moved = text.replace("    rule: user_rate <= 5%\n    severity: warning\n", "    rule: user_rate <= 5%\n", 1)
    assert moved != text
    moved = moved.replace("expect: {met: [I.a], not_met: [DF.1], warnings: [user_rate_plausible]}",
                          "expect: {rejected: true}")
    new, _ = load_pack(files.rules("hard.yaml", moved))
    assert [c.id for c in new.commune.constraints][-1] == "user_rate_plausible"
    changes = [(c.kind, c.id, c.field, c.old, c.new) for c in diff_packs(old, new) if c.kind == "constraint"]
    assert changes == [("constraint", "user_rate_plausible", "severity", "warning", "error")]


# ---- the data-entry template -------------------------------------------------------------------

def test_template_carries_hard_checks_as_stop_and_soft_ones_as_warning(run_cli, workdir):
    result = run_cli("template", "--rules", "qd-28-2025", "--province", "40", "--year", "2025", "--out", "t.xlsx")
    assert result.exit_code == 0, result.output
    wb = load_workbook("t.xlsx")
    ws = wb[DATA_SHEET]
    letter = {c.value: c.column_letter for c in ws[4]}
    dv = {str(d.sqref): d for d in ws.data_validations.dataValidation}
    pop, users, arrests = letter["population"], letter["users_with_records"], letter["drug_arrests"]
    hard = dv[f"{users}6:{users}135"]  # row 5 is the province row
    assert hard.errorStyle in (None, "stop")
    assert f"OR(ISBLANK({pop}6),{users}6<={pop}6)" in hard.formula1
    assert "không được lớn hơn số nhân khẩu" in hard.error
    for col in ("resident_users_untreated", "resident_drug_violators"):
        d = dv[f"{letter[col]}6:{letter[col]}135"]
        assert d.errorStyle in (None, "stop") and f"{letter[col]}6<={pop}6" in d.formula1
    soft = dv[f"{arrests}6:{arrests}135"]
    assert soft.errorStyle == "warning" and soft.errorTitle == "Số liệu bất thường"
    assert soft.formula1 == (f"AND(ISNUMBER({arrests}6),{arrests}6=INT({arrests}6),{arrests}6>=0,"
                             f"OR(ISBLANK({pop}6),({arrests}6/{pop}6)<=(1/50)))")
    assert "vượt 2%" in soft.error and "bị loại khi chấm điểm" in soft.error
    fug = letter["wanted_drug_fugitives"]
    assert dv[f"{fug}6:{fug}135"].errorStyle == "warning"
    # every soft check Excel can say colours the cells breaking it, the user rate's included
    flags = {str(rng.sqref): [r.formula[0] for r in rules]
             for rng, rules in ws.conditional_formatting._cf_rules.items()}
    assert flags[f"{users}6:{users}135"] == [
        f"AND(NOT(ISBLANK({users}6)),NOT(OR(ISBLANK({pop}6),({users}6/{pop}6)<=(1/20))))"]
    assert f"{arrests}6:{arrests}135" in flags and f"{fug}6:{fug}135" in flags
    # the instructions list every check, with how it is checked and why
    texts = [[str(v) for v in r if v] for r in wb[HELP_SHEET].iter_rows(values_only=True)]
    listed = {r[2]: r for r in texts if len(r) >= 4 and r[2] in (
        "users_with_records <= population", "user_rate <= 5%", "arrest_rate <= 2%")}
    assert listed["users_with_records <= population"][3] == f"Excel kiểm tra khi nhập cột {users}"
    assert listed["user_rate <= 5%"][3].startswith("Chỉ cảnh báo")
    assert f"tô màu cam ô cột {users}" in listed["user_rate <= 5%"][3]
    assert f"Excel cảnh báo khi nhập cột {arrests}" in listed["arrest_rate <= 2%"][3]
    assert "ngưỡng loại I" in listed["user_rate <= 5%"][1]  # the note: why 5 %
