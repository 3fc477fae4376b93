"""Last year's results (--previous, --crosswalk): maintained (giữ vững), class changes and chuyển
hóa, the crosswalk of merged/split units, new_drug_addicts_prev filled from last year, the JSON and
the workbook read back; end to end through `score` once it is wired."""
from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmtest import identity, pack_for_year, qd28_values, scored_batch, xlm_row, xlm_values
from test_libreoffice_recalc import soffice  # noqa: F401  (the fixture: LibreOffice, or skip)

from lanhmanh.engine.batch.previous import (
    PreviousError,
    apply_previous,
    best_class,
    class_change,
    fill_from_previous,
    load_previous,
)
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs import presentation
from lanhmanh.scorecards.outputs.json_out import result_dict
from lanhmanh.scorecards.outputs.scorecard import workbook as scorecard
from lanhmanh.scorecards.outputs.verify import compare, open_scorecard

QD28 = load_pack("qd-28-2025")[0]
NOT_MET = {"has_annual_plan": False, "tasks_assigned": False, "communication_sessions": 0,
           "villages_reached": 0, "villages_healthy": 0}  # 100 - 5 - 5 - 10 - 5 - 10 = 65 → not_met


def xlm(code: int, year: int, **over) -> dict:
    return {**identity(code, year=year), **xlm_values(**over)}


def qd(code: int, year: int, **over) -> dict:
    return {**identity(code, year=year), **qd28_values(**over)}


def previous_file(tmp_path: Path, pack_id: str, rows: list[dict], name: str = "prev.json",
                  classes: dict[str, str] | None = None) -> Path:
    """Last year's `score --json` result of `rows` (optionally with some classes set by hand, as
    last year's pack version may have given them)."""
    doc = result_dict(scored_batch(pack_id, rows))
    for u in doc["units"]:
        if classes and u["unit_code"] in classes:
            u["class"] = classes[u["unit_code"]]
    p = tmp_path / name
    p.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return p


def crosswalk_file(tmp_path: Path, pairs: list[tuple[str, str]]) -> Path:
    p = tmp_path / "crosswalk.csv"
    p.write_text("old_code,new_code\n" + "".join(f"{a},{b}\n" for a, b in pairs), encoding="utf-8")
    return p


def this_year(pack_id: str, rows: list[dict], prev_path: Path, crosswalk: Path | None = None):
    """Validate `rows`, fill from last year, score, and compare with last year: what `score
    --previous` does."""
    pack = pack_for_year(pack_id, 2025)
    v = Validator(pack)
    units = [u for i, r in enumerate(rows) if (u := v.row("t.csv", i + 2, r)) is not None]
    assert not v.rejected, v.rejected
    prev = load_previous(str(prev_path), pack, 2025, str(crosswalk) if crosswalk else None)
    filled = fill_from_previous(units, prev, pack)
    batch = score_units(pack, units, "python", v.rejected, v.warnings + filled)
    batch.inputs = [{"path": "t.csv", "sha256": "0" * 64, "rows": len(rows)}]
    apply_previous(batch, prev)
    return batch


def by_code(batch) -> dict:
    return {r.unit.code: r for r in batch.units}


def messages(batch) -> str:
    return "\n".join(w.message for w in batch.warnings)


# ---- the best class --------------------------------------------------------------------------------

@pytest.mark.parametrize("pack_id, best", [("xa-lanh-manh", "healthy"), ("qd-28-2025", "drug_free"),
                                           ("qd-28-2025-literal", "drug_free")])
def test_the_best_class_is_the_first_of_the_ranking(pack_id, best):
    pack, _ = load_pack(pack_id)
    assert best_class(pack.commune) == best


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["drug_free", "type_3", "type_2", "type_1", "unclassified"]),
       st.sampled_from(["drug_free", "type_3", "type_2", "type_1", "unclassified"]))
def test_a_class_change_read_backwards_is_the_opposite_change(before, now):
    level = QD28.commune
    there, back = class_change(level, before, now), class_change(level, now, before)
    assert {there, back} == ({"same"} if before == now else {"improved", "worsened"})
    assert (there == "improved") == (level.class_rank(now) < level.class_rank(before))


# ---- maintained, change ------------------------------------------------------------------------------

def test_maintained_only_when_healthy_both_years_and_class_changes(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(1, 2024), xlm(2, 2024), xlm(3, 2024, **NOT_MET)])
    batch = this_year("xa-lanh-manh", [xlm(1, 2025), xlm(2, 2025, **NOT_MET), xlm(3, 2025), xlm(4, 2025)], prev)
    r = by_code(batch)
    assert [r[c].outcome.class_id for c in ("00001", "00002", "00003", "00004")] == \
        ["healthy", "not_met", "healthy", "healthy"]
    assert (r["00001"].maintained, r["00001"].change) == (True, "same")
    assert (r["00002"].maintained, r["00002"].change) == (False, "worsened")
    assert (r["00003"].maintained, r["00003"].change) == (False, "improved")
    assert r["00003"].previous.class_id == "not_met" and r["00003"].previous.total == 65
    # xa-lanh-manh has no key areas: never chuyển hóa
    assert not any(x.transformed for x in batch.units)


def test_a_unit_missing_last_year_is_not_maintained_and_is_warned_about(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(1, 2024), xlm(9, 2024)])
    batch = this_year("xa-lanh-manh", [xlm(1, 2025), xlm(4, 2025)], prev)
    r = by_code(batch)
    assert (r["00004"].maintained, r["00004"].previous, r["00004"].change) == (False, None, None)
    assert "unit 00004 (Xã 00004) is not in last year's results" in messages(batch)
    # and last year's unit with no counterpart this year is named
    assert "1 unit(s) of last year's results have no unit in this batch: 00009" in messages(batch)


def test_chuyen_hoa_is_a_key_area_moving_toward_drug_free(tmp_path):
    prev = previous_file(tmp_path, "qd-28-2025", [qd(c, 2024) for c in range(1, 6)],
                         classes={"00001": "type_1", "00002": "type_3", "00005": "type_3"})
    now = [qd(1, 2025, resident_users_untreated=1), qd(2, 2025), qd(3, 2025, resident_users_untreated=1),
           qd(4, 2025), qd(5, 2025, resident_users_untreated=1)]
    r = by_code(this_year("qd-28-2025", now, prev))
    got = {c: (x.previous.class_id, x.outcome.class_id, x.change, x.transformed, x.maintained) for c, x in r.items()}
    assert got == {
        "00001": ("type_1", "type_3", "improved", True, False),
        "00002": ("type_3", "drug_free", "improved", True, False),
        "00003": ("drug_free", "type_3", "worsened", False, False),
        "00004": ("drug_free", "drug_free", "same", False, True),
        "00005": ("type_3", "type_3", "same", False, False),
    }


# ---- the crosswalk -----------------------------------------------------------------------------------

def test_merged_units_take_the_worst_class_and_a_split_unit_gives_its_class_to_each(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [
        xlm(11, 2024), xlm(12, 2024, **NOT_MET),  # → 00001: one part not met
        xlm(21, 2024), xlm(22, 2024),  # → 00002: both healthy
        xlm(31, 2024),  # split into 00003 and 00004
    ])
    xw = crosswalk_file(tmp_path, [("00011", "00001"), ("00012", "00001"), ("00021", "00002"),
                                   ("00022", "00002"), ("00031", "00003"), ("00031", "00004")])
    batch = this_year("xa-lanh-manh", [xlm(c, 2025) for c in (1, 2, 3, 4)], prev, xw)
    r = by_code(batch)
    assert (r["00001"].previous.class_id, r["00001"].previous.old_codes, r["00001"].maintained) == \
        ("not_met", ["00011", "00012"], False)
    assert (r["00002"].previous.class_id, r["00002"].maintained) == ("healthy", True)
    assert [(r[c].previous.class_id, r[c].previous.old_codes, r[c].maintained) for c in ("00003", "00004")] == \
        [("healthy", ["00031"], True)] * 2
    assert "have no unit in this batch" not in messages(batch)


def test_without_the_crosswalk_pre_reform_codes_match_nothing_and_say_so(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(11, 2024), xlm(12, 2024)])
    batch = this_year("xa-lanh-manh", [xlm(1, 2025)], prev)
    assert by_code(batch)["00001"].previous is None
    assert "2 unit(s) of last year's results have no unit in this batch: 00011, 00012" in messages(batch)


def test_a_crosswalk_without_its_headings_is_refused(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(1, 2024)])
    bad = tmp_path / "x.csv"
    bad.write_text("00011,00001\n", encoding="utf-8")
    pack = pack_for_year("xa-lanh-manh")
    with pytest.raises(PreviousError, match="the first row must be the headings old_code,new_code") as e:
        load_previous(str(prev), pack, 2025, str(bad))
    assert e.value.exit_code == 4


# ---- new_drug_addicts_prev ------------------------------------------------------------------------

def test_a_blank_new_drug_addicts_prev_is_filled_from_last_year_and_d1_earns_5(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(1, 2024, new_drug_addicts=5),
                                                    xlm(2, 2024, new_drug_addicts=5),
                                                    xlm(11, 2024, new_drug_addicts=2),
                                                    xlm(12, 2024, new_drug_addicts=3)])
    xw = crosswalk_file(tmp_path, [("00011", "00003"), ("00012", "00003")])
    batch = this_year("xa-lanh-manh", [xlm(1, 2025, new_drug_addicts=4),
                                       xlm(2, 2025, new_drug_addicts=4, new_drug_addicts_prev=4),
                                       xlm(3, 2025, new_drug_addicts=4)], prev, xw)
    r = by_code(batch)
    d1 = list(batch.pack.commune.criteria).index("D1")
    assert r["00001"].unit.values["new_drug_addicts_prev"] == 5 and r["00001"].outcome.outcomes[d1][1] == 5
    assert r["00001"].filled_prev == 5
    # a figure given in the row is kept: 4 is not below 4, so no points
    assert r["00002"].unit.values["new_drug_addicts_prev"] == 4 and r["00002"].outcome.outcomes[d1][1] == 0
    assert r["00002"].filled_prev is None
    # a merged unit: the sum of its parts (2 + 3 = 5 > 4)
    assert r["00003"].unit.values["new_drug_addicts_prev"] == 5 and r["00003"].outcome.outcomes[d1][1] == 5
    text = messages(batch)
    assert "unit 00001 (Xã 00001): new_drug_addicts_prev was blank; filled with 5, last year's " \
           f"new_drug_addicts of 00001 in {prev}" in text
    assert "filled with 5, last year's new_drug_addicts of the sum of 00011, 00012" in text
    assert "unit 00002 (Xã 00002): new_drug_addicts_prev" not in text


def test_a_split_unit_is_not_given_a_share_of_last_years_count(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(31, 2024, new_drug_addicts=6)])
    xw = crosswalk_file(tmp_path, [("00031", "00003"), ("00031", "00004")])
    batch = this_year("xa-lanh-manh", [xlm(3, 2025, new_drug_addicts=1), xlm(4, 2025, new_drug_addicts=1)], prev, xw)
    assert all(r.unit.values["new_drug_addicts_prev"] is None for r in batch.units)
    assert "a split unit's count cannot be apportioned" in messages(batch)


def test_a_pack_without_the_indicator_fills_nothing(tmp_path):
    prev = previous_file(tmp_path, "qd-28-2025", [qd(1, 2024)])
    batch = this_year("qd-28-2025", [qd(1, 2025)], prev)
    assert "filled" not in messages(batch)


# ---- refusals --------------------------------------------------------------------------------------

def test_results_of_another_pack_are_refused(tmp_path):
    prev = previous_file(tmp_path, "qd-28-2025", [qd(1, 2024)])
    pack = pack_for_year("xa-lanh-manh")
    with pytest.raises(PreviousError, match="made with the pack 'qd-28-2025', this batch is scored with "
                                            "'xa-lanh-manh'") as e:
        load_previous(str(prev), pack, 2025)
    assert e.value.exit_code == 2


def test_results_of_another_year_are_refused(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(1, 2023)])
    pack = pack_for_year("xa-lanh-manh")
    with pytest.raises(PreviousError, match="its results are for 2023, but this batch is 2025: give the "
                                            "results of 2024"):
        load_previous(str(prev), pack, 2025)


@pytest.mark.parametrize("content, reason", [("{not json", "not a JSON file"),
                                             ('{"units": []}', "not the JSON result of `lanhmanh score --json`")])
def test_an_unusable_previous_file_is_refused_with_exit_4(tmp_path, content, reason):
    p = tmp_path / "prev.json"
    p.write_text(content, encoding="utf-8")
    pack = pack_for_year("xa-lanh-manh")
    with pytest.raises(PreviousError, match=reason) as e:
        load_previous(str(p), pack, 2025)
    assert e.value.exit_code == 4


# ---- JSON and workbook read back -------------------------------------------------------------------

@pytest.fixture
def compared(tmp_path):
    prev = previous_file(tmp_path, "xa-lanh-manh", [xlm(1, 2024), xlm(2, 2024, **NOT_MET), xlm(3, 2024)])
    return this_year("xa-lanh-manh", [xlm(1, 2025), xlm(2, 2025), xlm(3, 2025, **NOT_MET), xlm(4, 2025)], prev), prev


def test_the_json_carries_maintained_previous_and_change(compared):
    batch, prev = compared
    doc = json.loads(json.dumps(result_dict(batch), ensure_ascii=False))
    units = {u["unit_code"]: u for u in doc["units"]}
    assert units["00001"]["maintained"] is True
    assert units["00001"]["previous"] == {"class": "healthy", "class_label": "Lành mạnh", "total": 100,
                                          "unit_codes": ["00001"]}
    assert (units["00002"]["maintained"], units["00002"]["change"], units["00002"]["previous"]["class"]) == \
        (False, "improved", "not_met")
    assert (units["00003"]["maintained"], units["00003"]["change"]) == (False, "worsened")
    assert (units["00004"]["maintained"], units["00004"]["previous"], units["00004"]["change"]) == (False, None, None)
    assert doc["previous"]["pack"]["id"] == "xa-lanh-manh" and doc["previous"]["year"] == 2024
    assert doc["previous"]["path"] == str(prev)
    assert doc["provinces"][0]["maintained"] == 1


def test_the_json_without_previous_has_no_maintained_key():
    doc = result_dict(scored_batch("xa-lanh-manh", [xlm_row(1)]))
    assert "maintained" not in doc["units"][0] and "previous" not in doc


def summary_table(ws) -> tuple[dict[str, int], list[list]]:
    rows = list(ws.iter_rows(values_only=True))
    hr = next(i for i, r in enumerate(rows) if "Mã đơn vị" in r)
    heads = {h: i for i, h in enumerate(rows[hr]) if h}
    return heads, [r for r in rows[hr + 1:] if r[heads["Mã đơn vị"]]]


def test_the_workbook_shows_last_year_and_counts_maintained_units(compared, tmp_path):
    batch, prev = compared
    path = tmp_path / "s.xlsx"
    scorecard.write_scorecard(batch, path)
    wb = openpyxl.load_workbook(path, data_only=True)
    heads, rows = summary_table(wb[presentation.SUMMARY])
    got = {r[heads["Mã đơn vị"]]: (r[heads["Năm trước"]], r[heads["Điểm năm trước"]], r[heads["So với năm trước"]],
                                    r[heads["Giữ vững"]] or "") for r in rows}
    assert got == {"00001": ("Lành mạnh", 100, "Giữ nguyên", "x"),
                   "00002": ("Chưa đạt", 65, "Tiến bộ", ""),
                   "00003": ("Lành mạnh", 100, "Tụt hạng", ""),
                   "00004": ("Không có số liệu năm trước", "—", "—", "")}
    assert "Chuyển hóa" not in heads  # xa-lanh-manh has no key areas
    # the total still sums the criteria only
    formulas = openpyxl.load_workbook(path)[presentation.SUMMARY]
    f_heads, _ = summary_table(formulas)
    total = next(r for r in formulas.iter_rows() if r[f_heads["Mã đơn vị"]].value == "00001")[f_heads["Tổng điểm"]]
    first = min(v for k, v in f_heads.items() if k == "A1")
    assert total.value.startswith(f"=SUM({openpyxl.utils.get_column_letter(first + 1)}")
    # the province sheet: the units maintained, as a formula with its cached value
    prov = wb[presentation.PROVINCES]
    prow = list(prov.iter_rows(values_only=True))
    h = next(i for i, r in enumerate(prow) if "Số đơn vị giữ vững" in r)  # the table's heading row
    c = prow[h].index("Số đơn vị giữ vững")
    assert [r[c] for r in prow[h + 1:h + 3]] == [1, 1]  # province 01, then Tổng cộng
    assert "COUNTIFS" in openpyxl.load_workbook(path)[presentation.PROVINCES].cell(h + 2, c + 1).value
    # Thông tin names last year's file
    info = {r[0]: r[1] for r in wb[presentation.INFO].iter_rows(values_only=True) if r and r[0]}
    assert info["Kết quả năm trước (tệp)"] == str(prev) and info["Năm của kết quả năm trước"] == 2024
    assert len(info["SHA-256 của kết quả năm trước"]) == 64
    # verify still reads the summary by its headings: the workbook matches the batch
    with open_scorecard(path) as card:
        report = compare(card, batch)
    assert report.intact, str(report)


@pytest.mark.slow
def test_the_maintained_counts_recompute_in_libreoffice(compared, tmp_path, soffice):  # noqa: F811
    from test_libreoffice_recalc import _check_every_formula, recalculated, values

    batch, _ = compared
    src = tmp_path / "s.xlsx"
    scorecard.write_scorecard(batch, src)
    converted = recalculated(soffice, src, tmp_path)
    _check_every_formula(src, converted)
    prov = values(converted)[presentation.PROVINCES]
    import re

    cell = next(c for c, v in prov.items() if v == "Số đơn vị giữ vững")  # the heading, above province 01
    col, row = re.fullmatch(r"([A-Z]+)(\d+)", cell).groups()
    assert prov[f"{col}{int(row) + 1}"] == 1


def test_the_workbook_marks_chuyen_hoa_for_a_pack_with_key_areas(tmp_path):
    prev = previous_file(tmp_path, "qd-28-2025", [qd(1, 2024), qd(2, 2024)], classes={"00001": "type_1"})
    batch = this_year("qd-28-2025", [qd(1, 2025, resident_users_untreated=1), qd(2, 2025)], prev)
    path = tmp_path / "q.xlsx"
    scorecard.write_scorecard(batch, path)
    wb = openpyxl.load_workbook(path, data_only=True)
    heads, rows = summary_table(wb[presentation.SUMMARY])
    got = {r[heads["Mã đơn vị"]]: (r[heads["Năm trước"]], r[heads["Chuyển hóa"]] or "", r[heads["Giữ vững"]] or "")
           for r in rows}
    assert got["00001"][1:] == ("x", "") and got["00002"][1:] == ("", "x")
    assert "Điểm năm trước" not in heads  # a classification has no points
    prow = list(wb[presentation.PROVINCES].iter_rows(values_only=True))
    h = next(i for i, r in enumerate(prow) if "Số đơn vị chuyển hóa" in r)  # the table's heading row
    assert prow[h + 1][prow[h].index("Số đơn vị chuyển hóa")] == 1
    with open_scorecard(path) as card:
        assert compare(card, batch).intact


# ---- end to end through `score` (wiring pending) -----------------------------------------------------



def test_score_previous_end_to_end_fills_d1_and_marks_maintained(run_cli, files, workdir):
    last = files.csv("2024.csv", [xlm(11, 2024, new_drug_addicts=2), xlm(12, 2024, new_drug_addicts=3),
                                  xlm(2, 2024, **NOT_MET)])
    r = run_cli("score", str(last), "--rules", "xa-lanh-manh", "--unit-list", "none", "--json", "2024.json")
    assert r.exit_code == 0, r.output
    now = files.csv("2025.csv", [xlm(1, 2025, new_drug_addicts=4), xlm(2, 2025)])
    xw = files.text("xw.csv", "old_code,new_code\n00011,00001\n00012,00001\n")
    r = run_cli("score", str(now), "--rules", "xa-lanh-manh", "--unit-list", "none", "--previous",
                str(workdir / "2024.json"), "--crosswalk", str(xw), "--json", "2025.json", "--out", "2025.xlsx")
    assert r.exit_code == 0, r.output
    doc = json.loads((workdir / "2025.json").read_text(encoding="utf-8"))
    u = {x["unit_code"]: x for x in doc["units"]}
    d1 = next(c for c in u["00001"]["criteria"] if c["id"] == "D1")
    assert (d1["points"], d1["inputs"]["new_drug_addicts_prev"]) == (5, 5)
    assert u["00001"]["previous"]["unit_codes"] == ["00011", "00012"] and u["00001"]["maintained"] is True
    assert (u["00002"]["maintained"], u["00002"]["change"]) == (False, "improved")
    heads, rows = summary_table(openpyxl.load_workbook(workdir / "2025.xlsx", data_only=True)[presentation.SUMMARY])
    assert {r[heads["Mã đơn vị"]]: r[heads["Giữ vững"]] or "" for r in rows} == {"00001": "x", "00002": ""}


def test_score_refuses_last_years_results_of_another_pack(run_cli, files, workdir):
    last = files.csv("2024.csv", [qd(1, 2025)])
    assert run_cli("score", str(last), "--rules", "qd-28-2025", "--unit-list", "none",
                   "--json", "q.json").exit_code == 0
    now = files.csv("2025.csv", [xlm(1, 2026)])
    r = run_cli("score", str(now), "--rules", "xa-lanh-manh", "--unit-list", "none",
                "--previous", str(workdir / "q.json"), "--json", "x.json")
    assert r.exit_code == 2
    assert "made with the pack 'qd-28-2025', this batch is scored with 'xa-lanh-manh'" in r.output
    assert not (workdir / "x.json").exists()


def test_verify_is_given_the_previous_results_that_score_was_given(run_cli, files, workdir):
    last = files.csv("2024.csv", [xlm(1, 2024, new_drug_addicts=5)])
    assert run_cli("score", str(last), "--rules", "xa-lanh-manh", "--unit-list", "none",
                   "--json", "2024.json").exit_code == 0
    now = files.csv("2025.csv", [xlm(1, 2025, new_drug_addicts=4)])
    prev = str(workdir / "2024.json")
    r = run_cli("score", str(now), "--rules", "xa-lanh-manh", "--unit-list", "none", "--previous", prev,
                "--out", "s.xlsx")
    assert r.exit_code == 0, r.output
    common = ("verify", "s.xlsx", str(now), "--rules", "xa-lanh-manh", "--unit-list", "none")
    r = run_cli(*common, "--previous", prev)
    assert r.exit_code == 0 and "intact" in r.output, r.output
    # without it, D1 is re-derived from a blank new_drug_addicts_prev: 0 points instead of 5
    r = run_cli(*common)
    assert r.exit_code == 5 and "points of 00001 Xã 00001 for criterion D1 are 5 in the workbook, 0 re-derived" \
        in r.output, r.output


def test_previous_from_the_history_database_marks_maintained_without_filling(run_cli, files, workdir):
    """`--previous history`: last year's run of the same pack from the history database; classes and
    totals only (the database keeps no figures), so nothing is filled."""
    common = ("--rules", "xa-lanh-manh", "--unit-list", "none", "--db", "h.sqlite")
    last = files.csv("2024.csv", [xlm(1, 2024), xlm(2, 2024, **NOT_MET)])
    assert run_cli("score", str(last), *common, "--json", "2024.json").exit_code == 0
    now = files.csv("2025.csv", [xlm(1, 2025), xlm(2, 2025), xlm(3, 2025)])
    r = run_cli("score", str(now), *common, "--previous", "history", "--json", "2025.json")
    assert r.exit_code == 0, r.output
    doc = json.loads((workdir / "2025.json").read_text(encoding="utf-8"))
    u = {x["unit_code"]: x for x in doc["units"]}
    assert (u["00001"]["maintained"], u["00001"]["change"]) == (True, "same")
    assert (u["00002"]["maintained"], u["00002"]["change"], u["00002"]["previous"]["class"]) == \
        (False, "improved", "not_met")
    assert u["00003"]["previous"] is None  # not in last year's run: warned about
    assert not any("filled_from_previous" in x for x in doc["units"])
    assert doc["previous"]["year"] == 2024 and "h.sqlite (run 1)" in doc["previous"]["path"]
    # the same file compared with a year that has no run of last year: refused, exit 2
    later = files.csv("2027.csv", [xlm(1, 2027)])
    r = run_cli("score", str(later), *common, "--previous", "history", "--json", "2027.json")
    assert r.exit_code == 2 and "no run of xa-lanh-manh for 2026" in r.output, r.output
