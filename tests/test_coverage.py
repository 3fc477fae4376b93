"""Coverage of rule packs (engine/coverage.py): which criterion outcomes, bands, vetoes and classes
the scenario cases (`lanhmanh test --coverage`) or a real batch (`lanhmanh score --coverage`) reach.

Expected figures are derived by hand from the rule files and the inputs (or, for a batch, from
the JSON the batch wrote), not from the coverage module; the one exception checks that
`lanhmanh test --coverage` prints on the shipped packs exactly what the module computes.
"""
from __future__ import annotations

import json
import warnings
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lmtest import QD28_TEST, XLM_TEST, pack_for_year, qd28_row, xlm_row

from lanhmanh.engine.analysis import coverage
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.pack import Case
from lanhmanh.engine.model.versions import shipped_packs

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def line_of(path, needle: str) -> int:
    """The 1-based line of the one line of `path` that contains `needle`."""
    hits = [i for i, ln in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1) if needle in ln]
    assert len(hits) == 1, f"{needle!r} is on lines {hits} of {path}"
    return hits[0]


def described(items) -> list[str]:
    return [i.describe() for i in items]


def commune_case(pack, name: str, **over) -> Case:
    """A hand-made commune case: the pack's first case's inputs (its case_defaults merged) with `over`."""
    base = dict(next(c for c in pack.cases if c.level == "commune").given)
    return Case(name, "commune", {**base, **over}, {}, 1)


# ---- the outcomes of a pack -------------------------------------------------------------------

def test_items_of_a_banded_pack_with_their_lines():
    pack = load_pack(XLM_TEST)[0]
    items = coverage.pack_items(pack)
    # 7 one-condition criteria × 2, 6 two-band criteria × 3, 2 vetoes × 2, 3 classes
    assert len(items) == 7 * 2 + 6 * 3 + 2 * 2 + 3
    b1 = [i for i in items if i.id == "B1"]
    assert [(i.name, i.slot, i.line) for i in b1] == [
        ("band 1 (10 points)", 0, line_of(XLM_TEST, "communication_sessions >= 12")),
        ("band 2 (5 points)", 1, line_of(XLM_TEST, "communication_sessions >= 6")),
        ("no band (0 points)", None, line_of(XLM_TEST, "  B1:")),
    ]
    a1 = [(i.name, i.line) for i in items if i.id == "A1"]
    assert a1 == [("met", line_of(XLM_TEST, "  A1:")), ("not met", line_of(XLM_TEST, "  A1:"))]
    v1 = [(i.name, i.slot, i.line) for i in items if i.id == "V1"]
    assert v1 == [("applied", True, line_of(XLM_TEST, "  V1:")), ("not applied", False, line_of(XLM_TEST, "  V1:"))]
    classes = [(i.id, i.line) for i in items if i.kind == coverage.CLASS]
    assert classes == [("healthy", line_of(XLM_TEST, "{id: healthy,")),
                       ("substantially_reduced", line_of(XLM_TEST, "{id: substantially_reduced,")),
                       ("not_met", line_of(XLM_TEST, "{id: not_met,"))]


def test_items_of_the_province_level_are_listed_after_the_communes():
    pack = load_pack("qd-28-2025")[0]
    items = coverage.pack_items(pack)
    province = [i for i in items if i.level == "province"]
    assert [i.describe() for i in province][:2] == ["province criterion P.1 met", "province criterion P.1 not met"]
    assert [i.id for i in province if i.kind == coverage.CLASS] == ["drug_free", "key_area", "not_key_area"]
    assert province[0].line == line_of(pack.path, "    P.1:")
    assert items.index(province[0]) == len(items) - len(province)
    # 16 commune criteria, 4 commune classes; 6 province criteria, 3 province classes; no vetoes
    assert len(items) == 16 * 2 + 4 + 6 * 2 + 3


def test_band_labels_are_shown():
    pack = pack_for_year("xa-lanh-manh")
    b1 = [i.name for i in coverage.pack_items(pack) if i.id == "B1"]
    assert b1 == ['band 1 "Từ 12 buổi trở lên" (10 points)', 'band 2 "Từ 6 đến 11 buổi" (5 points)',
                  "no band (0 points)"]


# ---- what a case reaches and asserts ------------------------------------------------------------

def test_one_full_marks_case_reaches_exactly_the_top_of_everything():
    pack = load_pack(XLM_TEST)[0]
    cov = coverage.case_coverage(pack, [commune_case(pack, "full")])
    reached = {i.describe() for i in cov.items if cov.reached[i.key]}
    assert reached == {
        "criterion A1 met", "criterion A2 met", "criterion D2 met", "criterion D3 met", "criterion E1 met",
        "criterion E2 met", "criterion E3 met",
        "criterion B1 band 1 (10 points)", "criterion B2 band 1 (5 points)", "criterion C1 band 1 (10 points)",
        "criterion C2 band 1 (10 points)", "criterion D1 band 1 (10 points)", "criterion F1 band 1 (10 points)",
        "veto V1 not applied", "veto V2 not applied", "class healthy"}
    assert cov.n_asserted == 0  # the hand-made case expects nothing


def test_hand_made_cases_leave_exactly_one_band_unreached():
    """The pack's three cases leave every 'no band' unreached; cases at zero reach all but F1's."""
    pack = load_pack(XLM_TEST)[0]
    zeros = commune_case(pack, "zeros", communication_sessions=0, villages_reached=0, businesses_inspected=0,
                         violations_detected=5, violations_handled=0, new_drug_addicts=1)
    cov = coverage.case_coverage(pack, list(pack.cases) + [zeros])
    assert described(cov.unreached()) == ["criterion F1 no band (0 points)"]
    assert cov.unreached()[0].line == line_of(XLM_TEST, "  F1:")
    f1_zero = commune_case(pack, "F1 zero", villages_healthy=0)
    assert coverage.case_coverage(pack, list(pack.cases) + [zeros, f1_zero]).complete


def test_a_shipped_pack_without_its_middle_band_cases():
    """xa-lanh-manh (2025.1) without the cases of 6 to 11 sessions: B1's middle band, and only it, is
    unreached."""
    pack = pack_for_year("xa-lanh-manh")
    keep = [c for c in pack.cases
            if not (c.level == "commune" and 6 <= c.given.get("communication_sessions", 12) <= 11)]
    assert 0 < len(keep) < len(pack.cases)
    cov = coverage.case_coverage(pack, keep)
    assert described(cov.unreached()) == ['criterion B1 band 2 "Từ 6 đến 11 buổi" (5 points)']
    assert cov.unreached()[0].line == line_of(pack.path, "communication_sessions >= 6")


def test_a_shipped_pack_without_its_key_area_province_cases():
    pack = load_pack("qd-28-2025")[0]
    keep = [c for c in pack.cases if c.expect.get("class") != "key_area"]
    cov = coverage.case_coverage(pack, keep)
    assert described(cov.unreached()) == ["province class key_area"]
    assert cov.unreached()[0].line == line_of(pack.path, "- id: key_area")


def test_province_cases_reach_province_outcomes_only():
    """A province case's communes are its inputs: they reach no commune outcome."""
    pack = load_pack(QD28_TEST)[0]
    province_cases = [c for c in pack.cases if c.level == "province"]
    cov = coverage.case_coverage(pack, province_cases)
    assert cov.counted == Counter({"province": len(province_cases)})
    assert all(i.level == "province" for i in cov.items if cov.reached[i.key])
    assert all(not cov.reached[i.key] for i in cov.items if i.level == "commune")


def test_cases_expecting_a_rejection_reach_nothing(files):
    pack = load_pack(XLM_TEST)[0]
    bad = Case("rejected", "commune", {**pack.cases[0].given, "villages_reached": 11}, {"rejected": True}, 1)
    cov = coverage.case_coverage(pack, [bad])
    assert cov.total == 1 and cov.n_reached == 0 and sum(cov.counted.values()) == 0
    assert coverage.summary_line(cov) == ("xlm-test: 0/39 outcomes reached by 1 case "
                                   "(1 of them rejected, reaching nothing), 0/39 asserted")


def test_what_a_case_asserts():
    pack = load_pack(XLM_TEST)[0]
    b1 = pack.commune.criteria["B1"]
    assert coverage.admitted_slots(b1, {}) is None
    assert coverage.admitted_slots(b1, {"met": ["B1"]}) == {0, 1}  # met says nothing about which band
    assert coverage.admitted_slots(b1, {"not_met": ["B1"]}) == {None}
    assert coverage.admitted_slots(b1, {"points": {"B1": 5}}) == {1}
    assert coverage.admitted_slots(b1, {"points": {"B1": 0}}) == {None}
    assert coverage.admitted_slots(b1, {"met": ["B1"], "points": {"B1": 0}}) == set()
    middle = commune_case(pack, "middle", communication_sessions=7)
    only_met = Case("only met", "commune", middle.given, {"met": ["B1"]}, 1)
    pinned = Case("pinned", "commune", middle.given, {"points": {"B1": 5}, "vetoes": [], "class": "healthy"}, 1)
    key = ("commune", coverage.CRITERION, "B1", 1)
    assert coverage.case_coverage(pack, [only_met]).asserted[key] == 0
    cov = coverage.case_coverage(pack, [pinned])
    assert cov.reached[key] == 1 and cov.asserted[key] == 1
    # vetoes: [] asserts both vetoes not applied; the class (total 95 → healthy) is asserted too
    assert described(i for i in cov.items if cov.asserted[i.key]) == [
        "criterion B1 band 2 (5 points)", "veto V1 not applied", "veto V2 not applied", "class healthy"]


def test_a_wrong_expectation_asserts_nothing():
    pack = load_pack(XLM_TEST)[0]
    wrong = Case("wrong", "commune", commune_case(pack, "x", communication_sessions=7).given,
                 {"points": {"B1": 10}, "class": "not_met"}, 1)
    cov = coverage.case_coverage(pack, [wrong])
    assert cov.reached[("commune", coverage.CRITERION, "B1", 1)] == 1
    assert cov.n_asserted == 0


@pytest.mark.parametrize("path", shipped_packs(), ids=lambda p: p.stem)
def test_the_shipped_cases_reach_and_assert_every_outcome(path):
    """A finding guard: every outcome of every shipped pack is reached and asserted by some case."""
    pack = load_pack(path)[0]
    cov = coverage.case_coverage(pack)
    assert cov.total == len(pack.cases)
    assert described(cov.unreached()) == []
    assert described(cov.unasserted()) == []


# ---- a batch ------------------------------------------------------------------------------------

def _score_rows(pack, rows):
    v = Validator(pack)
    units = [v.row("x.csv", i, r) for i, r in enumerate(rows, start=2)]
    assert not v.rejected, v.rejected
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return score_units(pack, units, "python")


def test_batch_counts_units_per_outcome():
    pack = load_pack(XLM_TEST)[0]
    rows = [xlm_row(1, communication_sessions=12), xlm_row(2, communication_sessions=7),
            xlm_row(3, communication_sessions=0, prostitution_hotspots=1), xlm_row(4, communication_sessions=20)]
    cov = coverage.batch_coverage(_score_rows(pack, rows))
    assert cov.counted == Counter({"commune": 4})
    assert cov.reached[("commune", coverage.CRITERION, "B1", 0)] == 2
    assert cov.reached[("commune", coverage.CRITERION, "B1", 1)] == 1
    assert cov.reached[("commune", coverage.CRITERION, "B1", None)] == 1
    assert cov.reached[("commune", coverage.VETO, "V1", True)] == 1
    assert cov.reached[("commune", coverage.VETO, "V1", False)] == 3
    lines = coverage.batch_report(_score_rows(pack, rows))
    assert lines[0] == f"xlm-test: {cov.n_reached}/39 outcomes reached by 4 units"
    assert "  commune level, 4 units:" in lines
    assert "    criterion B1 band 2 (5 points): 1 of 4" in lines
    assert "    veto V1 applied: 1 of 4" in lines
    assert "    class not_met: 0 of 4" in lines
    where = f"{pack.path}:{line_of(XLM_TEST, 'id: not_met')}"
    assert f"    {where}: class not_met" in lines[lines.index(f"  not reached ({len(cov.unreached())}):"):]


def test_batch_with_a_province():
    pack = load_pack(QD28_TEST)[0]
    rows = [qd28_row(1, users_with_records=60, harbouring_points=2, drug_arrests=10, resident_users_untreated=1),
            qd28_row(2)]
    cov = coverage.batch_coverage(_score_rows(pack, rows))
    assert cov.counted == Counter({"commune": 2, "province": 1})
    assert cov.reached[("commune", coverage.CLASS, "type_1", None)] == 1
    assert cov.reached[("commune", coverage.CLASS, "drug_free", None)] == 1
    assert sum(cov.reached[i.key] for i in cov.items if i.level == "province" and i.kind == coverage.CLASS) == 1
    assert coverage.summary_line(cov).endswith("reached by 2 units and 1 province")


xlm_numbers = st.integers(min_value=0, max_value=30)


@pytest.mark.slow
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "communication_sessions": xlm_numbers, "villages_healthy": st.integers(0, 10),
    "prostitution_hotspots": st.integers(0, 2), "new_drug_addicts": st.integers(0, 3)}), min_size=1, max_size=6))
def test_every_unit_reaches_one_outcome_of_each_criterion_and_veto(rows):
    pack = load_pack(XLM_TEST)[0]
    batch = _score_rows(pack, [xlm_row(i, **r) for i, r in enumerate(rows, start=1)])
    cov = coverage.batch_coverage(batch)
    n = len(rows)
    owners = Counter()
    for i in cov.items:
        owners[(i.kind, i.id if i.kind != coverage.CLASS else "")] += cov.reached[i.key]
    assert set(owners.values()) == {n}
    b1 = Counter(0 if r["communication_sessions"] >= 12 else 1 if r["communication_sessions"] >= 6 else None
                 for r in rows)
    for slot in (0, 1, None):
        assert cov.reached[("commune", coverage.CRITERION, "B1", slot)] == b1[slot]
    assert cov.reached[("commune", coverage.VETO, "V1", True)] == sum(r["prostitution_hotspots"] > 0 for r in rows)


# ---- `lanhmanh test --coverage` ---------------------------------------------------------------

def _strip_last_case(src: Path, dst: Path) -> Path:
    """Copy a test pack, leaving out its last case (the one of middle bands)."""
    text = src.read_text(encoding="utf-8")
    cut = text.index("  - name: dải điểm giữa")
    dst.write_text(text[:cut], encoding="utf-8")
    return dst


def test_cli_coverage_lists_what_the_remaining_cases_leave(run_cli, tmp_path):
    pack = _strip_last_case(XLM_TEST, tmp_path / "xlm-stripped.yaml")
    result = run_cli("test", str(pack), "--coverage", "-q")
    assert result.exit_code == 0, result.output

    def at(needle, what):
        return f"    {pack}:{line_of(pack, needle)}: {what}"

    band2 = {"B1": ("communication_sessions >= 6", 5), "B2": ("reached_share >= 80%", 3),
             "C1": ("inspected_share >= 50%", 5), "C2": ("handled_share >= 80%", 5),
             "D1": ("new_drug_addicts < new_drug_addicts_prev", 5)}
    band1 = {"B1": ("communication_sessions >= 12", 10), "B2": ("reached_share >= 100%", 5),
             "C1": ("inspected_share >= 100%", 10), "C2": ("handled_share >= 100%", 10),
             "D1": ("new_drug_addicts == 0", 10), "F1": ("healthy_share >= 70%", 10)}

    def banded(cid, needle, pts):
        return [at(needle, f"criterion {cid} band 2 ({pts} points)"),
                at(f"  {cid}:", f"criterion {cid} no band (0 points)")]

    # the two cases left: full marks (class, vetoes, one-condition criteria asserted met) and the
    # veto case (class, both vetoes, D3 and E1 asserted not met): 21 outcomes reached, 15 asserted;
    # unreached, in the order of the rule file:
    unreached = [at("  A1:", "criterion A1 not met"), at("  A2:", "criterion A2 not met")]
    for cid, (needle, pts) in band2.items():
        unreached += banded(cid, needle, pts)
    unreached += [at("  D2:", "criterion D2 not met"), at("  E2:", "criterion E2 not met"),
                  at("  E3:", "criterion E3 not met"), *banded("F1", "healthy_share >= 50%", 5),
                  at("{id: not_met,", "class not_met")]
    expected = ["4 passed, 0 failed",
                "xlm-test: 21/39 outcomes reached by 2 cases, 15/39 asserted",
                "  not reached (18):", *unreached,
                "  reached but asserted by no case (6):",
                *[at(needle, f"criterion {cid} band 1 ({pts} points)") for cid, (needle, pts) in band1.items()]]
    assert result.output.splitlines() == expected


def test_cli_require_full_fails_on_an_unreached_outcome(run_cli, tmp_path):
    pack = _strip_last_case(XLM_TEST, tmp_path / "xlm-stripped.yaml")
    result = run_cli("test", str(pack), "--require-full", "-q")
    assert result.exit_code == 1, result.output
    assert "xlm-test: 21/39 outcomes reached by 2 cases, 15/39 asserted" in result.output
    assert result.output.splitlines()[-1] == "--require-full: 1 pack(s) leave outcomes that no case reaches"
    full = run_cli("test", "xa-lanh-manh", "--require-full", "-q")
    assert full.exit_code == 0, full.output


def test_cli_coverage_does_not_hide_a_failing_case(run_cli, tmp_path):
    src = tmp_path / "xlm-wrong.yaml"
    text = XLM_TEST.read_text(encoding="utf-8").replace("expect: {class: healthy, total: 100,",
                                                        "expect: {class: not_met, total: 100,")
    assert text != XLM_TEST.read_text(encoding="utf-8")
    src.write_text(text, encoding="utf-8")
    result = run_cli("test", str(src), "--coverage", "-q", "--engine", "python")
    assert result.exit_code == 1, result.output
    assert "class: expected not_met, got healthy" in result.output
    # the failing case still reaches what it scored (healthy), but asserts nothing about the class
    assert "xlm-test: 33/39 outcomes reached by 3 cases, 26/39 asserted" in result.output


@pytest.mark.slow
def test_cli_coverage_on_the_shipped_packs_matches_the_computation(run_cli):
    result = run_cli("test", "--coverage", "-q")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    packs = [load_pack(p)[0] for p in shipped_packs()]
    n = sum(len(p.cases) for p in packs) * 2
    assert lines[0] == f"{n} passed, 0 failed"
    expected = []
    for pack in packs:
        expected += coverage.render(coverage.case_coverage(pack), unasserted=True)
    assert lines[1:] == expected
    # what the shipped packs' cases reach today: everything (a finding if this ever changes)
    for pack, line in zip(packs, lines[1:]):
        total = len(coverage.pack_items(pack))
        assert line.startswith(f"{pack.id}: {total}/{total} outcomes reached by ")
        assert line.endswith(f", {total}/{total} asserted")


def test_cli_without_coverage_prints_no_report(run_cli):
    result = run_cli("test", str(XLM_TEST), "-q")
    assert result.output.splitlines() == ["6 passed, 0 failed"]


# ---- `lanhmanh score --coverage` ---------------------------------------------------------------

def _expected_from_json(doc) -> Counter:
    """(level, kind, id, slot) → count, read from the JSON a batch wrote, independently of coverage.py."""
    c: Counter = Counter()
    for u in doc["units"]:
        for k in u["criteria"]:
            c[("commune", "criterion", k["id"], (k["band"] or 0) if k["met"] else None)] += 1
        c[("commune", "class", u["class"], None)] += 1
    for p in doc["provinces"]:
        for k in p["criteria"]:
            c[("province", "criterion", k["id"], (k["band"] or 0) if k["met"] else None)] += 1
        c[("province", "class", p["class"], None)] += 1
    return c


@pytest.mark.parametrize("sample,rules", [("nghe-an-2025-ma-tuy.csv", "qd-28-2025"),
                                         ("nghe-an-2025-lanh-manh.csv", "xa-lanh-manh")])
def test_cli_score_coverage_on_the_samples(run_cli, workdir, sample, rules):
    result = run_cli("score", str(EXAMPLES / sample), "--rules", rules, "--json", "out.json", "--coverage")
    assert result.exit_code == 0, result.output
    doc = json.loads((workdir / "out.json").read_text(encoding="utf-8"))
    counts = _expected_from_json(doc)
    n = len(doc["units"])
    pack = pack_for_year(rules)  # the samples are 2025 batches
    out = result.stdout.splitlines()
    reached = 0
    for item in coverage.pack_items(pack):
        k = counts[(item.level, item.kind, item.id, item.slot)] if item.kind != coverage.VETO else \
            sum(1 for u in doc["units"] if (item.id in u["vetoes"]) == item.slot)
        of = n if item.level == "commune" else len(doc["provinces"])
        assert f"    {item.describe(level=False)}: {k} of {of}" in out
        reached += k > 0
        if k == 0:
            assert f"    {pack.path}:{item.line}: {item.describe()}" in out
    total = len(coverage.pack_items(pack))
    provinces = f" and {len(doc['provinces'])} province" if pack.province else ""
    assert f"{pack.id}: {reached}/{total} outcomes reached by {n} units{provinces}" in out


def test_cli_score_coverage_goes_to_stderr_with_json_on_stdout(run_cli):
    result = run_cli("score", str(EXAMPLES / "nghe-an-2025-lanh-manh.csv"), "--rules", "xa-lanh-manh",
                     "--json", "-", "--coverage")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert len(doc["units"]) == 130
    assert "xa-lanh-manh: 39/39 outcomes reached by 130 units" in result.stderr.splitlines()
