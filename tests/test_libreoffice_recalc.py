"""The scorecard's formulas recompute, in a real spreadsheet application, to exactly the engine's
figures: LibreOffice (headless) opens the workbook, recalculates every formula and saves a copy,
which is read back with the values LibreOffice computed.

LibreOffice does not recalculate an .xlsx on load by default: it shows the cached values the
writer stored (which would make this test prove nothing). Each run therefore gets a private
profile whose registrymodifications.xcu sets Calc's "recalculation on file load" for OOXML and
ODF files to "always" (OOXMLRecalcMode / ODFRecalcMode = 0); the first test checks on a scratch
workbook with deliberately wrong cached values that the recalculation really happens.

Skipped only when LibreOffice is not installed and CI is not set; on CI its absence is a failure.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from click.testing import CliRunner
from lmtest import qd28_row
from openpyxl.utils import column_index_from_string, get_column_letter

from lanhmanh.cli import cli
from lanhmanh.engine.model.loader import load_pack

pytestmark = pytest.mark.slow  # LibreOffice runs: `python -m pytest -m slow` (.ci/run runs them)

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
TIMEOUT = 300  # seconds for one conversion (a cold start on a slow CI machine included)

RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/soffice" if os.access("/usr/bin/soffice", os.X_OK) else None


@pytest.fixture
def soffice() -> str:
    path = find_soffice()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("LibreOffice (soffice) is not installed, and CI is set: the formula recompute test "
                        "must run on CI (apt-get install libreoffice-calc-nogui)")
        pytest.skip("LibreOffice (soffice) is not installed")
    return path


def resaved(soffice: str, sources: list[Path], tmp: Path) -> list[Path]:
    """The workbooks opened in LibreOffice with a private profile that recalculates every formula
    on load, and saved again as .xlsx, in one run (test_verify uses it too)."""
    profile = tmp / "lo-profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS, encoding="utf-8")
    outdir = tmp / "recalculated"
    outdir.mkdir(exist_ok=True)
    cmd = [soffice, "--headless", "--norestore", "--nologo", "--nolockcheck",
           f"-env:UserInstallation={profile.resolve().as_uri()}",
           "--convert-to", "xlsx", "--outdir", str(outdir), *map(str, sources)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT,
                          env={**os.environ, "HOME": str(tmp)})
    out = [outdir / Path(s).name for s in sources]
    assert proc.returncode == 0 and all(p.exists() for p in out), f"LibreOffice failed: {proc.stdout}\n{proc.stderr}"
    return out


def recalculated(soffice: str, src: Path, tmp: Path) -> Path:
    """`src` opened in LibreOffice with a private profile that recalculates on load, saved as .xlsx."""
    return resaved(soffice, [src], tmp)[0]


def values(path: Path, formulas: bool = False) -> dict[str, dict[str, object]]:
    """sheet → {cell: value}: the values stored in every non-empty cell, or (formulas=True) the
    formula of every formula cell."""
    wb = openpyxl.load_workbook(path, read_only=True, data_only=not formulas)
    try:
        return {ws.title: {c.coordinate: c.value for row in ws.iter_rows() for c in row
                           if c.value is not None and hasattr(c, "coordinate")
                           and (not formulas or c.data_type == "f")} for ws in wb.worksheets}
    finally:
        wb.close()


def cell(sheet: dict, row: int, col: int):
    return sheet.get(f"{get_column_letter(col)}{row}")


def headings(sheet: dict, row: int) -> dict:
    return {v: column_index_from_string("".join(ch for ch in k if ch.isalpha()))
            for k, v in sheet.items() if "".join(ch for ch in k if ch.isdigit()) == str(row)}


def head_row(sheet: dict) -> int:
    """The table's heading row, under the document's heading block: the row of 'Mã đơn vị' (the
    summary) or 'Mã tỉnh' (Tỉnh)."""
    return min(int("".join(ch for ch in k if ch.isdigit())) for k, v in sheet.items() if v in ("Mã đơn vị", "Mã tỉnh"))


def score(tmp: Path, *args: str) -> tuple[Path, dict]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = CliRunner().invoke(cli, ["score", *args, "--out", str(tmp / "s.xlsx"), "--json", str(tmp / "s.json")])
    assert res.exit_code == 0, res.output
    return tmp / "s.xlsx", json.loads((tmp / "s.json").read_text(encoding="utf-8"))


def test_libreoffice_recalculates_instead_of_copying_cached_values(soffice, tmp_path):
    src = tmp_path / "scratch.xlsx"
    wb = xlsxwriter.Workbook(str(src))
    ws = wb.add_worksheet("Tổng hợp")
    ws.write_number(0, 0, 3)
    ws.write_number(0, 1, 4)
    ws.write_formula(0, 2, "=SUM(A1:B1)", None, 999)  # a deliberately wrong cached value
    ws.write_formula(0, 3, "=A1*B1")  # no cached value at all (xlsxwriter stores 0)
    for r, (code, cls) in enumerate([("01", "type_1"), ("1", "type_1"), ("01", "type_2"), ("01", "type_1")], 1):
        ws.write_string(r, 0, code)
        ws.write_string(r, 1, cls)
    other = wb.add_worksheet("Tỉnh")
    other.write_string(0, 0, "01")
    other.write_formula(0, 1, "=COUNTIFS('Tổng hợp'!$A$2:$A$5,$A1,'Tổng hợp'!$B$2:$B$5,\"type_1\")", None, 77)
    wb.close()
    out = openpyxl.load_workbook(recalculated(soffice, src, tmp_path), data_only=True)
    assert out["Tổng hợp"]["C1"].value == 7
    assert out["Tổng hợp"]["D1"].value == 12
    assert out["Tỉnh"]["B1"].value == 2  # text codes: "01" is not "1"


def _check_every_formula(src: Path, converted: Path) -> int:
    """Every formula cell: LibreOffice's value equals the engine's figure the writer cached."""
    formulas = {(sheet, coord): v for sheet, cells in values(src, formulas=True).items()
                for coord, v in cells.items()}
    cached, recalc = values(src), values(converted)
    assert formulas
    for (sheet, coord), formula in formulas.items():
        engine = cached[sheet][coord]
        assert isinstance(engine, int), (sheet, coord, formula, engine)
        assert recalc[sheet].get(coord) == engine, (sheet, coord, formula)
    return len(formulas)


def test_scored_pack_totals_recompute_to_the_engine_totals(soffice, tmp_path):
    src, doc = score(tmp_path, str(EXAMPLES / "nghe-an-2025-lanh-manh.csv"), "--rules", "xa-lanh-manh")
    converted = recalculated(soffice, src, tmp_path)
    n = _check_every_formula(src, converted)
    recalc = values(converted)
    # and against the JSON: every unit's total on the summary and on its own scorecard sheet
    ws = recalc["Tổng hợp"]
    h = head_row(ws)
    heads = headings(ws, h)
    for i, u in enumerate(doc["units"]):
        assert cell(ws, h + 1 + i, heads["Mã đơn vị"]) == u["unit_code"]
        assert cell(ws, h + 1 + i, heads["Tổng điểm"]) == u["total"]
        card = recalc[u["unit_code"]]
        (total_at,) = [k for k, v in card.items() if v == "Tổng điểm"]
        assert card["F" + total_at[1:]] == u["total"]
    # class counts per province
    prov = recalc["Tỉnh"]
    p1 = head_row(prov) + 1
    heads = headings(prov, p1 - 1)
    (p,) = doc["provinces"]
    assert cell(prov, p1, heads["Số đơn vị"]) == p["units"] == 130
    labels = {u["class"]: u["class_label"] for u in doc["units"]}
    for cid, count in p["class_counts"].items():
        assert cell(prov, p1, heads[labels[cid]]) == count
    assert n >= 2 * len(doc["units"]) + 1 + len(p["class_counts"])


def test_class_counts_over_several_provinces_recompute(soffice, tmp_path, files):
    rows = [qd28_row(1, "01"), qd28_row(2, "01", resident_users_untreated=1),
            qd28_row(3, "02", resident_users_untreated=1, users_with_records=60, harbouring_points=2, drug_arrests=10),
            qd28_row(4, "02"), qd28_row(5, "04", resident_users_untreated=1, harbouring_points=1,
                                         users_with_records=10, drug_arrests=5),
            qd28_row(6, "10"), qd28_row(7, "10"), qd28_row(8, "10", resident_users_untreated=2)]
    inp = files.csv("in.csv", rows)
    src, doc = score(tmp_path, str(inp), "--rules", "qd-28-2025", "--unit-list", "none")
    assert {u["class"] for u in doc["units"]} >= {"drug_free", "type_3"}
    converted = recalculated(soffice, src, tmp_path)
    _check_every_formula(src, converted)
    prov = values(converted)["Tỉnh"]
    p1 = head_row(prov) + 1
    heads = headings(prov, p1 - 1)
    level = load_pack("qd-28-2025")[0].commune
    for i, p in enumerate(doc["provinces"]):
        assert cell(prov, p1 + i, 1) == p["province_code"]
        assert cell(prov, p1 + i, heads["Số đơn vị"]) == p["units"]
        for c in level.classes:
            assert cell(prov, p1 + i, heads[c.label]) == p["class_counts"].get(c.id, 0)
    total = p1 + len(doc["provinces"])
    assert cell(prov, total, 2) == "Tổng cộng"
    assert cell(prov, total, heads["Số đơn vị"]) == len(doc["units"]) == 8
