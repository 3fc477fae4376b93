"""Never lose or mis-read a submission (issue 12, the input side): lanhmanh's own scorecards in a
submissions folder, formulas whose saved results are placeholders, blank templates, another pack's
file, UTF-16 text, rejections that name their unit and show values as typed, the same figures read
the same from a workbook and a CSV, a missing file beside good ones."""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from lmtest import QD28_TEST, XLM_TEST, qd28_row, xlm_row
from openpyxl import Workbook

from lanhmanh.scorecards.inputs.formulas import NotSimple, calculate

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
SHEET = "Dữ liệu"
ROWS = [xlm_row(1), xlm_row(2), xlm_row(3)]
COLS = list(ROWS[0])
SESSIONS = COLS.index("communication_sessions")  # column H; villages_total is column I (10)


def score(run_cli, *inputs, rules: Path = XLM_TEST, unit_list: str = "none", json_out: str = "o.json"):
    return run_cli("score", *map(str, inputs), "--rules", str(rules), "--unit-list", unit_list,
                   "--json", json_out, "--no-db")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cell(v):
    return "có" if v is True else "không" if v is False else v


def xlsxwriter_book(path: Path, formula: str, cached) -> Path:
    """The three rows, row 2's communication_sessions a formula saved with `cached` as its result,
    as XlsxWriter saves it (and asks Excel to recalculate on open)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    ws.write_row(0, 0, COLS)
    for i, r in enumerate(ROWS, start=1):
        ws.write_row(i, 0, [cell(r[c]) for c in COLS])
    ws.write_formula(1, SESSIONS, formula, None, cached)
    wb.close()
    return path


def as_saved_by_a_spreadsheet(path: Path) -> Path:
    """The workbook as Excel or LibreOffice saves it after calculating: no fullCalcOnLoad."""
    parts = {}
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            parts[name] = z.read(name)
    parts["xl/workbook.xml"] = re.sub(rb'\s*fullCalcOnLoad="1"', b"", parts["xl/workbook.xml"])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def sessions(doc: dict, code: str = "00001"):
    (u,) = [u for u in doc["units"] if u["unit_code"] == code]
    return next(c["inputs"]["communication_sessions"] for c in u["criteria"]
                if "communication_sessions" in c["inputs"])


# ---- lanhmanh's own scorecards in a submissions folder ------------------------------------------------

def test_a_folder_scored_twice_skips_its_own_scorecards_with_one_warning(run_cli, files, workdir):
    folder = files.root / "nop"
    folder.mkdir()
    files.csv("nop/xa.csv", ROWS)
    result = score(run_cli, folder, json_out="first.json")
    assert result.exit_code == 0, result.output
    out = workdir / "cards"
    result = run_cli("score", folder, "--rules", XLM_TEST, "--unit-list", "none", "--no-db",
                     "--out", workdir / "bang.xlsx", "--out-dir", out)
    assert result.exit_code == 0, result.output
    for p in [workdir / "bang.xlsx", *out.iterdir()]:  # as a careless user would: into the folder
        shutil.copy(p, folder / p.name)
    result = score(run_cli, folder)
    assert result.exit_code == 0, result.output
    skipped = [ln for ln in result.output.splitlines() if "made by lanhmanh" in ln]
    assert len(skipped) == 1 and skipped[0].startswith("warning: 3 scorecard(s)"), result.output
    doc = read_json(workdir / "o.json")
    assert [i["path"] for i in doc["inputs"]] == [str(folder / "xa.csv")]
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00002", "00003"]
    # named on its own, a scorecard is refused as a submission (exit 4), not mis-read
    result = score(run_cli, folder / "bang.xlsx", json_out="x.json")
    assert result.exit_code == 4 and "a scorecard or summary made by lanhmanh" in result.output


def test_a_filled_template_is_a_submission(run_cli, workdir):
    result = run_cli("template", "--rules", "qd-28-2025", "--province", "40", "--year", "2025", "--out", "mau.xlsx")
    assert result.exit_code == 0, result.output
    from lanhmanh.scorecards.inputs.xlsx_reader import made_by_lanhmanh

    assert not made_by_lanhmanh(workdir / "mau.xlsx")


# ---- formulas --------------------------------------------------------------------------------------

def test_a_placeholder_result_is_never_read(run_cli, files, workdir):
    """XlsxWriter saves 0 as every formula's result and asks for recalculation on open: the formula
    (=I2+2, villages_total 10 + 2) is calculated, giving 12, never the placeholder 0."""
    book = xlsxwriter_book(files.path("xw.xlsx"), "=I2+2", 0)
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    assert sessions(read_json(workdir / "o.json")) == 12


def test_a_formula_without_a_saved_result_is_calculated_not_blank(run_cli, files, workdir):
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(COLS)
    for r in ROWS:
        ws.append([cell(r[c]) for c in COLS])
    ws.cell(2, SESSIONS + 1).value = "=SUM(I2:J2)/2+(2*3-4)*1.5"  # (10 + 10) / 2 + 3 = 13
    ws.cell(3, SESSIONS + 1).value = "=I2+2"  # another row: not calculated
    wb.save(files.path("op.xlsx"))
    result = score(run_cli, files.root / "op.xlsx")
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sessions(doc) == 13
    (r,) = doc["rejected"]
    assert (r["cell"], r["value"], r["unit_code"]) == ("H3", "=I2+2", "00002")
    assert r["reason"].startswith("cell H3 holds a formula that was never calculated (=I2+2")
    assert r["reason"] == ("cell H3 holds a formula that was never calculated (=I2+2: a formula reading another "
                           "row): open the file in Excel or LibreOffice and save it again")
    assert "chứa công thức" not in r["reason"]  # one language at a time (Vietnamese: test_i18n_evaluation)
    assert "cell H3" in result.output and "open the file in Excel or LibreOffice and save it again" in result.output


def test_the_saved_result_is_read_when_a_spreadsheet_calculated_it(run_cli, files, workdir):
    """Saved by Excel or LibreOffice (no recalculation asked for), a formula's result is the one
    the council saw: a formula lanhmanh could not calculate is read by it too."""
    book = as_saved_by_a_spreadsheet(xlsxwriter_book(files.path("calc.xlsx"), "=VLOOKUP(1,Z1:Z2,1)", 12))
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    assert sessions(read_json(workdir / "o.json")) == 12
    # the same file still asking for recalculation: that formula's row is rejected, never read as 12
    book = xlsxwriter_book(files.path("raw.xlsx"), "=VLOOKUP(1,Z1:Z2,1)", 12)
    result = score(run_cli, book)
    assert result.exit_code == 1 and "cell H2 holds a formula that was never calculated" in result.output


@pytest.mark.parametrize("formula, value", [
    ("=0.1+0.2", Decimal("0.3")), ("=B1*3", 21), ("=-(B1-10)/4", Decimal("0.75")), ("=SUM(B1:D1)", 7),
    ("=SUM(B1,C1,5)", 12), ("=B1/3*3", 7), ("=2/3", Decimal(2) / Decimal(3)), ("= 1 + 2 * 3 ", 7),
])
def test_simple_formulas_are_calculated_exactly(formula, value):
    row = {2: 7, 3: None, 4: ""}
    assert calculate(formula, 1, row.get) == value


@pytest.mark.parametrize("formula", [
    "=B2*2", "=Sheet2!B1", "=AVERAGE(B1:C1)", "=B1/C1", "=E1+1", "=" + "(" * 60 + "1" + ")" * 60, "=1+",
    "=B1>2", "=\"x\"", "=SUM(A1:A3)", "=1e999", "=1e30*1e30*1e30", "=1/1e30/1e30",
])
def test_other_formulas_are_not_calculated(formula):
    row = {2: 7, 3: 0, 5: "text"}
    with pytest.raises(NotSimple):
        calculate(formula, 1, row.get)


def test_formula_results_are_exact_fractions_before_rounding():
    assert calculate("=1/3+1/3+1/3", 1, {}.get) == 1
    assert Fraction(calculate("=1/8", 1, {}.get)) == Fraction(1, 8)


# ---- one line first ------------------------------------------------------------------------------------

def test_a_blank_template_is_one_line_and_exit_4(run_cli, workdir):
    run_cli("template", "--rules", "qd-28-2025", "--province", "40", "--year", "2025", "--out", "mau.xlsx")
    result = run_cli("score", "mau.xlsx", "--rules", "qd-28-2025", "--json", "o.json", "--no-db")
    assert result.exit_code == 4, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "130 row(s) have no figures filled in" in lines[0] and "mau.xlsx" in lines[0]


def test_rows_not_filled_in_are_skipped_with_one_count(run_cli, files, workdir):
    blank = [{**xlm_row(i), **{k: None for k in COLS[5:]}} for i in range(4, 40)]
    result = score(run_cli, files.csv("part.csv", ROWS + blank))
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert len(doc["units"]) == 3 and doc["rejected"] == []
    (w,) = [w for w in doc["warnings"] if "no figures" in w["message"]]
    assert w["message"].startswith("36 row(s) have no figures filled in (rows 5–40)")
    assert sum("no figures" in ln for ln in result.output.splitlines()) == 1


def test_another_packs_file_is_named_in_one_line(run_cli, workdir):
    csv = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
    result = run_cli("score", csv, "--rules", "qd-28-2025", "--json", "o.json", "--no-db")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len(lines) < 40, result.output  # not 1,200 lines
    first = next(ln for ln in lines if ln.startswith(str(csv)))
    assert "these columns match the pack xa-lanh-manh" in first and "--rules xa-lanh-manh" in first
    assert "no row gives a year" not in result.output
    doc = read_json(workdir / "o.json")
    assert len({r["row"] for r in doc["rejected"]}) == 130  # every rejection kept in the JSON
    assert "xa-lanh-manh" in doc["rejected"][0]["headline"]


def test_repeated_rejections_are_capped_on_the_command_line(run_cli, files, workdir):
    rows = [xlm_row(i, communication_sessions="mười") for i in range(1, 31)] + [xlm_row(31)]
    result = score(run_cli, files.csv("sai.csv", rows))
    assert result.exit_code == 1
    listed = [ln for ln in result.output.splitlines() if "not a whole number" in ln]
    assert "30 of 31 rows rejected for one reason: not a whole number" in listed[0]  # the headline first
    assert len(listed) == 12 and "… and 20 more rejection(s) for the same reason" in listed[-1]
    assert len(read_json(workdir / "o.json")["rejected"]) == 30


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_csv_are_read(run_cli, files, workdir, encoding):
    text = (EXAMPLES / "nghe-an-2025-ma-tuy.csv").read_text(encoding="utf-8-sig")
    inp = files.path("u.csv")
    # "utf-16" and "utf-32" write a BOM (as Excel's "Unicode Text" does); UTF-16-LE with one written
    # by hand; UTF-16-BE without any (told by its zero bytes)
    inp.write_bytes(("\ufeff" + text if encoding == "utf-16-le" else text).encode(encoding))
    result = run_cli("score", inp, "--rules", "qd-28-2025", "--json", "o.json", "--no-db")
    assert result.exit_code == 0, result.output
    assert len(read_json(workdir / "o.json")["units"]) == 130


# ---- rejections: the unit, values as typed -----------------------------------------------------------

def test_rejections_carry_the_unit_and_show_values_as_typed(run_cli, files, workdir):
    wb = Workbook()
    ws = wb.active
    cols = list(qd28_row(1))
    ws.append(cols)
    ws.append([cell(v) for v in qd28_row(1, drug_plant_area_m2=12.755).values()])  # a number cell
    ws.append([cell(v) for v in qd28_row(2, population=None).values()])
    wb.save(files.path("q.xlsx"))
    result = run_cli("score", files.root / "q.xlsx", "--rules", QD28_TEST, "--unit-list", "none",
                     "--json", "o.json", "--no-db")
    assert result.exit_code == 1, result.output
    assert "Decimal(" not in result.output and "None" not in result.output
    assert "(unit 00001 Xã 00001), column drug_plant_area_m2, value 12.755: more than 2 decimal places" in result.output
    assert "(unit 00002 Xã 00002), column population, value blank: missing value (required)" in result.output
    rej = {r["unit_code"]: r for r in read_json(workdir / "o.json")["rejected"]}
    assert rej["00001"]["unit_name"] == "Xã 00001" and rej["00001"]["value"] == "12.755"
    assert rej["00002"]["value"] is None


def test_a_workbook_and_the_csv_of_the_same_figures_give_the_same_values(run_cli, workdir):
    docs = []
    for ext in ("csv", "xlsx"):
        result = run_cli("score", EXAMPLES / f"nghe-an-2025-ma-tuy.{ext}", "--rules", "qd-28-2025",
                         "--json", f"{ext}.json", "--no-db")
        assert result.exit_code == 0, result.output
        doc = read_json(workdir / f"{ext}.json")
        docs.append(([{k: v for k, v in u.items() if k != "source"} for u in doc["units"]], doc["provinces"]))
    assert docs[0] == docs[1]
    values = {c["inputs"].get("drug_plant_area_m2") for u in docs[0][0] for c in u["criteria"]} - {None}
    assert "0" in values and "0.00" not in values  # "0.00" in the CSV, 0 in the workbook: both "0"


# ---- missing files, outputs under a file ---------------------------------------------------------------

def test_a_missing_file_beside_good_ones_is_rejected_with_exit_1(run_cli, files, workdir):
    good = files.csv("good.csv", ROWS)
    result = score(run_cli, good, files.root / "khong-co.csv")
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert len(doc["units"]) == 3
    (r,) = doc["rejected"]
    assert r["path"] == str(files.root / "khong-co.csv") and "no such file" in r["reason"]
    result = score(run_cli, files.root / "khong-co.csv", files.root / "nor.csv", json_out="x.json")
    assert result.exit_code == 4 and "khong-co.csv" in result.output and "nor.csv" in result.output
    assert not (workdir / "x.json").exists()


def test_an_output_under_a_file_says_the_folder_is_a_file(run_cli, files, workdir):
    (workdir / "ra").write_text("not a folder")
    result = score(run_cli, files.csv("good.csv", ROWS), json_out="ra/o.json")
    assert result.exit_code == 6
    assert "the folder ra is a file" in result.output and "open in Excel" not in result.output
