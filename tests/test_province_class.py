"""Issue 10: a commune that is drug-free and also meets a key-area class (`also_meets`), the
province's drug-free class (Điều 7 khoản 2), and the share of type I/II communes (Điều 5 khoản 4,
P.4) over the province's communes in the official unit list, with the missing ones tried at both
extremes (criterion and class "chưa xác định" / `undetermined`)."""
from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import pytest
from lmtest import qd28_row

from lanhmanh.engine.analysis.scenarios import run_case
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.pack import UNDETERMINED, Case

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
MA_TUY = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
PACKS = ("qd-28-2025", "qd-28-2025-literal")

# a border commune: no resident user outside treatment, no harbouring point, but 0,1 % arrests of
# couriers, 3.000 plants and a key route: drug-free (Điều 6) and type I (Điều 4: I.c, I.d, I.đ)
BORDER = {"drug_arrests": 10, "drug_plants": 3000, "on_key_route": True}


def score(run_cli, *args: str, rules: str = "qd-28-2025", engine: str = "python"):
    return run_cli("score", *args, "--rules", rules, "--engine", engine, "--json", "o.json", "--no-db")


def doc(workdir: Path) -> dict:
    return json.loads((workdir / "o.json").read_text(encoding="utf-8"))


def criteria_met(entry: dict) -> dict:
    return {c["id"]: c["met"] for c in entry["criteria"]}


def unit_list(files, name: str, codes: list[str], province: str = "40") -> Path:
    """A small official list given as CSV (--unit-list FILE.csv): the communes `codes` of one province."""
    rows = "".join(f"{c},Xã {c},xã,{province},Nghệ An\n" for c in codes)
    return files.text(name, "unit_code,unit_name,unit_type,province_code,province_name\n" + rows)


def sample_rows() -> list[dict]:
    with MA_TUY.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


# ---- point 2: a drug-free commune that also meets a key-area class ------------------------------

@pytest.mark.parametrize("rules", PACKS)
def test_a_drug_free_border_commune_also_meets_type_1_on_both_engines(run_cli, files, workdir, rules):
    inp = files.csv("a.csv", [qd28_row(1, **BORDER), qd28_row(2)])
    got = {}
    for engine in ("python", "durable"):
        r = score(run_cli, str(inp), "--unit-list", "none", rules=rules, engine=engine)
        assert r.exit_code == 0, r.output
        d = doc(workdir)
        got[engine] = {u["unit_code"]: (u["class"], u["also_meets"]) for u in d["units"]}
        warnings = [w["message"] for w in d["warnings"] if "also meets" in w["message"]]
        assert len(warnings) == 1 and "unit 00001" in warnings[0] and "type_1" in warnings[0], d["warnings"]
    assert got["python"] == got["durable"] == {"00001": ("drug_free", "type_1"), "00002": ("drug_free", None)}


def test_also_meets_is_shown_on_the_scorecard_and_verify_re_derives_it(run_cli, files, workdir):
    inp = files.csv("a.csv", [qd28_row(1, **BORDER), qd28_row(2)])
    r = run_cli("score", str(inp), "--rules", "qd-28-2025", "--unit-list", "none", "--out", "s.xlsx", "--no-db")
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(workdir / "s.xlsx")
    summary = [str(c.value) for row in wb["Tổng hợp"].iter_rows() for c in row if c.value is not None]
    assert any(t.startswith("Địa bàn không ma túy (cũng đạt: Địa bàn trọng điểm phức tạp về ma túy loại I)")
               for t in summary), summary
    form = [str(c.value) for row in wb["00001"].iter_rows() for c in row if c.value is not None]
    assert "Cũng đạt" in form
    assert not any("cũng đạt" in t.lower() for row in wb["00002"].iter_rows() for c in row
                   if (t := str(c.value or "")))
    ev = wb["Chứng cứ"]
    heads = [c.value for c in ev[1]]
    c_code, c_crit, c_note = heads.index("Mã đơn vị"), heads.index("Tiêu chí"), heads.index("Ghi chú")
    notes = {(row[c_code].value, row[c_crit].value): row[c_note].value for row in ev.iter_rows(min_row=2)}
    assert {k[1] for k, v in notes.items() if v and k[0] == "00001"} == {"I.c", "I.d", "I.đ"}
    assert "loại I (type_1)" in notes[("00001", "I.c")]
    v = run_cli("verify", "s.xlsx", str(inp), "--rules", "qd-28-2025", "--unit-list", "none")
    assert v.exit_code == 0, v.output


def test_explain_shows_the_class_also_met(run_cli, files):
    inp = files.csv("a.csv", [qd28_row(1, **BORDER)])
    r = run_cli("explain", "00001", str(inp), "--rules", "qd-28-2025", "--unit-list", "none", "--format", "json")
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["class"] == "drug_free" and d["also_meets"]["class"] == "type_1"
    assert "I.c" in d["also_meets"]["explanation"]
    text = run_cli("explain", "00001", str(inp), "--rules", "qd-28-2025", "--unit-list", "none").output
    assert "Also meets: Địa bàn trọng điểm phức tạp về ma túy loại I (type_1)" in text


@pytest.mark.parametrize("also, error", [
    ("[type_9]", "unknown class 'type_9'"),
    ("[drug_free]", "not after it"),
    ("[type_3]", "residual class 'type_3'"),
])
def test_also_report_names_later_classes_with_a_condition(files, also, error):
    text = (Path(__file__).parent / "packs" / "qd28-test.yaml").read_text(encoding="utf-8")
    anchor = "cite: {source: QD28, article: 6}}"
    text = text.replace(anchor, anchor[:-1] + f", also_report: {also}}}", 1)
    with pytest.raises(RuleFileError) as e:
        load_pack(files.rules("p.yaml", text))
    assert error in str(e.value)


def test_a_case_expecting_another_also_meets_fails():
    pack, _ = load_pack("qd-28-2025")
    given = {**pack.cases[0].given, **BORDER}
    case = Case("x", "commune", given, {"class": "drug_free", "also_meets": "type_2"}, 1)
    failures = run_case(pack, case, "python").failures
    assert failures == ["also_meets: expected type_2, got type_1"]
    case = Case("x", "commune", given, {"class": "drug_free", "also_meets": "none"}, 1)
    assert run_case(pack, case, "python").failures == ["also_meets: expected none, got type_1"]


# ---- point 4: the share of type I/II communes over the official list --------------------------

def ten_of_nghe_an() -> list[dict]:
    """Ten communes of Nghệ An from the sample: two of type I, eight drug-free or type III."""
    pack, _ = load_pack("qd-28-2025")
    v = Validator(pack)
    rows = sample_rows()
    units = [v.row("t.csv", i, r) for i, r in enumerate(rows, start=2)]
    batch = score_units(pack, [u for u in units if u is not None], "python")
    cls = {r.unit.code: r.outcome.class_id for r in batch.units}
    rows = [r for r in rows if r["unit_code"]]  # the sample's province row left out
    type_1 = [r for r in rows if cls[r["unit_code"]] == "type_1"][:2]
    others = [r for r in rows if cls[r["unit_code"]] in ("drug_free", "type_3")][:8]
    return type_1 + others


def test_ten_communes_of_nghe_an_do_not_make_p4_by_themselves(run_cli, files, workdir):
    inp = files.csv("ten.csv", ten_of_nghe_an())
    r = score(run_cli, str(inp))
    assert r.exit_code == 0, r.output
    (p,) = doc(workdir)["provinces"]
    assert (p["units"], p["official_units"], p["missing_units"]) == (10, 130, 120)
    assert p["share_denominator"] == "official_units"
    assert p["values"]["share(type_1, type_2)"] == "2/130"
    assert criteria_met(p)["P.4"] is None and p["undetermined"] == ["P.4"]
    assert p["class"] != "key_area" and "130" in p["undetermined_reason"]
    assert "10 of 130 official unit(s), 120 missing: P.4 undetermined" in r.output
    # without an official list the denominator is the communes scored (2/10 = 20 %), and the output says so
    r = score(run_cli, str(inp), "--unit-list", "none")
    (p,) = doc(workdir)["provinces"]
    assert (p["official_units"], p["missing_units"], p["share_denominator"]) == (None, 0, "units")
    assert p["values"]["share(type_1, type_2)"] == "2/10" and criteria_met(p)["P.4"] is True
    assert "10 unit(s) (no official unit list: shares over the units scored)" in r.output


def test_the_whole_sample_decides_every_criterion(run_cli, workdir):
    r = score(run_cli, str(MA_TUY))
    assert r.exit_code == 0, r.output
    (p,) = doc(workdir)["provinces"]
    assert (p["units"], p["official_units"], p["missing_units"], p["undetermined"]) == (130, 130, 0, [])
    assert p["class"] == "key_area" and None not in criteria_met(p).values()
    assert "province 40: Tỉnh, thành phố trọng điểm phức tạp về ma túy (key_area), 130 of 130 official unit(s)" \
        in r.output


def test_a_rejected_row_counts_as_missing(run_cli, files, workdir):
    lst = unit_list(files, "units.csv", ["00001", "00002", "00003"])
    rows = [qd28_row(c, province="40", name=f"Xã {c:05d}") for c in (1, 2, 3)]
    rows[2]["population"] = "mười"
    r = score(run_cli, str(files.csv("a.csv", rows)), "--unit-list", str(lst))
    assert r.exit_code == 1, r.output
    (p,) = doc(workdir)["provinces"]
    assert (p["units"], p["official_units"], p["missing_units"]) == (2, 3, 1)
    # two drug-free communes of three: the third could be drug-free or not, so the class is undetermined
    assert p["class"] == UNDETERMINED and p["class_label"] == "Chưa xác định"


# ---- point 3: the province's drug-free class -----------------------------------------------------

def test_a_province_whose_every_official_commune_is_drug_free_is_drug_free(run_cli, files, workdir):
    lst = unit_list(files, "units.csv", ["00001", "00002", "00003"])
    rows = [qd28_row(c, province="40", name=f"Xã {c:05d}") for c in (1, 2, 3)]
    r = score(run_cli, str(files.csv("a.csv", rows)), "--unit-list", str(lst), "--out", "s.xlsx")
    assert r.exit_code == 0, r.output
    (p,) = doc(workdir)["provinces"]
    assert (p["class"], p["class_label"], p["also_meets"]) == ("drug_free", "Địa bàn không ma túy cấp tỉnh", None)
    assert (p["official_units"], p["missing_units"]) == (3, 0)
    assert "province 40: Địa bàn không ma túy cấp tỉnh (drug_free), 3 of 3 official unit(s)" in r.output
    v = run_cli("verify", "s.xlsx", str(files.path("a.csv")), "--rules", "qd-28-2025", "--unit-list", str(lst))
    assert v.exit_code == 0, v.output


def test_a_drug_free_province_missing_a_commune_is_undetermined_on_the_scorecard(run_cli, files, workdir):
    lst = unit_list(files, "units.csv", ["00001", "00002", "00003", "00004"])
    rows = [qd28_row(c, province="40", name=f"Xã {c:05d}") for c in (1, 2, 3)]
    inp = files.csv("a.csv", rows)
    r = score(run_cli, str(inp), "--unit-list", str(lst), "--out", "s.xlsx")
    assert r.exit_code == 0, r.output
    (p,) = doc(workdir)["provinces"]
    assert (p["class"], p["undetermined"], p["missing_units"]) == (UNDETERMINED, ["P.4"], 1)
    assert "3 of 4 official unit(s), 1 missing: P.4 undetermined" in r.output
    ws = openpyxl.load_workbook(workdir / "s.xlsx")["Tỉnh"]
    h = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Mã tỉnh")  # under the document's heading block
    heads = {c.value: c.column - 1 for c in ws[h] if c.value}
    row = [c.value for c in ws[h + 1]]
    assert row[heads["Xếp loại tỉnh"]] == "Chưa xác định" and row[heads["P.4"]] == "Chưa xác định"
    assert row[heads["Số đơn vị cấp xã trong danh mục"]] == 4
    assert "Đã chấm 3/4" in row[heads["Ghi chú cấp tỉnh"]]
    v = run_cli("verify", "s.xlsx", str(inp), "--rules", "qd-28-2025", "--unit-list", str(lst))
    assert v.exit_code == 0, v.output
    e = run_cli("explain", "40", str(inp), "--rules", "qd-28-2025", "--unit-list", str(lst), "--format", "json")
    d = json.loads(e.stdout)
    assert d["class"] == UNDETERMINED and d["why"] is None and d["official_units"] == 4
    text = run_cli("explain", "40", str(inp), "--rules", "qd-28-2025", "--unit-list", str(lst)).output
    assert "The class is undetermined (Chưa xác định)" in text and "3 of the 4 communes" in text


def test_a_drug_free_province_that_also_meets_article_5(run_cli, files, workdir):
    lst = unit_list(files, "units.csv", ["00001", "00002"])
    rows = [qd28_row(1, province="40", name="Xã 00001", users_with_records=40, drug_arrests=10),
            qd28_row(2, province="40", name="Xã 00002", drug_plants=8000),
            {"unit_code": "", "unit_name": "Tỉnh Nghệ An", "unit_type": "tỉnh", "province_code": "40", "year": 2025,
             "on_interprovincial_route": True}]
    for engine in ("python", "durable"):
        r = score(run_cli, str(files.csv("a.csv", rows)), "--unit-list", str(lst), "--out", "s.xlsx", engine=engine)
        assert r.exit_code == 0, r.output
        (p,) = doc(workdir)["provinces"]
        assert (p["class"], p["also_meets"]) == ("drug_free", "key_area"), engine
        messages = [w["message"] for w in doc(workdir)["warnings"]]
        assert any("province 40: Địa bàn không ma túy cấp tỉnh" in m and "key_area" in m for m in messages)
    assert "also meets key_area" in r.output
    ws = openpyxl.load_workbook(workdir / "s.xlsx")["Tỉnh"]
    h = next(r for r in range(1, 20) if ws.cell(r, 1).value == "Mã tỉnh")  # under the document's heading block
    heads = {c.value: c.column - 1 for c in ws[h] if c.value}
    assert [c.value for c in ws[h + 1]][heads["Xếp loại tỉnh"]] == \
        "Địa bàn không ma túy cấp tỉnh (cũng đạt: Tỉnh, thành phố trọng điểm phức tạp về ma túy)"


def test_official_units_in_a_case_must_cover_its_communes(files):
    text = (Path(__file__).parent / "packs" / "qd28-test.yaml").read_text(encoding="utf-8")
    text += ("  - name: too few\n    level: province\n    given: {communes: [{}, {}], official_units: 1}\n"
             "    expect: {class: key_area}\n")
    with pytest.raises(RuleFileError) as e:
        load_pack(files.rules("p.yaml", text))
    assert "official_units must be a whole number at least the number of communes given (2)" in str(e.value)


def test_the_national_summary_shows_an_undetermined_province(run_cli, files, workdir):
    lst = unit_list(files, "units.csv", ["00001", "00002", "00003", "00004"])
    rows = [qd28_row(c, province="40", name=f"Xã {c:05d}") for c in (1, 2, 3)]
    r = run_cli("score", str(files.csv("a.csv", rows)), "--rules", "qd-28-2025", "--unit-list", str(lst),
                "--out-dir", "out", "--no-db")
    assert r.exit_code == 0, r.output
    texts = [str(c.value) for ws in openpyxl.load_workbook(workdir / "out" / "toan-quoc.xlsx").worksheets
             for row in ws.iter_rows() for c in row if c.value is not None]
    assert "Chưa xác định" in texts
