"""Properties: the two backends agree on every submission; the ranking is a competition ranking.

Submissions are generated over every indicator of the two pack families, with the boundary
values of the legal text: rates exactly at 0.05%, 0.1%, 0.2%, 0.5% and one person either side, plants
499/500/2999/3000, areas 124.99/125/749.99/750, sessions 5/6/11/12, shares exactly 50/70/80/90/100%,
zero denominators, the optional new_drug_addicts_prev absent, blank or given. Each is validated
(as the CLI does) and evaluated by both backends; the Outcomes must be equal.
"""
from __future__ import annotations

import math
import warnings
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lmtest import QD28_INDICATORS, QD28_TEST, XLM_INDICATORS, XLM_TEST, identity, shipped_or_skip, xlm_values

from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.evaluation.scoring import UnitResult, make_backend, rank, score_units
from lanhmanh.engine.evaluation.validate import Unit, Validator
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.pack import UNCLASSIFIED

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def examples(ref, shipped: int) -> settings:
    """Settings for a property over one pack: the shipped packs get `shipped` examples, the suite's
    own copies (tests/packs, already covered by the shipped ones once those land) a third of it."""
    n = shipped if not isinstance(ref, Path) else max(20, shipped // 3)
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# ---- packs and backends -------------------------------------------------------------------------

_CACHE: dict = {}


def loaded(ref):
    path = shipped_or_skip(ref)
    if path not in _CACHE:
        _CACHE[path] = load_pack(path)[0]
    return _CACHE[path]


def backends(ref):
    """(pack, python backend, durable backend) for the commune level, built once per pack."""
    pack = loaded(ref)
    key = ("backends", pack.path)
    if key not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _CACHE[key] = (make_backend("python", pack.commune), make_backend("durable", pack.commune))
    return (pack, *_CACHE[key])


QD28_PACKS = [pytest.param(QD28_TEST, id="qd28-test"), pytest.param("qd-28-2025", id="qd-28-2025"),
              pytest.param("qd-28-2025-literal", id="qd-28-2025-literal")]
XLM_PACKS = [pytest.param(XLM_TEST, id="xlm-test"), pytest.param("xa-lanh-manh", id="xa-lanh-manh")]

# ---- strategies: qd-28-2025 --------------------------------------------------------------------

RATE_THRESHOLDS = [Fraction(5, 10000), Fraction(1, 1000), Fraction(2, 1000), Fraction(5, 1000)]  # 0.05 .. 0.5 %
PLANTS = [0, 1, 499, 500, 501, 2999, 3000, 3001, 7999, 8000]
AREAS = ["0", "0.01", "124.99", "125", "125.01", "749.99", "750", "750.01", "1999.99", "2000", "999999999999.99"]
BOOLS = [True, False, "có", "không", "Có", "x", "", "1", "0", "true", "false"]


BIG = 10 ** 12  # the validator's "implausibly large" bound: anything up to it must be scored exactly


@st.composite
def population(draw) -> int:
    if draw(st.integers(0, 9)) == 0:  # now and then, figures near the largest accepted values
        # (BIG + 1 would be rejected, not scored: the bound itself is the largest accepted value)
        return min(BIG, 2000 * draw(st.integers(1, BIG // 2000)) + draw(st.sampled_from([-1, 0, 0, 1])))
    if draw(st.booleans()):
        # a multiple of 2000, so that every threshold is reached by a whole number of people
        return max(1, 2000 * draw(st.integers(1, 30)) + draw(st.sampled_from([-1, 0, 0, 1])))
    return draw(st.integers(1, 60000))


@st.composite
def count_for_rate(draw, pop: int) -> int:
    """A count whose rate over `pop` sits on a threshold, one person either side, or anywhere."""
    how = draw(st.sampled_from(["threshold", "threshold", "zero", "any"]))
    if how == "zero":
        return 0
    if how == "any":
        return draw(st.integers(0, max(1, pop // 100)))
    t = draw(st.sampled_from(RATE_THRESHOLDS))
    base = math.floor(pop * t)
    return max(0, base + draw(st.sampled_from([-1, 0, 0, 1])))


def area_cell(draw) -> object:
    a = draw(st.one_of(st.sampled_from(AREAS),
                       st.decimals(0, 5000, places=2, allow_nan=False, allow_infinity=False).map(str)))
    form = draw(st.sampled_from(["dot", "comma", "decimal"]))
    if form == "comma":
        return a.replace(".", ",")
    if form == "decimal":
        return Decimal(a)
    return a


@st.composite
def qd28_commune(draw) -> dict:
    pop = draw(population())
    # counts of residents never exceed the population (the packs' hard plausibility checks)
    small = st.sampled_from([0, 0, 0, 1, 2]).map(lambda n: min(n, pop))
    return {
        "population": pop,
        "users_with_records": draw(count_for_rate(pop)),
        "drug_arrests": draw(count_for_rate(pop)),
        "harbouring_points": draw(st.sampled_from([0, 0, 1, 2, 3, 5])),
        "drug_plants": draw(st.one_of(st.sampled_from(PLANTS), st.integers(0, 10000), st.just(BIG))),
        "drug_plant_area_m2": area_cell(draw),
        "on_key_route": draw(st.sampled_from(BOOLS)),
        "resident_users_untreated": draw(small),
        "resident_drug_violators": draw(small),
        "wanted_drug_fugitives": draw(small),
    }


# ---- strategies: xa-lanh-manh -------------------------------------------------------------------

SHARES = [Fraction(1, 2), Fraction(7, 10), Fraction(4, 5), Fraction(9, 10), Fraction(1)]


@st.composite
def part_of(draw, total_min: int = 0) -> tuple[int, int]:
    """(part, whole) with part <= whole: shares exactly at 50/70/80/90/100%, one either side, zero."""
    whole = draw(st.one_of(st.sampled_from([0, 1, 2, 3, 4, 5, 9, 10, 20, 100]), st.integers(0, 300),
                           st.sampled_from([BIG, BIG - 1])))
    whole = max(whole, total_min)
    how = draw(st.sampled_from(["share", "share", "all", "none", "any"]))
    if how == "all":
        part = whole
    elif how == "none":
        part = 0
    elif how == "any":
        part = draw(st.integers(0, whole))
    else:
        p = draw(st.sampled_from(SHARES))
        part = math.ceil(whole * p) + draw(st.sampled_from([-1, 0, 0, 1]))
    return min(max(part, 0), whole), whole


XLM_GROUPS = [("has_annual_plan",), ("tasks_assigned",), ("communication_sessions",),
              ("villages_total", "villages_reached", "villages_healthy"),
              ("businesses_conditional", "businesses_inspected"), ("violations_detected", "violations_handled"),
              ("new_drug_addicts", "new_drug_addicts_prev"), ("addicts_total", "addicts_managed"),
              ("harbouring_points",), ("prostitution_hotspots",), ("sex_workers_known", "sex_workers_supported"),
              ("venues_prostitution_violations",)]


@st.composite
def xlm_commune(draw) -> dict:
    """Half the time any commune; half the time a full-marks commune with a few groups of figures
    replaced, so that totals around the 90 and 75 class thresholds are common."""
    row = draw(xlm_any_commune())
    if draw(st.booleans()):
        return row
    near = {k: v for k, v in xlm_values().items() if v is not None}
    for group in draw(st.lists(st.sampled_from(XLM_GROUPS), max_size=4, unique=True)):
        for k in group:
            near.pop(k, None)
            if k in row:
                near[k] = row[k]
    return near


@st.composite
def xlm_any_commune(draw) -> dict:
    reached, vtotal = draw(part_of(total_min=1))
    healthy = draw(part_of(total_min=vtotal).map(lambda t: min(t[0], vtotal)))
    inspected, conditional = draw(part_of())
    handled, detected = draw(part_of())
    managed, addicts = draw(part_of())
    supported, known = draw(part_of())
    row = {
        "has_annual_plan": draw(st.sampled_from(BOOLS)),
        "tasks_assigned": draw(st.sampled_from(BOOLS)),
        "communication_sessions": draw(st.one_of(st.sampled_from([0, 5, 6, 11, 12, 13, BIG]), st.integers(0, 40))),
        "villages_total": vtotal, "villages_reached": reached, "villages_healthy": healthy,
        "businesses_conditional": conditional, "businesses_inspected": inspected,
        "violations_detected": detected, "violations_handled": handled,
        "new_drug_addicts": draw(st.sampled_from([0, 0, 1, 2, 3, 5])),
        "addicts_total": addicts, "addicts_managed": managed,
        "harbouring_points": draw(st.sampled_from([0, 0, 0, 1, 2])),
        "prostitution_hotspots": draw(st.sampled_from([0, 0, 0, 1])),
        "sex_workers_known": known, "sex_workers_supported": supported,
        "venues_prostitution_violations": draw(st.sampled_from([0, 0, 1])),
    }
    prev = draw(st.sampled_from(["absent", "blank", "given", "given"]))
    if prev == "blank":
        row["new_drug_addicts_prev"] = ""
    elif prev == "given":
        row["new_drug_addicts_prev"] = draw(st.sampled_from([0, 1, 2, 3, 4, 6]))
    return row


# ---- backends agree on communes -----------------------------------------------------------------

def validate(pack, values: dict, code: int = 1, province: str = "01") -> Unit:
    v = Validator(pack)
    unit = v.row("generated", 2, {**identity(code, province=province), **values})
    assert unit is not None, "generated row rejected: " + "; ".join(
        f"{r.column}={r.value!r}: {r.reason}" for r in v.rejected)
    return unit


def assert_same(a: Outcome, b: Outcome, values: dict):
    assert (a.class_id, a.total, a.vetoes) == (b.class_id, b.total, b.vetoes), values
    assert a.outcomes == b.outcomes, values


# Each test builds its backends first (a backend that cannot be built fails the test at once,
# instead of once per generated example), then runs the property.

@pytest.mark.parametrize("ref", QD28_PACKS)
def test_qd28_backends_agree(ref):
    pack, py, du = backends(ref)

    @examples(ref, 150)
    @given(values=qd28_commune())
    def prop(values):
        assert set(QD28_INDICATORS) <= set(values)
        unit = validate(pack, values)
        assert_same(py.evaluate(unit.values), du.evaluate(unit.values), unit.values)

    prop()


@pytest.mark.parametrize("ref", XLM_PACKS)
def test_xlm_backends_agree(ref):
    pack, py, du = backends(ref)

    @examples(ref, 200)
    @given(values=xlm_commune())
    def prop(values):
        assert set(XLM_INDICATORS) - {"new_drug_addicts_prev"} <= set(values)
        unit = validate(pack, values)
        out = py.evaluate(unit.values)
        assert_same(out, du.evaluate(unit.values), unit.values)
        # the points table of the pack's docs: 100 points at most; a vetoed commune is never healthy, an unvetoed one
        # with 90 points or more always is
        assert 0 <= out.total <= 100
        if unit.values["prostitution_hotspots"] > 0 or unit.values["harbouring_points"] > 0:
            assert out.vetoes and out.class_id != "healthy", unit.values
        else:
            assert not out.vetoes, unit.values
            if out.total >= 90:
                assert out.class_id == "healthy", unit.values

    prop()


def test_bug_durable_cannot_compile_at_least_over_or_higher():
    """Criterion đ of QĐ 28 as the legal text words it ("at least 2 of the type II criteria a–d met, at
    type II level or higher, and on_key_route"), written with the language's own `or_higher`:
    the python backend evaluates it, the durable backend fails to build the ruleset
    (durable_rules error 113, ERR_EXPRESSION_LIMIT_EXCEEDED: the condition is unrolled into
    every combination of the inlined criteria, past durable_rules' expressions-per-rule limit)."""
    pack = loaded(QD28_TEST)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        du = make_backend("durable", pack.commune)
    py = make_backend("python", pack.commune)
    unit = validate(pack, {"population": 10000, "users_with_records": 10, "drug_arrests": 5,
                           "harbouring_points": 2, "drug_plants": 3000, "drug_plant_area_m2": "0",
                           "on_key_route": True, "resident_users_untreated": 1,
                           "resident_drug_violators": 0, "wanted_drug_fugitives": 0})
    assert_same(py.evaluate(unit.values), du.evaluate(unit.values), unit.values)
    assert du.evaluate(unit.values).class_id == "type_1"


def test_bug_durable_silently_wrong_past_64_bit_products():
    """Counts are unbounded integers. With villages_total = villages_healthy = 2**62 (share 100%),
    the python backend gives F1 10 points; the durable backend overflows the cross-multiplied
    comparison inside durable_rules and silently gives 5. Expected: the same outcome, or the row
    rejected / an explicit error — never a different score."""
    from lanhmanh.engine.evaluation.durable_backend import DurableError
    from lanhmanh.engine.evaluation.outcome import EngineRefused

    pack, py, du = backends(XLM_TEST)
    big = 2 ** 62
    v = Validator(pack)
    unit = v.row("big", 2, {**identity(1), **{k: 0 for k in XLM_INDICATORS},
                            "has_annual_plan": True, "tasks_assigned": True, "new_drug_addicts_prev": "",
                            "villages_total": big, "villages_reached": big, "villages_healthy": big})
    if unit is None:
        return  # rejected by the validator: acceptable
    try:
        got = du.evaluate(unit.values)
    except (DurableError, EngineRefused):
        return  # refused explicitly: acceptable
    assert_same(py.evaluate(unit.values), got, {"villages": big})


# ---- backends agree on provinces (qd-28-2025) -----------------------------------------------------

@st.composite
def qd28_batch(draw) -> list[dict]:
    rows = []
    code = 1
    for prov in draw(st.lists(st.sampled_from(["01", "02", "40", "79"]), min_size=1, max_size=3, unique=True)):
        for _ in range(draw(st.integers(1, 5))):
            rows.append({**identity(code, province=prov), **draw(qd28_commune())})
            code += 1
        kind = draw(st.sampled_from(["none", "route", "route", "override"]))
        if kind != "none":
            prow = {**identity("", name=f"Tỉnh {prov}", unit_type=draw(st.sampled_from(["tỉnh", "thành phố"])),
                               province=prov),
                    "on_interprovincial_route": draw(st.sampled_from(["", "có", "không", "x"]))}
            if kind == "override":  # province figures supplied instead of the sums
                prow["population"] = draw(st.integers(1, 200000))
                prow["harbouring_points"] = draw(st.sampled_from([4, 5, 6]))
                prow["drug_plants"] = draw(st.sampled_from([7999, 8000]))
            rows.append(prow)
    return rows


@pytest.mark.slow
@pytest.mark.parametrize("ref", QD28_PACKS)
def test_qd28_province_outcomes_agree(ref):
    pack = loaded(ref)
    backends(ref)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        make_backend("durable", pack.province)

    @examples(ref, 60)
    @given(rows=qd28_batch())
    def prop(rows):
        check_province_batch(pack, rows)

    prop()


def check_province_batch(pack, rows):
    v = Validator(pack)
    units = [u for i, r in enumerate(rows) if (u := v.row("generated", i + 2, r)) is not None]
    assert not v.rejected, [(r.row, r.column, r.value, r.reason) for r in v.rejected]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batches = {e: score_units(pack, units, e) for e in ("durable", "python")}
    d, p = batches["durable"], batches["python"]
    assert [x.province_code for x in d.provinces] == [x.province_code for x in p.provinces]
    for a, b in zip(p.provinces, d.provinces):
        assert a.outcome is not None
        assert_same(a.outcome, b.outcome, a.values)
        # no unit list here: shares are over the communes scored, so the class is always decided
        assert a.outcome.class_id in ("drug_free", "key_area", "not_key_area")
    assert [(r.unit.code, r.outcome, r.rank_national, r.rank_province) for r in p.units] == \
           [(r.unit.code, r.outcome, r.rank_national, r.rank_province) for r in d.units]


# ---- the ranking ---------------------------------------------------------------------------------

BEST_FIRST = {  # the classes of the legal text, best first, written here independently of the packs
    "qd28": ["drug_free", "type_3", "type_2", "type_1"],
    "xlm": ["healthy", "substantially_reduced", "not_met"],
}


def spec_key(family: str, unit: Unit, out: Outcome) -> tuple:
    """The ranking rule: class (best first, unclassified last), total (higher first), fewer vetoes,
    then for qd-28-2025 user_rate and arrest_rate (lower first); unit_code is not part of it."""
    order = BEST_FIRST[family]
    key = [order.index(out.class_id) if out.class_id in order else len(order), -(out.total or 0),
           len(out.vetoes)]
    if family == "qd28":
        pop = unit.values["population"]
        key += [Fraction(unit.values["users_with_records"], pop), Fraction(unit.values["drug_arrests"], pop)]
    return tuple(key)


@st.composite
def ranked_batch(draw, family: str):
    pack = loaded(QD28_TEST if family == "qd28" else XLM_TEST)
    level = pack.commune
    n = draw(st.integers(1, 14))
    codes = draw(st.lists(st.integers(1, 99999), min_size=n, max_size=n, unique=True))
    results = []
    for code in codes:
        cls = draw(st.sampled_from([c.id for c in level.classes] + [UNCLASSIFIED]))
        vetoes = draw(st.lists(st.sampled_from(list(level.vetoes) or ["-"]), unique=True, max_size=2)) \
            if level.vetoes else []
        total = draw(st.sampled_from([None] if not level.scored else [70, 80, 90, 95, 100]))
        values = {}
        if family == "qd28":
            values = {"population": draw(st.sampled_from([1000, 2000, 3000])),
                      "users_with_records": draw(st.sampled_from([0, 1, 2, 3])),
                      "drug_arrests": draw(st.sampled_from([0, 1, 2]))}
        unit = Unit(code=f"{code:05d}", name="x", type="xã", province_code=draw(st.sampled_from(["01", "02", "03"])),
                    year=2025, values=values)
        results.append(UnitResult(unit, Outcome(cls, total, vetoes, [])))
    return family, level, results


def _check_competition_ranking(family, results, attr):
    keys = [spec_key(family, r.unit, r.outcome) for r in results]
    ranks = [getattr(r, attr) for r in results]
    assert ranks[0] == 1
    assert ranks == sorted(ranks), "ranks must not decrease in output order"
    for r, k, rk in zip(results, keys, ranks):
        better = sum(1 for k2 in keys if k2 < k)
        assert rk == 1 + better, (r.unit.code, k, rk, better)
    for i in range(len(results)):
        for j in range(len(results)):
            if keys[i] == keys[j]:
                assert ranks[i] == ranks[j]


@SETTINGS
@given(batch=st.sampled_from(["qd28", "xlm"]).flatmap(ranked_batch))
def test_rank_is_a_competition_ranking(batch):
    family, level, results = batch
    ordered = rank(level, list(reversed(results)))
    assert sorted(r.unit.code for r in ordered) == sorted(r.unit.code for r in results)
    keys = [(spec_key(family, r.unit, r.outcome), r.unit.code) for r in ordered]
    assert keys == sorted(keys), "units must come out in rank order, unit_code breaking ties"
    _check_competition_ranking(family, ordered, "rank_national")
    for prov in {r.unit.province_code for r in ordered}:
        _check_competition_ranking(family, [r for r in ordered if r.unit.province_code == prov], "rank_province")


def test_rank_ties_example():
    pack = loaded(XLM_TEST)
    mk = lambda code, total: UnitResult(Unit(code, "x", "xã", "01", 2025, {}),  # noqa: E731
                                        Outcome("healthy", total, [], []))
    ordered = rank(pack.commune, [mk("00004", 90), mk("00003", 95), mk("00002", 95), mk("00001", 100)])
    assert [(r.unit.code, r.rank_national) for r in ordered] == [("00001", 1), ("00002", 2), ("00003", 2),
                                                                 ("00004", 4)]
