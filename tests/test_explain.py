"""`lanhmanh explain`: one unit's evidence and why it got its class, end to end through the CLI,
compared with `score --json`, on both engines; plus the layout and the value rendering."""
from __future__ import annotations

import csv
import json
import re
import unicodedata
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmtest import identity, pack_for_year, xlm_row

from lanhmanh.commands.explain import column_widths, table, width_of
from lanhmanh.engine.analysis import explain
from lanhmanh.engine.evaluation.scoring import ENGINES, score_units
from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.model.loader import load_pack

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
MA_TUY_CSV = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
MA_TUY_XLSX = EXAMPLES / "nghe-an-2025-ma-tuy.xlsx"
LANH_MANH_CSV = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
BAD_ROWS = EXAMPLES / "bad-rows.csv"
MUONG_TIP = "16858"  # the fall-through example: 0.6 %, 0.2 %, 600 plants on 200 m², no point, no route


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    """A known terminal width (the layout reads COLUMNS); tests that need another set it."""
    monkeypatch.setenv("COLUMNS", "250")


def explain_json(run_cli, *args: str, code: int = 0) -> dict:
    result = run_cli("explain", *args, "--format", "json")
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)


def score_json(run_cli, workdir: Path, *args: str) -> dict:
    result = run_cli("score", *args, "--json", "score.json")
    assert result.exit_code in (0, 1), result.output
    return json.loads((workdir / "score.json").read_text(encoding="utf-8"))


def csv_row(path: Path, code: str) -> dict:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return next(r for r in csv.DictReader(f) if r["unit_code"] == code)


def flat(text: str) -> str:
    """Text with its line breaks and runs of spaces made single spaces (paragraphs are wrapped)."""
    return " ".join(text.split())


def exact(inputs: dict) -> dict:
    """Values read, as exact numbers: '60.00' and '60' are both 60, '60/10000' is Fraction(3, 500)."""
    def one(v):
        if isinstance(v, str) and "/" in v:
            n, d = v.split("/")
            return (Fraction(n), Fraction(d))
        if isinstance(v, str):
            return Fraction(v)
        return v
    return {k: one(v) for k, v in inputs.items()}


def all_nodes(node: dict):
    yield node
    for p in node.get("parts", []):
        yield from all_nodes(p)


# ---- the sample commune of the legal text ------------------------------------------------------


def test_type_2_commune_says_why_not_drug_free_and_why_not_type_1(run_cli):
    result = run_cli("explain", MUONG_TIP, MA_TUY_CSV, "--rules", "qd-28-2025")
    assert result.exit_code == 0, result.output
    out = result.stdout
    row = csv_row(MA_TUY_CSV, MUONG_TIP)
    assert f"Unit {MUONG_TIP} {row['unit_name']} (xã), province 40" in out
    assert "Class: Địa bàn trọng điểm phức tạp về ma túy loại II (type_2)" in out
    assert "Pack: qd-28-2025 2025.1 (official)" in out
    # values read, exactly: the rate as the fraction and the percentage
    users, pop = int(row["users_with_records"]), int(row["population"])
    assert (users, pop) == (60, 10000)
    assert "user_rate = 60/10000 = 0,6%" in out
    assert "arrest_rate = 20/10000 = 0,2%" in out
    assert f"drug_plants = {row['drug_plants']}" in out
    # the class reached and the two classes before it
    assert "needs at least 3 of II.a, II.b, II.c, II.d, II.đ; met 3: II.a, II.c, II.d" in out
    assert "1. drug_free (Địa bàn không ma túy): all(DF.1, DF.2, DF.3)" in out
    assert "needs all of DF.1, DF.2, DF.3; not met: DF.1, DF.2" in out
    assert "2. type_1 (Địa bàn trọng điểm phức tạp về ma túy loại I)" in out
    assert "needs at least 3 of I.a, I.b, I.c, I.d, I.đ; met 2: I.a, I.c" in out
    assert "type_3" not in out.split("Why type_2")[1]  # classes after the one reached are not explained
    # interpretation notes are numbered under the table, not in a column
    notes = out.split("Interpretation notes:")[1]
    assert re.search(r"^\[1\] DF\.1: Số liệu nhập \(resident_users_untreated\) đã không tính", notes, re.M)
    assert "[1]" in out.split("Interpretation notes:")[0]


def test_type_2_commune_as_json(run_cli):
    doc = explain_json(run_cli, MUONG_TIP, MA_TUY_CSV, "--rules", "qd-28-2025")
    assert (doc["unit_code"], doc["class"], doc["total"], doc["vetoes"]) == (MUONG_TIP, "type_2", None, [])
    assert doc["why"]["class"] == "type_2" and doc["why"]["met"] == ["II.a", "II.c", "II.d"]
    assert [(w["class"], w["kind"], w.get("needed"), w["met"], w["unmet"]) for w in doc["why_not"]] == [
        ("drug_free", "all", 3, ["DF.3"], ["DF.1", "DF.2"]),
        ("type_1", "at_least", 3, ["I.a", "I.c"], ["I.b", "I.d", "I.đ"]),
    ]
    assert doc["why_not"][1]["condition"] == "at_least(3, I.a, I.b, I.c, I.d, I.đ)"
    by_id = {c["id"]: c for c in doc["criteria"]}
    assert by_id["I.a"]["inputs"] == {"users_with_records": 60, "population": 10000, "user_rate": "60/10000"}
    assert by_id["I.a"]["title"].startswith("Tỷ lệ người nghiện") and "50/10.000" in by_id["I.a"]["note"]


def test_literal_reading_leaves_the_commune_unclassified_and_explains_every_class(run_cli):
    result = run_cli("explain", MUONG_TIP, MA_TUY_CSV, "--rules", "qd-28-2025-literal")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Class: Không xếp được loại (unclassified)" in out
    assert "No class was reached: Không xếp được loại (unclassified), ranked last" in out
    for line in ("needs all of DF.1, DF.2, DF.3; not met: DF.1, DF.2",
                 "needs at least 3 of I.a, I.b, I.c, I.d, I.đ; met 2: I.a, I.c",
                 "needs at least 3 of II.a, II.b, II.c, II.d, II.đ; met 1: II.d",
                 "needs at least 1 of III.a, III.b, III.c; met 0"):
        assert line in out
    assert "reaches no class" in result.stderr  # the unit's own warning, as `score` gives it
    doc = explain_json(run_cli, MUONG_TIP, MA_TUY_CSV, "--rules", "qd-28-2025-literal")
    assert doc["why"] is None
    assert [w["class"] for w in doc["why_not"]] == ["drug_free", "type_1", "type_2", "type_3"]
    assert doc["rank_national"] >= doc["units_in_batch"] - 1  # the sample's two unclassified units rank last


# ---- points and vetoes: xa-lanh-manh ----------------------------------------------------------


def _lanh_manh_units(run_cli, workdir) -> list[dict]:
    return score_json(run_cli, workdir, LANH_MANH_CSV, "--rules", "xa-lanh-manh")["units"]


def test_healthy_commune_needs_no_why_not(run_cli, workdir):
    healthy = next(u for u in _lanh_manh_units(run_cli, workdir) if u["class"] == "healthy")
    doc = explain_json(run_cli, healthy["unit_code"], LANH_MANH_CSV, "--rules", "xa-lanh-manh")
    assert doc["class"] == "healthy" and doc["why_not"] == []
    assert doc["why"]["explanation"].endswith("all met")
    assert doc["why"]["met"] == ["total >= 90", "not vetoed"]
    result = run_cli("explain", healthy["unit_code"], LANH_MANH_CSV, "--rules", "xa-lanh-manh")
    assert f"Total: {healthy['total']} of 100 points · vetoes: none" in result.stdout
    assert "Why not an earlier class" not in result.stdout


def test_vetoed_commune_why_not_healthy_names_the_veto(run_cli, workdir):
    vetoed = next(u for u in _lanh_manh_units(run_cli, workdir) if u["vetoes"] and u["total"] >= 90)
    code, veto = vetoed["unit_code"], vetoed["vetoes"][0]
    doc = explain_json(run_cli, code, LANH_MANH_CSV, "--rules", "xa-lanh-manh")
    assert doc["class"] == "substantially_reduced"
    (healthy,) = doc["why_not"]
    assert healthy["class"] == "healthy" and healthy["condition"] == "(total >= 90) and (not vetoed)"
    assert healthy["met"] == ["total >= 90"] and healthy["unmet"] == ["not vetoed"]
    assert f"not met: `not vetoed` ({veto} applies)" in healthy["explanation"]
    assert f"`total >= 90` (total = {vetoed['total']})" in healthy["explanation"]
    applied = [v for v in doc["veto_checks"] if v["applies"]]
    assert [v["id"] for v in applied] == vetoed["vetoes"]
    result = run_cli("explain", code, LANH_MANH_CSV, "--rules", "xa-lanh-manh")
    text = result.stdout
    assert "Vetoes applied:" in text
    vetoes_part = text.split("Vetoes applied:")[1]
    assert veto in vetoes_part and "holds" in vetoes_part


def test_low_total_why_not_names_the_total(run_cli, workdir):
    low = next(u for u in _lanh_manh_units(run_cli, workdir) if u["class"] == "not_met")
    doc = explain_json(run_cli, low["unit_code"], LANH_MANH_CSV, "--rules", "xa-lanh-manh")
    assert doc["why"]["residual"] is True and doc["why"]["condition"] is None
    assert [w["class"] for w in doc["why_not"]] == ["healthy", "substantially_reduced"]
    assert doc["why_not"][1]["explanation"] == f"`total >= 75` does not hold (total = {low['total']})"
    assert doc["why_not"][1]["values"] == {"total": low["total"]}
    assert f"`total >= 90` (total = {low['total']})" in doc["why_not"][0]["explanation"]


# ---- inputs: workbook, codes as typed, unknown codes, rejected rows -----------------------------


def test_unit_given_in_a_workbook(run_cli):
    from_xlsx = explain_json(run_cli, MUONG_TIP, MA_TUY_XLSX, "--rules", "qd-28-2025")
    from_csv = explain_json(run_cli, MUONG_TIP, MA_TUY_CSV, "--rules", "qd-28-2025")
    assert from_xlsx["source"]["sheet"] == "Số liệu" and from_xlsx["source"]["path"].endswith(".xlsx")
    for key in ("class", "why", "why_not", "rank_national", "rank_province", "veto_checks"):
        assert from_xlsx[key] == from_csv[key], key
    # the same values, each as its file wrote it (a decimal cell 200 in the workbook, "200.00" in the CSV)
    assert [{**c, "inputs": exact(c["inputs"])} for c in from_xlsx["criteria"]] == \
        [{**c, "inputs": exact(c["inputs"])} for c in from_csv["criteria"]]
    assert from_xlsx["criteria"][6]["inputs"]["drug_plant_area_m2"] == "200"
    text = run_cli("explain", MUONG_TIP, MA_TUY_XLSX, "--rules", "qd-28-2025").stdout
    assert "sheet 'Số liệu', row" in flat(text)


@pytest.mark.parametrize("typed", ["16858", "  16858", "16858 "])
def test_code_as_typed(run_cli, typed):
    doc = explain_json(run_cli, typed, MA_TUY_CSV, "--rules", "qd-28-2025")
    assert doc["unit_code"] == MUONG_TIP


def test_code_without_leading_zeros(run_cli, files):
    inp = files.csv("u.csv", [xlm_row(42, province="01"), xlm_row(7, province="01", prostitution_hotspots=1)])
    for typed in ("42", "042", "00042"):
        doc = explain_json(run_cli, typed, inp, "--rules", "xa-lanh-manh", "--unit-list", "none")
        assert doc["unit_code"] == "00042" and doc["class"] == "healthy"


@pytest.mark.parametrize("typed", ["16859", "61858", "168588", "1658"])  # a digit wrong, swapped, extra, missing
def test_unknown_code_exits_2_with_a_suggestion(run_cli, typed):
    result = run_cli("explain", typed, MA_TUY_CSV, "--rules", "qd-28-2025")
    assert result.exit_code == 2
    assert f"is not among the 130 unit(s) scored from the inputs; did you mean {MUONG_TIP} (Xã Mường Típ)?" \
        in result.stderr
    assert result.stdout == ""


def test_unknown_code_far_from_any_gets_no_suggestion(run_cli):
    result = run_cli("explain", "99999", MA_TUY_CSV, "--rules", "qd-28-2025")
    assert result.exit_code == 2
    assert "unit 99999 is not among the 130 unit(s)" in result.stderr and "did you mean" not in result.stderr


def test_a_name_typed_instead_of_a_code_gets_the_code(run_cli):
    result = run_cli("explain", "Muong Tip", MA_TUY_CSV, "--rules", "qd-28-2025")
    assert result.exit_code == 2
    assert f"did you mean {MUONG_TIP} (Xã Mường Típ)?" in result.stderr


def test_rejected_row_exits_1_with_its_reasons(run_cli):
    with BAD_ROWS.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    # the row whose new_drug_addicts is negative (file row 4: the header is row 1)
    i, bad = next((i, r) for i, r in enumerate(rows) if r["new_drug_addicts"] == "-2")
    result = run_cli("explain", bad["unit_code"], BAD_ROWS, "--rules", "xa-lanh-manh")
    assert result.exit_code == 1, result.output
    assert f"unit {bad['unit_code']} is in the inputs but its row was rejected" in result.stderr
    assert (f"{BAD_ROWS}: row {i + 2}, column new_drug_addicts, value '-2': negative (must be ≥ 0)"
            in result.stderr)
    assert result.stdout == ""


def test_rejected_row_in_a_workbook_names_the_cell(run_cli, workdir):
    from openpyxl import load_workbook

    wb = load_workbook(MA_TUY_XLSX)
    ws = wb["Số liệu"]
    header_row, col_of = None, {}
    for row in ws.iter_rows(min_row=1, max_row=10):
        ids = {c.value: c.column_letter for c in row if isinstance(c.value, str)}
        if "unit_code" in ids and "population" in ids:
            header_row, col_of = row[0].row, ids
            break
    assert header_row is not None
    target = next(r for r in range(header_row + 1, ws.max_row + 1)
                  if str(ws[f"{col_of['unit_code']}{r}"].value) == MUONG_TIP)
    ws[f"{col_of['population']}{target}"] = "mười nghìn"
    wb.save(workdir / "bad.xlsx")
    result = run_cli("explain", MUONG_TIP, "bad.xlsx", "--rules", "qd-28-2025")
    assert result.exit_code == 1, result.output
    assert (f"bad.xlsx, sheet 'Số liệu', cell {col_of['population']}{target}, column population, "
            "value 'mười nghìn': not a whole number") in result.stderr


def test_other_rejected_rows_do_not_stop_the_explanation(run_cli):
    with BAD_ROWS.open(encoding="utf-8-sig") as f:
        good = next(r for r in csv.DictReader(f) if r["new_drug_addicts"] not in ("-2",)
                    and r["unit_code"] == "17329")
    result = run_cli("explain", good["unit_code"], BAD_ROWS, "--rules", "xa-lanh-manh")
    # 17329 is given twice: the second row is rejected as a duplicate, the first is explained
    assert result.exit_code == 0, result.output
    assert "another row with unit_code 17329 was rejected" in result.stderr
    assert "duplicate unit_code" in result.stderr
    assert "other row(s) of the inputs were rejected" in result.stderr


# ---- agreement with `score --json` and between the engines ---------------------------------------


@pytest.mark.parametrize("pack,inp,code", [("qd-28-2025", MA_TUY_CSV, MUONG_TIP),
                                           ("qd-28-2025-literal", MA_TUY_CSV, MUONG_TIP),
                                           ("xa-lanh-manh", LANH_MANH_CSV, "16681")])
def test_json_evidence_matches_score_json(run_cli, workdir, pack, inp, code):
    scored = score_json(run_cli, workdir, inp, "--rules", pack)
    unit = next(u for u in scored["units"] if u["unit_code"] == code)
    doc = explain_json(run_cli, code, inp, "--rules", pack)
    for key in ("unit_code", "unit_name", "unit_type", "province_code", "year", "class", "class_label", "total",
                "vetoes", "rank_province", "rank_national", "source"):
        assert doc[key] == unit[key], key
    catalogue = {c["id"]: c for c in scored["pack"]["criteria"]}
    assert [c["id"] for c in doc["criteria"]] == [c["id"] for c in unit["criteria"]]
    for mine, theirs in zip(doc["criteria"], unit["criteria"]):
        assert {k: v for k, v in mine.items() if k not in ("title", "note")} == theirs
        assert (mine["title"], mine["note"]) == (catalogue[mine["id"]]["title"], catalogue[mine["id"]]["note"])
    assert doc["units_in_batch"] == len(scored["units"])


@pytest.mark.parametrize("pack,inp,code", [("qd-28-2025", MA_TUY_CSV, MUONG_TIP),
                                           ("qd-28-2025-literal", MA_TUY_CSV, MUONG_TIP),
                                           ("qd-28-2025", MA_TUY_CSV, "40"),
                                           ("xa-lanh-manh", LANH_MANH_CSV, "16681")])
def test_both_engines_give_the_same_explanation(run_cli, pack, inp, code):
    docs = [explain_json(run_cli, code, inp, "--rules", pack, "--engine", e) for e in ENGINES]
    texts = [run_cli("explain", code, inp, "--rules", pack, "--engine", e).stdout for e in ENGINES]
    for d in docs:
        d.pop("engine")
    assert docs[0] == docs[1]
    assert [t.replace("engine durable", "engine python") for t in texts] == [texts[1]] * 2


def _batch(pack_id: str, path: Path, engine: str):
    from lanhmanh.scorecards.inputs.readers import read

    pack = pack_for_year(pack_id)  # the samples are 2025 batches
    v = Validator(pack, None)
    f = read(path)
    cols = v.header_map(f.path, f.headers)
    units = [u for rowno, rec in f.rows
             if (u := v.row(f.path, rowno, {cols.get(k, k): val for k, val in rec.items()})) is not None]
    return score_units(pack, units, engine, v.rejected, v.warnings)


SAMPLES = [("qd-28-2025", MA_TUY_CSV), ("qd-28-2025-literal", MA_TUY_CSV), ("xa-lanh-manh", LANH_MANH_CSV)]


@pytest.mark.parametrize("pack_id,path", SAMPLES)
def test_every_unit_explanation_agrees_with_its_outcome_on_both_engines(pack_id, path):
    """For every unit of the samples: each criterion named in an explanation is listed as met
    exactly when the engine met it; at_least / all / and hold exactly when enough parts are met;
    the class reached holds and every earlier class does not; the two engines explain alike."""
    batches = {e: _batch(pack_id, path, e) for e in ENGINES}
    docs = {e: {r.unit.code: explain.unit_document(b, r) for r in b.units} for e, b in batches.items()}
    assert len(docs["python"]) == 130
    for code, doc in docs["python"].items():
        other = docs["durable"][code]
        assert {k: v for k, v in doc.items() if k != "engine"} == {k: v for k, v in other.items() if k != "engine"}
        met = {c["id"]: c["met"] for c in doc["criteria"]}
        classes = ([doc["why"]] if doc["why"] else []) + doc["why_not"]
        assert doc["class"] == (doc["why"]["class"] if doc["why"] else "unclassified")
        for c in classes:
            assert c["reached"] == (c is doc["why"])
            if c["residual"]:
                continue
            for node in all_nodes(c):
                holds = node["holds"] if "holds" in node else c["reached"]  # a class's own node: reached
                if node["kind"] == "criterion":
                    assert holds == met[node["condition"]], (code, node)
                if node["kind"] in ("at_least", "all", "and", "any", "or"):
                    assert all(met[x] for x in node["met"] if x in met), (code, node)
                    assert not any(met[x] for x in node["unmet"] if x in met), (code, node)
                    parts = node["met"] + node["unmet"]
                    if all(x in met for x in parts):
                        assert node["met"] == [x for x in parts if met[x]]
                    assert holds == (len(node["met"]) >= node["needed"]), (code, node)


# ---- the province roll-up ---------------------------------------------------------------------


def test_province_roll_up(run_cli, workdir):
    scored = score_json(run_cli, workdir, MA_TUY_XLSX, "--rules", "qd-28-2025")
    (prov,) = scored["provinces"]
    doc = explain_json(run_cli, "40", MA_TUY_XLSX, "--rules", "qd-28-2025")
    assert doc["level"] == "province" and doc["province_code"] == "40"
    assert (doc["class"], doc["class_label"], doc["units"]) == (prov["class"], prov["class_label"], prov["units"])
    assert doc["values"] == prov["values"] and doc["supplied"] == prov["supplied"]
    for mine, theirs in zip(doc["criteria"], prov["criteria"]):
        assert {k: v for k, v in mine.items() if k not in ("title", "note")} == theirs
    met = [c["id"] for c in prov["criteria"] if c["met"]]
    assert doc["why"]["met"] == met
    assert doc["why"]["explanation"] == f"needs at least 4 of P.1, P.2, P.3, P.4, P.5, P.6; met {len(met)}: " \
                                        + ", ".join(met)
    assert doc["province_row"]["path"].endswith(".xlsx")
    text = run_cli("explain", "40", MA_TUY_XLSX, "--rules", "qd-28-2025").stdout
    assert "Province 40: roll-up of 130 commune-level unit(s)" in text
    assert "Values supplied by the province row: on_interprovincial_route = có" in text
    share = prov["values"]["share(type_1, type_2)"]
    n, d = map(int, share.split("/"))
    assert f"share(type_1, type_2) = {share} ≈ " in text or f"share(type_1, type_2) = {share} = " in text
    assert n == sum(v for k, v in prov["class_counts"].items() if k in ("type_1", "type_2")) and d == 130


def test_regression_province_share_value_is_read_in_the_evidence(run_cli):
    """The share(...) of a province was first shown as blank: it must be the roll-up's n/d."""
    doc = explain_json(run_cli, "40", MA_TUY_CSV, "--rules", "qd-28-2025")
    p_d = next(c for c in doc["criteria"] if c["id"] == "P.4")
    assert re.fullmatch(r"\d+/130", p_d["inputs"]["share(type_1, type_2)"])


def test_two_digit_code_is_a_unit_for_a_pack_without_province_level(run_cli):
    result = run_cli("explain", "40", LANH_MANH_CSV, "--rules", "xa-lanh-manh")
    assert result.exit_code == 2
    assert "unit 00040 is not among the 130 unit(s)" in result.stderr


# ---- a pack with every kind of condition --------------------------------------------------------

GENERIC = """\
pack: {id: gen, title: G, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  n: {label: N, type: integer, min: 0}
  d: {label: D, type: integer, min: 0}
  area: {label: Diện tích, type: decimal, min: 0}
  flag: {label: Cờ, type: boolean, required: false}
derived:
  share: {label: Tỷ lệ, expr: n / d, zero_denominator: unknown}
criteria:
  A: {title: A, when: n >= 3, points: 5}
  B: {title: B, when: share >= 50%, points: 3}
  C: {title: C, when: flag, points: 2}
vetoes:
  V: {title: Diện tích lớn, when: area > 10.5}
classes:
  - {id: top, label: Nhất, when: "any(A, C) and not vetoed and total >= 7"}
  - {id: mid, label: Nhì, when: A or (area >= 1 and given(flag))}
  - {id: low, label: Ba, when: "at_least(2, A, B, C) or not (n < 1)"}
"""


@pytest.mark.parametrize("engine", ENGINES)
def test_every_kind_of_condition_is_explained(run_cli, files, engine):
    rules = files.rules("gen.yaml", GENERIC)
    inp = files.csv("g.csv", [
        {**identity(1), "n": 3, "d": 4, "area": "11", "flag": True},    # vetoed: not top, A → mid
        {**identity(2), "n": 0, "d": 0, "area": "0.5", "flag": None},   # no class at all
        {**identity(3), "n": 1, "d": 1, "area": "2,25", "flag": False},  # area and given(flag) → mid
    ])
    args = ("--rules", rules, "--unit-list", "none", "--engine", engine)
    one = explain_json(run_cli, "1", inp, *args)
    assert one["class"] == "mid" and one["total"] == 10 and one["vetoes"] == ["V"]
    (top,) = one["why_not"]
    assert top["kind"] == "and" and top["unmet"] == ["not vetoed"]
    assert top["met"] == ["any(A, C)", "total >= 7"]
    assert top["explanation"] == ("needs all of `any(A, C)`, `not vetoed`, `total >= 7`; "
                                  "met: `any(A, C)` (met: A, C), `total >= 7` (total = 10); "
                                  "not met: `not vetoed` (V applies)")
    assert one["why"]["explanation"] == ("needs any of A, `(area >= 1) and given(flag)`; "
                                         "met: A, `(area >= 1) and given(flag)` (all met)")
    veto = one["veto_checks"][0]
    assert veto["explanation"] == "`area > 10.5` holds (area = 11)" and veto["values"] == {"area": "11"}

    two = explain_json(run_cli, "2", inp, *args)
    assert two["class"] == "unclassified" and two["why"] is None
    assert [w["class"] for w in two["why_not"]] == ["top", "mid", "low"]
    low = two["why_not"][2]
    assert low["explanation"] == ("needs any of `at_least(2, A, B, C)`, `not (n < 1)`; none met")
    at_least = low["parts"][0]
    assert (at_least["needed"], at_least["met"], at_least["unmet"]) == (2, [], ["A", "B", "C"])
    share_b = next(c for c in two["criteria"] if c["id"] == "B")
    assert share_b["inputs"]["share"] == "0/0" and share_b["met"] is False
    mid = two["why_not"][1]
    assert mid["parts"][1]["parts"][1]["explanation"] == "flag is blank"
    text = run_cli("explain", "2", inp, *args).stdout
    assert "share = 0/0 (zero denominator: no value)" in text
    assert "No class was reached" in text

    three = explain_json(run_cli, "3", inp, *args)
    assert three["class"] == "mid"
    assert three["why"]["explanation"] == ("needs any of A, `(area >= 1) and given(flag)`; "
                                           "met: `(area >= 1) and given(flag)` (all met)")
    text = run_cli("explain", "3", inp, *args).stdout
    assert "share = 1/1 = 100%" in text and "flag = không" in text
    area = three["why"]["parts"][1]["parts"][0]
    assert area["explanation"] == "`area >= 1` holds (area = 2,25)" and area["values"] == {"area": "2.25"}


# ---- layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize("columns", [60, 80, 100, 200])
def test_output_fits_the_terminal(run_cli, monkeypatch, columns):
    monkeypatch.setenv("COLUMNS", str(columns))
    for pack, inp in (("qd-28-2025", MA_TUY_CSV), ("xa-lanh-manh", LANH_MANH_CSV)):
        code = MUONG_TIP if pack == "qd-28-2025" else "16708"
        out = run_cli("explain", code, inp, "--rules", pack).stdout
        assert max(width_of(line) for line in out.splitlines()) <= columns
        assert ("│ Citation" in out) == (columns >= 140)  # narrower: the citation goes under the title


def _separator_columns(line: str) -> list[int]:
    nfc = unicodedata.normalize("NFC", line)
    cols, at = [], 0
    for ch in nfc:
        if unicodedata.combining(ch):
            continue
        if ch in "│┼╪":
            cols.append(at)
        at += 1
    return cols


def test_decomposed_vietnamese_keeps_the_columns_aligned():
    nfd = unicodedata.normalize("NFD", "Không có người nghiện, người sử dụng trái phép chất ma túy cư trú")
    rows = [[["DF.1"], [nfd], ["resident_users_untreated = 24"], ["Không đạt"]],
            [["I.đ"], ["Có từ 2 tiêu chí loại II trở lên"], [unicodedata.normalize("NFD", "on_key_route = không")],
             ["Đạt"]]]
    lines = table(["ID", "Tiêu chí", "Values read", "Met"], rows, 60, [False, True, True, False], [0, 10, 10, 0])
    assert len({tuple(_separator_columns(line)) for line in lines}) == 1
    assert max(width_of(line) for line in lines) <= 60
    assert any("Không đạt" in line for line in lines)


@given(st.lists(st.tuples(st.integers(1, 200), st.integers(0, 30), st.booleans()), min_size=1, max_size=7),
       st.integers(20, 250))
@settings(max_examples=200, deadline=None)
def test_column_widths_fit_and_respect_natural_widths(cols, available):
    natural = [n for n, _, _ in cols]
    minimum = [m for _, m, _ in cols]
    flexible = [f for _, _, f in cols]
    widths = column_widths(natural, minimum, flexible, available)
    for w, n, f in zip(widths, natural, flexible):
        assert w <= n
        if not f:
            assert w == n
    fixed = sum(n for n, f in zip(natural, flexible) if not f)
    floor = sum(min(n, 8) for n, f in zip(natural, flexible) if f)
    if fixed + floor <= available:
        assert sum(widths) <= available
    if sum(natural) <= available:
        assert widths == natural


# ---- values for people --------------------------------------------------------------------------


def test_rates_show_the_fraction_and_the_percentage():
    assert explain.rate_text(60, 10000) == "60/10000 = 0,6%"
    assert explain.rate_text(50, 10000) == "50/10000 = 0,5%"
    assert explain.rate_text(1, 8) == "1/8 = 12,5%"
    assert explain.rate_text(17, 17) == "17/17 = 100%"
    assert explain.rate_text(0, 0, Fraction(1)) == "0/0 (zero denominator: counted as 100%)"


def test_regression_approximate_percentage_is_not_written_as_equal():
    """3822/2845667 was first printed '= ≈ 0,134%'."""
    assert explain.rate_text(3822, 2845667) == "3822/2845667 ≈ 0,134%"
    assert explain.rate_text(18, 130) == "18/130 ≈ 13,85%"
    assert explain.rate_text(1, 3) == "1/3 ≈ 33,33%"


@given(st.integers(0, 10 ** 9), st.integers(1, 10 ** 9))
@settings(max_examples=300, deadline=None)
def test_percent_text_is_exact_or_marked_approximate(n, d):
    f = Fraction(n, d)
    text = explain.percent_text(f)
    assert text.endswith("%")
    number = text.removeprefix("≈ ").removesuffix("%").replace(",", ".")
    shown = Fraction(number)
    if text.startswith("≈"):
        places = len(number.split(".")[1])
        assert abs(shown - f * 100) <= Fraction(1, 2 * 10 ** places)
        assert shown == 0 or f == 0 or abs(shown) * 10 ** places >= 100 or places == 12
    else:
        assert shown == f * 100


def test_display_value_of_decimals_and_booleans():
    pack, _ = load_pack("qd-28-2025")
    lv = pack.commune
    assert explain.display_value(lv, "drug_plant_area_m2", "60.00") == "60,00"
    assert explain.display_value(lv, "on_key_route", True) == "có"
    assert explain.display_value(lv, "user_rate", "60/10000") == "60/10000 = 0,6%"
    assert explain.display_value(lv, "population", None) == "(blank)"
