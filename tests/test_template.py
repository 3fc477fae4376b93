"""`lanhmanh template`: the data-entry workbook, checked with openpyxl and read back by `score`.

The round trips fill the template as a commune would (Có/Không, numbers typed as numbers) with the
figures of the bundled examples, which hold the same 130 official units of Nghệ An (province 40),
and compare the scores with those of the CSV.
"""
from __future__ import annotations

import csv
import json
import subprocess
import sys
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from lmtest import XLM_INDICATORS, XLM_TEST, pack_for_year, xlm_values
from openpyxl import load_workbook

from lanhmanh.engine.evaluation.validate import IDENTITY_LABELS, Validator
from lanhmanh.engine.language import parser
from lanhmanh.engine.model import admin_units
from lanhmanh.engine.model.admin_units import AdminUnit
from lanhmanh.scorecards.outputs.template import (
    BLANK_ROWS,
    DATA_SHEET,
    HELP_SHEET,
    IDENTITY_COLUMNS,
    constraint_formula,
    excel_condition,
    write_template,
)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
NGHE_AN = admin_units.current().units_of("40")


def pack(ref):
    """As `template --year 2025` takes it: a pack id in its version in force for 2025."""
    return pack_for_year(str(ref) if isinstance(ref, str) else ref)


def make(run_cli, rules: str = "xa-lanh-manh", *extra: str, out: str = "t.xlsx"):
    result = run_cli("template", "--rules", rules, *extra, "--out", out)
    assert result.exit_code == 0, result.output
    return load_workbook(out)


def rows(ws, first: int = 5) -> list[list]:
    return [[c.value for c in r] for r in ws.iter_rows(min_row=first)]


def validations(ws) -> dict[str, object]:
    """Cell range ("J5:J134") → its data validation; every range holds one validation."""
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            assert rng not in out
            out[rng] = dv
    return out


def expected_headings(p) -> list[str]:
    return [IDENTITY_LABELS[c] for c in IDENTITY_COLUMNS] + [
        f"{i.label} ({i.unit})" if i.unit else i.label for i in p.commune.indicators.values()]


# ---- the province template ---------------------------------------------------------------------

def test_one_row_per_official_unit_labels_in_row_3_ids_in_row_4(run_cli, workdir):
    result = run_cli("template", "--rules", "xa-lanh-manh", "--province", "40", "--year", "2025",
                     "--out", "t.xlsx")
    assert result.exit_code == 0, result.output
    assert "written to t.xlsx: 130 official unit(s) of province 40 pre-filled" in result.output
    wb = load_workbook("t.xlsx")
    assert wb.sheetnames == [DATA_SHEET, HELP_SHEET]
    ws = wb[DATA_SHEET]
    p = pack("xa-lanh-manh")
    assert len(NGHE_AN) == 130
    title = ws["A1"].value
    assert p.title in title and "TỈNH NGHỆ AN" in title and "2025" in title
    assert "dòng 4" in ws["A2"].value
    assert [c.value for c in ws[3]] == expected_headings(p)
    assert [c.value for c in ws[4]] == list(IDENTITY_COLUMNS) + list(XLM_INDICATORS)
    assert ws["C3"].value == "Loại đơn vị"
    assert ws["H3"].value == "Số buổi tuyên truyền, phổ biến pháp luật trong năm (buổi)"
    data = rows(ws)
    assert ws.max_row == 134 and len(data) == 130
    assert [r[:5] for r in data] == [[u.code, u.name, u.type, "40", 2025] for u in NGHE_AN]
    assert all(isinstance(r[0], str) and len(r[0]) == 5 for r in data)  # codes are text
    assert all(v is None for r in data for v in r[5:])  # nothing pre-filled in indicator cells
    assert ws["D5"].number_format == "@" and ws["A5"].number_format == "@"


def test_data_validation_on_every_input_column(run_cli, workdir):
    ws = make(run_cli, "xa-lanh-manh", "--province", "40", "--year", "2025")[DATA_SHEET]
    dv = validations(ws)
    p = pack("xa-lanh-manh")
    letters = {c.value: c.column_letter for c in ws[4]}
    # one validation per indicator column over exactly rows 5..134, none on the identity columns
    assert sorted(dv) == sorted(f"{letters[i]}5:{letters[i]}134" for i in XLM_INDICATORS)
    for rng, v in dv.items():
        assert v.errorStyle in (None, "stop") and v.showErrorMessage and v.showInputMessage, rng
        assert v.allow_blank, rng
    plan = dv["F5:F134"]
    assert (plan.type, plan.formula1) == ("list", '"Có,Không"')
    assert plan.prompt.startswith("Có kế hoạch phòng, chống tệ nạn xã hội năm")
    sessions = dv["H5:H134"]
    assert (sessions.type, sessions.operator, sessions.formula1) == ("whole", "greaterThanOrEqual", "0")
    assert "Số nguyên ≥ 0" in sessions.prompt and "(buổi)" in sessions.prompt
    total = dv["I5:I134"]
    assert (total.type, total.operator, total.formula1) == ("whole", "greaterThanOrEqual", "1")
    # the six constraints `x <= y` of the pack, each on its first indicator, holding while y is blank
    customs = {rng: (v.formula1, v.error) for rng, v in dv.items() if v.type == "custom"}
    assert len(customs) == len(p.commune.constraints) == 6
    formula, error = customs["J5:J134"]
    assert formula == "AND(ISNUMBER(J5),J5=INT(J5),J5>=0,OR(ISBLANK(I5),J5<=I5))"
    assert error.startswith("Số thôn, tổ dân phố được tuyên truyền không được lớn hơn tổng số thôn, tổ dân phố.")
    assert customs["S5:S134"][0] == "AND(ISNUMBER(S5),S5=INT(S5),S5>=0,OR(ISBLANK(R5),S5<=R5))"  # managed ≤ total
    for c in p.commune.constraints:
        left, right = c.text.split(" <= ")
        rng = f"{letters[left]}5:{letters[left]}134"
        assert customs[rng][0].endswith(f"OR(ISBLANK({letters[right]}5),{letters[left]}5<={letters[right]}5))")
        assert c.message in customs[rng][1]


def test_qd28_decimal_and_bounds(run_cli, workdir):
    ws = make(run_cli, "qd-28-2025", "--province", "40", "--year", "2025")[DATA_SHEET]
    dv = validations(ws)
    letters = {c.value: c.column_letter for c in ws[4]}
    area = dv[f"{letters['drug_plant_area_m2']}6:{letters['drug_plant_area_m2']}135"]
    assert (area.type, area.operator, area.formula1) == ("decimal", "greaterThanOrEqual", "0")
    assert "tối đa 2 chữ số thập phân" in area.prompt
    pop = dv[f"{letters['population']}6:{letters['population']}135"]
    assert (pop.type, pop.operator, pop.formula1) == ("whole", "greaterThanOrEqual", "1")
    route = dv[f"{letters['on_key_route']}6:{letters['on_key_route']}135"]
    assert (route.type, route.formula1) == ("list", '"Có,Không"')


def test_protected_with_input_cells_unlocked_frozen_and_printable(run_cli, workdir):
    ws = make(run_cli, "xa-lanh-manh", "--province", "40", "--year", "2025")[DATA_SHEET]
    assert ws.protection.sheet is True and not ws.protection.password
    for row in (3, 4, 5, 134):
        for col in "ABCDE":
            assert ws[f"{col}{row}"].protection.locked, f"{col}{row}"
    for row in (5, 77, 134):
        for col in ("F", "J", "X"):
            assert ws[f"{col}{row}"].protection.locked is False, f"{col}{row}"
    assert ws["F3"].protection.locked and ws["F4"].protection.locked
    assert ws["F4"].font.sz == 8  # the id row: small and grey
    assert ws.freeze_panes == "C5"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$3:$4"
    # at most two pages wide (it printed 30 pages, the last a strip one column wide), as long as needed
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert int(ws.page_setup.fitToWidth) == 2 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_cols == "$A:$B"  # the code and name on each page
    assert "xa-lanh-manh" not in ws.oddHeader.left.text and ws.oddFooter.center.text == "Trang &P"
    assert ws.column_dimensions["B"].width >= 18  # "Phường Thành Vinh" and longer names fit
    assert ws.row_dimensions[3].height >= 60  # long Vietnamese headings wrap onto several lines


def test_instructions_sheet(run_cli, workdir):
    wb = make(run_cli, "xa-lanh-manh", "--province", "40", "--year", "2025")
    ws = wb[HELP_SHEET]
    p = pack("xa-lanh-manh")
    cells = [c for r in ws.iter_rows(values_only=True) for c in r if isinstance(c, str)]
    text = "\n".join(cells)
    for fact in (p.id, p.version, p.title, "MINH HỌA", "Unprotect Sheet", "Có", "Không",
                 "không có số liệu", "bỏ trống được tính là «Không»", "giữ nguyên bố cục", "130 đơn vị"):
        assert fact in text, fact
    for ident in IDENTITY_COLUMNS:
        assert f"{IDENTITY_LABELS[ident]}\nMã: {ident}" in cells
    for ind in p.commune.indicators.values():
        heading = f"{ind.label} ({ind.unit})" if ind.unit else ind.label
        assert f"{heading}\nMã: {ind.id}" in cells, ind.id
    assert "Không bắt buộc (bỏ trống = không có số liệu)" in cells  # new_drug_addicts_prev
    for c in p.commune.constraints:
        assert c.message in cells and c.text in cells
    assert text.count("Excel kiểm tra khi nhập cột") == 6


def test_no_instructions_row_looks_like_a_header_row(run_cli, workdir):
    """The workbook reader takes any row naming two pack columns as a header: none may do so on the
    instructions sheet, or it would be read as a data table."""
    for rules in ("xa-lanh-manh", "qd-28-2025"):
        ws = make(run_cli, rules, "--province", "40", "--year", "2025", out=f"{rules}.xlsx")[HELP_SHEET]
        knows = Validator(pack(rules)).knows
        for r in ws.iter_rows(values_only=True):
            assert sum(1 for v in r if v is not None and knows(v)) < 2, r


def test_every_heading_of_row_3_is_recognised_by_the_validator(run_cli, workdir):
    ws = make(run_cli, "qd-28-2025", "--province", "40", "--year", "2025")[DATA_SHEET]
    knows = Validator(pack("qd-28-2025")).knows
    assert [c.value for c in ws[3] if not knows(c.value)] == []


# ---- round trips: fill the template as a commune would, score it, compare with the CSV ----------

def fill_from_csv(path: Path, csv_path: Path, p) -> int:
    """Type each CSV row's figures into the template row of the same unit (the province row: by its
    type); returns the number of rows filled."""
    wb = load_workbook(path)
    ws = wb[DATA_SHEET]
    ids = [c.value for c in ws[4]]
    inds = {**p.commune.indicators, **(p.province.indicators if p.province else {})}
    src = list(csv.DictReader(csv_path.open(encoding="utf-8-sig")))
    by_code = {r["unit_code"] or r["unit_type"]: r for r in src}
    filled = 0
    for r in range(5, ws.max_row + 1):
        key = ws.cell(r, 1).value or ws.cell(r, 3).value
        rec = by_code.pop(key)
        for col, ident in enumerate(ids, start=1):
            if ident in IDENTITY_COLUMNS:
                assert str(ws.cell(r, col).value or "") == rec[ident], (r, ident)  # same unit, same identity
                continue
            raw, cell = rec[ident], ws.cell(r, col)
            if raw == "":
                continue
            assert cell.protection.locked is False, f"{cell.coordinate} must be open for {ident}"
            kind = inds[ident].type
            cell.value = {"có": "Có", "không": "Không"}[raw] if kind == "boolean" else \
                int(raw) if kind == "integer" else float(Decimal(raw))
        filled += 1
    assert by_code == {}, f"units of the CSV not in the template: {sorted(by_code)}"
    wb.save(path)
    return filled


def scored(run_cli, workdir, inp, rules, out) -> dict:
    result = run_cli("score", str(inp), "--rules", rules, "--json", out)
    assert result.exit_code == 0, result.output
    return json.loads((workdir / out).read_text(encoding="utf-8"))


def without_source(units: list[dict]) -> list[dict]:
    """Units as compared: without where they were read, and a decimal read as the same number
    whatever its trailing zeros ("0.00" in a CSV is the number 0 once typed into Excel)."""
    def same(v):
        if isinstance(v, str) and "/" not in v:
            try:
                return Decimal(v)
            except ArithmeticError:
                return v
        return v

    out = []
    for u in units:
        u = {k: v for k, v in u.items() if k != "source"}
        u["criteria"] = [{**c, "inputs": {k: same(v) for k, v in c["inputs"].items()}} for c in u["criteria"]]
        out.append(u)
    return out


@pytest.mark.slow
def test_round_trip_xa_lanh_manh_scores_like_the_csv(run_cli, workdir):
    make(run_cli, "xa-lanh-manh", "--province", "40", "--year", "2025")
    csv_path = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
    assert fill_from_csv(workdir / "t.xlsx", csv_path, pack("xa-lanh-manh")) == 130
    a = scored(run_cli, workdir, "t.xlsx", "xa-lanh-manh", "a.json")
    b = scored(run_cli, workdir, csv_path, "xa-lanh-manh", "b.json")
    assert a["inputs"][0]["rows"] == 130 and a["inputs"][0]["sheet"] == DATA_SHEET
    assert a["rejected"] == [] and a["warnings"] == b["warnings"] == []
    assert len(a["units"]) == 130
    assert [(u["unit_code"], u["class"], u["total"]) for u in a["units"]] == \
           [(u["unit_code"], u["class"], u["total"]) for u in b["units"]]
    assert without_source(a["units"]) == without_source(b["units"])
    assert a["units"][0]["source"]["sheet"] == DATA_SHEET


@pytest.mark.slow
def test_round_trip_qd28_with_the_province_row(run_cli, workdir):
    ws = make(run_cli, "qd-28-2025", "--province", "40", "--year", "2025")[DATA_SHEET]
    p = pack("qd-28-2025")
    ids = [c.value for c in ws[4]]
    assert ids[-1] == "on_interprovincial_route"
    assert ws.cell(3, len(ids)).value == p.province.indicators["on_interprovincial_route"].label
    assert [c.value for c in ws[5]][:5] == [None, "Tỉnh Nghệ An", "tỉnh", "40", 2025]
    assert ws.max_row == 135  # the province row and 130 communes
    route = ws.cell(5, len(ids)).column_letter
    assert ws[f"{route}5"].protection.locked is False  # the province row: only the province cells open
    assert all(ws.cell(5, c).protection.locked for c in range(6, len(ids)))
    assert all(ws[f"{route}{r}"].protection.locked for r in range(6, 136))  # closed on commune rows
    assert validations(ws)[f"{route}5"].formula1 == '"Có,Không"'

    csv_path = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
    assert fill_from_csv(workdir / "t.xlsx", csv_path, p) == 131
    a = scored(run_cli, workdir, "t.xlsx", "qd-28-2025", "a.json")
    b = scored(run_cli, workdir, csv_path, "qd-28-2025", "b.json")
    assert a["rejected"] == [] and a["warnings"] == b["warnings"] == []
    assert without_source(a["units"]) == without_source(b["units"])
    assert len(a["units"]) == 130
    assert [(q["province_code"], q["class"]) for q in a["provinces"]] == [("40", "key_area")]
    assert without_source(a["provinces"]) == without_source(b["provinces"])


# ---- without --province: a blank template --------------------------------------------------------

def test_blank_template_then_two_units_typed_in(run_cli, workdir):
    result = run_cli("template", "--rules", "xa-lanh-manh", "--year", "2025", "--out", "blank.xlsx")
    assert result.exit_code == 0, result.output
    assert f"{BLANK_ROWS} blank row(s) to fill" in result.output
    wb = load_workbook("blank.xlsx")
    ws = wb[DATA_SHEET]
    assert ws.max_row == 4 + BLANK_ROWS == 204
    assert all(v is None for r in rows(ws) for v in r)
    assert all(ws[f"{col}{r}"].protection.locked is False for col in "ABCDEFX" for r in (5, 204))
    assert ws["A5"].number_format == "@" and ws["D204"].number_format == "@"  # codes typed stay text
    dv = validations(ws)
    assert (dv["A5:A204"].type, dv["A5:A204"].operator, dv["A5:A204"].formula1) == ("textLength", "equal", "5")
    assert dv["C5:C204"].formula1 == '"xã,phường,đặc khu,thị trấn"'  # no province level: no tỉnh
    assert (dv["E5:E204"].type, dv["E5:E204"].formula1, dv["E5:E204"].formula2) == ("whole", "2000", "2100")
    assert dv["J5:J204"].formula1 == "AND(ISNUMBER(J5),J5=INT(J5),J5>=0,OR(ISBLANK(I5),J5<=I5))"
    assert "chưa chọn" in "\n".join(str(v) for r in wb[HELP_SHEET].iter_rows(values_only=True) for v in r if v)

    ba_dinh, ngoc_ha = admin_units.current().units_of("01")[:2]
    assert ba_dinh.code == "00004"
    for r, (u, values) in enumerate([(ba_dinh, xlm_values()), (ngoc_ha, xlm_values(prostitution_hotspots=1))],
                                    start=5):
        for col, v in enumerate([u.code, u.name, u.type, "01", 2025] + [
                {True: "Có", False: "Không"}.get(values[i], values[i]) if isinstance(values[i], bool)
                else values[i] for i in XLM_INDICATORS], start=1):
            ws.cell(r, col).value = v
    wb.save("blank.xlsx")
    doc = scored(run_cli, workdir, "blank.xlsx", "xa-lanh-manh", "o.json")
    assert doc["rejected"] == [] and doc["inputs"][0]["rows"] == 2
    assert [(u["unit_code"], u["unit_name"], u["total"], u["vetoes"], u["class"]) for u in doc["units"]] == [
        ("00004", "Phường Ba Đình", 100, [], "healthy"),
        ("00008", "Phường Ngọc Hà", 90, ["V1"], "substantially_reduced")]  # E1 lost and vetoed


def test_blank_qd28_template_has_the_province_column_open_on_every_row(run_cli, workdir):
    ws = make(run_cli, "qd-28-2025", "--year", "2025")[DATA_SHEET]
    assert ws.max_row == 204 and ws["P4"].value == "on_interprovincial_route"
    assert ws["P5"].protection.locked is False and ws["P204"].protection.locked is False
    dv = validations(ws)
    assert dv["P5:P204"].formula1 == '"Có,Không"'
    assert dv["C5:C204"].formula1 == '"xã,phường,đặc khu,thị trấn,tỉnh,thành phố"'


# ---- usage errors and safety ---------------------------------------------------------------------

def test_unknown_province_exits_2_listing_the_codes(run_cli, workdir):
    result = run_cli("template", "--rules", "xa-lanh-manh", "--province", "99", "--year", "2025",
                     "--out", "t.xlsx")
    assert result.exit_code == 2
    assert "no province '99'" in result.output
    assert "40 Nghệ An" in result.output and "01 Thành phố Hà Nội" in result.output
    assert list(workdir.iterdir()) == []


def test_usage_errors_exit_2(run_cli, workdir):
    assert run_cli("template", "--rules", "xa-lanh-manh", "--out", "t.csv").exit_code == 2  # not .xlsx
    assert run_cli("template", "--out", "t.xlsx").exit_code == 2  # --rules missing
    assert run_cli("template", "--rules", "xa-lanh-manh").exit_code == 2  # --out missing
    assert run_cli("template", "--rules", "xa-lanh-manh", "--year", "hai", "--out", "t.xlsx").exit_code == 2
    assert run_cli("template", "--rules", "xa-lanh-manh", "--province", "03", "--year", "2024",
                   "--out", "t.xlsx").exit_code == 2  # no province 03 before the reform either
    assert list(workdir.iterdir()) == []


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    units = [AdminUnit("00001", "=SUM(1,2)", "xã", "01"),
             AdminUnit("00002", '=HYPERLINK("http://x")', "xã", "01")]
    out = tmp_path / "f.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # XlsxWriter warns (and drops) what it cannot write
        assert write_template(pack("xa-lanh-manh"), out, units=units, province_code="01", year=2025) == 2
    with zipfile.ZipFile(out) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert sheets and not any("<f>" in z.read(n).decode() for n in sheets)
    ws = load_workbook(out)[DATA_SHEET]
    assert (ws["B5"].value, ws["B5"].data_type) == ("=SUM(1,2)", "s")
    assert ws["B6"].value == '=HYPERLINK("http://x")'


@pytest.mark.parametrize("rules", ["xa-lanh-manh", "qd-28-2025", "qd-28-2025-literal"])
@pytest.mark.parametrize("units", [NGHE_AN, []], ids=["province", "blank"])
def test_every_shipped_pack_writes_without_warnings(tmp_path, rules, units):
    """XlsxWriter drops a validation whose message or formula is too long, with only a warning."""
    out = tmp_path / "t.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        write_template(pack(rules), out, units=units, province_code="40" if units else None, year=2025)
    ws = load_workbook(out)[DATA_SHEET]
    covered = {rng.split(":")[0].rstrip("0123456789") for dv in ws.data_validations.dataValidation
               for rng in str(dv.sqref).split()}
    assert {c.column_letter for c in ws[4][5:]} <= covered


def test_a_failure_leaves_the_target_untouched_and_no_temporary_file(tmp_path, monkeypatch):
    from lanhmanh.scorecards.outputs.template import Template

    out = tmp_path / "t.xlsx"
    out.write_bytes(b"the previous template")

    def boom(self):
        raise RuntimeError("disk full")

    monkeypatch.setattr(Template, "help_sheet", boom)
    with pytest.raises(RuntimeError):
        write_template(pack("xa-lanh-manh"), out, units=NGHE_AN, province_code="40", year=2025)
    assert out.read_bytes() == b"the previous template"
    assert [p.name for p in tmp_path.iterdir()] == ["t.xlsx"]


def test_a_missing_folder_is_created(tmp_path):
    out = tmp_path / "mau" / "2025" / "t.xlsx"
    assert write_template(pack("xa-lanh-manh"), out, units=NGHE_AN[:3], province_code="40", year=2025) == 3
    assert load_workbook(out)[DATA_SHEET].max_row == 7


# ---- constraints Excel can and cannot check -------------------------------------------------------

REFS = {"a": "A5", "b": "B5", "c": "C5"}


@pytest.mark.parametrize("rule, formula", [
    ("a <= b", "A5<=B5"),
    ("a + b <= 2 * c", "(A5+B5)<=(2*C5)"),
    ("a != b", "A5<>B5"),
    ("a == 50%", "A5=(1/2)"),
    ("a - -b >= 0", "(A5--(B5))>=0"),
    ("a > 1 and (b < 2 or not c == 3)", "AND(A5>1,OR(B5<2,NOT(C5=3)))"),
    ("a / b > 1", None),  # division: a #DIV/0! would refuse every value
    ("max(a, b) > 1", None),
    ("d > 1", None),  # a name without a cell
])
def test_excel_condition(rule, formula):
    assert excel_condition(parser.parse(rule), REFS) == formula


def test_constraints_excel_cannot_check_are_listed_and_several_share_a_cell(files, run_cli, workdir):
    text = XLM_TEST.read_text(encoding="utf-8").replace(
        "\nderived:",
        "\n  - {id: plan_if_tasks, rule: not tasks_assigned or has_annual_plan,"
        " message: Đã phân công thì phải có kế hoạch}"
        "\n  - {id: reached_healthy, rule: villages_reached + villages_healthy <= 2 * villages_total,"
        " message: Hai số thôn cộng lại vượt hai lần tổng}"
        "\nderived:", 1)
    rules = files.rules("xlm-more.yaml", text)
    wb = make(run_cli, str(rules), "--province", "40", "--year", "2025")
    dv = validations(wb[DATA_SHEET])
    assert dv["J5:J134"].formula1 == ("AND(ISNUMBER(J5),J5=INT(J5),J5>=0,OR(ISBLANK(I5),J5<=I5),"
                                      "OR(ISBLANK(K5),ISBLANK(I5),(J5+K5)<=(2*I5)))")
    assert dv["J5:J134"].error.startswith(
        "Số thôn được tuyên truyền vượt tổng số thôn. Hai số thôn cộng lại vượt hai lần tổng.")
    assert dv["G5:G134"].formula1 == '"Có,Không"'  # the boolean constraint is not on the cell
    help_rows = [r for r in wb[HELP_SHEET].iter_rows(values_only=True) if "Đã phân công thì phải có kế hoạch" in r]
    assert len(help_rows) == 1
    assert any(v and v.startswith("Excel không kiểm tra được") for v in help_rows[0])


# ---- the bundled sample workbooks: the CSV samples typed into templates -------------------------

@pytest.mark.parametrize("stem, rules", [("nghe-an-2025-ma-tuy", "qd-28-2025"),
                                         ("nghe-an-2025-lanh-manh", "xa-lanh-manh")])
def test_bundled_sample_workbook_scores_like_its_csv(run_cli, workdir, stem, rules):
    a = scored(run_cli, workdir, EXAMPLES / f"{stem}.xlsx", rules, "a.json")
    b = scored(run_cli, workdir, EXAMPLES / f"{stem}.csv", rules, "b.json")
    assert a["inputs"][0]["sheet"] == DATA_SHEET and a["rejected"] == [] and a["warnings"] == []
    assert len(a["units"]) == 130
    assert without_source(a["units"]) == without_source(b["units"])
    assert a["provinces"] == b["provinces"]


@pytest.mark.slow
def test_bundled_samples_are_what_make_samples_makes():
    """examples/make_samples.py --check rebuilds every sample (the workbooks from the current
    template) and compares: a template change that is not carried into the samples fails here."""
    proc = subprocess.run([sys.executable, str(EXAMPLES / "make_samples.py"), "--check"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_rate_in_a_constraint_is_its_cells_divided(files):
    """A plausibility check on a rate (`user_rate <= 5%`) reads the rate's cells, holding while the
    denominator's cell is blank; a sum in a rate is grouped."""
    text = XLM_TEST.read_text(encoding="utf-8").replace(
        "\nderived:", "\n  - {id: rate_ok, rule: managed_share <= 100%, message: m, severity: warning}\nderived:", 1)
    p = pack(files.rules("p.yaml", text))
    [c] = p.commune.soft_constraints
    d = p.commune.derived["managed_share"]
    refs = {k: f"{chr(ord('A') + i)}5" for i, k in enumerate(p.commune.indicators)}
    num, den = refs[d.num[0]], refs[d.den[0]]
    assert c.first == d.num[0]
    assert constraint_formula(c, refs, p.commune) == f"OR(ISBLANK({den}),({num}/{den})<=1)"
