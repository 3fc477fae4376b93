"""`lanhmanh check --completeness`: the search for a submission that reaches no class, and for a
class that is never reached.

End to end through the CLI on the shipped packs (the literal reading of QĐ 28/2025 is caught with
a counterexample that `lanhmanh score` confirms; the cumulative reading and xa-lanh-manh pass), on
packs made here from xa-lanh-manh (a gap between class thresholds; a class that an earlier one
always takes), the printed scenario case pasted into a copy of the pack, determinism; and unit
tests of the pieces the exhaustiveness proof rests on, against brute force.
"""
from __future__ import annotations

import json
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from lmtest import MINI_PACK_HEAD, identity, shipped_or_skip
from ruamel.yaml import YAML

from lanhmanh.engine.analysis import completeness
from lanhmanh.engine.model.loader import RULES_DIR, load_pack
from lanhmanh.engine.model.pack import Indicator

XLM = RULES_DIR / "xa-lanh-manh.yaml"


def pasted_case(output: str) -> tuple[str, dict]:
    """The scenario case the report prints (one YAML flow line) and its parsed form."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip().startswith("- {name:")]
    assert len(lines) == 1, output
    doc = YAML(typ="safe").load(lines[0])
    assert isinstance(doc, list) and len(doc) == 1
    return lines[0], doc[0]


def score_row(run_cli, files, pack: str, given: dict) -> dict:
    """Score one commune with these values through `lanhmanh score` from a CSV; its JSON unit."""
    csv = files.csv("ce.csv", [{**identity(1), **given}])
    result = run_cli("score", str(csv), "--rules", pack, "--unit-list", "none", "--json", "ce.json")
    assert result.exit_code == 0, result.output
    doc = json.loads(Path("ce.json").read_text(encoding="utf-8"))
    assert len(doc["units"]) == 1
    return doc["units"][0]


def xlm_without_cases(classes: str) -> str:
    """xa-lanh-manh's rule file with other classes (and ranking), and no cases."""
    text = XLM.read_text(encoding="utf-8")
    text = text[:text.index("case_defaults:")]
    start = text.index("\nclasses:\n")
    ids = re.findall(r"- \{?id: (\w+)", classes)
    return (text[:start] + "\n" + classes + "ranking:\n  best_first: [" + ", ".join(ids) + "]\n")


def add_case(text: str, case_line: str) -> str:
    if "\ncases:\n" not in text:
        text = text.rstrip("\n") + "\ncases:\n"
    return text.rstrip("\n") + "\n  " + case_line + "\n"


# ---- the shipped packs -----------------------------------------------------------------------------

def test_literal_reading_is_caught_with_a_counterexample_that_score_confirms(run_cli, files):
    shipped_or_skip("qd-28-2025-literal")
    result = run_cli("check", "qd-28-2025-literal", "--completeness")
    assert result.exit_code == 3, result.output
    out = result.output
    assert "commune level (4 classes, no residual class): FALLS THROUGH" in out
    # the commune level of the literal pack is regular: the search is a proof
    assert "exhaustive: every combination of the atoms' truth values" in out
    assert "counterexample:" in out and "durable backend: unclassified (the same class)" in out
    for cls in ("drug_free", "type_1", "type_2", "type_3"):
        assert re.search(rf"class {cls}: `.*` is false", out), cls
    # the full row, every indicator, and the rates exactly
    pack, _ = load_pack("qd-28-2025-literal")
    for k in pack.commune.indicators:
        assert re.search(rf"^\s+{k} = ", out, re.MULTILINE), k
    assert re.search(r"user_rate = users_with_records / population = \d+/\d+", out)
    _, case = pasted_case(out)
    assert case["expect"] == {"class": "unclassified"}
    assert set(case["given"]) == set(pack.commune.indicators)
    unit = score_row(run_cli, files, "qd-28-2025-literal", case["given"])
    assert unit["class"] == "unclassified"
    met = {c["id"] for c in unit["criteria"] if c["met"]}
    printed = re.search(r"criteria met: ([^;\n]*)", out).group(1).split(", ")
    assert met == set(printed)
    # the cumulative reading classifies the same commune
    assert score_row(run_cli, files, "qd-28-2025", case["given"])["class"] in ("type_1", "type_2", "type_3")


def test_the_domain_example_is_among_what_the_search_finds(run_cli):
    """The domain's example (0.6%, 0.2%, 600 plants on 200 m², no point, no route, not drug-free) falls
    in a truth vector the exhaustive search covers: the search's representative of that vector falls
    through too. (On 0 m² it would meet III.c, "dưới 500 cây ... hoặc ... dưới 125 m2", and be type III.)"""
    pack, _ = load_pack(shipped_or_skip("qd-28-2025-literal"))
    s = completeness.LevelSearch(pack, pack.commune)
    example = {"population": 10000, "users_with_records": 60, "harbouring_points": 0, "drug_arrests": 20,
               "drug_plants": 600, "drug_plant_area_m2": Decimal(200), "on_key_route": False,
               "resident_users_untreated": 1, "resident_drug_violators": 0, "wanted_drug_fugitives": 0}
    ev = completeness._Evaluator(s)
    assert ev(example).class_id == "unclassified"
    rep: dict = {}
    for g in s.groups:
        sig = s.signature(g, {k: example[k] for k in g.names})
        match = [r for r in g.reps if s.signature(g, r) == sig]
        assert match, g.names
        rep.update(match[0])
    assert ev(rep).class_id == "unclassified"


@pytest.mark.parametrize("ref", ["qd-28-2025", "xa-lanh-manh"])
def test_packs_with_a_residual_class_pass(run_cli, ref):
    shipped_or_skip(ref)
    result = run_cli("check", ref, "--completeness")
    assert result.exit_code == 0, result.output
    assert "no commune can fall through every class (a residual class catches it)" in result.output
    assert "FALLS THROUGH" not in result.output and "never" not in result.output
    pack, _ = load_pack(ref)
    line = re.search(r"commune level.*\n\s+(?:stopped.*\n\s+)?every class reached: (.*)", result.output)
    assert line, result.output
    assert [x.split()[0] for x in line.group(1).split(", ")] == [c.id for c in pack.commune.classes]
    if pack.province is not None:
        assert "province level (3 classes, residual class not_key_area): no province can fall through" \
            in result.output


@pytest.mark.slow
def test_two_runs_give_the_same_output(run_cli):
    shipped_or_skip("qd-28-2025-literal")
    a = run_cli("check", "qd-28-2025-literal", "xa-lanh-manh", "--completeness")
    b = run_cli("check", "qd-28-2025-literal", "xa-lanh-manh", "--completeness")
    assert a.exit_code == b.exit_code == 3
    assert a.output == b.output


def test_pasted_case_loads_and_passes_in_a_copy_of_the_pack(run_cli, files):
    shipped_or_skip("qd-28-2025-literal")
    result = run_cli("check", "qd-28-2025-literal", "--completeness")
    line, _ = pasted_case(result.output)
    text = (RULES_DIR / "qd-28-2025-literal.yaml").read_text(encoding="utf-8")
    copy = files.rules("literal-copy.yaml", add_case(text, line))
    tested = run_cli("test", str(copy))
    assert tested.exit_code == 0, tested.output
    assert "không xếp được loại (lanhmanh check --completeness)" in tested.output or "passed" in tested.output
    assert re.search(r"\b0 failed", tested.output), tested.output


# ---- packs made here ---------------------------------------------------------------------------------

GAP = """\
classes:
  - {id: healthy, label: Lành mạnh, when: total >= 90 and not vetoed}
  - {id: substantially_reduced, label: Làm giảm cơ bản, when: total >= 75 and total < 85}
  - {id: not_met, label: Chưa đạt, when: total < 75}
"""


@pytest.mark.slow
def test_a_gap_between_class_thresholds_is_caught(run_cli, files):
    path = files.rules("gap.yaml", xlm_without_cases(GAP))
    plain = run_cli("check", str(path))
    assert plain.exit_code == 0, plain.output  # nothing the static checks can see
    result = run_cli("check", str(path), "--completeness")
    assert result.exit_code == 3, result.output
    assert "commune level (3 classes, no residual class): FALLS THROUGH" in result.output
    line, case = pasted_case(result.output)
    unit = score_row(run_cli, files, str(path), case["given"])
    assert unit["class"] == "unclassified"
    assert 85 <= unit["total"] < 90 or (unit["total"] >= 90 and unit["vetoes"]), unit
    # the case, pasted into the pack, passes
    copy = files.rules("gap-with-case.yaml", add_case(xlm_without_cases(GAP), line))
    tested = run_cli("test", str(copy))
    assert tested.exit_code == 0, tested.output


def test_a_small_budget_still_finds_the_gap_and_says_it_is_not_exhaustive(run_cli, files):
    path = files.rules("gap.yaml", xlm_without_cases(GAP))
    result = run_cli("check", str(path), "--completeness", "--budget", "2000")
    assert result.exit_code == 3, result.output
    assert "searched 2000 candidate submission(s)" in result.output
    assert "not exhaustive" in result.output
    _, case = pasted_case(result.output)
    assert score_row(run_cli, files, str(path), case["given"])["class"] == "unclassified"


UNREACHABLE = """\
classes:
  - {id: healthy, label: Lành mạnh, when: total >= 90 and not vetoed}
  - {id: outstanding, label: Xuất sắc, when: total >= 95 and not vetoed}
  - {id: substantially_reduced, label: Làm giảm cơ bản, when: total >= 75}
  - {id: not_met, label: Chưa đạt, residual: true}
"""


@pytest.mark.slow
def test_a_class_an_earlier_class_always_takes_is_caught(run_cli, files):
    path = files.rules("unreachable.yaml", xlm_without_cases(UNREACHABLE))
    plain = run_cli("check", str(path))
    assert plain.exit_code == 0, plain.output  # the static check cannot see it
    result = run_cli("check", str(path), "--completeness")
    assert result.exit_code == 3, result.output
    out = result.output
    assert "no commune can fall through every class" in out
    assert re.search(r"class outstanding was never reached in \d+ candidates: possible problem "
                     r"\(condition: \(total >= 95\) and \(not vetoed\)\)", out), out
    # new_drug_addicts < new_drug_addicts_prev compares two values: not a proof, and it says why
    assert "not a proof" in out and "new_drug_addicts, new_drug_addicts_prev" in out


MINI = MINI_PACK_HEAD + """\
  area: {label: Diện tích, type: decimal, decimals: 2, min: 0}
derived:
  rate: {label: Tỷ lệ, expr: users / population, zero_denominator: reject}
criteria:
  HIGH: {title: Cao, when: rate >= 1%}
  HIGHER: {title: Rất cao, when: rate >= 2%}
  BIG: {title: Lớn, when: area >= 12.5}
"""


def test_a_class_that_can_never_be_reached_is_proved_so(run_cli, files):
    path = files.rules("mini.yaml", MINI + """\
classes:
  - {id: high, label: Cao, when: HIGH or BIG}
  - {id: higher, label: Rất cao, when: HIGHER}
  - {id: low, label: Thấp, residual: true}
""")
    result = run_cli("check", str(path), "--completeness")
    assert result.exit_code == 3, result.output
    assert "class higher can never be reached: no combination of the atoms' truth values reaches it " \
           "(condition: HIGHER)" in result.output


def test_a_complete_pack_without_residual_class_is_proved_complete(run_cli, files):
    path = files.rules("mini.yaml", MINI + """\
classes:
  - {id: high, label: Cao, when: HIGH or BIG}
  - {id: low, label: Thấp, when: rate < 1%}
""")
    result = run_cli("check", str(path), "--completeness")
    assert result.exit_code == 0, result.output
    assert "no submission falls through every class (searched" in result.output
    assert "exhaustive: every combination" in result.output


def test_budget_needs_completeness(run_cli):
    result = run_cli("check", "xa-lanh-manh", "--budget", "10")
    assert result.exit_code == 2
    assert "--budget is only used with --completeness" in result.output


# ---- the pieces of the proof, against brute force ------------------------------------------------------

def test_boundary_values_hit_every_piece_of_a_decimal_axis():
    ind = Indicator("area", "Diện tích", "decimal", min=Decimal(0), decimals=2)
    ts = [Fraction(125), Fraction(750), Fraction("12.345")]
    vals = completeness.boundary_values(ind, ts, [])
    assert all(isinstance(v, Decimal) for v in vals)
    assert {Decimal("124.99"), Decimal(125), Decimal("125.01"), Decimal("749.99"), Decimal(750),
            Decimal("12.34"), Decimal("12.35"), Decimal(0)} <= set(vals)

    def piece(x):
        return tuple((x >= t, x < t, x == t) for t in ts)
    brute = {piece(Fraction(k, 100)) for k in range(100_000)}
    assert brute == {piece(Fraction(v)) for v in vals}


def test_a_rate_group_realises_every_truth_vector_brute_force_finds(files):
    text = """\
pack: {id: rates, title: Rates, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  population: {label: Dân số, type: integer, min: 1, max: 120}
  users: {label: Người dùng, type: integer, min: 0}
  arrests: {label: Bắt giữ, type: integer, min: 0}
derived:
  user_rate: {label: Tỷ lệ 1, expr: users / population, zero_denominator: reject}
  arrest_rate: {label: Tỷ lệ 2, expr: arrests / population, zero_denominator: reject}
criteria:
  A: {title: A, when: user_rate >= 5% and user_rate < 12.5%}
  B: {title: B, when: arrest_rate == 10% or arrest_rate > 50%}
classes:
  - {id: x, label: X, when: A and B}
  - {id: y, label: Y, residual: true}
"""
    pack, _ = load_pack(files.rules("rates.yaml", text))
    s = completeness.LevelSearch(pack, pack.commune)
    (g,) = [g for g in s.groups if g.atoms]
    assert g.regular and g.names[0] == "population"
    found = {s.signature(g, r) for r in g.reps}
    brute = set()
    for d in range(1, 121):
        for n in range(0, 2 * d + 1, max(1, d // 40)):
            brute.add(s.signature(g, {"population": d, "users": n, "arrests": n}))
            brute.add(s.signature(g, {"population": d, "users": n, "arrests": 0}))
            brute.add(s.signature(g, {"population": d, "users": 0, "arrests": n}))
    assert brute <= found


def test_show_rate_is_exact():
    assert completeness.show_rate(50, 10000) == "50/10000 = 0.5%"
    assert completeness.show_rate(1, 3).startswith("1/3 (≈ 33.33%")
    assert completeness.show_rate(0, 0) == "0/0"


# ---- the claim, on random submissions ---------------------------------------------------------------

_SEARCHES: dict = {}


def search_of(ref: str) -> completeness.LevelSearch:
    if ref not in _SEARCHES:
        pack, _ = load_pack(shipped_or_skip(ref))
        _SEARCHES[ref] = completeness.LevelSearch(pack, pack.commune)
    return _SEARCHES[ref]


@st.composite
def submission(draw, level) -> dict:
    """Any row the vocabulary allows (most are then accepted by the validator): small figures,
    figures next to round numbers, and large ones."""
    row = {}
    for k, ind in level.indicators.items():
        if not ind.required and draw(st.integers(0, 4)) == 0:
            row[k] = None
        elif ind.type == "boolean":
            row[k] = draw(st.booleans())
        else:
            lo = int(ind.min) if ind.min is not None else 0
            n = draw(st.one_of(st.integers(lo, 20), st.integers(lo, 12_000),
                               st.sampled_from([10 ** j + d for j in range(1, 7) for d in (-1, 0, 1)]),
                               st.integers(lo, 10 ** 9)))
            n = max(n, lo)
            if ind.type == "integer":
                row[k] = n
            else:
                row[k] = Decimal(n) + Decimal(draw(st.integers(0, 99))) / 100
    for c in level.constraints:  # `n <= d`: mostly keep it (a row breaking it is rejected anyway)
        lin = completeness._linear_of(c.cond, level)
        dens = [d for d in (lin[0] if lin else ()) if completeness._is_cap(lin, d)]
        if dens and draw(st.integers(0, 9)) > 0:
            (n,) = [k for k in lin[0] if k != dens[0]]
            if row[n] is not None and row[dens[0]] is not None:
                row[n] = min(row[n], row[dens[0]])
    return row


@pytest.mark.parametrize("ref", ["qd-28-2025-literal", "qd-28-2025", "xa-lanh-manh"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_valid_submission_has_a_representative_with_its_truth_values_and_class(ref, data):
    """The exhaustiveness claim on random rows: for every regular group, the search holds a
    representative with the row's truth values; when every group has one, the row made of those
    representatives gets the row's class."""
    s = search_of(ref)
    row = data.draw(submission(s.level))
    unit, _ = s.validate(row)
    assume(unit is not None)
    values = dict(unit.values)
    evaluate = completeness._Evaluator(s)
    rep: dict = {}
    complete = True
    for g in s.groups:
        sig = s.signature(g, {k: values[k] for k in g.names})
        match = [r for r in g.reps if s.signature(g, r) == sig]
        if g.regular:
            assert match, (g.names, {k: values[k] for k in g.names})
        if not match:
            complete = False
            continue
        rep.update(match[0])
    if complete:
        assert evaluate(rep).class_id == evaluate(values).class_id
