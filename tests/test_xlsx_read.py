"""Excel workbooks as input to `lanhmanh score`: what a council sees, end to end, plus read_workbook.

Workbooks are built here with openpyxl (xlsxwriter where a formula needs a cached value). Two real
files made by LibreOffice Calc are kept in tests/data/ because they cannot be made with the
installed Python packages: password-protected.xlsx (saved with the password "matkhau": an OLE2
compound file holding EncryptionInfo and EncryptedPackage streams, as Excel writes it) and
excel-97-2003.xls (the old binary format).
"""
from __future__ import annotations

import datetime as dt
import json
import shutil
import time
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from lmtest import QD28_TEST, XLM_TEST, qd28_row, xlm_row
from openpyxl import Workbook, load_workbook
from openpyxl.worksheet._reader import WorkSheetParser

from lanhmanh.engine.evaluation.validate import IDENTITY_LABELS, Validator
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.inputs import xlsx_reader
from lanhmanh.scorecards.inputs.readers import InputError
from lanhmanh.scorecards.inputs.xlsx_reader import read_workbook

DATA = Path(__file__).resolve().parent / "data"
REPO = Path(__file__).resolve().parent.parent

XLM_ROWS = [
    xlm_row(1, "01"),                                               # 100
    xlm_row(2, "01", communication_sessions=6),                     # 95
    xlm_row(3, "02", prostitution_hotspots=1),                      # 90 with a veto
    xlm_row(4, "02", new_drug_addicts=2, new_drug_addicts_prev=3),  # 95
    xlm_row(5, "02", has_annual_plan=False, tasks_assigned=False),  # 90
]
SHEET = "Dữ liệu"


# ---- helpers -----------------------------------------------------------------------------------

def cell(v, text: bool = False):
    """A row value as a person types it: có/không for booleans; numbers as text when `text`."""
    if v is True:
        return "có"
    if v is False:
        return "không"
    if text and v is not None and not isinstance(v, str):
        return str(v)
    return v


def table(rows: list[dict], header: list | None = None, text: bool = False) -> list[list]:
    cols = list(rows[0])
    return [header or cols] + [[cell(r[c], text) for c in cols] for r in rows]


def workbook(path: Path, sheets: dict[str, list[list]], merge: dict[str, str] | None = None) -> Path:
    """A workbook of the given sheets (title → rows of cells, None for an empty cell)."""
    wb = Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r in rows:
            ws.append(r)
        if merge and title in merge:
            ws.merge_cells(merge[title])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def labels(pack_path: Path) -> dict[str, str]:
    """Column id → its Vietnamese heading: the pack's labels (with the unit, as a template writes
    it, where the indicator has one) and the identity columns' headings."""
    pack = load_pack(str(pack_path))[0]
    out = dict(IDENTITY_LABELS)
    for i, ind in pack.commune.indicators.items():
        out[i] = f"{ind.label} ({ind.unit})" if ind.unit else ind.label
    return out


def knows(pack_path: Path = XLM_TEST):
    return Validator(load_pack(str(pack_path))[0]).knows


def score(run_cli, *inputs, rules: Path = XLM_TEST, unit_list: str = "none"):
    return run_cli("score", *map(str, inputs), "--rules", str(rules), "--unit-list", unit_list, "--json", "o.json")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def units_without_source(doc: dict) -> list[dict]:
    return [{k: v for k, v in u.items() if k != "source"} for u in doc["units"]]


def scored_as_csv(run_cli, files, workdir, rows: list[dict], rules: Path = XLM_TEST, unit_list="none") -> dict:
    result = score(run_cli, files.csv("same-rows.csv", rows), rules=rules, unit_list=unit_list)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    (workdir / "o.json").unlink()
    return doc


def bad_input(run_cli, workdir, path: Path, *fragments: str):
    """`score PATH` exits 4 naming the file and saying each fragment, with nothing written."""
    result = score(run_cli, path)
    assert result.exit_code == 4, result.output
    assert str(path) in result.output
    for f in fragments:
        assert f in result.output, result.output
    assert list(workdir.iterdir()) == []
    return result


# ---- what the CLI reads: layouts ---------------------------------------------------------------

def test_sheet_headed_by_ids_scores_like_the_same_rows_as_csv(run_cli, files, workdir):
    expected = scored_as_csv(run_cli, files, workdir, XLM_ROWS)
    book = workbook(files.path("tinh.xlsx"), {SHEET: table(XLM_ROWS)})
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert units_without_source(doc) == units_without_source(expected)
    assert [u["total"] for u in doc["units"]] == [100, 95, 95, 90, 90]
    assert doc["inputs"] == [{"path": str(book), "sha256": xlsx_sha256(book), "rows": 5, "sheet": SHEET}]
    assert doc["units"][0]["source"] == {"path": str(book), "row": 2, "sheet": SHEET}
    assert doc["rejected"] == [] and doc["warnings"] == []


def xlsx_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_sheet_headed_by_vietnamese_labels(run_cli, files, workdir):
    heads = labels(XLM_TEST)
    expected = scored_as_csv(run_cli, files, workdir, XLM_ROWS)
    book = workbook(files.path("nhan.xlsx"), {SHEET: table(XLM_ROWS, [heads[c] for c in XLM_ROWS[0]])})
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert units_without_source(doc) == units_without_source(expected)
    assert doc["warnings"] == []  # every label recognised: no "unknown column"


def test_labels_with_units_in_brackets_are_recognised(run_cli, files, workdir):
    heads = labels(QD28_TEST)
    assert heads["drug_plant_area_m2"].endswith("(m2)")
    rows = [qd28_row(1, drug_plant_area_m2="125.5"), qd28_row(2, population=2000, users_with_records=3)]
    expected = scored_as_csv(run_cli, files, workdir, rows, rules=QD28_TEST)
    book = workbook(files.path("qd28.xlsx"), {SHEET: table(rows, [heads[c] for c in rows[0]])})
    result = score(run_cli, book, rules=QD28_TEST)
    assert result.exit_code == 0, result.output
    assert units_without_source(read_json(workdir / "o.json")) == units_without_source(expected)


def template_sheet(rows: list[dict], pack: Path = XLM_TEST) -> list[list]:
    """The data-entry template's layout: merged title, note, Vietnamese labels, ids, data from row 5."""
    cols = list(rows[0])
    heads = labels(pack)
    return ([["BIỂU MẪU NHẬP SỐ LIỆU ĐÁNH GIÁ XÃ, PHƯỜNG LÀNH MẠNH NĂM 2025"] + [None] * (len(cols) - 1),
             ["Ghi chú: nhập từ dòng 5, không sửa dòng 4 (mã cột)."],
             [heads[c] for c in cols],
             cols]
            + [[cell(r[c]) for c in cols] for r in rows])


def test_template_layout_title_labels_and_ids_rows(run_cli, files, workdir):
    expected = scored_as_csv(run_cli, files, workdir, XLM_ROWS)
    instructions = [["HƯỚNG DẪN NHẬP SỐ LIỆU"], ["1. Mỗi dòng là một xã, phường."],
                    ["2. Cột Mã đơn vị (unit_code) ghi mã 5 chữ số."]]
    book = workbook(files.path("mau.xlsx"), {"Hướng dẫn": instructions, SHEET: template_sheet(XLM_ROWS)},
                    merge={SHEET: "A1:X1"})
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert units_without_source(doc) == units_without_source(expected)
    assert doc["inputs"] == [{"path": str(book), "sha256": xlsx_sha256(book), "rows": 5, "sheet": SHEET}]
    assert sorted(u["source"]["row"] for u in doc["units"]) == [5, 6, 7, 8, 9]

    (f,) = read_workbook(book, knows())
    assert f.header_row == 4  # label row and id row tie: the later (id) row is the header
    assert f.headers == list(XLM_ROWS[0])
    assert f.letters["unit_code"] == "A" and f.letters["communication_sessions"] == "H"
    assert f.header_cells()["communication_sessions"] == "H4"
    assert [n for n, _ in f.rows] == [5, 6, 7, 8, 9]


def test_ids_row_above_labels_row_the_labels_row_is_not_data(files):
    """The header is the row with the most recognised cells; a header-like row after it is skipped."""
    heads = labels(XLM_TEST)
    cols = list(XLM_ROWS[0])
    partial_labels = [heads[c] if i < 6 else f"cột {i + 1}" for i, c in enumerate(cols)]  # 6 known
    book = workbook(files.path("a.xlsx"), {SHEET: [cols, partial_labels] + table(XLM_ROWS)[1:]})
    (f,) = read_workbook(book, knows())
    assert f.header_row == 1
    assert [n for n, _ in f.rows] == [3, 4, 5, 6, 7]
    assert f.rows[0][1]["unit_code"] == "00001"


def test_numbers_as_text_co_khong_and_blank_rows_in_the_middle(run_cli, files, workdir):
    expected = scored_as_csv(run_cli, files, workdir, XLM_ROWS)
    sheet = table(XLM_ROWS, text=True)  # every number typed as text
    for r in sheet[1:]:
        r[5:7] = ["Có" if v == "có" else "Không" for v in r[5:7]]  # capitalised, as typed
    sheet = [sheet[0], sheet[1], [None] * 24, [], sheet[2], sheet[3], ["", "  "], sheet[4], sheet[5]]
    book = workbook(files.path("text.xlsx"), {SHEET: sheet})
    (f,) = read_workbook(book, knows())
    assert [n for n, _ in f.rows] == [2, 5, 6, 8, 9]
    assert f.rows[0][1]["communication_sessions"] == "12" and f.rows[0][1]["has_annual_plan"] == "Có"
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    assert units_without_source(read_json(workdir / "o.json")) == units_without_source(expected)


def test_real_true_false_cells_and_numbers_stay_exact(files):
    rows = [qd28_row(1, drug_plant_area_m2="0")]
    sheet = table(rows)
    cols = sheet[0]
    sheet[1][cols.index("on_key_route")] = True  # a real TRUE cell
    sheet[1][cols.index("drug_plant_area_m2")] = 750.25
    sheet[1][cols.index("population")] = 12000.0  # a whole number stored as a double
    sheet.append(list(sheet[1]))
    sheet[2][0], sheet[2][cols.index("drug_plant_area_m2")] = "00002", 0.1
    sheet[2][cols.index("on_key_route")] = False
    (f,) = read_workbook(workbook(files.path("n.xlsx"), {SHEET: sheet}), knows(QD28_TEST))
    first, second = f.rows[0][1], f.rows[1][1]
    assert first["on_key_route"] is True and second["on_key_route"] is False
    assert first["drug_plant_area_m2"] == Decimal("750.25") and isinstance(first["drug_plant_area_m2"], Decimal)
    assert first["population"] == 12000 and type(first["population"]) is int
    assert second["drug_plant_area_m2"] == Decimal("0.1")  # the text Excel shows, not the double's expansion


def test_decimals_score_like_csv(run_cli, files, workdir):
    rows = [qd28_row(1, drug_plant_area_m2="125.5"), qd28_row(2, drug_plant_area_m2="750.25"),
            qd28_row(3, drug_plant_area_m2="124.99")]
    expected = scored_as_csv(run_cli, files, workdir, rows, rules=QD28_TEST)
    sheet = table(rows)
    col = sheet[0].index("drug_plant_area_m2")
    for r in sheet[1:]:
        r[col] = float(r[col])  # typed as numbers: stored as doubles
    result = score(run_cli, workbook(files.path("d.xlsx"), {SHEET: sheet}), rules=QD28_TEST)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert units_without_source(doc) == units_without_source(expected)
    area = {u["unit_code"]: next(c for c in u["criteria"] if "drug_plant_area_m2" in c["inputs"])
            ["inputs"]["drug_plant_area_m2"] for u in doc["units"]}
    assert area == {"00001": "125.5", "00002": "750.25", "00003": "124.99"}


def test_nfd_text_in_names_labels_and_sheet_title(run_cli, files, workdir):
    nfd = lambda s: unicodedata.normalize("NFD", s)  # noqa: E731
    heads = labels(XLM_TEST)
    rows = [xlm_row(1, name="Phường Hưng Dũng"), xlm_row(2, name="Xã Nghĩa Đàn")]
    sheet = table(rows, [nfd(heads[c]) for c in rows[0]])
    for r in sheet[1:]:
        r[1], r[2] = nfd(r[1]), nfd(r[2])  # name and type ("xã") in NFD
        r[5] = nfd("Có")
    assert sheet[1][1] != "Phường Hưng Dũng"
    book = workbook(files.path("nfd.xlsx"), {nfd(SHEET): sheet})
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert {u["unit_code"]: u["unit_name"] for u in doc["units"]} == {"00001": "Phường Hưng Dũng",
                                                                      "00002": "Xã Nghĩa Đàn"}
    assert doc["inputs"][0]["sheet"] == SHEET and doc["warnings"] == []
    (f,) = read_workbook(book, knows())
    assert f.sheet == SHEET and f.headers == [heads[c] for c in rows[0]]  # NFC again
    assert f.rows[0][1][heads["unit_name"]] == "Phường Hưng Dũng" and f.rows[1][1][heads["unit_type"]] == "xã"


def test_folder_of_one_workbook_per_commune(run_cli, files, workdir):
    expected = scored_as_csv(run_cli, files, workdir, XLM_ROWS)
    folder = files.path("xa/")
    folder.mkdir(exist_ok=True)
    for r in XLM_ROWS:
        workbook(folder / f"{r['unit_code']}.xlsx", {SHEET: template_sheet([r])}, merge={SHEET: "A1:X1"})
    (folder / "~$00001.xlsx").write_bytes(b"lock file of an open workbook")  # Excel's: skipped
    (folder / "ghi-chu.txt").write_text("not an input")
    result = score(run_cli, folder)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert units_without_source(doc) == units_without_source(expected)
    assert [(Path(i["path"]).name, i["rows"], i["sheet"]) for i in doc["inputs"]] == \
           [(f"{r['unit_code']}.xlsx", 1, SHEET) for r in XLM_ROWS]
    assert {u["source"]["row"] for u in doc["units"]} == {5}


def test_a_province_workbook_with_official_codes(run_cli, files, workdir):
    """The bundled Nghệ An sample (130 units, official codes) as one workbook, codes typed as numbers."""
    sample = REPO / "examples" / "nghe-an-2025-lanh-manh.csv"
    result = run_cli("score", str(sample), "--rules", "xa-lanh-manh", "--json", "csv.json")
    assert result.exit_code == 0, result.output
    import csv

    with sample.open(encoding="utf-8-sig", newline="") as fh:
        lines = list(csv.reader(fh))
    as_typed = [lines[0]] + [[int(v) if v.isdigit() else v for v in r] for r in lines[1:]]  # 40, 16681, 2025
    book = workbook(files.path("nghe-an.xlsx"), {"Nghệ An": as_typed})
    result = run_cli("score", str(book), "--rules", "xa-lanh-manh", "--json", "xlsx.json")
    assert result.exit_code == 0, result.output
    a, b = read_json(workdir / "csv.json"), read_json(workdir / "xlsx.json")
    assert len(b["units"]) == 130
    assert units_without_source(a) == units_without_source(b)
    assert a["provinces"] == b["provinces"]


def test_several_data_sheets_are_all_read_and_a_headed_empty_sheet_is_skipped(run_cli, files, workdir):
    book = workbook(files.path("hai.xlsx"), {"Huyện A": table(XLM_ROWS[:2]), "Trống": [list(XLM_ROWS[0])],
                                             "Huyện B": table(XLM_ROWS[2:])})
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert [(i["sheet"], i["rows"]) for i in doc["inputs"]] == [("Huyện A", 2), ("Huyện B", 3)]
    assert {u["unit_code"]: u["source"]["sheet"] for u in doc["units"]} == {
        "00001": "Huyện A", "00002": "Huyện A", "00003": "Huyện B", "00004": "Huyện B", "00005": "Huyện B"}


def test_xlsm_is_read(run_cli, files, workdir):
    book = workbook(files.path("macro.xlsm"), {SHEET: table(XLM_ROWS[:1])})
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    assert len(read_json(workdir / "o.json")["units"]) == 1


# ---- bad cells: rejected by sheet and cell -------------------------------------------------------

def test_bad_cell_rejected_with_its_sheet_and_cell(run_cli, files, workdir):
    rows = [xlm_row(i) for i in range(1, 6)]
    rows[2]["communication_sessions"] = "mười"  # the 3rd data row: Excel row 7 in the template layout
    book = workbook(files.path("sai.xlsx"), {"Hướng dẫn": [["Đọc kỹ"]], SHEET: template_sheet(rows)})
    result = score(run_cli, book)
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00002", "00004", "00005"]
    assert doc["rejected"] == [{"path": str(book), "row": 7, "column": "communication_sessions", "value": "mười",
                                "reason": "not a whole number", "unit_code": "00003", "unit_name": "Xã 00003",
                                "sheet": SHEET, "cell": "H7"}]
    assert f"sheet '{SHEET}', cell H7" in result.output


def test_cell_beyond_the_last_header_column_is_rejected(run_cli, files, workdir):
    sheet = table(XLM_ROWS[:2])
    sheet[2] = sheet[2] + [None, "lệch cột"]  # column Z of the 2nd data row (Excel row 3)
    book = workbook(files.path("lech.xlsx"), {SHEET: sheet})
    (f,) = read_workbook(book, knows())
    assert f.rows[1][1]["(column 26)"] == "lệch cột" and "(column 26)" not in f.rows[0][1]
    result = score(run_cli, book)
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert [u["unit_code"] for u in doc["units"]] == ["00001"]
    (rej,) = doc["rejected"]
    assert (rej["row"], rej["column"], rej["value"], rej["sheet"]) == (3, "(column 26)", "lệch cột", SHEET)
    assert "beyond the last headed column" in rej["reason"] and rej["cell"] == "Z3", rej


def test_date_and_unfilled_formula_cells(run_cli, files, workdir):
    sheet = table(XLM_ROWS[:3])
    col = sheet[0].index("communication_sessions")
    sheet[1][col] = dt.date(2025, 1, 12)          # a date where a count belongs
    sheet[2][col] = "=6+6"                          # a formula never calculated: no cached value
    sheet[3][col] = "=VLOOKUP(1,Z1:Z2,1)"           # one lanhmanh does not calculate
    book = workbook(files.path("f.xlsx"), {SHEET: sheet})
    (f,) = read_workbook(book, knows())
    assert f.rows[0][1]["communication_sessions"] == "2025-01-12"
    assert f.rows[1][1]["communication_sessions"] == 12  # calculated exactly, never read as blank
    result = score(run_cli, book)
    assert result.exit_code == 1, result.output
    rej = {r["cell"]: (r["value"], r["reason"]) for r in read_json(workdir / "o.json")["rejected"]}
    assert rej.keys() == {"H2", "H4"} and rej["H2"] == ("2025-01-12", "not a whole number")
    assert rej["H4"][0] == "=VLOOKUP(1,Z1:Z2,1)"
    assert rej["H4"][1].startswith("cell H4 holds a formula that was never calculated (=VLOOKUP(1,Z1:Z2,1)")


def test_formula_cells_read_by_their_cached_value(files):
    import xlsxwriter

    path = files.path("cached.xlsx")
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet(SHEET)
    sheet = table(XLM_ROWS[:1])
    ws.write_row(0, 0, sheet[0])
    ws.write_row(1, 0, sheet[1])
    ws.write_formula(1, sheet[0].index("communication_sessions"), "=6+6", None, 12)
    wb.close()
    (f,) = read_workbook(path, knows())
    assert f.rows[0][1]["communication_sessions"] == 12


# ---- files that cannot be read: exit 4, a message naming the file, no traceback ----------------------

def test_corrupt_file(run_cli, files, workdir):
    bad_input(run_cli, workdir, files.text("hong.xlsx", "PK\x03\x04 không phải workbook"),
              "not an Excel workbook", "Save As .xlsx")


def test_truncated_workbook(run_cli, files, workdir):
    good = workbook(files.path("ok.xlsx"), {SHEET: table(XLM_ROWS)})
    cut = files.path("cut.xlsx")
    cut.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    bad_input(run_cli, workdir, cut, "not an Excel workbook")


def test_a_zip_that_is_not_a_workbook(run_cli, files, workdir):
    p = files.path("zip.xlsx")
    with zipfile.ZipFile(p, "w") as z:
        z.writestr("readme.txt", "hello")
    bad_input(run_cli, workdir, p, "cannot be read as an Excel workbook", "damaged")


def test_damaged_sheet_xml(run_cli, files, workdir):
    good = workbook(files.path("ok.xlsx"), {SHEET: table(XLM_ROWS)})
    with zipfile.ZipFile(good) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    xml = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = xml[: len(xml) // 2]  # cut in the middle of the data
    p = files.path("xml.xlsx")
    with zipfile.ZipFile(p, "w") as z:
        for n, d in parts.items():
            z.writestr(n, d)
    bad_input(run_cli, workdir, p, "cannot be read as an Excel workbook", "damaged")


def test_empty_file(run_cli, files, workdir):
    bad_input(run_cli, workdir, files.text("rong.xlsx", ""), "empty")


def test_password_protected_workbook(run_cli, files, workdir):
    p = files.path("mat-khau.xlsx")
    shutil.copy(DATA / "password-protected.xlsx", p)
    assert p.read_bytes()[:8] == bytes.fromhex("D0CF11E0A1B11AE1")
    bad_input(run_cli, workdir, p, "password-protected", "remove the password")


@pytest.mark.parametrize("name", ["cu.xls", "renamed.xlsx"])
def test_old_xls_workbook(run_cli, files, workdir, name):
    p = files.path(name)
    shutil.copy(DATA / "excel-97-2003.xls", p)
    result = bad_input(run_cli, workdir, p, "Excel 97-2003", "Save As .xlsx")
    assert "password" not in result.output


def test_an_xlsx_named_xls_is_read_by_its_content(run_cli, files, workdir):
    book = workbook(files.path("ok.xlsx"), {SHEET: table(XLM_ROWS)})
    named = files.path("doi-ten.xls")
    shutil.copy(book, named)
    result = score(run_cli, named)
    assert result.exit_code == 0, result.output
    assert len(read_json(workdir / "o.json")["units"]) == 5


def test_web_page_saved_as_xls(run_cli, files, workdir):
    p = files.text("xuat.xls", "<html><body><table><tr><td>unit_code</td></tr></table></body></html>")
    bad_input(run_cli, workdir, p, ".xls", "Save As .xlsx")


def test_no_sheet_has_a_header_row(run_cli, files, workdir):
    p = workbook(files.path("khong-tieu-de.xlsx"), {
        "Hướng dẫn": [["Nhập số liệu vào sheet Số liệu"]],
        "Số liệu": [["Mã", "Tên", "Dân số"], ["00001", "Xã A", 100]]})
    bad_input(run_cli, workdir, p, "no sheet has a header row naming the pack's columns", "'Hướng dẫn'", "'Số liệu'")


def test_header_but_no_data_rows(run_cli, files, workdir):
    p = workbook(files.path("mau-trong.xlsx"), {"Hướng dẫn": [["Đọc kỹ"]], SHEET: template_sheet(XLM_ROWS)[:4]},
                 merge={SHEET: "A1:X1"})
    bad_input(run_cli, workdir, p, "header row but no data rows", f"sheet '{SHEET}' (header in row 4)")


def test_unreadable_workbook_beside_a_good_one_has_its_rows_rejected(run_cli, files, workdir):
    good = workbook(files.path("tot.xlsx"), {SHEET: table(XLM_ROWS[:1])})
    locked = files.path("khoa.xlsx")
    shutil.copy(DATA / "password-protected.xlsx", locked)
    result = score(run_cli, good, locked)
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert [u["unit_code"] for u in doc["units"]] == ["00001"]
    assert [(r["path"], r["row"]) for r in doc["rejected"]] == [(str(locked), None)]
    assert "password-protected" in doc["rejected"][0]["reason"]


def test_read_workbook_raises_input_error_naming_the_file(files):
    p = files.text("x.xlsx", "not a workbook")
    with pytest.raises(InputError) as e:
        read_workbook(p, knows())
    assert e.value.path == str(p) and str(p) in str(e.value)


# ---- a million empty formatted rows ------------------------------------------------------------------

def with_empty_rows(path: Path, rows: list[list], n: int, cells: bool, value_after: bool = False) -> Path:
    """A workbook of `rows`, then n empty rows as Excel writes formatted rows (`<row s customFormat/>`)
    or rows of formatted empty cells (`<c r s/>`), then optionally one more row with a value."""
    workbook(path, {SHEET: rows})
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    start = len(rows) + 1
    if cells:
        empty = "".join(f'<row r="{r}"><c r="A{r}" s="0"/><c r="B{r}" s="0"/></row>' for r in range(start, start + n))
    else:
        empty = "".join(f'<row r="{r}" s="0" customFormat="1"/>' for r in range(start, start + n))
    end = start + n
    tail = f'<row r="{end}"><c r="A{end}" t="inlineStr"><is><t>00009</t></is></c></row>' if value_after else ""
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"</sheetData>", (empty + tail).encode() + b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_a_million_empty_formatted_rows_after_the_data(run_cli, files, workdir):
    book = with_empty_rows(files.path("trieu.xlsx"), table(XLM_ROWS), 1_000_000, cells=False)
    t = time.perf_counter()
    (f,) = read_workbook(book, knows())
    took = time.perf_counter() - t
    assert [n for n, _ in f.rows] == [2, 3, 4, 5, 6]
    assert took < 5, f"{took:.1f} s"  # about 0.6 s on a slow 2-core machine, where iterating every row takes ~9 s
    result = score(run_cli, book)
    assert result.exit_code == 0, result.output
    assert len(read_json(workdir / "o.json")["units"]) == 5


@pytest.mark.parametrize("cells", [False, True], ids=["formatted rows", "formatted cells"])
def test_a_value_below_a_long_gap_is_not_lost(run_cli, files, workdir, cells):
    book = with_empty_rows(files.path("gap.xlsx"), table(XLM_ROWS), 50_000, cells=cells, value_after=True)
    (f,) = read_workbook(book, knows())
    assert [n for n, _ in f.rows] == [2, 3, 4, 5, 6, 50_007]
    assert f.rows[-1][1]["unit_code"] == "00009"
    result = score(run_cli, book)  # the stray row is rejected (no name, no figures), not dropped
    assert result.exit_code == 1, result.output
    assert {r["row"] for r in read_json(workdir / "o.json")["rejected"]} == {50_007}


def test_the_scan_for_the_last_value_agrees_with_the_parse(files):
    """_last_row_with_value counts row elements in the raw XML, 1 MB at a time; a tag cut by a chunk
    boundary must not be missed. Compare it, at tiny chunk sizes, with the rows openpyxl parses."""
    rows = table(XLM_ROWS)
    rows[3] = [None] * 24
    book = with_empty_rows(files.path("scan.xlsx"), rows, 300, cells=True, value_after=True)
    plain = workbook(files.path("plain.xlsx"), {SHEET: rows + [[None], ["x"], [None]]})
    for path in (book, plain):
        wb = load_workbook(path, read_only=True)
        ws = wb.worksheets[0]
        with ws._get_source() as src:  # the oracle: the ordinal of the last row element openpyxl parses with a value
            parsed = list(WorkSheetParser(src, ws._shared_strings).parse())
        expect = max(i for i, (_, cells) in enumerate(parsed, 1) if any(c["value"] is not None for c in cells))
        assert expect == {"scan.xlsx": 307, "plain.xlsx": 8}[path.name]
        for chunk in (1, 2, 3, 5, 7, 64, 1 << 20):
            assert xlsx_reader._last_row_with_value(ws, chunk) == expect, (path.name, chunk)
        wb.close()
