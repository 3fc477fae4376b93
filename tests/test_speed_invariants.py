"""What the speed-ups precompute or shortcut gives exactly what the plain computation gives: the
validator's per-pack plan of cross-field checks, the rank keys, the text handed to durable_rules,
the integer cells, the JSON writer's encoder, the per cent of a count rate in integers. (Speed
itself is never asserted.)"""
from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmtest import QD28_TEST, XLM_TEST

from lanhmanh.engine.evaluation.evidence import ZeroRatio
from lanhmanh.engine.evaluation.python_backend import eval_bool, prepare
from lanhmanh.engine.evaluation.scoring import _SCALE, _ordered
from lanhmanh.engine.evaluation.validate import (
    MAX_DIGITS,
    CellError,
    Validator,
    _CheckPlan,
    _read_decimal,
    _to_decimal,
    _to_int,
)
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.scorecards.outputs import json_out, presentation
from lanhmanh.scorecards.outputs.json_out import _encoder

RULES = Path(__file__).resolve().parent.parent / "rules"
PACKS = sorted(RULES.glob("*.yaml")) + [QD28_TEST, XLM_TEST]


def _levels():
    out = []
    for path in PACKS:
        pack = load_pack(path)[0]
        for level in (pack.commune, pack.province):
            if level is not None and (level.constraints or level.soft_constraints):
                out.append(pytest.param(level, id=f"{path.stem}-{level.name}"))
    return out


LEVELS = _levels()


def _value(ind):
    blank = st.none() if not ind.required else st.nothing()
    if ind.type == "boolean":
        return st.one_of(st.booleans(), st.none())
    if ind.type == "decimal":
        return st.one_of(blank, st.integers(0, 10 ** 6).map(lambda n: Decimal(n) / 100))
    return st.one_of(blank, st.integers(0, 3), st.integers(0, 10 ** 7))


@st.composite
def _values(draw, level):
    values = {k: draw(_value(ind)) for k, ind in level.indicators.items()}
    for k in draw(st.lists(st.sampled_from(sorted(level.indicators)), max_size=3)):
        values[k] = None  # blanks, required or not (a province row leaves figures to the sum)
    return values


def test_every_shipped_pack_with_constraints_is_covered():
    assert len(LEVELS) >= 2


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_the_plan_of_cross_checks_equals_the_per_row_computation(level, data):
    values = data.draw(_values(level))
    validator = Validator.__new__(Validator)
    validator.level = level
    plan = _CheckPlan(level)
    ratios: dict = {}
    assert [c.constraint for c in plan.checks] == level.constraints + level.soft_constraints
    for check in plan.checks:
        c = check.constraint
        reads = check.reads_given(values, ratios)
        assert reads == validator._reads(c, values)
        if reads is not None:
            env = prepare(level, values)
            assert check.test(level)(env) == eval_bool(c.cond, values, level)
    assert plan.zero_rejects == [d for d in level.derived.values() if d.zero == "reject"]


def test_the_plan_is_made_once_per_validator_and_follows_its_level():
    pack = load_pack(QD28_TEST)[0]
    v = Validator(pack)
    plan = v._plan()
    assert v._plan() is plan and plan.level is pack.commune


_NUMBERS = st.one_of(
    st.integers(-10 ** 15, 10 ** 15),
    st.fractions(max_denominator=10 ** 9),
    st.integers(-10 ** 6, 10 ** 6).flatmap(lambda n: st.integers(1, 10 ** 7).map(lambda d: Fraction(n, d))),
    st.sampled_from([Fraction(0), Fraction(1, 3), Fraction(-1, 3), Fraction(10 ** 13 + 1, 10 ** 25)]),
)


def _plain(val) -> tuple:
    return (0, math.floor(val * _SCALE), val)


@settings(max_examples=500, deadline=None)
@given(_NUMBERS, _NUMBERS)
def test_rank_keys_order_and_tie_exactly_as_the_fraction_keys(a, b):
    fa, fb, pa, pb = _ordered(a), _ordered(b), _plain(a), _plain(b)
    assert fa == pa and fb == pb  # equal parts, int or Fraction
    assert (fa < fb) == (pa < pb) and (fa == fb) == (pa == pb) and (fa > fb) == (pa > pb)


def test_rank_keys_of_other_values_are_as_before():
    for val in (True, False, 7, -3):
        assert _ordered(val) == _plain(val)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["i0", "i1", "c2", "_total", "_vetoed", "s0n", "x1", 'q"uote']), unique=True),
       st.dictionaries(st.sampled_from(["i0", "i1", "c2", "_total", "_vetoed", "s0n", "x1", 'q"uote']),
                       st.one_of(st.integers(-2 ** 63, 2 ** 63), st.booleans(), st.just(1.5))),
       st.integers(0, 10 ** 9))
def test_the_text_sent_to_durable_rules_is_what_json_dumps_writes(read, fact, n):
    fact_payload = pytest.importorskip("lanhmanh.engine.evaluation.durable_backend").fact_payload
    sid = f"u{n}"
    sent = {name: fact[name] for name in read if name in fact}
    sent["sid"] = sid
    assert fact_payload(fact, tuple(read), sid) == json.dumps(sent)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=MAX_DIGITS + 3))
def test_plain_digit_cells_read_as_before(text):
    if len(text) > MAX_DIGITS:
        with pytest.raises(CellError):
            _to_int(text)
    else:
        assert _to_int(text) == int(text)
    for padded in (f" {text} ", f"+{text}", f"{text}.0"):  # not plain digits: the full checks
        try:
            got = _to_int(padded)
        except CellError:
            continue
        assert got == int(text)


_JSONABLE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70), st.floats(allow_nan=True),
              st.text(), st.sampled_from(["Quyết định 28/2025/QĐ-TTg", "a\u0000b\n\"\\", "\u2028đ", "0/0"]),
              st.builds(lambda t: ZeroRatio(t, "không phát sinh", None), st.text(max_size=5)),
              st.sampled_from([(), {}])),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4),
        st.dictionaries(st.one_of(st.text(max_size=6), st.integers(-5, 5), st.booleans(), st.none()), inner,
                        min_size=1, max_size=4)),
    max_leaves=25)


@settings(max_examples=400, deadline=None)
@given(st.lists(_JSONABLE, min_size=1, max_size=6))
def test_the_json_writers_encoder_writes_what_json_dumps_writes(values):
    one = _encoder()
    for v in values + values:  # the second time from the remembered strings
        assert one(v) == json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def test_the_json_writers_encoder_refuses_what_json_dumps_refuses(monkeypatch):
    one = _encoder()
    looped: list = []
    looped.append(looped)
    with pytest.raises(ValueError, match="Circular reference"):
        one({"a": looped})
    with pytest.raises(TypeError, match="not JSON serializable"):
        one({"a": {1, 2}})
    assert one({"a": [1, "b"]}) == '{"a":[1,"b"]}'  # a failed unit leaves nothing behind
    monkeypatch.setattr(json_out, "_MAX_TEXTS", 2)
    one = _encoder()
    doc = [{"x": "một", "y": "hai", "z": "ba"}] * 3
    assert [one(d) for d in doc] == [json.dumps(d, ensure_ascii=False, separators=(",", ":")) for d in doc]


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789.,-+eE \u00a0", max_size=12),
                 st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
                 st.sampled_from(["0.00", "750,5", "1.000", "12.70", "1e3", "abc", "", "0" * 40])),
       st.integers(0, 3))
def test_decimal_cells_read_as_before_first_time_and_again(text, places):
    def answer(fn):
        try:
            return fn(text, places)
        except CellError as e:
            return ("rejected", str(e))
    plain = answer(_read_decimal)
    assert answer(_to_decimal) == plain and answer(_to_decimal) == plain
    if isinstance(plain, Decimal):
        assert str(answer(_to_decimal)) == str(plain)  # the same digits and exponent, not only equal


def _percent_by_fractions(count: int, of: int) -> str:
    """The per cent of rate_text as it was computed before, with Fractions."""
    percent = Fraction(count) * 100 / Fraction(of)
    scaled = percent * 10_000
    if percent == 0:
        return "0"
    if percent.denominator == 1:
        return str(percent.numerator)
    if scaled.denominator == 1:
        return presentation._at_least_two_decimals(presentation.vn_number(Decimal(scaled.numerator) / 10_000))
    places = 100 if percent >= 1 else 10_000
    return "≈" + presentation._at_least_two_decimals(
        presentation.vn_number(Decimal(math.floor(percent * places)) / places))


@settings(max_examples=400)
@given(st.one_of(st.integers(0, 10 ** 6), st.integers(0, 10 ** 15)), st.integers(1, 10 ** 9))
def test_a_count_rate_in_integers_is_the_fraction_computation(count, of):
    assert presentation._count_percent(count, of) == _percent_by_fractions(count, of)
    assert presentation.rate_text(f"{count}/{of}").startswith(_percent_by_fractions(count, of) + "% (")


@pytest.mark.parametrize("count, of", [(0, 7), (7, 7), (14, 7), (1, 3), (2, 3), (3, 57225), (1, 8), (1, 10 ** 6),
                                       (1, 10 ** 6 + 1), (99, 100), (1, 100), (3, 300), (10 ** 12, 3)])
def test_a_count_rate_at_the_edges(count, of):
    assert presentation._count_percent(count, of) == _percent_by_fractions(count, of)
