"""`lanhmanh score` end to end, as a council runs it: CSV/JSON in, exit code and JSON out, read back.

Most tests use the packs the suite owns (tests/packs, written from the legal text); the domain tables
run on the shipped packs too (`--rules qd-28-2025`, `--rules xa-lanh-manh`).
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from lmtest import QD28_TEST, XLM_TEST, identity, qd28_row, shipped_or_skip, xlm_row

from lanhmanh.engine.evaluation.scoring import ENGINES
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.version import __version__

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"

UNIT_KEYS = {"unit_code", "unit_name", "unit_type", "province_code", "year", "class", "class_label", "total",
             "vetoes", "rank_province", "rank_national", "criteria"}
CRITERION_KEYS = {"id", "met", "points", "inputs", "cite"}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def pack_ref(ref) -> str:
    """What `--rules` gets: a suite pack's path, or a shipped pack's id (a missing one fails the test)."""
    path = shipped_or_skip(ref)
    return str(path) if isinstance(ref, Path) else ref


def score(run_cli, *args, engine: str | None = None):
    extra = ["--engine", engine] if engine else []
    return run_cli("score", *args, "--unit-list", "none", *extra)


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def by_code(doc: dict) -> dict:
    return {u["unit_code"]: u for u in doc["units"]}


def strip_engine(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("engine")
    return doc


# ---- the xa-lanh-manh rows used by several tests (totals worked out by hand from the points table) ---

XLM_ROWS = [
    xlm_row(1, "01"),                                        # 100, healthy
    xlm_row(2, "01", communication_sessions=6),              # 95, healthy
    xlm_row(3, "02", prostitution_hotspots=1),               # 90 with a veto: substantially reduced
    xlm_row(4, "02", new_drug_addicts=2, new_drug_addicts_prev=3),  # 95, healthy
    xlm_row(5, "02", has_annual_plan=False, tasks_assigned=False),  # 90, healthy
]
XLM_EXPECT = {  # code: (class, total, n vetoes, rank_national, rank_province)
    "00001": ("healthy", 100, 0, 1, 1),
    "00002": ("healthy", 95, 0, 2, 2),
    "00004": ("healthy", 95, 0, 2, 1),
    "00005": ("healthy", 90, 0, 4, 2),
    "00003": ("substantially_reduced", 90, 1, 5, 3),
}


def test_score_writes_the_json_described_in_the_readme(run_cli, files, workdir):
    inp = files.csv("in/xlm.csv", XLM_ROWS)
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "out.json")
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "out.json")
    assert {"pack", "inputs", "engine", "units", "provinces", "rejected", "warnings"} <= set(doc)

    pack = load_pack(XLM_TEST)[0]
    assert {k: doc["pack"][k] for k in ("id", "version", "sha256", "effective_from", "status")} == {
        "id": "xlm-test", "version": "2025.1-test", "sha256": sha256(XLM_TEST), "effective_from": "2025-01-01",
        "status": "illustrative"}
    assert doc["inputs"] == [{"path": str(inp), "sha256": sha256(inp), "rows": len(XLM_ROWS)}]
    assert doc["engine"] == {"name": "durable", "version": __version__}
    assert doc["rejected"] == [] and doc["warnings"] == []

    units = doc["units"]
    assert [u["unit_code"] for u in units] == ["00001", "00002", "00004", "00005", "00003"]
    for u in units:
        assert UNIT_KEYS <= set(u), UNIT_KEYS - set(u)
        assert [c["id"] for c in u["criteria"]] == list(pack.commune.criteria)
        for c in u["criteria"]:
            assert CRITERION_KEYS <= set(c)
            assert isinstance(c["met"], bool) and isinstance(c["points"], int) and isinstance(c["inputs"], dict)
        assert u["total"] == sum(c["points"] for c in u["criteria"])
        assert u["year"] == 2025 and u["unit_type"] == "xã"
        cls, total, nveto, rank_n, rank_p = XLM_EXPECT[u["unit_code"]]
        assert (u["class"], u["total"], len(u["vetoes"]), u["rank_national"], u["rank_province"]) == \
               (cls, total, nveto, rank_n, rank_p), u["unit_code"]
    assert by_code(doc)["00001"]["class_label"] == "Lành mạnh"
    assert by_code(doc)["00003"]["class_label"] == "Làm giảm cơ bản"
    b2 = next(c for c in units[0]["criteria"] if c["id"] == "B2")
    assert b2["inputs"] == {"villages_reached": 10, "villages_total": 10, "reached_share": "10/10"}
    assert b2["met"] is True and b2["points"] == 5
    assert {p["province_code"] for p in doc["provinces"]} == {"01", "02"}


def test_units_in_national_rank_order_and_rank_province_per_province(run_cli, files, workdir):
    inp = files.csv("xlm.csv", XLM_ROWS)
    assert score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json").exit_code == 0
    units = read_json(workdir / "o.json")["units"]
    ranks = [u["rank_national"] for u in units]
    assert ranks == sorted(ranks) and ranks[0] == 1
    for prov in {u["province_code"] for u in units}:
        mine = [u["rank_province"] for u in units if u["province_code"] == prov]
        assert mine == sorted(mine) and mine[0] == 1


def test_ties_share_ranks(run_cli, files, workdir):
    rows = [xlm_row(1, "01", communication_sessions=6),  # 95
            xlm_row(2, "02"),  # 100
            xlm_row(3, "01", communication_sessions=6, villages_reached=8),  # 93: B1 5, B2 3
            xlm_row(4, "02", new_drug_addicts=1, new_drug_addicts_prev=2)]  # 95
    inp = files.csv("ties.csv", rows)
    assert score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json").exit_code == 0
    units = read_json(workdir / "o.json")["units"]
    assert [(u["unit_code"], u["total"], u["rank_national"]) for u in units] == [
        ("00002", 100, 1), ("00001", 95, 2), ("00004", 95, 2), ("00003", 93, 4)]
    assert {u["unit_code"]: u["rank_province"] for u in units} == {"00002": 1, "00004": 2, "00001": 1, "00003": 2}


def test_qd28_ties_break_on_exact_rates(run_cli, files, workdir):
    # type III communes: lower user_rate first, then lower arrest_rate; 1/1000 == 3/3000 exactly
    rows = [qd28_row(1, population=1000, users_with_records=1, resident_users_untreated=1),
            qd28_row(2, population=3000, users_with_records=3, resident_users_untreated=1),
            qd28_row(3, population=3001, users_with_records=3, resident_users_untreated=1),
            qd28_row(4, population=1000, users_with_records=0, resident_users_untreated=1),
            qd28_row(5)]
    inp = files.csv("r.csv", rows)
    result = score(run_cli, str(inp), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    assert result.exit_code == 0, result.output
    units = read_json(workdir / "o.json")["units"]
    assert [(u["unit_code"], u["class"], u["rank_national"]) for u in units] == [
        ("00005", "drug_free", 1), ("00004", "type_3", 2), ("00003", "type_3", 3), ("00001", "type_3", 4),
        ("00002", "type_3", 4)]
    assert units[0]["total"] is None


def test_qd28_json_has_provinces_and_citations(run_cli, files, workdir):
    rows = [qd28_row(1, users_with_records=50, drug_arrests=10, harbouring_points=2, resident_users_untreated=3),
            qd28_row(2)]
    rows.append({**identity("", name="Tỉnh", unit_type="tỉnh"), "on_interprovincial_route": "có"})
    inp = files.csv("q.csv", rows)
    result = score(run_cli, str(inp), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    u = by_code(doc)["00001"]
    assert u["class"] == "type_1" and u["class_label"] == "Loại I"
    ia = next(c for c in u["criteria"] if c["id"] == "I.a")
    assert ia["met"] is True
    assert ia["cite"] == "QĐ 28/2025/QĐ-TTg, Điều 4, khoản 1, điểm a"
    assert ia["inputs"]["users_with_records"] == 50 and ia["inputs"]["population"] == 10000
    assert ia["inputs"]["user_rate"] in ("50/10000", "1/200")
    [p] = doc["provinces"]
    assert p["province_code"] == "01" and p["class"] in ("key_area", "not_key_area")
    pack = load_pack(QD28_TEST)[0]
    assert [c["id"] for c in p["criteria"]] == list(pack.province.criteria)
    for c in p["criteria"]:
        assert CRITERION_KEYS <= set(c)
    pe = next(c for c in p["criteria"] if c["id"] == "P.6")
    assert pe["met"] is True


# ---- rejected rows ------------------------------------------------------------------------------

def test_bad_rows_exit_1_are_listed_and_the_rest_is_scored(run_cli, files, workdir):
    rows = [xlm_row(1), xlm_row(2, communication_sessions="mười"), xlm_row(3),
            xlm_row(4, villages_reached=12), xlm_row(5, has_annual_plan="có lẽ")]
    inp = files.csv("bad.csv", rows)
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json")
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00003"]
    rej = {(r["row"], r["column"]): r for r in doc["rejected"]}
    # row numbers as a person sees them in the file: the header is line 1
    assert set(rej) == {(3, "communication_sessions"), (5, "villages_reached"), (6, "has_annual_plan")}
    for r in doc["rejected"]:
        assert set(r) >= {"path", "row", "column", "value", "reason"}
        assert r["path"] == str(inp) and r["reason"]
    assert rej[(3, "communication_sessions")]["value"] == "mười"
    assert rej[(6, "has_annual_plan")]["value"] == "có lẽ"
    assert "mười" in result.output


def test_every_row_rejected_still_exits_1_with_json(run_cli, files, workdir):
    inp = files.csv("allbad.csv", [xlm_row(1, villages_total=0)])
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json")
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert doc["units"] == [] and len(doc["rejected"]) == 1


def test_duplicate_unit_across_files(run_cli, files, workdir):
    a = files.csv("in/a.csv", [xlm_row(1), xlm_row(2)])
    b = files.csv("in/b.csv", [xlm_row(2, communication_sessions=0)])
    result = score(run_cli, str(files.root / "in"), "--rules", str(XLM_TEST), "--json", "o.json")
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert [i["path"] for i in doc["inputs"]] == [str(a), str(b)]
    [r] = doc["rejected"]
    assert r["path"] == str(b) and r["row"] == 2 and r["column"] == "unit_code"
    assert str(a) in r["reason"] and "row 3" in r["reason"]
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00002"]


def test_strict_aborts_before_writing(run_cli, files, workdir):
    inp = files.csv("bad.csv", [xlm_row(1), xlm_row(2, communication_sessions="-3")])
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json", "--strict")
    assert result.exit_code == 1, result.output
    assert not (workdir / "o.json").exists()
    assert "communication_sessions" in result.output
    assert list(workdir.iterdir()) == []


def test_strict_with_clean_input_scores(run_cli, files, workdir):
    inp = files.csv("ok.csv", XLM_ROWS)
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json", "--strict")
    assert result.exit_code == 0, result.output
    assert len(read_json(workdir / "o.json")["units"]) == len(XLM_ROWS)


# ---- unreadable inputs and invalid rules: nothing written -----------------------------------------

@pytest.mark.parametrize("kind", ["empty", "missing", "xls", "xlsx", "header only", "txt", "empty folder",
                                  "bad json", "json not a list"])
def test_unreadable_input_exits_4_alone_and_is_rejected_beside_good_input(run_cli, files, workdir, kind):
    if kind == "empty":
        inp = files.text("e.csv", "")
    elif kind == "missing":
        inp = files.root / "nope.csv"
    elif kind == "xls":
        inp = files.text("sheet.xls", "not really a workbook")
    elif kind == "xlsx":
        inp = files.text("sheet.xlsx", "not really a workbook")
    elif kind == "header only":
        inp = files.text("h.csv", ",".join(xlm_row()) + "\n")
    elif kind == "txt":
        inp = files.text("data.txt", "a,b\n1,2\n")
    elif kind == "empty folder":
        inp = files.root / "nothing"
        inp.mkdir()
    elif kind == "bad json":
        inp = files.text("b.json", '{"units": [')
    else:
        inp = files.text("n.json", '{"a": 1}')
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json", "--out", "o.xlsx")
    assert result.exit_code == 4, result.output
    assert list(workdir.iterdir()) == []
    assert str(inp) in result.output
    # beside a readable file (README, "Files that cannot be read"): a missing file, an empty folder
    # or a file that cannot be read is listed as rejected, the others are scored, exit 1
    good = files.csv("good.csv", [xlm_row(9)])
    result = score(run_cli, str(good), str(inp), "--rules", str(XLM_TEST), "--json", "o.json")
    assert str(inp) in result.output
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert [u["unit_code"] for u in doc["units"]] == ["00009"]
    assert [(r["path"], r["row"]) for r in doc["rejected"]] == [(str(inp), None)]
    assert "cannot be read" in doc["rejected"][0]["reason"]


def test_invalid_rule_file_exits_3_and_writes_nothing(run_cli, files, workdir):
    rules = files.rules("bad.yaml", XLM_TEST.read_text(encoding="utf-8").replace(
        "when: communication_sessions >= 12", "when: comunication_sessions >= 12"))
    inp = files.csv("x.csv", XLM_ROWS)
    result = score(run_cli, str(inp), "--rules", str(rules), "--json", "o.json")
    assert result.exit_code == 3, result.output
    assert not (workdir / "o.json").exists()
    assert f"{rules}:" in result.output and "comunication_sessions" in result.output


def test_unknown_pack_id_exits_3(run_cli, files, workdir):
    inp = files.csv("x.csv", XLM_ROWS)
    result = score(run_cli, str(inp), "--rules", "xa-lanh-manhh", "--json", "o.json")
    assert result.exit_code == 3, result.output
    assert not (workdir / "o.json").exists()


def test_usage_errors_exit_2(run_cli, files):
    inp = files.csv("x.csv", XLM_ROWS)
    assert run_cli("score", str(inp)).exit_code == 2  # --rules missing
    assert run_cli("score", str(inp), "--rules", str(XLM_TEST), "--engine", "drools").exit_code == 2
    assert run_cli("score", "--rules", str(XLM_TEST)).exit_code == 2  # no input
    assert run_cli("score", "--help").exit_code == 0


# ---- engines agree; output forms ------------------------------------------------------------------

@pytest.mark.parametrize("pack, rows", [
    (XLM_TEST, XLM_ROWS + [xlm_row(6, "03", villages_total=3, villages_reached=2, villages_healthy=2,
                                   businesses_conditional=0, businesses_inspected=0, sex_workers_known=3,
                                   sex_workers_supported=2, addicts_total=7, addicts_managed=6,
                                   harbouring_points=2, new_drug_addicts=1, new_drug_addicts_prev="")]),
    (QD28_TEST, [qd28_row(1), qd28_row(2, users_with_records=50, drug_arrests=10, harbouring_points=2,
                                        resident_users_untreated=1),
                 qd28_row(3, "02", users_with_records=10, on_key_route=True, drug_plant_area_m2="125",
                          resident_drug_violators=1),
                 qd28_row(4, "02", drug_plants=499, drug_plant_area_m2="124,99", wanted_drug_fugitives=1)]),
], ids=["xlm-test", "qd28-test"])
def test_both_engines_give_identical_json(run_cli, files, workdir, pack, rows):
    inp = files.csv("in.csv", rows)
    docs = {}
    for engine in ENGINES:
        result = score(run_cli, str(inp), "--rules", str(pack), "--json", f"{engine}.json", engine=engine)
        assert result.exit_code == 0, result.output
        docs[engine] = read_json(workdir / f"{engine}.json")
        assert docs[engine]["engine"]["name"] == engine
    assert strip_engine(docs["durable"]) == strip_engine(docs["python"])


def test_json_to_stdout(run_cli, files, workdir):
    inp = files.csv("x.csv", XLM_ROWS)
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "-")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)  # the summary goes to stderr: stdout is the JSON alone
    assert [u["unit_code"] for u in doc["units"]] == ["00001", "00002", "00004", "00005", "00003"]
    assert list(workdir.iterdir()) == []
    assert score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json").exit_code == 0
    assert read_json(workdir / "o.json") == doc


def test_without_json_prints_a_summary(run_cli, files, workdir):
    inp = files.csv("x.csv", XLM_ROWS)
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST))
    assert result.exit_code == 0, result.output
    assert "5 unit(s) scored" in result.stdout
    assert "healthy" in result.stdout
    assert list(workdir.iterdir()) == []


def test_json_input_scores_like_csv(run_cli, files, workdir):
    csv_in = files.csv("x.csv", XLM_ROWS)
    rows = [{k: v for k, v in r.items()} for r in XLM_ROWS]
    json_in = files.json("x.json", rows)
    assert score(run_cli, str(csv_in), "--rules", str(XLM_TEST), "--json", "a.json").exit_code == 0
    assert score(run_cli, str(json_in), "--rules", str(XLM_TEST), "--json", "b.json").exit_code == 0
    a, b = read_json(workdir / "a.json"), read_json(workdir / "b.json")
    for doc in (a, b):
        for u in doc["units"]:
            u.pop("source", None)
    assert a["units"] == b["units"]
    assert b["inputs"][0]["sha256"] == sha256(json_in)
    wrapped = files.json("w.json", {"units": rows})
    assert score(run_cli, str(wrapped), "--rules", str(XLM_TEST), "--json", "c.json").exit_code == 0
    assert len(read_json(workdir / "c.json")["units"]) == len(rows)


def test_json_input_decimals_stay_exact(run_cli, files, workdir):
    p = files.text("q.json", json.dumps([qd28_row(1, drug_plant_area_m2=0)]).replace(
        '"drug_plant_area_m2": 0', '"drug_plant_area_m2": 749.99'))
    result = score(run_cli, str(p), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    assert result.exit_code == 0, result.output
    ev = {c["id"]: c for c in read_json(workdir / "o.json")["units"][0]["criteria"]}
    assert ev["I.d"]["met"] is False and ev["II.d"]["met"] is True
    assert ev["I.d"]["inputs"]["drug_plant_area_m2"] == "749.99"


def test_vietnamese_label_headers_semicolons_and_unknown_columns(run_cli, files, workdir):
    pack = load_pack(XLM_TEST)[0]
    labels = {k: ind.label for k, ind in pack.commune.indicators.items()}
    rows = [{labels.get(k, k): v for k, v in r.items()} for r in XLM_ROWS]
    for r in rows:
        r["Ghi chú"] = "kiểm tra"
    inp = files.csv("vn.csv", rows, delimiter=";")
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json")
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert {u["unit_code"]: u["total"] for u in doc["units"]} == {c: e[1] for c, e in XLM_EXPECT.items()}
    assert [w["column"] for w in doc["warnings"]] == ["Ghi chú"]
    assert all(u["extra"] == {"Ghi chú": "kiểm tra"} for u in doc["units"])


def test_unclassified_units_are_reported_and_ranked_last(run_cli, files, workdir):
    rules = files.rules("literal.yaml", """\
pack: {id: lit, title: L, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  n: {label: N, type: integer, min: 0}
criteria:
  A: {title: A, when: n >= 3}
  B: {title: B, when: n == 0}
classes:
  - {id: high, label: Cao, when: A}
  - {id: none, label: Không, when: B}
""")
    inp = files.csv("u.csv", [{**identity(1), "n": 1}, {**identity(2), "n": 0}, {**identity(3), "n": 5}])
    for engine in ENGINES:
        result = score(run_cli, str(inp), "--rules", str(rules), "--json", f"{engine}.json", engine=engine)
        assert result.exit_code == 0, result.output
        doc = read_json(workdir / f"{engine}.json")
        assert [(u["unit_code"], u["class"], u["rank_national"]) for u in doc["units"]] == [
            ("00003", "high", 1), ("00002", "none", 2), ("00001", "unclassified", 3)]
        assert doc["units"][2]["class_label"]
        assert any("00001" in w["message"] and "unclassified" in w["message"] for w in doc["warnings"])


# ---- domain tables: what the legal text says each pack must decide -------------------------------

QD28_TABLE = [  # (code, province, overrides, class) — cumulative reading of QĐ 28/2025
    (1, "01", {}, "drug_free"),
    (2, "01", {"resident_users_untreated": 1}, "type_3"),
    (3, "01", {"harbouring_points": 1}, "type_3"),
    (4, "01", {"users_with_records": 50, "harbouring_points": 2, "drug_arrests": 10}, "type_1"),
    (5, "01", {"users_with_records": 49, "harbouring_points": 1, "drug_arrests": 5}, "type_2"),
    (6, "01", {"users_with_records": 10, "on_key_route": True, "resident_drug_violators": 1}, "type_3"),
    (7, "01", {"users_with_records": 10, "on_key_route": True, "drug_plants": 500,
               "resident_drug_violators": 1}, "type_2"),
    # the fall-through example: 0.6%, 0.2%, 600 plants on 200 m², no point, no route → type II when read
    # cumulatively (unclassified when read literally)
    (8, "01", {"users_with_records": 60, "drug_arrests": 20, "drug_plants": 600, "drug_plant_area_m2": "200",
               "wanted_drug_fugitives": 1}, "type_2"),
    (9, "01", {"users_with_records": 50, "drug_arrests": 10, "drug_plant_area_m2": "750",
               "resident_users_untreated": 1}, "type_1"),
    (10, "01", {"users_with_records": 50, "drug_arrests": 10, "drug_plant_area_m2": "749,99",
                "resident_users_untreated": 1}, "type_2"),
    # I.đ: two type-II-or-higher criteria and the route, with I.b and I.d
    (11, "01", {"users_with_records": 10, "drug_arrests": 5, "on_key_route": True, "harbouring_points": 2,
                "drug_plants": 3000}, "type_1"),
    (12, "01", {"users_with_records": 10, "drug_arrests": 5, "on_key_route": False, "harbouring_points": 2,
                "drug_plants": 3000}, "type_2"),
    # exact rate thresholds: 10/2000 = 0.5%, 2/2000 = 0.1%; one less misses
    (13, "01", {"population": 2000, "users_with_records": 10, "drug_arrests": 2, "harbouring_points": 2},
     "type_1"),
    (14, "01", {"population": 2000, "users_with_records": 9, "drug_arrests": 1, "harbouring_points": 2}, "type_2"),
    (15, "01", {"population": 2001, "users_with_records": 10, "drug_arrests": 2, "harbouring_points": 2},
     "type_2"),
    (16, "01", {"drug_plants": 2999, "drug_plant_area_m2": "749.99", "harbouring_points": 2, "drug_arrests": 10},
     "type_2"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ref", [QD28_TEST, "qd-28-2025"], ids=["qd28-test", "qd-28-2025"])
def test_qd28_domain_table(run_cli, files, workdir, ref, engine):
    rules = pack_ref(ref)
    rows = [qd28_row(code, prov, **over) for code, prov, over, _ in QD28_TABLE]
    inp = files.csv("t.csv", rows)
    result = score(run_cli, str(inp), "--rules", rules, "--json", "o.json", engine=engine)
    assert result.exit_code == 0, result.output
    got = {u["unit_code"]: u["class"] for u in read_json(workdir / "o.json")["units"]}
    want = {f"{code:05d}": cls for code, _, _, cls in QD28_TABLE}
    wrong = {c: (want[c], got.get(c)) for c in want if got.get(c) != want[c]}
    assert not wrong, f"(expected, got) by unit: {wrong}"


def _province_rows():
    """Province 01: sums reach P.1, P.2, P.3, P.4 and the province row gives the route → key area.
    Provinces 03 and 04: 34 communes, one of type I (1/34 < 3%): P.1, P.2, P.3 only → not key,
    unless the province row gives the route (04) → 4 of 6 → key area. Province 02: drug-free."""
    rows = [qd28_row(101, "01", users_with_records=20, harbouring_points=3, drug_arrests=5),
            qd28_row(102, "01", users_with_records=20, harbouring_points=2, drug_arrests=5),
            {**identity("", name="Tỉnh 01", unit_type="tỉnh", province="01"), "on_interprovincial_route": "có"},
            qd28_row(201, "02")]
    for prov in ("03", "04"):
        rows.append(qd28_row(int(prov) * 100 + 1, prov, users_with_records=680, harbouring_points=5,
                             drug_arrests=170))
        rows += [qd28_row(int(prov) * 100 + i, prov) for i in range(2, 35)]
    rows.append({**identity("", name="Tỉnh 04", unit_type="tỉnh", province="04"), "on_interprovincial_route": "x"})
    return rows


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ref", [QD28_TEST, "qd-28-2025"], ids=["qd28-test", "qd-28-2025"])
def test_qd28_province_table(run_cli, files, workdir, ref, engine):
    rules = pack_ref(ref)
    inp = files.csv("p.csv", _province_rows())
    result = score(run_cli, str(inp), "--rules", rules, "--json", "o.json", engine=engine)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    got = {p["province_code"]: p["class"] for p in doc["provinces"]}
    # province 02's only commune is drug-free: the shipped pack's province drug-free class (Điều 7
    # khoản 2, read as Điều 6 for every commune); the test pack has no such class
    drug_free = "drug_free" if ref == "qd-28-2025" else "not_key_area"
    assert got == {"01": "key_area", "02": drug_free, "03": "not_key_area", "04": "key_area"}
    assert len(doc["units"]) == 2 + 1 + 34 + 34


def _share_rows():
    """Province 06: 100 communes, 3 of type I → exactly 3% (P.4 met) with P.1, P.2, P.3 → key area.
    Province 07: the same and one more drug-free commune → 3/101 < 3% → 3 of 6 → not a key area.
    Province 08: province 01's communes, but the province row supplies a population of 10,000,000,
    which replaces the sum: P.1 and P.3 fail → P.2, P.4, P.6 → not a key area."""
    rows = []
    for prov, n in (("06", 100), ("07", 101)):
        base = int(prov) * 1000
        rows += [qd28_row(base + i, prov, users_with_records=700, harbouring_points=2, drug_arrests=340)
                 for i in range(1, 4)]
        rows += [qd28_row(base + i, prov) for i in range(4, n + 1)]
    rows += [qd28_row(8001, "08", users_with_records=20, harbouring_points=3, drug_arrests=5),
             qd28_row(8002, "08", users_with_records=20, harbouring_points=2, drug_arrests=5),
             {**identity("", name="Tỉnh 08", unit_type="tỉnh", province="08"), "on_interprovincial_route": "có",
              "population": 10_000_000}]
    return rows


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ref", [QD28_TEST, "qd-28-2025"], ids=["qd28-test", "qd-28-2025"])
def test_qd28_province_share_boundary_and_supplied_figures(run_cli, files, workdir, ref, engine):
    rules = pack_ref(ref)
    inp = files.csv("s.csv", _share_rows())
    result = score(run_cli, str(inp), "--rules", rules, "--json", "o.json", engine=engine)
    assert result.exit_code == 0, result.output
    provs = {p["province_code"]: p for p in read_json(workdir / "o.json")["provinces"]}
    assert {k: p["class"] for k, p in provs.items()} == {"06": "key_area", "07": "not_key_area",
                                                         "08": "not_key_area"}
    assert provs["06"]["class_counts"] == {"type_1": 3, "drug_free": 97}
    assert provs["08"]["supplied"] == ["population"]


XLM_TABLE = [  # (code, overrides, class, total) — xa-lanh-manh points, the points table of the pack's docs
    (1, {}, "healthy", 100),
    (2, {"prostitution_hotspots": 1}, "substantially_reduced", 90),  # vetoed: cannot be healthy
    (3, {"harbouring_points": 1, "prostitution_hotspots": 1}, "substantially_reduced", 80),
    (4, {"communication_sessions": 6, "businesses_inspected": 2}, "healthy", 90),  # exactly 90
    (5, {"communication_sessions": 6, "businesses_inspected": 2, "villages_reached": 8}, "substantially_reduced",
     88),
    (6, {"has_annual_plan": False, "tasks_assigned": False, "communication_sessions": 5,
         "businesses_inspected": 2}, "substantially_reduced", 75),  # exactly 75
    (7, {"has_annual_plan": False, "tasks_assigned": False, "communication_sessions": 5,
         "businesses_inspected": 2, "villages_reached": 8}, "not_met", 73),
    # zero denominators earn the full points
    (8, {"businesses_conditional": 0, "businesses_inspected": 0, "violations_detected": 0,
         "addicts_total": 0, "sex_workers_known": 0}, "healthy", 100),
    # bands at their edges
    (9, {"communication_sessions": 11}, "healthy", 95),
    (10, {"communication_sessions": 12, "villages_total": 5, "villages_reached": 4, "villages_healthy": 5},
     "healthy", 98),  # B2: 80% → 3
    (11, {"villages_total": 100, "villages_reached": 79, "villages_healthy": 70}, "healthy", 95),  # B2: 79% → 0
    (12, {"villages_total": 100, "villages_reached": 100, "villages_healthy": 69}, "healthy", 95),  # F1 69% → 5
    (13, {"villages_healthy": 5}, "healthy", 95),  # F1 50% → 5
    (14, {"villages_total": 100, "villages_reached": 100, "villages_healthy": 49}, "healthy", 90),  # F1 → 0
    (15, {"businesses_conditional": 3, "businesses_inspected": 1}, "healthy", 90),  # C1 33% → 0
    (16, {"violations_detected": 5, "violations_handled": 4}, "healthy", 95),  # C2 80% → 5
    (17, {"violations_detected": 100, "violations_handled": 79}, "healthy", 90),  # C2 79% → 0
    (18, {"new_drug_addicts": 2, "new_drug_addicts_prev": 3}, "healthy", 95),  # D1 fewer than last year → 5
    (19, {"new_drug_addicts": 3, "new_drug_addicts_prev": 3}, "healthy", 90),  # D1 same → 0
    (20, {"new_drug_addicts": 2, "new_drug_addicts_prev": None}, "healthy", 90),  # D1 no last year → 0
    (21, {"addicts_total": 10, "addicts_managed": 9}, "healthy", 100),  # D2 90% → 5
    (22, {"addicts_total": 100, "addicts_managed": 89}, "healthy", 95),  # D2 89% → 0
    (23, {"sex_workers_known": 2, "sex_workers_supported": 1}, "healthy", 100),  # E2 50% → 5
    (24, {"sex_workers_known": 3, "sex_workers_supported": 1}, "healthy", 95),  # E2 33% → 0
    (25, {"venues_prostitution_violations": 1}, "healthy", 95),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ref", [XLM_TEST, "xa-lanh-manh"], ids=["xlm-test", "xa-lanh-manh"])
def test_xlm_domain_table(run_cli, files, workdir, ref, engine):
    rules = pack_ref(ref)
    rows = [xlm_row(code, **over) for code, over, _, _ in XLM_TABLE]
    inp = files.csv("t.csv", rows)
    result = score(run_cli, str(inp), "--rules", rules, "--json", "o.json", engine=engine)
    assert result.exit_code == 0, result.output
    got = {u["unit_code"]: (u["class"], u["total"]) for u in read_json(workdir / "o.json")["units"]}
    want = {f"{code:05d}": (cls, total) for code, _, cls, total in XLM_TABLE}
    wrong = {c: (want[c], got.get(c)) for c in want if got.get(c) != want[c]}
    assert not wrong, f"(expected, got) by unit: {wrong}"


# ---- the bundled examples ---------------------------------------------------------------------

def example(name: str) -> Path:
    p = EXAMPLES / name
    assert p.exists(), f"the bundled sample examples/{name} is missing"
    return p


@pytest.mark.parametrize("name, pack", [("nghe-an-2025-ma-tuy.csv", "qd-28-2025"),
                                        ("nghe-an-2025-lanh-manh.csv", "xa-lanh-manh")])
def test_examples_score_the_same_on_both_engines(run_cli, workdir, name, pack):
    example_file = example(name)
    rules = pack_ref(pack)
    docs = {}
    for engine in ENGINES:
        result = score(run_cli, str(example_file), "--rules", rules, "--json", f"{engine}.json", engine=engine)
        assert result.exit_code == 0, result.output  # the bundled sample is clean
        docs[engine] = read_json(workdir / f"{engine}.json")
    assert strip_engine(docs["durable"]) == strip_engine(docs["python"])
    doc = docs["python"]
    assert doc["inputs"][0]["sha256"] == sha256(example_file)
    assert doc["units"], "the example scored no unit"
    codes = [u["unit_code"] for u in doc["units"]]
    assert len(codes) == len(set(codes))
    assert all(len(c) == 5 and c.isdigit() for c in codes)


# ---- the literal reading of QĐ 28 --------------------------------------------------------------

@pytest.mark.parametrize("engine", ENGINES)
def test_qd28_literal_reading_reports_unclassified_communes(run_cli, files, workdir, engine):
    """The legal text read literally: the example commune (0.6%, 0.2%, 600 plants on 200 m², no point,
    no route) reaches no class: it is reported as `unclassified` with a warning and ranked last. On 0 m²
    it meets III.c ("dưới 500 cây ... hoặc ... dưới 125 m2": the area is below 125) and is type III."""
    rules = pack_ref("qd-28-2025-literal")
    table = {1: ({}, "drug_free"),
             2: ({"resident_users_untreated": 1}, "type_3"),
             4: ({"users_with_records": 50, "harbouring_points": 2, "drug_arrests": 10}, "type_1"),
             5: ({"users_with_records": 49, "harbouring_points": 1, "drug_arrests": 5}, "type_2"),
             8: ({"users_with_records": 60, "drug_arrests": 20, "drug_plants": 600, "drug_plant_area_m2": "200",
                  "wanted_drug_fugitives": 1}, "unclassified"),
             9: ({"users_with_records": 60, "drug_arrests": 20, "drug_plants": 600, "wanted_drug_fugitives": 1},
                 "type_3")}
    inp = files.csv("lit.csv", [qd28_row(code, **over) for code, (over, _) in table.items()])
    result = score(run_cli, str(inp), "--rules", rules, "--json", "o.json", engine=engine)
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert {u["unit_code"]: u["class"] for u in doc["units"]} == {f"{c:05d}": cls for c, (_, cls) in table.items()}
    assert doc["units"][-1]["unit_code"] == "00008"
    assert doc["units"][-1]["rank_national"] == len(table)
    assert any("00008" in w["message"] for w in doc["warnings"])


# ---- columns that collide or have no header ----------------------------------------------------

def _qd28_header():
    return list(qd28_row())


def test_bug_duplicate_column_silently_overrides(run_cli, files, workdir):
    """A header that names `population` twice: the second column silently wins (population 1
    instead of 10,000 → user rate 5000% → type I), and nothing says so. Expected: the clash is
    reported — the file refused (exit 4), the rows rejected (exit 1), or at least a warning."""
    header = _qd28_header() + ["population"]
    row = qd28_row(1, users_with_records=50, harbouring_points=2, drug_arrests=10, resident_users_untreated=1)
    inp = files.text("dup.csv", ",".join(header) + "\n" +
                     ",".join(str(row[h]) if h != "on_key_route" else "không" for h in header[:-1]) + ",1\n")
    result = score(run_cli, str(inp), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    if result.exit_code in (1, 4):
        return
    doc = read_json(workdir / "o.json")
    ia = next(c for c in by_code(doc)["00001"]["criteria"] if c["id"] == "I.a")
    assert any(w["column"] == "population" for w in doc["warnings"]), \
        f"population given twice, silently read as {ia['inputs']}"


def test_bug_id_and_label_columns_for_the_same_indicator(run_cli, files, workdir):
    """`population` and its Vietnamese label as two columns of one file: the later column silently
    replaces the earlier. Expected: the clash is reported (exit 4 or 1, or a warning)."""
    pack = load_pack(QD28_TEST)[0]
    label = pack.commune.indicators["population"].label
    rows = [{**qd28_row(1, users_with_records=50, harbouring_points=2, drug_arrests=10,
                        resident_users_untreated=1), label: 100000}]
    inp = files.csv("lab.csv", rows)
    result = score(run_cli, str(inp), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    if result.exit_code in (1, 4):
        return
    doc = read_json(workdir / "o.json")
    assert any(w["column"] in ("population", label) for w in doc["warnings"]), \
        f"two population columns, one silently dropped: class {doc['units'][0]['class']}"


def test_bug_cell_beyond_the_header_is_not_reported(run_cli, files, workdir):
    """A row with one cell more than the header (a shifted row, an unquoted comma): the cell is kept
    as `(column 25)` but no warning says so. The README: unknown columns are reported as warnings."""
    header = list(xlm_row())
    inp = files.text("extra.csv", ",".join(header) + "\n" +
                     ",".join("có" if v is True else "" if v is None else str(v) for v in xlm_row().values())
                     + ",thừa\n")
    result = score(run_cli, str(inp), "--rules", str(XLM_TEST), "--json", "o.json")
    assert result.exit_code in (0, 1), result.output
    doc = read_json(workdir / "o.json")
    assert any(w["row"] == 2 or "thừa" in w["message"] for w in doc["warnings"]) or doc["rejected"], doc["warnings"]


# What examples/README.md says the samples come out as: a newcomer's first run must show it.

def _counts(doc) -> dict:
    out: dict = {}
    for u in doc["units"]:
        out[u["class"]] = out.get(u["class"], 0) + 1
    return out


def test_example_ma_tuy_matches_its_readme(run_cli, workdir):
    inp = example("nghe-an-2025-ma-tuy.csv")
    result = score(run_cli, str(inp), "--rules", pack_ref("qd-28-2025"), "--json", "o.json")
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert len(doc["units"]) == 130
    assert _counts(doc) == {"drug_free": 24, "type_3": 88, "type_2": 13, "type_1": 5}
    assert [(p["province_code"], p["class"]) for p in doc["provinces"]] == [("40", "key_area")]
    assert by_code(doc)["16858"]["class"] == "type_2"  # Xã Mường Típ: the fall-through example


def test_example_ma_tuy_literal_reading(run_cli, workdir):
    inp = example("nghe-an-2025-ma-tuy.csv")
    result = score(run_cli, str(inp), "--rules", pack_ref("qd-28-2025-literal"), "--json", "o.json")
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    assert by_code(doc)["16858"]["class"] == "unclassified"
    assert doc["units"][-1]["class"] == "unclassified"
    assert any("16858" in w["message"] for w in doc["warnings"])


def test_example_lanh_manh_matches_its_readme(run_cli, workdir):
    inp = example("nghe-an-2025-lanh-manh.csv")
    result = score(run_cli, str(inp), "--rules", pack_ref("xa-lanh-manh"), "--json", "o.json")
    assert result.exit_code == 0, result.output
    doc = read_json(workdir / "o.json")
    units = doc["units"]
    assert len(units) == 130
    assert sum(u["class"] == "healthy" for u in units) == 45
    assert sum(bool(u["vetoes"]) for u in units) == 23
    assert sum(u["total"] < 75 for u in units) == 34
    assert all(u["class"] != "healthy" for u in units if u["vetoes"])
    assert sum(1 for u in units if u["vetoes"] and u["total"] == 90) == 4


def test_example_bad_rows_matches_its_readme(run_cli, workdir):
    inp = example("bad-rows.csv")
    result = score(run_cli, str(inp), "--rules", pack_ref("xa-lanh-manh"), "--json", "o.json")
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sorted((r["row"], r["column"]) for r in doc["rejected"]) == [
        (4, "new_drug_addicts"), (5, "communication_sessions"), (6, "villages_reached"), (7, "unit_type"),
        (8, "unit_code")]
    assert sorted(u["unit_code"] for u in doc["units"]) == ["17329", "17464", "17506"]
    strict = score(run_cli, str(inp), "--rules", pack_ref("xa-lanh-manh"), "--json", "s.json", "--strict")
    assert strict.exit_code == 1 and not (workdir / "s.json").exists()


# ---- the calendar -------------------------------------------------------------------------------

def test_bug_pack_applied_to_a_year_before_it_is_in_force(run_cli, files, workdir):
    """The legal text's calendar: a pack applies to a batch year when it is in force on the last day of
    that year's period (15 Dec of the year before to 14 Dec). QĐ 28/2025 (in force from 24 Aug
    2025) does not apply to 2024 (period ending 14 Dec 2024). Rows of year 2024 were scored with
    it silently. Now a batch is one year: rows of 2024 beside rows of 2025 are refused (exit 2,
    nothing written), and a 2024 batch is refused unless --force."""
    mixed = files.csv("y.csv", [qd28_row(1), {**qd28_row(2), "year": 2024}])
    result = score(run_cli, str(mixed), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    assert result.exit_code == 2, result.output
    assert "several years" in result.output and "2024" in result.output and "2025" in result.output
    assert not (workdir / "o.json").exists()
    only_2024 = files.csv("y24.csv", [{**qd28_row(1), "year": 2024}])
    result = score(run_cli, str(only_2024), "--rules", str(QD28_TEST), "--json", "o.json", engine="python")
    assert result.exit_code == 2 and "does not apply to the 2024 batch" in result.output, result.output
    assert not (workdir / "o.json").exists()
