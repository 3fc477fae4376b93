"""`lanhmanh verify FILE.xlsx INPUT... --rules PACK`, end to end: scorecards written by `score` from
the samples, edited the way a person would (openpyxl standing in for Excel), re-saved through
LibreOffice, and checked: intact → exit 0, every edit named by sheet and cell → exit 5, a file that
is not a scorecard → exit 4. Also the batch notes that the scorecard shows (BatchResult.notes).

The sample scorecards (130 units, 137 sheets) take seconds to load and save with openpyxl, so the
workbook with the cell edits is made once per module and its one `verify` run is shared by the
tests that each look for their own edit in it."""
from __future__ import annotations

import json
import os
import re
import shutil
import warnings
import zipfile
from pathlib import Path
from typing import Optional

import openpyxl
import pytest
from click.testing import CliRunner
from lmtest import qd28_row, scored_batch, xlm_row
from openpyxl.utils import get_column_letter
from test_libreoffice_recalc import find_soffice, resaved

from lanhmanh.cli import cli
from lanhmanh.scorecards.outputs import presentation
from lanhmanh.scorecards.outputs.scorecard import workbook as scorecard
from lanhmanh.scorecards.outputs.scorecard.heading import HEADING_ROWS
from lanhmanh.scorecards.outputs.verify import compare, formula_key, open_scorecard, shown_int, shown_text

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
LANH_MANH = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
MA_TUY = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
EXIT_OK, EXIT_INPUT, EXIT_MISMATCH = 0, 4, 5


def invoke(*args):
    """`lanhmanh ARGS...` with the checks of conftest's run_cli (for module-scoped fixtures, which
    cannot use it): no exception escaped, no traceback printed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output, result.output
    return result


class Made:
    """A sample scored once per module: the scorecard, its JSON, and where its units sit."""

    def __init__(self, folder: Path, pack: str, inp: Path):
        self.pack, self.input = pack, inp
        self.path = folder / "s.xlsx"
        res = invoke("score", inp, "--rules", pack, "--out", self.path, "--json", folder / "s.json")
        assert res.exit_code == 0, res.output
        self.doc = json.loads((folder / "s.json").read_text(encoding="utf-8"))
        self.units = {u["unit_code"]: u for u in self.doc["units"]}

    def copy(self, to: Path) -> Path:
        shutil.copy(self.path, to)
        return to


@pytest.fixture(scope="module")
def lm(tmp_path_factory) -> Made:
    return Made(tmp_path_factory.mktemp("lm"), "xa-lanh-manh", LANH_MANH)


@pytest.fixture(scope="module")
def qd(tmp_path_factory) -> Made:
    return Made(tmp_path_factory.mktemp("qd"), "qd-28-2025", MA_TUY)


def head_row(ws) -> int:
    """The table's heading row (under the document's heading block): the row with 'Mã đơn vị' (the
    summary) or 'Mã tỉnh' (Tỉnh)."""
    return next(r for r in range(1, 20) if {c.value for c in ws[r]} & {"Mã đơn vị", "Mã tỉnh"})


def columns(ws, row: Optional[int] = None) -> dict:
    return {c.value: c.column for c in ws[row or head_row(ws)] if c.value is not None}


def row_of(ws, code: str, col: int = 3, first: int = 3) -> int:
    return next(r for r in range(first, ws.max_row + 1) if ws.cell(r, col).value == code)


def who(u: dict) -> str:
    return f"{u['unit_code']} {u['unit_name']}"


def differences(output: str) -> list[str]:
    return [line[2:] for line in output.splitlines() if line.startswith("  ")]


# ---- intact --------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("which", ["lm", "qd"])
def test_an_untouched_scorecard_is_intact(request, run_cli, workdir, which):
    made: Made = request.getfixturevalue(which)
    result = run_cli("verify", made.path, made.input, "--rules", made.pack)
    assert result.exit_code == EXIT_OK, result.output
    (line,) = result.stdout.splitlines()
    assert line.startswith(f"intact: {made.path} matches its inputs and rules: pack {made.pack} ")
    for what in ("1 input file(s) by sha256", "130 unit rows of Tổng hợp", "Tỉnh", "evidence rows of Chứng cứ",
                 "130 unit sheets", "results digest (cell and document property)"):
        assert what in line


@pytest.mark.slow
def test_inputs_are_matched_by_content_wherever_they_are_and_harmless_changes_are_not_edits(
        lm, run_cli, workdir):
    """A copy of the input under another name elsewhere; rows sorted (formulas move with their rows,
    as Excel's sort moves them), a column widened, portrait printing, the sheets reordered."""
    moved = workdir / "hồ sơ" / "so-lieu-tinh.csv"
    moved.parent.mkdir()
    shutil.copy(LANH_MANH, moved)
    path = lm.copy(workdir / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[presentation.SUMMARY]
    cols = columns(ws)
    last = get_column_letter(ws.max_column)
    a = head_row(ws) + 1
    b = a + 37  # swap the first unit's row with the 38th
    for c in range(1, ws.max_column + 1):
        ws.cell(a, c).value, ws.cell(b, c).value = ws.cell(b, c).value, ws.cell(a, c).value
    for r in (a, b):
        ws.cell(r, cols["Tổng điểm"]).value = f"=SUM(L{r}:{last}{r})"
    ws.column_dimensions["D"].width = 60
    ws.page_setup.orientation = "portrait"
    wb.move_sheet(presentation.INFO, offset=-5)
    wb.move_sheet("16681", offset=-20)
    wb.save(path)
    result = run_cli("verify", path, moved, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_OK, result.output
    assert result.stdout.startswith("intact: ")
    # openpyxl keeps no computed values: the formulas are checked instead, and the user is told
    assert re.search(r"note: \d+ formula cell\(s\) carry no computed value", result.stderr)


# ---- cell edits: one workbook, one verify run, one test per edit ----------------------------------

@pytest.fixture(scope="module")
def edited(lm, tmp_path_factory):
    """The sample scorecard with one edit per kind, each on another unit; returns (the verify run,
    the expected line of every edit by name, the edited workbook)."""
    folder = tmp_path_factory.mktemp("edited")
    path = lm.copy(folder / "edited.xlsx")
    units = lm.doc["units"]
    wb = openpyxl.load_workbook(path)
    ws = wb[presentation.SUMMARY]
    cols = columns(ws)
    last = get_column_letter(ws.max_column)
    expect = {}

    def at(u, heading):
        r = row_of(ws, u["unit_code"])
        return r, f"{get_column_letter(cols[heading])}{r}"

    u = units[20]  # a total typed over its formula
    r, cell = at(u, "Tổng điểm")
    ws[cell] = u["total"] + 5
    expect["total"] = (f"Tổng hợp!{cell}: total of {who(u)} is {u['total'] + 5} in the workbook, {u['total']} "
                       f"re-derived, typed over the formula =SUM(L{r}:{last}{r})")
    u = units[21]  # the same number typed over the formula: still an edit
    r, cell = at(u, "Tổng điểm")
    ws[cell] = u["total"]
    expect["same_total"] = (f"Tổng hợp!{cell}: total of {who(u)} is {u['total']} as re-derived, but typed over "
                            f"the formula =SUM(L{r}:{last}{r})")
    u = next(u for u in units[60:] if u["class"] == "not_met")  # a class label
    _, cell = at(u, "Xếp loại")
    ws[cell] = "Lành mạnh"
    expect["class"] = f"Tổng hợp!{cell}: class of {who(u)} is 'Lành mạnh' in the workbook, 'Chưa đạt' re-derived"
    u = units[30]  # a rank
    _, cell = at(u, "Hạng toàn quốc")
    ws[cell] = u["rank_national"] - 3
    expect["rank"] = (f"Tổng hợp!{cell}: national rank of {who(u)} is {u['rank_national'] - 3} in the workbook, "
                      f"{u['rank_national']} re-derived")
    u = next(u for u in units[40:] if u["criteria"][0]["points"] == 5)  # a criterion's points
    _, cell = at(u, u["criteria"][0]["id"])
    ws[cell] = 0
    expect["points"] = (f"Tổng hợp!{cell}: points of {who(u)} for criterion A1 are 0 in the workbook, "
                        "5 re-derived")
    points_unit = u
    # the evidence: a criterion's result
    u = next(u for u in units[80:] if not u["criteria"][8]["met"])
    crit = u["criteria"][8]["id"]
    ev = wb[presentation.EVIDENCE]
    r = next(r for r in range(2, ev.max_row + 1)
             if ev.cell(r, 1).value == u["unit_code"] and ev.cell(r, 3).value == crit)
    ev.cell(r, 6).value = "Đạt"
    expect["evidence"] = (f"Chứng cứ!F{r}: result of {who(u)} for criterion {crit} is 'Đạt' in the workbook, "
                          "'Không đạt' re-derived")
    # a unit's own scorecard sheet: its class
    u = units[100]
    card = wb[u["unit_code"]]
    r = row_of(card, "Xếp loại", col=1, first=1)
    card.cell(r, 3).value = "Lành mạnh"
    expect["unit_sheet"] = (f"{u['unit_code']}!C{r}: class of {who(u)} is 'Lành mạnh' in the workbook, "
                            f"{u['class_label']!r} re-derived")
    # the province sheet: a count typed over its COUNTIFS
    prov = wb[presentation.PROVINCES]
    c = columns(prov)["Lành mạnh"]
    p1 = head_row(prov) + 1
    n = lm.doc["provinces"][0]["class_counts"]["healthy"]
    prov.cell(p1, c).value = n + 1
    expect["province"] = (f"Tỉnh!{get_column_letter(c)}{p1}: number of units of province 40 classed Lành mạnh is "
                          f"{n + 1} in the workbook, {n} re-derived, typed over the formula =COUNTIFS(")
    # the digest on Thông tin
    info = wb[presentation.INFO]
    r = row_of(info, presentation.INFO_DIGEST_LABEL, col=1, first=1)
    recorded = info.cell(r, 2).value  # the untouched scorecard's digest, which verify re-derives
    info.cell(r, 2).value = "0" * 64
    expect["digest"] = f"Thông tin!B{r}: results digest is '{'0' * 64}' in the workbook, '{recorded}' re-derived"
    wb.save(path)
    result = invoke("verify", path, LANH_MANH, "--rules", "xa-lanh-manh")
    return result, expect, path, points_unit


def _expect_line(edited, name: str) -> None:
    result, expect, _path, _u = edited
    assert result.exit_code == EXIT_MISMATCH, result.output
    assert any(d.startswith(expect[name]) for d in differences(result.stdout)), (expect[name], result.stdout)


def test_a_total_typed_over_its_formula_is_named(edited):
    _expect_line(edited, "total")


def test_a_formula_replaced_by_the_same_number_is_still_an_edit(edited):
    _expect_line(edited, "same_total")


def test_an_edited_class_label_is_named(edited):
    _expect_line(edited, "class")


def test_an_edited_rank_is_named(edited):
    _expect_line(edited, "rank")


def test_an_edited_criterion_points_are_named(edited):
    _expect_line(edited, "points")


def test_edits_of_evidence_unit_sheets_province_counts_and_the_digest_are_named(edited):
    for name in ("evidence", "unit_sheet", "province", "digest"):
        _expect_line(edited, name)


def test_every_edit_and_nothing_else_is_reported(edited):
    result, expect, _path, _u = edited
    diffs = differences(result.stdout)
    assert len(diffs) == len(expect), result.stdout
    head = result.stdout.splitlines()[0]
    assert head.startswith("NOT INTACT: ") and f": {len(expect)} difference(s) (" in head


# ---- inputs, rows, pack --------------------------------------------------------------------------

def test_an_input_changed_after_the_scorecard_was_made_is_named_with_the_units_it_changes(lm, run_cli, workdir):
    # 17329 Xã Anh Sơn handled 31 of 36 violations (C2: 5 points); the file now says 36 of 36 (10 points)
    changed = workdir / LANH_MANH.name
    text = LANH_MANH.read_text(encoding="utf-8-sig")
    old = "17329,Xã Anh Sơn,xã,40,2025,có,có,12,22,21,20,30,30,36,31,"
    assert text.count(old) == 1
    changed.write_text(text.replace(old, old[:-3] + "36,"), encoding="utf-8")
    u = lm.units["17329"]
    result = run_cli("verify", lm.path, changed, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_MISMATCH, result.output
    diffs = differences(result.stdout)
    assert diffs[0].startswith(f"Thông tin!B22: input {LANH_MANH}: the file given, {changed}, is not the one "
                               "recorded: its sha256 is ")
    assert diffs[0].endswith("(the file was changed after the scorecard was made)")
    assert re.search(r"^units with a difference: \d+: 17329 Xã Anh Sơn, ", result.stdout, re.MULTILINE)
    assert any(re.fullmatch(rf"Tổng hợp!J\d+: total of 17329 Xã Anh Sơn is {u['total']} in the workbook, "
                            rf"{u['total'] + 5} re-derived", d) for d in diffs), result.stdout
    assert any(re.fullmatch(r"Tổng hợp!Q\d+: points of 17329 Xã Anh Sơn for criterion C2 are 5 in the workbook, "
                            r"10 re-derived", d) for d in diffs)


@pytest.mark.slow
def test_a_row_deleted_from_the_summary_is_named(lm, run_cli, workdir):
    """Deleted as Excel deletes a row: the totals below keep summing their own row, and the province
    sheet's ranges shrink by one row."""
    path = lm.copy(workdir / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[presentation.SUMMARY]
    last = get_column_letter(ws.max_column)
    u = lm.doc["units"][50]
    r = row_of(ws, u["unit_code"])
    first = head_row(ws) + 1  # the summary's first unit row
    end = first + len(lm.doc["units"]) - 1
    ws.delete_rows(r)
    for row in range(r, end):  # the unit rows below it (the signatures under the table keep theirs)
        ws.cell(row, 10).value = f"=SUM(L{row}:{last}{row})"
    prov = wb[presentation.PROVINCES]
    p1 = head_row(prov) + 1
    for c in range(3, prov.max_column + 1):
        f = prov.cell(p1, c).value
        if isinstance(f, str):
            prov.cell(p1, c).value = f.replace(f"${end}", f"${end - 1}")
    wb.save(path)
    result = run_cli("verify", path, LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_MISMATCH, result.output
    diffs = differences(result.stdout)
    assert (f"Tổng hợp: unit {who(u)} is missing (re-derived: rank {u['rank_national']}, {u['class_label']}, "
            f"total {u['total']})") in diffs
    assert (f"Tỉnh!C{p1}: number of units of province 40: the formula is =COUNTIF('Tổng hợp'!$F${first}:$F${end - 1},"
            f"$A{p1}) in the workbook, not =COUNTIF('Tổng hợp'!$F${first}:$F${end},$A{p1})") in diffs
    assert not [d for d in diffs if d.startswith("Tổng hợp!")]
    assert len(diffs) == 1 + 4  # the unit; units and the three classes of Tỉnh


@pytest.mark.slow
def test_a_unit_added_to_the_summary_is_named(lm, run_cli, workdir):
    path = lm.copy(workdir / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[presentation.SUMMARY]
    r = head_row(ws) + len(lm.doc["units"]) + 1  # the blank row under the last unit, above the signatures
    for c in range(1, ws.max_column + 1):
        ws.cell(r, c).value = ws.cell(r - 1, c).value
    ws.cell(r, 3).value, ws.cell(r, 4).value = "99999", "Xã Thêm Vào"
    ws.cell(r, 10).value = f"=SUM(L{r}:X{r})"
    wb.save(path)
    result = run_cli("verify", path, LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_MISMATCH, result.output
    assert differences(result.stdout) == [
        f"Tổng hợp!C{r}: unit 99999 Xã Thêm Vào is in the workbook but not in the re-derived results"]


def test_another_pack_is_named_and_the_results_are_not_compared_cell_by_cell(lm, run_cli, workdir):
    result = run_cli("verify", lm.path, LANH_MANH, "--rules", "qd-28-2025")
    assert result.exit_code == EXIT_MISMATCH, result.output
    diffs = differences(result.stdout)
    assert "Thông tin!B3: pack id is 'xa-lanh-manh' in the workbook, 'qd-28-2025' given" in diffs
    assert "document property lanhmanh.pack_id: is 'xa-lanh-manh', 'qd-28-2025' given" in diffs
    assert any(d.startswith("Thông tin!B9: pack sha256 is ") for d in diffs)
    assert not [d for d in diffs if d.startswith(("Tổng hợp", "Chứng cứ"))]
    assert "not compared cell by cell" in result.stderr


def test_inputs_missing_or_not_recorded_are_named(run_cli, workdir, files):
    a = files.csv("a.csv", [xlm_row(1), xlm_row(2, prostitution_hotspots=1)])
    b = files.csv("b.csv", [xlm_row(3, communication_sessions=6)])
    extra = files.csv("c.csv", [xlm_row(4)])
    assert run_cli("score", a, b, "--rules", "xa-lanh-manh", "--unit-list", "none", "--out", "s.xlsx").exit_code == 0
    result = run_cli("verify", "s.xlsx", a, b, "--rules", "xa-lanh-manh", "--unit-list", "none")
    assert result.exit_code == EXIT_OK, result.output
    result = run_cli("verify", "s.xlsx", a, extra, "--rules", "xa-lanh-manh", "--unit-list", "none")
    assert result.exit_code == EXIT_MISMATCH, result.output
    diffs = differences(result.stdout)
    assert re.fullmatch(rf"Thông tin!B23: input {re.escape(str(b))}: the file given, {re.escape(str(extra))}, "
                        r"is not the one recorded: its sha256 is [0-9a-f]{12}…, the workbook records [0-9a-f]{12}…",
                        diffs[0]), diffs[0]
    assert any(re.fullmatch(r"Tổng hợp!C\d+: unit 00003 Xã 00003 is in the workbook but not in the re-derived "
                            r"results", d) for d in diffs), diffs
    assert any(d.startswith("Tổng hợp: unit 00004 Xã 00004 is missing (re-derived: rank ") for d in diffs), diffs
    result = run_cli("verify", "s.xlsx", a, "--rules", "xa-lanh-manh", "--unit-list", "none")
    assert result.exit_code == EXIT_MISMATCH, result.output
    diffs = differences(result.stdout)
    assert re.fullmatch(rf"Thông tin!B23: input {re.escape(str(b))} \(sha256 [0-9a-f]{{12}}…\) recorded in the "
                        r"workbook is not among the files given", diffs[0]), diffs[0]
    assert any(re.fullmatch(r"Tổng hợp!C\d+: unit 00003 Xã 00003 is in the workbook but not in the re-derived "
                            r"results", d) for d in diffs), diffs
    result = run_cli("verify", "s.xlsx", a, b, extra, "--rules", "xa-lanh-manh", "--unit-list", "none")
    assert result.exit_code == EXIT_MISMATCH
    assert re.search(rf"^  Thông tin: input {re.escape(str(extra))} \(sha256 [0-9a-f]{{12}}…\) was given but is not "
                     r"among the inputs recorded in the workbook$", result.stdout, re.MULTILINE), result.stdout


# ---- a classification pack: Đạt / — cells, the province level ------------------------------------

def test_edits_of_a_classification_are_named(run_cli, workdir, files):
    rows = [qd28_row(1), qd28_row(2, resident_users_untreated=1), qd28_row(3, users_with_records=60,
                                                                              harbouring_points=2, drug_arrests=10)]
    inp = files.csv("in.csv", rows)
    args = ("--rules", "qd-28-2025", "--unit-list", "none")
    assert run_cli("score", inp, *args, "--out", "s.xlsx", "--json", "s.json").exit_code == 0
    doc = json.loads((workdir / "s.json").read_text(encoding="utf-8"))
    assert run_cli("verify", "s.xlsx", inp, *args).exit_code == EXIT_OK
    wb = openpyxl.load_workbook(workdir / "s.xlsx")
    ws = wb[presentation.SUMMARY]
    cols = columns(ws)
    u = doc["units"][0]
    met = next(c for c in u["criteria"] if c["met"])
    r = row_of(ws, u["unit_code"])
    ws.cell(r, cols[met["id"]]).value = "—"
    prov = wb[presentation.PROVINCES]
    pc = columns(prov)["Xếp loại tỉnh"]
    p1 = head_row(prov) + 1
    label = prov.cell(p1, pc).value
    prov.cell(p1, pc).value = "Tỉnh không trọng điểm"
    wb.save(workdir / "s.xlsx")
    result = run_cli("verify", "s.xlsx", inp, *args)
    assert result.exit_code == EXIT_MISMATCH, result.output
    assert differences(result.stdout) == [
        f"Tổng hợp!{get_column_letter(cols[met['id']])}{r}: result of {who(u)} for criterion {met['id']} is '—' in "
        "the workbook, 'Đạt' re-derived",
        f"Tỉnh!{get_column_letter(pc)}{p1}: class of province 01 is 'Tỉnh không trọng điểm' in the workbook, "
        f"{label!r} re-derived"]


# ---- LibreOffice ---------------------------------------------------------------------------------

@pytest.fixture
def soffice() -> str:
    """LibreOffice, as test_libreoffice_recalc requires it: skipped where it is not installed,
    a failure when CI is set."""
    path = find_soffice()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed, and CI is set: the re-save test must run on CI")
        pytest.skip("LibreOffice (soffice) is not installed")
    return path


@pytest.mark.slow
def test_a_scorecard_resaved_by_libreoffice_is_intact_and_edits_still_show(soffice, lm, edited, run_cli, workdir,
                                                                         tmp_path):
    _result, expect, edited_path, points_unit = edited
    intact, still_edited = resaved(soffice, [lm.path, edited_path], tmp_path)
    result = run_cli("verify", intact, LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_OK, result.output
    assert "no computed value" not in result.output  # LibreOffice stored the values it computed
    result = run_cli("verify", still_edited, LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_MISMATCH, result.output
    diffs = differences(result.stdout)
    for line in expect.values():
        assert any(d.startswith(line) for d in diffs), (line, result.stdout)
    # the points edited under an intact formula: LibreOffice's total is what Excel would show
    u = points_unit
    assert any(re.fullmatch(rf"Tổng hợp!J\d+: total of {who(u)} is {u['total'] - 5} in the workbook, {u['total']} "
                            r"re-derived", d) for d in diffs), result.stdout


def test_verify_is_a_listed_command(run_cli):
    result = run_cli("--help")
    assert re.search(r"^  verify +Check a scorecard workbook against its inputs and rules", result.output, re.MULTILINE)


# ---- not a scorecard -----------------------------------------------------------------------------

def test_a_file_that_is_not_a_scorecard_exits_4(run_cli, workdir):
    result = run_cli("verify", EXAMPLES / "nghe-an-2025-lanh-manh.xlsx", LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_INPUT
    assert "is not a lanhmanh scorecard: it has no sheet 'Thông tin'" in result.stderr
    result = run_cli("verify", LANH_MANH, LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_INPUT
    assert "is not a lanhmanh scorecard: it cannot be opened as an Excel workbook" in result.stderr
    (workdir / "broken.xlsx").write_bytes(b"PK\x03\x04 not really a zip")
    result = run_cli("verify", "broken.xlsx", LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_INPUT and "cannot be opened as an Excel workbook" in result.stderr
    result = run_cli("verify", "missing.xlsx", LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_INPUT
    assert "lanhmanh: cannot read scorecard missing.xlsx: no such file" in result.stderr


def test_a_workbook_with_an_information_sheet_but_no_digest_is_not_a_scorecard(run_cli, workdir):
    wb = openpyxl.Workbook()
    wb.active.title = presentation.INFO
    wb.active["A1"] = "Thông tin"
    wb.save(workdir / "x.xlsx")
    result = run_cli("verify", "x.xlsx", LANH_MANH, "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_INPUT
    assert "records no results digest" in result.stderr


def test_a_missing_input_exits_4(lm, run_cli, workdir):
    result = run_cli("verify", lm.path, "nowhere.csv", "--rules", "xa-lanh-manh")
    assert result.exit_code == EXIT_INPUT
    assert "nowhere.csv" in result.stderr


# ---- batch notes ---------------------------------------------------------------------------------

def _batch(rows: list[dict], notes: list[str]):
    batch = scored_batch("xa-lanh-manh", rows)
    batch.notes = notes
    return batch


def test_batch_notes_are_shown_above_the_summary_and_on_the_information_sheet(tmp_path):
    notes = ["bộ tiêu chí xa-lanh-manh được áp dụng ngoài thời gian hiệu lực (--force)", "ghi chú thứ hai"]
    batch = _batch([xlm_row(1), xlm_row(2, prostitution_hotspots=1), xlm_row(3, "02")], notes)
    scorecard.write_scorecard(batch, tmp_path / "n.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "n.xlsx")
    ws = wb[presentation.SUMMARY]
    assert ws["A1"].value == f"{presentation.NOTE_LABEL}: " + "; ".join(notes)
    assert ws["A1"].font.b and any(str(m).startswith("A1:") for m in ws.merged_cells.ranges)
    h = head_row(ws)  # the headings under the notes line and the heading block
    cols = columns(ws, h)
    assert ws.cell(h + 1, cols["Mã đơn vị"]).value == batch.units[0].unit.code
    assert ws.cell(h + 1, cols["Tổng điểm"]).value == f"=SUM(L{h + 1}:X{h + 1})"
    assert ws.freeze_panes == f"E{h + 1}" and ws.auto_filter.ref.startswith(f"A{h}:")
    assert ws.print_title_rows == f"${h - 1}:${h}"
    assert "!$A$2:" in ws.print_area  # the notes line on top is not printed (they print under the table)
    prov = wb[presentation.PROVINCES]
    p1 = head_row(prov) + 1
    assert prov[f"C{p1}"].value == f"=COUNTIF('Tổng hợp'!$F${h + 1}:$F${h + 3},$A{p1})"
    info = wb[presentation.INFO]
    got = [info.cell(r, 2).value for r in range(1, info.max_row + 1)
           if info.cell(r, 1).value == presentation.NOTE_LABEL]
    assert got == notes
    unit = wb[batch.units[0].unit.code]  # the printable, signed scorecard of a unit says it too
    assert unit["A4"].value == f"{presentation.NOTE_LABEL}: " + "; ".join(notes)
    # and verify reads the moved layout back: intact, and the notes reported
    with open_scorecard(tmp_path / "n.xlsx") as card:
        report = compare(card, batch)
    assert report.intact, [str(d) for d in report.differences]
    assert [i for i in report.info if "note" in i] == [f"the scorecard records a note: {n}" for n in notes]


def test_a_scorecard_made_with_force_verifies_with_force_and_its_note_cannot_be_removed(run_cli, workdir, files):
    rows = [{**xlm_row(1), "year": 2019}, {**xlm_row(2, prostitution_hotspots=1), "year": 2019}]
    inp = files.csv("in.csv", rows)  # xa-lanh-manh is in force from 2020: not for the 2019 batch
    args = ("--rules", "xa-lanh-manh", "--unit-list", "none")
    assert run_cli("score", inp, *args, "--out", "s.xlsx").exit_code == 2  # refused without --force
    assert run_cli("score", inp, *args, "--force", "--out", "s.xlsx").exit_code == 0
    assert run_cli("verify", "s.xlsx", inp, *args).exit_code == 2  # re-derived as score does: refused
    result = run_cli("verify", "s.xlsx", inp, *args, "--force")
    assert result.exit_code == EXIT_OK, result.output
    (note,) = re.findall(r"^note: the scorecard records a note: (.*)$", result.stderr, re.MULTILINE)
    assert "xa-lanh-manh 2025.1" in note and "2019" in note and "--force" in note
    wb = openpyxl.load_workbook(workdir / "s.xlsx")
    info = wb[presentation.INFO]
    r = row_of(info, presentation.NOTE_LABEL, col=1, first=1)
    assert info.cell(r, 2).value == note
    info.cell(r, 1).value = info.cell(r, 2).value = None  # the note removed from Thông tin …
    summary = wb[presentation.SUMMARY]
    assert summary["A1"].value == f"{presentation.NOTE_LABEL}: {note}"
    summary["A1"] = None  # … and from above the summary
    wb.save(workdir / "s.xlsx")
    result = run_cli("verify", "s.xlsx", inp, *args, "--force")
    assert result.exit_code == EXIT_MISMATCH, result.output
    assert differences(result.stdout) == [
        f"Thông tin: the note {note!r} is missing from the 'Lưu ý' rows",
        f"Tổng hợp!A1: the notes line is (empty) in the workbook, {presentation.NOTE_LABEL + ': ' + note!r} re-derived"]


def test_without_notes_the_summary_starts_with_its_headings(tmp_path):
    batch = _batch([xlm_row(1)], [])
    scorecard.write_scorecard(batch, tmp_path / "n.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "n.xlsx")
    ws = wb[presentation.SUMMARY]
    assert ws["A1"].value == "…………………"  # the heading block (its superior body left blank) comes first
    assert ws[f"A{HEADING_ROWS + 2}"].value == "Hạng trong tỉnh"
    info = wb[presentation.INFO]
    assert presentation.NOTE_LABEL not in {info.cell(r, 1).value for r in range(1, info.max_row + 1)}


# ---- small pieces --------------------------------------------------------------------------------

def test_how_cells_are_read():
    assert shown_int(5) == 5 and shown_int(5.0) == 5 and shown_int(5.5) is None
    assert shown_int("5") is None and shown_int(True) is None and shown_int(None) is None
    assert shown_text(None) == "" and shown_text(16801.0) == "16801"
    assert shown_text("Xã Hu\u0300ng") == "Xã Hùng"  # NFD typed → NFC
    assert formula_key("=SUM($L$3:X3)") == formula_key("sum(L3:X3)") != formula_key("=SUM(L3:W3)")



def test_a_damaged_sheet_exits_4_naming_it(run_cli, workdir, files):
    inp = files.csv("in.csv", [xlm_row(1), xlm_row(2, prostitution_hotspots=1)])
    assert run_cli("score", inp, "--rules", "xa-lanh-manh", "--unit-list", "none", "--out", "s.xlsx").exit_code == 0
    with zipfile.ZipFile(workdir / "s.xlsx") as src, zipfile.ZipFile(workdir / "d.xlsx", "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":  # Tổng hợp, the first sheet
                data = data[: len(data) // 2]
            dst.writestr(item, data)
    result = run_cli("verify", "d.xlsx", inp, "--rules", "xa-lanh-manh", "--unit-list", "none")
    assert result.exit_code == EXIT_INPUT, result.output
    assert "lanhmanh: cannot read scorecard d.xlsx: its sheet 'Tổng hợp' cannot be read: " in result.stderr
