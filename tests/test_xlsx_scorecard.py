"""The scorecard workbook of `lanhmanh score ... --out FILE.xlsx`, read back with openpyxl and held
against the JSON result of the same run (--json)."""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import warnings
import zipfile
from pathlib import Path
from typing import Optional

import openpyxl
import pytest
from click.testing import CliRunner
from lmtest import pack_for_year, qd28_row, scored_batch, xlm_row

from lanhmanh.cli import cli
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs import atomic, presentation
from lanhmanh.scorecards.outputs.digest import DIGEST_FORMAT, results_digest, results_digest_of_result
from lanhmanh.scorecards.outputs.json_out import result_dict, write_json_atomic
from lanhmanh.scorecards.outputs.scorecard import charts
from lanhmanh.scorecards.outputs.scorecard import workbook as scorecard

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
LANH_MANH = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
MA_TUY = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
FORBIDDEN = set('[]:*?/\\')


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def score(run_cli, workdir: Path, *inputs, rules: str, unit_list: str = "official", code: int = 0):
    """`score INPUTS --rules RULES --out s.xlsx --json s.json` → (workbook, cached-values workbook, JSON)."""
    result = run_cli("score", *map(str, inputs), "--rules", rules, "--out", "s.xlsx", "--json", "s.json",
                     "--unit-list", unit_list)
    assert result.exit_code == code, result.output
    doc = json.loads((workdir / "s.json").read_text(encoding="utf-8"))
    path = workdir / "s.xlsx"
    return openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True), doc


class Run:
    """One `score --out --json` run of a sample, its workbook loaded once (loading the 136-sheet
    workbook takes seconds) and shared by the tests of this module that only read it."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / "s.xlsx"
        self.doc = json.loads((folder / "s.json").read_text(encoding="utf-8"))
        self.wb = openpyxl.load_workbook(self.path)
        self._cached = None

    @property
    def cached(self):
        if self._cached is None:
            self._cached = openpyxl.load_workbook(self.path, data_only=True)
        return self._cached


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """sample(pack, input) → Run; each (pack, input) is scored once per module."""
    runs: dict = {}

    def get(pack: str, inp: Path) -> Run:
        key = (pack, str(inp))
        if key not in runs:
            d = tmp_path_factory.mktemp("sample")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = CliRunner().invoke(cli, ["score", str(inp), "--rules", pack, "--out", str(d / "s.xlsx"),
                                               "--json", str(d / "s.json")])
            assert res.exit_code == 0, res.output
            runs[key] = Run(d)
        return runs[key]

    return get


def head_row(ws) -> int:
    """The table's heading row under the document's heading block (Tổng hợp, Tỉnh, a province's
    ranking): the first row holding 'Mã đơn vị' or 'Mã tỉnh'."""
    return next(r for r in range(1, 20) if {c.value for c in ws[r]} & {"Mã đơn vị", "Mã tỉnh"})


def columns(ws, header_row: Optional[int] = None) -> dict[str, int]:
    """Heading → 1-based column number (the table's heading row by default)."""
    return {c.value: c.column for c in ws[header_row or head_row(ws)] if c.value is not None}


def table(ws, first_row: int, header_row: int) -> list[dict]:
    """Rows below a header row as dicts, up to the first empty row."""
    cols = columns(ws, header_row)
    out = []
    for r in range(first_row, ws.max_row + 1):
        if ws.cell(r, 1).value is None and ws.cell(r, 2).value is None:
            break
        out.append({h: ws.cell(r, c).value for h, c in cols.items()})
    return out


def info(ws) -> dict:
    return {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value}


# ---- Tổng hợp ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_summary_of_a_scored_pack_matches_the_json(sample):
    run = sample("xa-lanh-manh", LANH_MANH)
    wb, cached, doc = run.wb, run.cached, run.doc
    assert wb.sheetnames[0] == presentation.SUMMARY
    ws, wc = wb[presentation.SUMMARY], cached[presentation.SUMMARY]
    cols = columns(ws)
    crit_ids = [c["id"] for c in doc["pack"]["criteria"]]
    assert [h for h in cols if h in crit_ids] == crit_ids
    units = doc["units"]
    h = head_row(ws)
    assert len(units) == 130 and len(table(ws, h + 1, h)) == len(units)
    letter = openpyxl.utils.get_column_letter
    first, last = letter(cols[crit_ids[0]]), letter(cols[crit_ids[-1]])
    for i, u in enumerate(units):
        r = h + 1 + i
        cell = lambda k: ws.cell(r, cols[k]).value  # noqa: E731
        assert cell("Mã đơn vị") == u["unit_code"]
        assert cell("Tên đơn vị") == u["unit_name"]
        assert cell("Hạng toàn quốc") == u["rank_national"]
        assert cell("Hạng trong tỉnh") == u["rank_province"]
        assert cell("Mã tỉnh") == u["province_code"] == "40"
        assert cell("Tỉnh, thành phố") == "Nghệ An"
        assert cell("Xếp loại") == u["class_label"]
        assert cell("Mã xếp loại") == u["class"]
        assert (cell("Điểm liệt") or "") == ", ".join(u["vetoes"])
        # the total is a formula over the row's points, carrying the engine's total as its value
        assert cell("Tổng điểm") == f"=SUM({first}{r}:{last}{r})"
        assert wc.cell(r, cols["Tổng điểm"]).value == u["total"]
        assert isinstance(u["total"], int)
        for c in u["criteria"]:
            assert ws.cell(r, cols[c["id"]]).value == c["points"], (u["unit_code"], c["id"])
        assert sum(ws.cell(r, cols[c]).value for c in crit_ids) == u["total"]
    # group headings merged over their criteria
    heading = {ws.cell(h - 1, c).coordinate: ws.cell(h - 1, c).value for c in range(1, ws.max_column + 1)}
    assert "A. Lãnh đạo, chỉ đạo (10 điểm)" in heading.values()
    a1, a2 = cols["A1"], cols["A2"]
    merged = {str(m) for m in ws.merged_cells.ranges}
    assert f"{openpyxl.utils.get_column_letter(a1)}{h - 1}:{openpyxl.utils.get_column_letter(a2)}{h - 1}" in merged
    # every sheet name is valid in Excel
    for name in wb.sheetnames:
        assert len(name) <= 31 and not FORBIDDEN & set(name), name


@pytest.mark.slow
def test_summary_of_a_classification_shows_met_instead_of_points(sample):
    run = sample("qd-28-2025", MA_TUY)
    wb, doc = run.wb, run.doc
    ws = wb[presentation.SUMMARY]
    cols = columns(ws)
    assert "Tổng điểm" not in cols and "Điểm liệt" not in cols
    h = head_row(ws)
    for i, u in enumerate(doc["units"]):
        assert ws.cell(h + 1 + i, cols["Mã đơn vị"]).value == u["unit_code"]
        assert ws.cell(h + 1 + i, cols["Xếp loại"]).value == u["class_label"]
        for c in u["criteria"]:
            assert ws.cell(h + 1 + i, cols[c["id"]]).value == ("Đạt" if c["met"] else "—")
    heads = {ws.cell(h - 1, c).value for c in range(1, ws.max_column + 1)}
    assert {"Địa bàn không ma túy", "Địa bàn trọng điểm phức tạp về ma túy loại I", "Tiêu chí loại III"} <= heads


@pytest.mark.slow
def test_province_sheet_counts_classes_with_formulas_and_shows_the_province_level(sample):
    run = sample("qd-28-2025", MA_TUY)
    wb, cached, doc = run.wb, run.cached, run.doc
    ws, wc = wb[presentation.PROVINCES], cached[presentation.PROVINCES]
    cols = columns(ws)
    (prov,) = doc["provinces"]
    p1 = head_row(ws) + 1
    assert ws.cell(p1, cols["Mã tỉnh"]).value == "40"
    assert ws.cell(p1, cols["Số đơn vị"]).value.startswith("=COUNTIF(")
    assert wc.cell(p1, cols["Số đơn vị"]).value == prov["units"] == 130
    pack, _ = load_pack("qd-28-2025")
    for cid, n in prov["class_counts"].items():
        c = cols[pack.commune.class_label(cid)]
        assert ws.cell(p1, c).value.startswith("=COUNTIFS(") and f'"{cid}"' in ws.cell(p1, c).value
        assert wc.cell(p1, c).value == n
        assert wc.cell(p1 + 1, c).value == n  # the totals row (one province)
    assert ws.cell(p1 + 1, 2).value == "Tổng cộng"
    assert ws.cell(p1, cols["Xếp loại tỉnh"]).value == prov["class_label"]
    for c in prov["criteria"]:
        assert ws.cell(p1, cols[c["id"]]).value == ("Đạt" if c["met"] else "Không đạt")
    ev = table(wb[presentation.PROVINCE_CRITERIA], 2, 1)
    assert [(r["Tiêu chí"], r["Kết quả"]) for r in ev] == [
        (c["id"], "Đạt" if c["met"] else "Không đạt") for c in prov["criteria"]]
    pa = next(r for r in ev if r["Tiêu chí"] == "P.1")
    assert "user_rate=3822/2845667" in pa["Số liệu đã đọc"]


# ---- Chứng cứ ------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("pack,inp", [("xa-lanh-manh", LANH_MANH), ("qd-28-2025", MA_TUY)])
def test_evidence_has_one_row_per_unit_and_criterion(sample, pack, inp):
    run = sample(pack, inp)
    wb, doc = run.wb, run.doc
    ws = wb[presentation.EVIDENCE]
    rows = table(ws, 2, 1)
    n_crit = len(doc["pack"]["criteria"])
    assert len(rows) == len(doc["units"]) * n_crit
    expect = [(u["unit_code"], u["unit_name"], c) for u in doc["units"] for c in u["criteria"]]
    for row, (code, name, c) in zip(rows, expect):
        assert (row["Mã đơn vị"], row["Tên đơn vị"], row["Tiêu chí"]) == (code, name, c["id"])
        assert row["Kết quả"] == ("Đạt" if c["met"] else "Không đạt")
        assert row["Ngưỡng"] == c["threshold"]
        assert (row["Căn cứ"] or None) == c["cite"]
        if pack == "xa-lanh-manh":
            assert row["Điểm"] == c["points"]
        else:
            assert "Điểm" not in row
        shown = {}
        for part in row["Số liệu đã đọc"].split("; "):
            k, _, v = part.partition("=")
            shown[k] = v
        assert list(shown) == list(c["inputs"])
        zero = c.get("zero_denominator", {})  # a rate whose denominator is 0: never a silent 100 %
        for k, v in c["inputs"].items():
            if k in zero:
                assert (v, zero[k]) == ("0/0", {"shown": "mẫu số bằng 0", "counted_as": "1"})
                assert shown[k] == "0/0 (mẫu số bằng 0, tính là 100%)"
                continue
            assert shown[k] == {True: "có", False: "không", None: "(trống)"}.get(v, str(v)) \
                if isinstance(v, (bool, type(None))) else shown[k] == str(v)
    assert ws.freeze_panes == "D2" and ws.auto_filter.ref.startswith("A1:")


def test_evidence_values_are_exact_text(sample):
    wb = sample("qd-28-2025", MA_TUY).wb
    rows = table(wb[presentation.EVIDENCE], 2, 1)
    row = next(r for r in rows if r["Mã đơn vị"] == "16681" and r["Tiêu chí"] == "I.a")
    assert row["Số liệu đã đọc"] == "users_with_records=55; population=40640; user_rate=55/40640"
    row = next(r for r in rows if r["Mã đơn vị"] == "16681" and r["Tiêu chí"] == "I.d")
    # "0.00" in the CSV is shown as a workbook's 0 is: without trailing zeros (docs/limits.md)
    assert row["Số liệu đã đọc"] == "drug_plants=0; drug_plant_area_m2=0"


# ---- rejects, warnings, information ---------------------------------------------------------------

def test_rejects_sheet_lists_every_rejected_row(run_cli, workdir):
    wb, _, doc = score(run_cli, workdir, EXAMPLES / "bad-rows.csv", rules="xa-lanh-manh", code=1)
    rows = table(wb[presentation.REJECTS], 2, 1)
    assert len(doc["rejected"]) == 5 and len(rows) == 5
    for row, rej in zip(rows, doc["rejected"]):
        assert row["Tệp"] == rej["path"] and row["Tệp"].endswith("bad-rows.csv")
        assert row["Dòng"] == rej["row"]
        assert row["Cột"] == rej["column"]
        assert (row["Mã đơn vị"], row["Tên đơn vị"]) == (rej["unit_code"], rej["unit_name"])
        assert row["Giá trị"] == str(rej["value"])
        assert row["Lý do bị loại"] == rej["reason"]
    assert [r["Dòng"] for r in rows] == [4, 5, 6, 7, 8]
    h = head_row(wb[presentation.SUMMARY])
    assert {r["Mã đơn vị"] for r in table(wb[presentation.SUMMARY], h + 1, h)} == {u["unit_code"] for u in doc["units"]}
    assert info(wb[presentation.INFO])["Số lỗi dữ liệu bị loại"] == 5


def test_a_batch_whose_every_row_is_rejected_still_gets_its_workbook(run_cli, workdir, files):
    inp = files.csv("in/x.csv", [xlm_row(1, communication_sessions=-1), xlm_row(2, villages_reached=11)])
    wb, _, doc = score(run_cli, workdir, inp, rules="xa-lanh-manh", unit_list="none", code=1)
    assert doc["units"] == [] and len(doc["rejected"]) == 2
    h = head_row(wb[presentation.SUMMARY])
    assert table(wb[presentation.SUMMARY], h + 1, h) == []  # the headings, no unit row
    assert len(table(wb[presentation.REJECTS], 2, 1)) == 2
    assert presentation.PROVINCES not in wb.sheetnames
    with zipfile.ZipFile(workdir / "s.xlsx") as z:
        assert not [n for n in z.namelist() if n.startswith("xl/charts/")]


def test_warnings_sheet_lists_the_warnings(run_cli, workdir, files):
    inp = files.csv("in/x.csv", [{**xlm_row(1), "ghi_chu": "thêm"}, xlm_row(2)])
    wb, _, doc = score(run_cli, workdir, inp, rules="xa-lanh-manh", unit_list="none")
    rows = table(wb[presentation.WARNINGS], 2, 1)
    assert doc["warnings"] and len(rows) == len(doc["warnings"])
    assert [r["Nội dung cảnh báo"] for r in rows] == [w["message"] for w in doc["warnings"]]


@pytest.mark.slow
def test_information_sheet_records_pack_inputs_engine_and_digest(sample):
    run = sample("xa-lanh-manh", LANH_MANH)
    wb, doc = run.wb, run.doc
    ws = wb[presentation.INFO]
    kv = info(ws)
    pack = pack_for_year("xa-lanh-manh")  # the sample is a 2025 batch
    assert kv["Bộ tiêu chí (mã)"] == "xa-lanh-manh"
    assert kv["Phiên bản"] == doc["pack"]["version"]
    assert kv["SHA-256 của tệp tiêu chí"] == doc["pack"]["sha256"] == sha256(pack.path)
    assert kv["Hiệu lực từ ngày"] == doc["pack"]["effective_from"]
    assert kv["Bộ máy suy luận (engine)"] == doc["engine"]["name"]
    assert kv["Phiên bản lanhmanh"] == doc["engine"]["version"]
    assert kv["Số đơn vị được xếp loại"] == len(doc["units"])
    made = dt.datetime.fromisoformat(kv["Thời điểm lập (UTC)"])
    now = dt.datetime.now(dt.timezone.utc)
    assert made.utcoffset() == dt.timedelta(0) and now - dt.timedelta(minutes=30) <= made <= now
    # the digest is the one recomputed from the JSON result, and stored as a document property
    digest = results_digest_of_result(doc)
    assert kv[presentation.INFO_DIGEST_LABEL] == digest
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    assert props["lanhmanh.results_digest"] == digest
    assert props["lanhmanh.pack_sha256"] == doc["pack"]["sha256"]
    assert props["lanhmanh.digest_format"] == DIGEST_FORMAT
    # input files with their sha256 and row counts
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Tệp số liệu đầu vào")
    inputs = table(ws, top + 2, top + 1)
    assert [(r["Tệp"], r["SHA-256"], r["Số dòng"]) for r in inputs] == \
        [(i["path"], i["sha256"], i["rows"]) for i in doc["inputs"]]
    assert inputs[0]["SHA-256"] == sha256(LANH_MANH)


# ---- the digest ---------------------------------------------------------------------------------


def test_digest_from_a_batch_equals_the_digest_from_its_json():
    for pack_id, rows in (("xa-lanh-manh", [xlm_row(1), xlm_row(2, "02", prostitution_hotspots=1)]),
                          ("qd-28-2025", [qd28_row(1), qd28_row(2, users_with_records=60)])):
        batch = scored_batch(pack_id, rows)
        doc = json.loads(json.dumps(result_dict(batch), default=str))
        d = results_digest(batch)
        assert len(d) == 64 and d == results_digest_of_result(doc)
        assert d == results_digest(scored_batch(pack_id, rows))  # deterministic


def test_digest_changes_with_any_result():
    base = results_digest(scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(2)]))
    assert results_digest(scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(2, communication_sessions=6)])) != base
    assert results_digest(scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(3)])) != base
    # a name is not part of the results
    assert results_digest(scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(2, name="Xã Khác")])) == base


# ---- provinces, per-unit sheets -----------------------------------------------------------------

def _multi_rows() -> list[dict]:
    return [xlm_row(1, "01"), xlm_row(2, "01", communication_sessions=6), xlm_row(3, "02", prostitution_hotspots=1),
            xlm_row(4, "02", new_drug_addicts=2, new_drug_addicts_prev=3), xlm_row(5, "04", has_annual_plan=False),
            xlm_row(6, "04", communication_sessions=0, businesses_inspected=0, villages_reached=8,
                    has_annual_plan=False)]


def test_a_batch_over_several_provinces_gets_a_sheet_per_province(run_cli, workdir, files):
    inp = files.csv("in/x.csv", _multi_rows())
    wb, cached, doc = score(run_cli, workdir, inp, rules="xa-lanh-manh", unit_list="none")
    by_prov = {}
    for u in doc["units"]:
        by_prov.setdefault(u["province_code"], []).append(u)
    assert sorted(by_prov) == ["01", "02", "04"]
    for code, units in by_prov.items():
        (name,) = [n for n in wb.sheetnames if n.startswith(f"{code} ")]
        h = head_row(wb[name])
        rows = table(wb[name], h + 1, h)
        assert [r["Mã đơn vị"] for r in rows] == [u["unit_code"] for u in units]
        assert [r["Hạng trong tỉnh"] for r in rows] == [u["rank_province"] for u in units] == \
            sorted(u["rank_province"] for u in units)
        assert [r["Tổng điểm"] for r in rows] == [u["total"] for u in units]
    ws = cached[presentation.PROVINCES]
    h = head_row(ws)
    rows = table(ws, h + 1, h)
    assert [r["Mã tỉnh"] for r in rows[:3]] == ["01", "02", "04"] and rows[3]["Tỉnh, thành phố"] == "Tổng cộng"
    for r, p in zip(rows, doc["provinces"]):
        assert r["Số đơn vị"] == p["units"]
        assert r["Lành mạnh"] == p["class_counts"].get("healthy", 0)
        assert r["Làm giảm cơ bản"] == p["class_counts"].get("substantially_reduced", 0)
    assert rows[3]["Số đơn vị"] == 6
    with zipfile.ZipFile(workdir / "s.xlsx") as z:
        charts = [n for n in z.namelist() if n.startswith("xl/charts/chart")]
    assert len(charts) == 2
    chart_sheet = wb[presentation.CHARTS]
    assert chart_sheet.cell(3, 1).value == "Thành phố Hà Nội"  # province 01 named from the official list


def test_small_batches_get_one_scorecard_sheet_per_unit(run_cli, workdir, files):
    inp = files.csv("in/x.csv", _multi_rows()[:3])
    wb, cached, doc = score(run_cli, workdir, inp, rules="xa-lanh-manh", unit_list="none")
    for u in doc["units"]:
        assert u["unit_code"] in wb.sheetnames
        ws, wc = wb[u["unit_code"]], cached[u["unit_code"]]
        texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
        assert u["unit_name"] in texts and u["unit_code"] in texts and u["class_label"] in texts
        assert {"NGƯỜI LẬP BIỂU", "TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"} <= set(texts)
        total_row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Tổng điểm")
        assert ws.cell(total_row, 6).value.startswith("=SUM(F")
        assert wc.cell(total_row, 6).value == u["total"]
        assert ws.cell(total_row, 3).value == "(tối đa 100 điểm)"
        crit = {ws.cell(r, 1).value: r for r in range(1, total_row)}
        for c in u["criteria"]:
            assert ws.cell(crit[c["id"]], 6).value == c["points"]
            assert ws.cell(crit[c["id"]], 5).value == ("Đạt" if c["met"] else "Không đạt")
        # A4 portrait at a computed scale that keeps the 11 pt body at 10 pt or more (no fit-to-page)
        assert ws.page_setup.orientation == "portrait" and ws.page_setup.paperSize == 9
        assert 11 * (ws.page_setup.scale or 100) / 100 >= 10
    # the summary's codes link to them
    summary = wb[presentation.SUMMARY]
    assert summary[f"C{head_row(summary) + 1}"].hyperlink.location == f"'{doc['units'][0]['unit_code']}'!A1"


def test_a_batch_of_201_units_gets_no_per_unit_sheets(run_cli, workdir, files):
    inp = files.csv("in/x.csv", [xlm_row(i, "01" if i % 2 else "02") for i in range(1, 202)])
    wb, _, doc = score(run_cli, workdir, inp, rules="xa-lanh-manh", unit_list="none")
    assert len(doc["units"]) == 201 > scorecard.UNIT_SHEETS_MAX
    assert not any(n.isdigit() for n in wb.sheetnames)
    ws = wb[presentation.SUMMARY]
    h = head_row(ws)
    assert len(table(ws, h + 1, h)) == 201
    assert ws[f"C{h + 1}"].hyperlink is None
    # the summary says why there are no forms, and how to make them, outside the print area
    assert any(str(c.value).startswith("Tệp này không kèm phiếu đánh giá từng đơn vị") and "--rules xa-lanh-manh"
               in c.value for row in ws.iter_rows(min_row=ws.max_row - 1) for c in row if c.value)


# ---- text stays text ------------------------------------------------------------------------------

def test_names_that_look_like_formulas_stay_text(run_cli, workdir, files):
    names = ["=SUM(1,2)", "+84 xã", "-1 xã", "@xã", "=HYPERLINK(\"http://x\",\"y\")"]
    rows = [xlm_row(i + 1, "01" if i % 2 else "02", name=n) for i, n in enumerate(names)]
    wb, _, doc = score(run_cli, workdir, files.csv("in/x.csv", rows), rules="xa-lanh-manh", unit_list="none")
    seen = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.value in names:
                    assert c.data_type == "s", (ws.title, c.coordinate, c.value)
                    seen += 1
                elif c.data_type == "f":  # a name inside a longer text (the form's date line) stays text too
                    assert c.value.startswith(("=SUM(", "=COUNTIF")), (ws.title, c.coordinate, c.value)
    # summary, evidence (13 rows each), province ranking, per-unit sheet
    assert seen >= len(names) * (1 + 13 + 1 + 1)


# ---- nothing half-written -------------------------------------------------------------------------

def test_a_failure_while_writing_leaves_no_file(tmp_path, monkeypatch):
    batch = scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(2)])

    def boom(bk):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(scorecard, "evidence_sheet", boom)
    out = tmp_path / "out" / "s.xlsx"
    with pytest.raises(RuntimeError):
        scorecard.write_scorecard(batch, out)
    assert list((tmp_path / "out").iterdir()) == []
    # an existing target stays as it was
    out.write_bytes(b"last year's scorecard")
    with pytest.raises(RuntimeError):
        scorecard.write_scorecard(batch, out)
    assert out.read_bytes() == b"last year's scorecard"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["s.xlsx"]


def test_cannot_write_exits_6_and_leaves_the_old_file(run_cli, workdir, files, monkeypatch):
    inp = files.csv("in/x.csv", [xlm_row(1)])
    (workdir / "s.xlsx").write_bytes(b"old")
    real_replace = os.replace

    def locked(src, dst):
        if str(dst).endswith("s.xlsx"):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", locked)
    result = run_cli("score", str(inp), "--rules", "xa-lanh-manh", "--out", "s.xlsx", "--unit-list", "none")
    assert result.exit_code == 6, result.output
    assert (workdir / "s.xlsx").read_bytes() == b"old"
    assert sorted(p.name for p in workdir.iterdir()) == ["s.xlsx"]


def test_a_written_scorecard_and_json_have_the_usual_file_mode(tmp_path):
    """Regression: the JSON's temporary file came from mkstemp, so the result was private (0600)."""
    out = tmp_path / "s.xlsx"
    batch = scored_batch("xa-lanh-manh", [xlm_row(1)])
    scorecard.write_scorecard(batch, out)
    write_json_atomic(str(tmp_path / "s.json"), result_dict(batch))
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask
    assert (tmp_path / "s.json").stat().st_mode & 0o777 == 0o666 & ~umask


# ---- print layout, colours ------------------------------------------------------------------------

def test_summary_print_layout(sample):
    run = sample("xa-lanh-manh", LANH_MANH)
    wb, doc = run.wb, run.doc
    ws = wb[presentation.SUMMARY]
    ps = ws.page_setup
    assert ps.orientation == "landscape"
    assert int(ps.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert ps.fitToWidth in (None, 1) and int(ps.fitToHeight) == 0  # one page wide, as long as needed
    h = head_row(ws)
    assert ws.print_title_rows == f"${h - 1}:${h}"  # the table's two heading rows, not the heading block
    # the pack's title in the page header, never its id; page numbers from 1
    assert ws.oddHeader.left.text == "Bảng điểm minh họa xã, phường lành mạnh không có tệ nạn ma túy, mại dâm, " \
                                     "phiên bản 2025.1 (minh họa)"
    assert "xa-lanh-manh" not in ws.oddHeader.left.text
    assert ws.oddFooter.center.text == "Trang &P"
    assert ws.freeze_panes == f"E{h + 1}"
    assert ws.auto_filter.ref == f"A{h}:X{h + len(doc['units'])}"
    assert ws.column_dimensions["D"].width >= 12  # names fit
    assert ws.column_dimensions["I"].hidden  # "Mã xếp loại" (class ids, for formulas) is not printed
    assert ws["I" + str(h)].value == "Mã xếp loại"


@pytest.mark.slow
def test_class_fills_run_from_green_to_red_and_grey(sample):
    run = sample("qd-28-2025-literal", MA_TUY)
    wb, doc = run.wb, run.doc
    ws = wb[presentation.SUMMARY]
    cols = columns(ws)
    fills = {}
    for i, u in enumerate(doc["units"]):
        fills.setdefault(u["class"], set()).add(ws.cell(head_row(ws) + 1 + i, cols["Xếp loại"]).fill.fgColor.rgb[-6:])
    assert "unclassified" in fills
    assert all(len(v) == 1 for v in fills.values())
    fill = {k: v.pop() for k, v in fills.items()}
    assert fill["drug_free"] == "C6EFCE"  # best: green
    assert fill["type_1"] == "FFC7CE"  # worst: red
    assert fill["unclassified"] == "D9D9D9"
    assert len(set(fill.values())) == len(fill)
    # unclassified ranks last
    assert doc["units"][-1]["class"] == "unclassified"


def test_class_colours_follow_the_ranking_order():
    order = ["a", "b", "c", "unclassified"]
    assert presentation.class_colours(order, "a")[0] == "#C6EFCE"
    assert presentation.class_colours(order, "b")[0] == "#FFEB9C"
    assert presentation.class_colours(order, "c")[0] == "#FFC7CE"
    assert presentation.class_colours(["only"], "only")[0] == "#C6EFCE"


def test_total_buckets():
    assert charts.total_buckets([100, 95, 90, 0, 45], 100) == [
        ("0–9", 1), ("10–19", 0), ("20–29", 0), ("30–39", 0), ("40–49", 1), ("50–59", 0), ("60–69", 0),
        ("70–79", 0), ("80–89", 0), ("90–99", 2), ("100", 1)]
    assert charts.total_buckets([3, 4], 5) == [(str(i), int(i in (3, 4))) for i in range(6)]
    assert sum(n for _, n in charts.total_buckets(range(0, 1000, 7), 1000)) == len(range(0, 1000, 7))


def test_distribution_chart_table_of_a_scored_pack(sample):
    run = sample("xa-lanh-manh", LANH_MANH)
    wb, doc = run.wb, run.doc
    ws = wb[presentation.CHARTS]
    top = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "Khoảng điểm")
    rows = table(ws, top + 1, top)
    assert sum(r["Số đơn vị"] for r in rows) == len(doc["units"])
    hundred = next(r for r in rows if r["Khoảng điểm"] == "100")
    assert hundred["Số đơn vị"] == sum(1 for u in doc["units"] if u["total"] == 100)
