"""`lanhmanh diff` end to end: the rule changes between two packs, and what they do to a batch.

Every effect on units is cross-checked against two `score --json` runs of the same inputs (one
per pack): the units listed, their old and new class, total and ranks, the criteria named, and
the class matrix are computed here from those two JSON files, never written down by hand.
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from lmtest import xlm_row

from lanhmanh.engine.analysis.diff import REJECTED, diff_packs, shape
from lanhmanh.engine.language import parser
from lanhmanh.engine.model.loader import RULES_DIR, load_pack

REPO = Path(__file__).resolve().parent.parent
MA_TUY = REPO / "examples" / "nghe-an-2025-ma-tuy.csv"
LANH_MANH = REPO / "examples" / "nghe-an-2025-lanh-manh.csv"
XLM_2025 = str(RULES_DIR / "xa-lanh-manh.yaml")  # version 2025.1, the one pack_copy copies (diff takes an id's newest)


# ---- helpers ----------------------------------------------------------------------------------------

def diff_json(run_cli, *args, exit_code: int = 0) -> dict:
    result = run_cli("diff", *args, "--format", "json")
    assert result.exit_code == exit_code, result.output
    return json.loads(result.stdout)


def score_json(run_cli, workdir: Path, rules, inputs, name: str, *extra, exit_code: int = 0) -> dict:
    out = workdir / f"{name}.json"
    result = run_cli("score", *inputs, "--rules", rules, "--json", out, *extra)
    assert result.exit_code == exit_code, result.output
    return json.loads(out.read_text(encoding="utf-8"))


def by_code(doc: dict) -> dict:
    return {u["unit_code"]: u for u in doc["units"]}


def crit_results(unit: dict) -> dict:
    return {c["id"]: (c["met"], c["points"]) for c in unit["criteria"]}


def expected_changes(old: dict, new: dict) -> dict:
    """From two score JSONs: code → (change kind, criteria ids that differ) for every unit scored by
    both whose class, total, vetoes, ranks or criteria differ."""
    olds, news = by_code(old), by_code(new)
    out = {}
    for code, o in olds.items():
        n = news.get(code)
        if n is None:
            continue
        oc, nc = crit_results(o), crit_results(n)
        crit = {i for i in {*oc, *nc} if oc.get(i) != nc.get(i)}
        if o["class"] != n["class"]:
            kind = "class"
        elif (o["total"], o["vetoes"]) != (n["total"], n["vetoes"]):
            kind = "total"
        elif (o["rank_national"], o["rank_province"]) != (n["rank_national"], n["rank_province"]):
            kind = "rank"
        elif crit:
            kind = "criteria"
        else:
            continue
        out[code] = (kind, crit)
    return out


def check_against_scores(doc: dict, old: dict, new: dict) -> None:
    """The diff's units, sides, criteria and matrix are what the two score runs say."""
    want = expected_changes(old, new)
    got = {u["unit_code"]: (u["change"], {c["id"] for c in u["criteria"]}) for u in doc["units"]}
    assert got == want
    olds, news = by_code(old), by_code(new)
    for u in doc["units"]:
        for side, src in (("old", olds), ("new", news)):
            s = src[u["unit_code"]]
            assert u[side] == {k: s[k] for k in ("class", "class_label", "total", "vetoes", "rank_national",
                                                  "rank_province")}
        for c in u["criteria"]:
            for side, src in (("old", olds), ("new", news)):
                ev = {x["id"]: x for x in src[u["unit_code"]]["criteria"]}.get(c["id"])
                assert c[side] == (None if ev is None else {"met": ev["met"], "points": ev["points"]})
    # listed in the old batch's national rank order
    ranks = [olds[u["unit_code"]]["rank_national"] for u in doc["units"]]
    assert ranks == sorted(ranks)
    # the matrix: every (old class, new class) pair counted, margins equal to each run's class counts
    pairs = Counter((olds[k]["class"] if k in olds else REJECTED, news[k]["class"] if k in news else REJECTED)
                    for k in {*olds, *news})
    m = doc["matrix"]
    assert {(r, c): n for r, row in m["counts"].items() for c, n in row.items() if n} == dict(pairs)
    old_counts = Counter(u["class"] for u in old["units"])
    for r in m["rows"]:
        if r != REJECTED:
            assert sum(m["counts"][r].values()) == old_counts.get(r, 0)
    new_counts = Counter(u["class"] for u in new["units"])
    for c in m["columns"]:
        if c != REJECTED:
            assert sum(m["counts"][r][c] for r in m["rows"]) == new_counts.get(c, 0)
    assert doc["summary"]["compared"] == len(set(olds) & set(news))
    assert doc["summary"]["unchanged"] == len(set(olds) & set(news)) - len(want)


def pack_copy(tmp_path: Path, name: str, pack: str, *edits: tuple[str, str]) -> Path:
    """A copy of a shipped pack with each (old, new) text replaced exactly once, without its
    scenario cases (they are not rules, and would expect the old numbers)."""
    text = (RULES_DIR / f"{pack}.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    cut = text.find("\ncase_defaults:")
    if cut < 0:
        cut = text.find("\ncases:")
    path = tmp_path / name
    path.write_text(text[:cut + 1] if cut >= 0 else text, encoding="utf-8")
    return path


def effect(doc: dict) -> list[dict]:
    return [c for c in doc["rules"]["changes"] if c["effect"]]


# ---- the rules alone ------------------------------------------------------------------------------

def test_the_two_readings_differ_in_the_type_ii_bands_and_type_iii(run_cli):
    doc = diff_json(run_cli, "qd-28-2025", "qd-28-2025-literal")
    old, _ = load_pack("qd-28-2025")
    new, _ = load_pack("qd-28-2025-literal")
    got = {(c["level"], c["kind"], c["id"], c["field"]): (c["old"], c["new"]) for c in effect(doc)}
    band = lambda p, cid: p.commune.criteria[cid].bands[0].text  # noqa: E731
    want = {("commune", "criterion", cid, "condition"): (band(old, cid), band(new, cid))
            for cid in ("II.a", "II.b", "II.c", "II.d")}
    want[("commune", "class", "type_3", "condition")] = (
        "residual (every unit no earlier class took)",
        next(c.text for c in new.commune.classes if c.id == "type_3"))
    assert got == want
    assert got[("commune", "criterion", "II.a", "condition")] == (
        "user_rate >= 0.1%", "(user_rate >= 0.1%) and (user_rate < 0.5%)")
    assert got[("commune", "criterion", "II.b", "condition")] == ("harbouring_points >= 1", "harbouring_points == 1")
    # the wording differs too, and is reported as text (no effect): titles of the bands, notes
    text = {(c["kind"], c["id"], c["field"]) for c in doc["rules"]["changes"] if not c["effect"]}
    assert {("criterion", "II.a", "title"), ("criterion", "II.a", "note"), ("pack", "pack", "id"),
            ("pack", "pack", "reading"), ("class", "type_3", "note")} <= text
    assert ("criterion", "I.a", "title") not in text  # unchanged in both files
    assert doc["rules"]["identical"] is False and doc["rules"]["effect"] == 5
    assert "units" not in doc and "matrix" not in doc


def test_rule_changes_as_a_table(run_cli):
    result = run_cli("diff", "qd-28-2025", "qd-28-2025-literal")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "~ criterion II.a  condition: user_rate >= 0.1% → (user_rate >= 0.1%) and (user_rate < 0.5%)" in out
    assert "~ criterion II.b  condition: harbouring_points >= 1 → harbouring_points == 1" in out
    assert ("~ class type_3  condition: residual (every unit no earlier class took) → "
            "at_least(1, III.a, III.b, III.c)") in out
    assert "~ criterion II.a: title, note" in out and "--wording prints them" in out
    rules_part = out.split("Text changes")[0]
    assert len([ln for ln in rules_part.splitlines() if ln.startswith("    ~ ")]) == 5
    assert "Units:" not in out
    full = run_cli("diff", "qd-28-2025", "qd-28-2025-literal", "--wording").output
    title = load_pack("qd-28-2025-literal")[0].commune.criteria["II.b"].title
    assert title in full  # the new title is printed in full (short enough not to be wrapped)


def test_a_pack_against_itself_is_identical(run_cli):
    doc = diff_json(run_cli, "qd-28-2025", "qd-28-2025")
    assert doc["rules"] == {"identical": True, "effect": 0, "changes": []}
    result = run_cli("diff", "xa-lanh-manh", "xa-lanh-manh")
    assert result.exit_code == 0
    assert "Rules: identical" in result.output


def test_spelling_of_a_condition_is_not_a_change(run_cli, tmp_path):
    """Quoting, spacing and writing 90% as 0.9 leave the rule as it was."""
    copy = pack_copy(tmp_path, "respelled.yaml", "xa-lanh-manh",
                     ("when: managed_share >= 90%", 'when: "managed_share>=0.9"'),
                     ("when: total >= 90 and not vetoed", "when: (total >= 90)   and  not vetoed"))
    doc = diff_json(run_cli, XLM_2025, copy)
    assert doc["rules"]["changes"] == []


def test_shape_ignores_positions_and_number_spelling():
    assert shape(parser.parse("a >= 0.5%")) == shape(parser.parse("a>=0.005"))
    assert shape(parser.parse("a >= 1 and b")) == shape(parser.parse("(a >= 1) and b"))
    assert shape(parser.parse("a >= 0.5%")) != shape(parser.parse("a > 0.5%"))
    assert shape(parser.parse("at_least(2, x, y)")) != shape(parser.parse("at_least(1, x, y)"))


def test_added_removed_and_changed_items(tmp_path):
    """Engine level: a removed criterion, a changed band's points, a new constraint, a bound."""
    copy = pack_copy(
        tmp_path, "edited.yaml", "xa-lanh-manh",
        ("      - {when: communication_sessions >= 6, points: 5, label: Từ 6 đến 11 buổi}",
         "      - {when: communication_sessions >= 6, points: 4, label: Từ 6 đến 11 buổi}"),
        (("  E3:\n    title: Không có cơ sở kinh doanh để xảy ra hoạt động mại dâm\n"
          "    form_title: Không có cơ sở kinh doanh để xảy ra hoạt động mại dâm\n    group: E\n"
          "    when: venues_prostitution_violations == 0\n    points: 5\n"), ""),
        ("  villages_total:\n    label: Tổng số thôn, tổ dân phố\n    unit: thôn\n    type: integer\n    min: 1\n",
         "  villages_total:\n    label: Tổng số thôn, tổ dân phố\n    unit: thôn\n    type: integer\n    min: 2\n"),
        ("  - id: supported_le_known\n",
         ("  - id: hotspots_small\n    rule: prostitution_hotspots <= 10\n    message: quá nhiều\n"
          "  - id: supported_le_known\n")))
    old, _ = load_pack(XLM_2025)
    new, _ = load_pack(copy)
    got = {(c.op, c.kind, c.id, c.field, c.old, c.new) for c in diff_packs(old, new) if c.effect}
    assert got == {
        ("~", "criterion", "B1", "band 2 points", "5", "4"),
        ("-", "criterion", "E3", None, "venues_prostitution_violations == 0: 5 points", None),
        ("~", "indicator", "villages_total", "min", "1", "2"),
        ("+", "constraint", "hotspots_small", None, None, "prostitution_hotspots <= 10"),
    }


# ---- the effect on the sample ------------------------------------------------------------------

@pytest.fixture(scope="module")
def readings_doc(tmp_path_factory):
    """diff + the two score runs of the Nghệ An drug sample, computed once for the module."""
    from click.testing import CliRunner

    from lanhmanh.cli import cli

    d = tmp_path_factory.mktemp("readings")
    runner = CliRunner()
    res = runner.invoke(cli, ["diff", "qd-28-2025", "qd-28-2025-literal", str(MA_TUY), "--format", "json"])
    assert res.exit_code == 0, res.output
    table = runner.invoke(cli, ["diff", "qd-28-2025", "qd-28-2025-literal", str(MA_TUY)])
    assert table.exit_code == 0, table.output
    docs = []
    for pack in ("qd-28-2025", "qd-28-2025-literal"):
        out = d / f"{pack}.json"
        r = runner.invoke(cli, ["score", str(MA_TUY), "--rules", pack, "--json", str(out)])
        assert r.exit_code == 0, r.output
        docs.append(json.loads(out.read_text(encoding="utf-8")))
    return json.loads(res.stdout), table.stdout, docs[0], docs[1]


def test_the_readings_on_the_sample_match_two_score_runs(readings_doc):
    doc, _table, old, new = readings_doc
    check_against_scores(doc, old, new)
    assert doc["only_old"] == [] and doc["only_new"] == []
    assert doc["rejected"] == {"old": [], "new": []}


def test_muong_tip_goes_from_type_2_to_unclassified(readings_doc):
    doc, table, old, new = readings_doc
    u = {x["unit_code"]: x for x in doc["units"]}["16858"]
    assert (u["change"], u["old"]["class"], u["new"]["class"]) == ("class", "type_2", "unclassified")
    o, n = crit_results(by_code(old)["16858"]), crit_results(by_code(new)["16858"])
    named = {c["id"] for c in u["criteria"]}
    assert named == {i for i in o if o[i] != n[i]} and named  # exactly the criteria that flipped
    assert all(c["old"]["met"] and not c["new"]["met"] for c in u["criteria"])
    assert {"user_rate", "population"} <= set({c["id"]: c for c in u["criteria"]}["II.a"]["inputs"])
    line = next(ln for ln in table.splitlines() if ln.startswith("  16858 "))
    assert "type_2 → unclassified" in line
    after = table.splitlines()[table.splitlines().index(line) + 1:]
    for c, shown in zip(u["criteria"], after):
        assert shown.strip().startswith(f"{c['id']}: met → not met   [")


def test_unchanged_units_are_not_listed(readings_doc):
    doc, table, old, new = readings_doc
    olds, news = by_code(old), by_code(new)
    same = [k for k in olds if olds[k]["class"] == news[k]["class"]
            and olds[k]["rank_national"] == news[k]["rank_national"]
            and crit_results(olds[k]) == crit_results(news[k])]
    assert same  # the sample has such units (drug-free communes ranked first)
    listed = {u["unit_code"] for u in doc["units"]}
    assert not set(same) & listed
    for code in same:
        assert f"  {code} " not in table
    # rank-only changes are counted, not listed, unless --all
    n_rank = doc["summary"]["rank"]
    assert n_rank and f"Rank changes only: {n_rank} unit(s) (--all lists them)" in table


def test_matrix_and_provinces_in_the_table(readings_doc):
    doc, table, old, new = readings_doc
    m = doc["matrix"]
    header = next(ln for ln in table.splitlines() if ln.strip().startswith("drug_free") and "total" in ln)
    assert header.split() == m["columns"] + ["total"]
    row = next(ln for ln in table.splitlines() if ln.strip().startswith("type_2 ") and "·" in ln)
    assert row.split()[1:] == [str(m["counts"]["type_2"][c]) if m["counts"]["type_2"][c] else "·"
                               for c in m["columns"]] + [str(sum(m["counts"]["type_2"].values()))]
    [p] = doc["provinces"]
    assert p["old"]["class"] == old["provinces"][0]["class"] and p["new"]["class"] == new["provinces"][0]["class"]
    assert p["new"]["class_counts"] == {k: v for k, v in new["provinces"][0]["class_counts"].items() if v}


def test_all_lists_rank_only_changes(run_cli, readings_doc):
    doc, _table, _old, _new = readings_doc
    result = run_cli("diff", "qd-28-2025", "qd-28-2025-literal", MA_TUY, "--all")
    assert result.exit_code == 0, result.output
    lines = {ln.split()[0]: ln for ln in result.output.splitlines() if ln.startswith("  ") and ln[2:7].isdigit()}
    assert set(lines) == {u["unit_code"] for u in doc["units"]}
    for u in doc["units"]:
        if u["change"] != "rank":
            continue
        line = lines[u["unit_code"]]
        assert f"rank {u['old']['rank_national']} → {u['new']['rank_national']}" in line
        ids = ", ".join(c["id"] for c in u["criteria"])
        assert line.endswith(f" · criteria differ: {ids}") if ids else "criteria differ" not in line


def test_a_threshold_moved_changes_exactly_the_units_it_should(run_cli, workdir, tmp_path):
    copy = pack_copy(tmp_path, "healthy-95.yaml", "xa-lanh-manh",
                     ("when: total >= 90 and not vetoed", "when: total >= 95 and not vetoed"))
    doc = diff_json(run_cli, XLM_2025, copy, LANH_MANH)
    assert doc["rules"]["changes"] == [{
        "op": "~", "level": "commune", "kind": "class", "id": "healthy", "field": "condition",
        "old": "(total >= 90) and (not vetoed)", "new": "(total >= 95) and (not vetoed)", "effect": True}]
    old = score_json(run_cli, workdir, XLM_2025, [LANH_MANH], "old")
    new = score_json(run_cli, workdir, copy, [LANH_MANH], "new")
    check_against_scores(doc, old, new)
    moved = [u for u in doc["units"] if u["change"] == "class"]
    olds = by_code(old)
    assert moved == [u for u in doc["units"] if olds[u["unit_code"]]["class"] != by_code(new)[u["unit_code"]]["class"]]
    assert moved, "the sample has healthy communes with 90 to 94 points"
    for u in moved:
        assert (u["old"]["class"], u["new"]["class"]) == ("healthy", "substantially_reduced")
        assert 90 <= u["old"]["total"] < 95 and u["criteria"] == []
    table = run_cli("diff", XLM_2025, copy, LANH_MANH).output
    assert f"Class changes ({len(moved)}, by old national rank):" in table
    assert "(every criterion as before: the class conditions changed)" in table


def test_province_level_change(run_cli, workdir, tmp_path):
    copy = pack_copy(tmp_path, "pd-15.yaml", "qd-28-2025",
                     ("when: share(type_1, type_2) >= 3%", "when: share(type_1, type_2) >= 15%"))
    doc = diff_json(run_cli, "qd-28-2025", copy, MA_TUY)
    assert [(c["level"], c["kind"], c["id"], c["field"], c["new"]) for c in doc["rules"]["changes"]] == [
        ("province", "criterion", "P.4", "condition", "share(type_1, type_2) >= 15%")]
    old = score_json(run_cli, workdir, "qd-28-2025", [MA_TUY], "old")
    new = score_json(run_cli, workdir, copy, [MA_TUY], "new")
    check_against_scores(doc, old, new)
    assert doc["units"] == []
    [p] = doc["provinces"]
    po, pn = old["provinces"][0], new["provinces"][0]
    assert (p["old"]["class"], p["new"]["class"]) == (po["class"], pn["class"])
    flipped = {c["id"] for c in po["criteria"]} - {
        (c["id"]) for c, d in zip(po["criteria"], pn["criteria"]) if (c["met"], c["points"]) == (d["met"], d["points"])}
    assert {c["id"] for c in p["criteria"]} == flipped == {"P.4"}
    assert p["changed"] is (po["class"] != pn["class"] or bool(flipped))
    table = run_cli("diff", "qd-28-2025", copy, MA_TUY).output
    assert "~ province criterion P.4  condition: share(type_1, type_2) >= 3% → share(type_1, type_2) >= 15%" in table
    assert "      P.4: met → not met" in table


def test_a_row_rejected_by_one_pack_only(run_cli, files, workdir, tmp_path):
    copy = pack_copy(
        tmp_path, "strict.yaml", "xa-lanh-manh",
        ("  - id: supported_le_known\n",
         ("  - id: few_sessions\n    rule: communication_sessions <= 20\n    message: quá nhiều buổi\n"
          "  - id: supported_le_known\n")))
    rows = [xlm_row(1), xlm_row(2, communication_sessions=25), xlm_row(3, communication_sessions=6),
            xlm_row(4, prostitution_hotspots=2)]
    inp = files.csv("in.csv", rows)
    doc = diff_json(run_cli, XLM_2025, copy, inp, "--unit-list", "none", exit_code=1)
    old = score_json(run_cli, workdir, XLM_2025, [inp], "old", "--unit-list", "none")
    new = score_json(run_cli, workdir, copy, [inp], "new", "--unit-list", "none", exit_code=1)
    check_against_scores(doc, old, new)
    [only] = doc["only_old"]
    assert only["unit_code"] == "00002" and "communication_sessions" in only["reasons"][0]
    assert doc["only_new"] == [] and doc["summary"]["compared"] == 3
    assert doc["matrix"]["counts"][by_code(old)["00002"]["class"]][REJECTED] == 1
    result = run_cli("diff", XLM_2025, copy, inp, "--unit-list", "none")
    assert result.exit_code == 1
    assert "Scored by the old (xa-lanh-manh) pack only, rejected by the new (xa-lanh-manh) (1):" in result.stdout
    assert "(rejected)" in result.stdout
    assert "row 3" in result.stderr and "communication_sessions" in result.stderr


def test_packs_with_nothing_in_common(run_cli, workdir):
    """The drug sample against the healthy-commune pack: every row lacks the new pack's columns, so
    every unit is scored by the old pack only; the province level exists on one side only."""
    old, _ = load_pack("qd-28-2025")
    new, _ = load_pack("xa-lanh-manh")
    changes = diff_packs(old, new)
    assert ("-", "province", "level") in {(c.op, c.level, c.kind) for c in changes}
    assert {c.id for c in changes if c.kind == "criterion" and c.op == "-"} == set(old.commune.criteria)
    assert {c.id for c in changes if c.kind == "criterion" and c.op == "+"} == set(new.commune.criteria)
    assert all(not c.effect for c in changes if c.kind == "group")
    doc = diff_json(run_cli, "qd-28-2025", "xa-lanh-manh", MA_TUY, exit_code=1)
    scored = score_json(run_cli, workdir, "qd-28-2025", [MA_TUY], "old")
    assert doc["summary"]["compared"] == 0 and doc["units"] == []
    assert [u["unit_code"] for u in doc["only_old"]] == [u["unit_code"] for u in scored["units"]]
    assert all("column missing" in u["reasons"][0] for u in doc["only_old"])
    assert doc["matrix"]["columns"][-1] == REJECTED
    assert {r: row[REJECTED] for r, row in doc["matrix"]["counts"].items()} == \
        dict(Counter(u["class"] for u in scored["units"]))
    [p] = doc["provinces"]
    assert p["old"]["class"] == scored["provinces"][0]["class"] and p["new"] is None  # no unit scored by the new


# ---- the workbook (--out) --------------------------------------------------------------------------

def test_workbook_holds_what_the_json_says(run_cli, workdir, readings_doc):
    import openpyxl

    doc, _table, _old, _new = readings_doc
    result = run_cli("diff", "qd-28-2025", "qd-28-2025-literal", MA_TUY, "--out", "so-sanh.xlsx")
    assert result.exit_code == 0, result.output
    assert "comparison written to so-sanh.xlsx" in result.output
    wb = openpyxl.load_workbook(workdir / "so-sanh.xlsx")
    assert wb.sheetnames == ["Thay đổi quy tắc", "Đơn vị thay đổi", "Ma trận loại", "Tỉnh", "Chỉ chấm một bên",
                             "Thông tin"]
    rules = list(wb["Thay đổi quy tắc"].iter_rows(min_row=2, values_only=True))
    assert len(rules) == len(doc["rules"]["changes"])
    assert [r[7] == "Có" for r in rules] == [c["effect"] for c in doc["rules"]["changes"]]
    ii_a = next(r for r in rules if r[3] == "II.a" and r[4] == "điều kiện")
    assert ii_a[5:7] == ("user_rate >= 0.1%", "(user_rate >= 0.1%) and (user_rate < 0.5%)")
    units = list(wb["Đơn vị thay đổi"].iter_rows(min_row=2, values_only=True))
    assert [(r[0], r[8], r[9]) for r in units] == [
        (u["unit_code"], u["old"]["rank_national"], u["new"]["rank_national"]) for u in doc["units"]]
    muong_tip = next(r for r in units if r[0] == "16858")
    assert muong_tip[3:6] == ("Xếp loại", "Địa bàn trọng điểm phức tạp về ma túy loại II", "Không xếp được loại")
    ws = wb["Ma trận loại"]
    m = doc["matrix"]
    labels = {**m["labels"]["old"], **m["labels"]["new"]}
    assert [c.value for c in ws[3]][1:-1] == [labels[c] for c in m["columns"]]
    for i, r in enumerate(m["rows"], start=4):
        row = [c.value for c in ws[i]]
        assert row[0] == labels[r] and row[1:-1] == [m["counts"][r][c] for c in m["columns"]]


def test_workbook_not_writable_exits_6(run_cli, workdir, monkeypatch):
    import os

    from lanhmanh.scorecards.outputs import atomic

    (workdir / "d.xlsx").write_bytes(b"old")
    real_replace = os.replace

    def locked(src, dst):
        if str(dst).endswith("d.xlsx"):
            raise PermissionError(13, "Permission denied", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(atomic.os, "replace", locked)
    result = run_cli("diff", "xa-lanh-manh", "xa-lanh-manh", "--out", "d.xlsx")
    assert result.exit_code == 6, result.output
    assert (workdir / "d.xlsx").read_bytes() == b"old"
    assert [p.name for p in workdir.iterdir()] == ["d.xlsx"]
    assert run_cli("diff", "xa-lanh-manh", "xa-lanh-manh", "--out", "d.csv").exit_code == 2


# ---- errors -------------------------------------------------------------------------------------

def test_invalid_rule_file_exits_3(run_cli, files):
    bad = files.rules("bad.yaml", "pack:\n  id: bad\n  title: x\n")
    for args in (("xa-lanh-manh", bad), (bad, "xa-lanh-manh"), ("no-such-pack", "xa-lanh-manh")):
        result = run_cli("diff", *args)
        assert result.exit_code == 3, result.output
        assert result.stdout == ""


def test_unreadable_input_exits_4(run_cli, files):
    empty = files.text("empty.csv", "")
    for inp in (empty, "missing.csv"):
        result = run_cli("diff", "xa-lanh-manh", "xa-lanh-manh", inp)
        assert result.exit_code == 4, result.output
        assert "cannot read input" in result.stderr


def test_a_changed_form_wording_is_reported_without_effect(tmp_path):
    """Regression: `form_title` (the printed form's wording) was not compared, so a pack whose form
    said something else diffed as identical."""
    old, _ = load_pack(XLM_2025)
    line = f"    form_title: {old.commune.criteria['E3'].form_title}\n"
    copy = pack_copy(tmp_path, "worded.yaml", "xa-lanh-manh", (line, "    form_title: Không có cơ sở để xảy ra mại dâm\n"))
    new, _ = load_pack(copy)
    changes = [(c.kind, c.id, c.field, c.effect) for c in diff_packs(old, new)
               if c.field == "form_title"]
    assert changes == [("criterion", "E3", "form_title", False)]
