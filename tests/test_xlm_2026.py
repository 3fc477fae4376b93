"""xa-lanh-manh 2026.1 beside 2025.1: the version chosen by the batch year (score, template), its
points and classes through the CLI, and "không phát sinh": a rate whose denominator is 0 is shown as
such, with what the pack counts it as, never as a silent 100 %."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lmtest import identity, xlm_values
from openpyxl import load_workbook

from lanhmanh.engine.evaluation.evidence import ZeroRatio, criteria_evidence
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model import versions
from lanhmanh.engine.model.loader import RULES_DIR, load_pack
from lanhmanh.scorecards.outputs.presentation import inputs_text, value_text

XLM_2025 = RULES_DIR / "xa-lanh-manh.yaml"
XLM_2026 = RULES_DIR / "xa-lanh-manh-2026.yaml"
NEW_2026 = ("staff_training_sessions", "hiv_communication_sessions", "prostitution_violations_detected",
            "prostitution_violations_handled", "prostitution_rings_detected", "prostitution_rings_dismantled",
            "prevention_model", "reformed_reoffended", "social_programs_integrated")


def xlm26_values(**over) -> dict:
    """A 2026 commune that earns all 100 points of 2026.1 (nothing arose where a rate could be 0/0)."""
    v = {**xlm_values(), "staff_training_sessions": 2, "hiv_communication_sessions": 4,
         "prostitution_violations_detected": 3, "prostitution_violations_handled": 3,
         "prostitution_rings_detected": 1, "prostitution_rings_dismantled": 1, "prevention_model": True,
         "reformed_reoffended": 0, "social_programs_integrated": True}
    v.update(over)
    return v


def row(code: int, year: int, **over) -> dict:
    values = xlm26_values(**over) if year >= 2026 else xlm_values(**over)
    return {**identity(code, year=year), **values}


def score(run_cli, files, rows, *extra, name="o.json", exit_code=0) -> dict:
    inp = files.csv("in.csv", rows)
    result = run_cli("score", inp, "--rules", "xa-lanh-manh", "--unit-list", "none", "--no-db",
                     "--json", name, *extra)
    assert result.exit_code == exit_code, result.output
    return json.loads(Path(name).read_text(encoding="utf-8"))


def crit(unit: dict, cid: str) -> dict:
    return next(c for c in unit["criteria"] if c["id"] == cid)


# ---- the version for the batch year ----------------------------------------------------------------

def test_versions_2025_and_earlier_take_2025_1_and_2026_on_takes_2026_1():
    found = versions.versions_of("xa-lanh-manh")
    assert [v.version for v in found] == ["2025.1", "2026.1"]
    assert Path(versions.for_year(found, 2025).path) == XLM_2025
    assert Path(versions.for_year(found, 2020).path) == XLM_2025
    assert Path(versions.for_year(found, 2026).path) == XLM_2026
    assert Path(versions.for_year(found, 2030).path) == XLM_2026
    assert versions.for_year(found, 2019) is None
    pack = load_pack(XLM_2026)[0]
    assert (pack.version, pack.status, str(pack.effective_from)) == ("2026.1", "illustrative", "2025-12-15")
    assert versions.in_force(pack, 2026) and not versions.in_force(pack, 2025)


def test_2026_1_is_a_100_point_table_with_the_issued_groups_and_points():
    pack = load_pack(XLM_2026)[0]
    assert {g: d["points"] for g, d in pack.groups.items()} == {"A": 10, "B": 15, "C": 20, "D": 20, "E": 25, "F": 10}
    assert {c.id: c.max_points for c in pack.commune.criteria.values()} == {
        "A1": 4, "A2": 3, "A3": 3, "B1": 8, "B2": 4, "B3": 3, "C1": 8, "C2": 6, "C3": 6, "D1": 8, "D2": 4, "D3": 8,
        "E1": 6, "E2": 4, "E3": 5, "E4": 4, "E5": 3, "E6": 3, "F1": 7, "F2": 3}
    assert set(NEW_2026) <= set(pack.commune.indicators)
    assert pack.carry_over == {"new_drug_addicts_prev": "new_drug_addicts"}
    rules = {c.text for c in pack.commune.constraints}
    assert {"prostitution_violations_handled <= prostitution_violations_detected",
            "prostitution_rings_dismantled <= prostitution_rings_detected",
            "violations_handled <= violations_detected"} <= rules
    assert "illustrative" in pack.reading.lower() or "MINH HỌA" in pack.reading
    assert XLM_2026.read_text(encoding="utf-8").startswith("# ===") and \
        "KHÔNG PHẢI BẢNG ĐIỂM CHÍNH THỨC" in XLM_2026.read_text(encoding="utf-8").splitlines()[1]


def test_the_2026_cases_pass_with_full_coverage(run_cli):
    result = run_cli("test", XLM_2026, "--coverage", "--require-full")
    assert result.exit_code == 0, result.output
    assert "55/55 outcomes reached" in result.output


def test_a_2026_batch_gets_2026_1_and_a_2025_batch_2025_1(run_cli, files, workdir):
    new = score(run_cli, files, [row(1, 2026), row(2, 2026, prevention_model=False, staff_training_sessions=0,
                                                      has_annual_plan=False),
                                 row(3, 2026, prostitution_hotspots=1)], name="2026.json")
    assert (new["pack"]["version"], new["pack"]["sha256"]) == ("2026.1", load_pack(XLM_2026)[0].sha256)
    got = {u["unit_code"]: (u["class"], u["total"], u["vetoes"]) for u in new["units"]}
    assert got == {"00001": ("healthy", 100, []), "00002": ("substantially_reduced", 88, []),
                   "00003": ("substantially_reduced", 94, ["V1"])}
    assert [c["id"] for c in new["units"][0]["criteria"]][-3:] == ["E6", "F1", "F2"]
    old = score(run_cli, files, [row(1, 2025), row(2, 2025, communication_sessions=0),
                                 row(3, 2025, prostitution_hotspots=1)], name="2025.json")
    assert old["pack"]["version"] == "2025.1"
    got = {u["unit_code"]: (u["class"], u["total"], u["vetoes"]) for u in old["units"]}
    assert got == {"00001": ("healthy", 100, []), "00002": ("healthy", 90, []),
                   "00003": ("substantially_reduced", 90, ["V1"])}
    assert "F2" not in {c["id"] for c in old["units"][0]["criteria"]}


def test_2026_rows_without_the_new_columns_are_rejected_naming_them(run_cli, files, workdir):
    doc = score(run_cli, files, [row(1, 2026), {**identity(2, year=2026), **xlm_values()}], exit_code=1)
    assert doc["pack"]["version"] == "2026.1" and [u["unit_code"] for u in doc["units"]] == ["00001"]
    # a missing yes/no column reads as "không" (blank), as in every pack; the counts are required
    assert {r["column"] for r in doc["rejected"]} == set(NEW_2026) - {"prevention_model", "social_programs_integrated"}


def test_the_2025_sample_still_scores_with_2025_1(run_cli, workdir):
    sample = Path(__file__).resolve().parent.parent / "examples" / "nghe-an-2025-lanh-manh.csv"
    result = run_cli("score", sample, "--rules", "xa-lanh-manh", "--no-db", "--json", "o.json")
    assert result.exit_code == 0, result.output
    assert "xa-lanh-manh 2025.1 (illustrative)" in result.output
    assert "Lành mạnh (healthy): 45" in result.output


def test_last_years_2025_1_results_serve_a_2026_batch(run_cli, files, workdir):
    """--previous takes results of the same pack id in another version: maintained, class change,
    and the blank new_drug_addicts_prev filled from 2025 (4 < 5: D1's 4 points of 2026.1)."""
    score(run_cli, files, [row(1, 2025, new_drug_addicts=5), row(2, 2025, harbouring_points=1)], name="2025.json")
    doc = score(run_cli, files, [row(1, 2026, new_drug_addicts=4), row(2, 2026)], "--previous", "2025.json",
                name="2026.json")
    assert doc["pack"]["version"] == "2026.1" and doc["previous"]["pack"]["version"] == "2025.1"
    one, two = sorted(doc["units"], key=lambda u: u["unit_code"])
    assert one["filled_from_previous"] == {"new_drug_addicts_prev": 5}
    assert (crit(one, "D1")["points"], one["total"], one["maintained"]) == (4, 96, True)
    assert (two["previous"]["class"], two["class"], two["change"], two["maintained"]) == \
        ("substantially_reduced", "healthy", "improved", False)


@pytest.mark.parametrize("engine", ["python", "durable"])
def test_both_engines_agree_on_a_2026_batch(run_cli, files, workdir, engine):
    rows = [row(i, 2026, communication_sessions=i, hiv_communication_sessions=i % 5,
                prostitution_violations_detected=i % 3, prostitution_violations_handled=min(i % 3, 1),
                reformed_reoffended=i % 2) for i in range(1, 15)]
    doc = score(run_cli, files, rows, "--engine", engine, name=f"{engine}.json")
    other = score(run_cli, files, rows, "--engine", "python", name="ref.json")
    assert doc["units"] == other["units"]


# ---- không phát sinh --------------------------------------------------------------------------------

def test_nothing_arose_earns_full_points_and_is_shown_as_such(run_cli, files, workdir):
    zero = dict(businesses_conditional=0, businesses_inspected=0, prostitution_violations_detected=0,
                prostitution_violations_handled=0, violations_detected=0, violations_handled=0,
                addicts_total=0, addicts_managed=0, prostitution_rings_detected=0,
                prostitution_rings_dismantled=0, sex_workers_known=0, sex_workers_supported=0)
    inp = files.csv("in.csv", [row(1, 2026, **zero)])
    result = run_cli("score", inp, "--rules", "xa-lanh-manh", "--unit-list", "none", "--no-db",
                     "--json", "o.json", "--out", "o.xlsx")
    assert result.exit_code == 0, result.output
    (unit,) = json.loads(Path("o.json").read_text(encoding="utf-8"))["units"]
    assert (unit["class"], unit["total"]) == ("healthy", 100)
    rates = {"C1": "inspected_share", "C2": "prostitution_handled_share", "C3": "handled_share",
             "D2": "managed_share", "E2": "dismantled_share", "E4": "supported_share"}
    for cid, rate in rates.items():
        c = crit(unit, cid)
        assert c["points"] == c["max_points"] and c["met"]
        assert c["inputs"][rate] == "0/0"  # the value read stays exact
        assert c["zero_denominator"] == {rate: {"shown": "không phát sinh", "counted_as": "1"}}
    assert "zero_denominator" not in crit(unit, "B2")  # a rate with a denominator: nothing to say
    wb = load_workbook("o.xlsx", read_only=True)
    evidence = [r for r in wb["Chứng cứ"].iter_rows(values_only=True) if r[2] == "C2"]
    assert "prostitution_handled_share=0/0 (không phát sinh, tính là 100%)" in evidence[0][3]
    form = [r for r in wb["00001"].iter_rows(values_only=True) if r[0] == "E2"]
    assert "Không phát sinh (0/0), tính là 100%" in form[0][3].split("\n")  # printed in words, no machine id


def test_2025_1_shows_its_zero_denominators_with_the_default_wording(run_cli, files, workdir):
    doc = score(run_cli, files, [row(1, 2025)])  # xlm_values: no violations, addicts or sex workers
    c2 = crit(doc["units"][0], "C2")
    assert c2["inputs"]["handled_share"] == "0/0" and c2["points"] == 10
    assert c2["zero_denominator"] == {"handled_share": {"shown": "mẫu số bằng 0", "counted_as": "1"}}


def test_a_zero_ratio_is_its_exact_text_with_what_it_counts_as():
    z = ZeroRatio("0/0", "không phát sinh", None)
    assert z == "0/0" and json.dumps(z) == '"0/0"'
    assert value_text(z) == "0/0 (không phát sinh, không xác định)"
    from fractions import Fraction
    half = ZeroRatio("0/0", "mẫu số bằng 0", Fraction(1, 2))
    assert inputs_text({"n": 0, "r": half}) == "n=0; r=0/0 (mẫu số bằng 0, tính là 50%)"
    import copy
    import pickle
    again = pickle.loads(pickle.dumps(half))
    assert (again, again.shown, again.counted_as) == ("0/0", "mẫu số bằng 0", Fraction(1, 2))
    assert copy.deepcopy(half).shown == "mẫu số bằng 0"


PACK = """\
pack: {{id: z, title: T, version: "1", status: illustrative, effective_from: 2025-01-01}}
indicators:
  n: {{label: N, type: integer, min: 0}}
  d: {{label: D, type: integer, min: 0}}
derived:
  r: {{label: R, expr: n / d, zero_denominator: {zero}}}
criteria:
  C: {{title: C, when: r >= 50%, points: 1}}
classes:
  - {{id: ok, label: OK, when: C}}
  - {{id: no, label: No, residual: true}}
"""


@pytest.mark.parametrize("zero, shown, met", [
    ("{value: 100%, shown: không phát sinh}", "không phát sinh", True),
    ("{value: 0}", "mẫu số bằng 0", False),
    ("{value: unknown, shown: chưa có số liệu}", "chưa có số liệu", False),
    ("100%", "mẫu số bằng 0", True),
])
def test_the_pack_declares_what_a_zero_denominator_is_worth_and_how_it_is_shown(files, zero, shown, met):
    pack = load_pack(files.rules("z.yaml", PACK.format(zero=zero)))[0]
    d = pack.commune.derived["r"]
    assert (d.zero_shown or "mẫu số bằng 0") == shown
    v = Validator(pack)
    unit = v.row("t.csv", 2, {**identity(1), "n": 0, "d": 0})
    for engine in ("python", "durable"):
        r = score_units(pack, [unit], engine).units[0]
        assert bool(r.outcome.outcomes[0][0]) is met
        (ev,) = criteria_evidence(pack.commune, r.unit.values, r.outcome)
        assert ev["inputs"]["r"] == "0/0" and ev["zero_denominator"]["r"]["shown"] == shown


def test_a_zero_denominator_mapping_cannot_reject_and_reports_its_line(files):
    with pytest.raises(RuleFileError) as e:
        load_pack(files.rules("z.yaml", PACK.format(zero="{value: reject, shown: x}")))
    assert "z.yaml:6" in str(e.value) and "takes a number or unknown" in str(e.value)
    with pytest.raises(RuleFileError) as e:
        load_pack(files.rules("z.yaml", PACK.format(zero="{value: lots}")))
    assert "zero_denominator must be reject, unknown or a number" in str(e.value)


# ---- the template -----------------------------------------------------------------------------------

@pytest.mark.parametrize("year, version, has_new", [(2025, "2025.1", False), (2026, "2026.1", True)])
def test_the_template_for_a_year_uses_the_version_in_force_for_it(run_cli, workdir, year, version, has_new):
    result = run_cli("template", "--rules", "xa-lanh-manh", "--province", "40", "--year", year, "--out", "t.xlsx")
    assert result.exit_code == 0, result.output
    assert f"template for xa-lanh-manh {version} written to t.xlsx" in result.output
    ids = [c.value for c in load_workbook("t.xlsx")["Số liệu"][4]]
    assert ("staff_training_sessions" in ids) is has_new and ("social_programs_integrated" in ids) is has_new


def test_a_template_for_a_year_no_version_covers_warns(run_cli, workdir):
    result = run_cli("template", "--rules", "xa-lanh-manh", "--year", "2019", "--out", "t.xlsx")
    assert result.exit_code == 0, result.output
    assert "template for xa-lanh-manh 2025.1" in result.output


# ---- the Nghệ An variant -----------------------------------------------------------------------------

def test_the_nghe_an_variant_extends_2025_1_and_names_no_defunct_body():
    pack = load_pack("xa-lanh-manh-nghe-an")[0]
    assert pack.extends["version"] == "2025.1" and pack.extends["sha256"] == load_pack(XLM_2025)[0].sha256
    cites = " ".join(c.cite or "" for c in pack.commune.criteria.values())
    for defunct in ("huyện", "Lao động", "LĐTBXH"):
        assert defunct not in cites
    assert "1/7/2025" in pack.reading and "không biết" in pack.reading
