"""Targets files (engine/targets.py): exact shares, errors naming file/row/column/value, and the
met / not met decision taken with Fractions (a share exactly equal to the target is met)."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanhmanh.engine.batch.targets import NATIONAL, Target, TargetsError, check_targets, parse_share, read_targets

CLASSES = ["drug_free", "type_1", "type_2", "type_3"]


@pytest.mark.parametrize("text,share", [("20%", Fraction(1, 5)), ("12.5%", Fraction(1, 8)),
                                        ("12,5%", Fraction(1, 8)), (" 100 % ", Fraction(1)),
                                        ("1/3", Fraction(1, 3)), ("0%", Fraction(0)),
                                        ("33.333333333333333333%", Fraction(33333333333333333333, 10 ** 20))])
def test_shares_are_read_exactly(text, share):
    assert parse_share(text) == share


@pytest.mark.parametrize("text", ["20", "0.2", "abc", "1/0", "-5%", "", "20%%"])
def test_other_share_texts_are_not_shares(text):
    assert parse_share(text) is None


def test_a_targets_file_is_read_with_its_rows(files):
    p = files.text("t.csv", "province_code,class,share\n40,drug_free,20%\n\n42,type_1,1/4\n*,drug_free,50%\n")
    got = read_targets(p, CLASSES)
    assert got == [Target("40", "drug_free", Fraction(1, 5), 2), Target("42", "type_1", Fraction(1, 4), 4),
                   Target(NATIONAL, "drug_free", Fraction(1, 2), 5)]


@pytest.mark.parametrize("body,expected", [
    ("province_code,class,share\n40,healthy,20%\n", "row 2, column class, value 'healthy'"),
    ("province_code,class,share\n40,drug_free,twenty\n", "row 2, column share, value 'twenty'"),
    ("province_code,class,share\n40,drug_free,120%\n", "row 2, column share, value '120%'"),
    ("province_code,class,share\n4,drug_free,20%\n", "row 2, column province_code, value '4'"),
    ("province_code,class,share\n40,drug_free,20%\n40,drug_free,30%\n",
     "row 3, column province_code, value '40': a second target for class drug_free (the first is on row 2)"),
    ("province_code,class,share\n40,drug_free\n", "row 2: 2 value(s), expected 3"),
    ("province,class,share\n40,drug_free,20%\n", "row 1: the header is 'province,class,share'"),
    ("province_code,class,share\n", "has a header but no target"),
    ("", "the targets file is empty"),
])
def test_bad_files_name_file_row_column_value(files, body, expected):
    p = files.text("t.csv", body)
    with pytest.raises(TargetsError) as e:
        read_targets(p, CLASSES)
    assert str(e.value).startswith(str(p))
    assert expected in str(e.value)


def test_a_missing_file_is_named(files):
    with pytest.raises(TargetsError, match="nope.csv: cannot read the targets file"):
        read_targets(files.root / "nope.csv", CLASSES)


def test_met_exactly_at_the_boundary_and_not_one_unit_below():
    t = Target("40", "drug_free", Fraction(1, 5), 2)
    at, below = check_targets([t, t], {"40": {"drug_free": 2}}, {"40": 10}), \
        check_targets([t], {"40": {"drug_free": 1}}, {"40": 10})
    assert at[0].actual == Fraction(1, 5) and at[0].met is True
    assert below[0].actual == Fraction(1, 10) and below[0].met is False


def test_a_third_is_not_rounded_into_meeting_a_target():
    # 1/3 against 33.333333333333333333% (below 1/3 by 1/3·10^-20): met; against 1/3 + 10^-20: not met
    close_below = Target("01", "drug_free", parse_share("33.333333333333333333%"), 2)
    close_above = Target("01", "drug_free", Fraction(1, 3) + Fraction(1, 10 ** 20), 3)
    res = check_targets([close_below, close_above], {"01": {"drug_free": 1}}, {"01": 3})
    assert [c.met for c in res] == [True, False]
    assert float(close_above.share) == float(Fraction(1, 3))  # floats would have said "met"


def test_national_row_sums_every_province_and_absent_province_is_unknown():
    nat = Target(NATIONAL, "drug_free", Fraction(1, 2), 2)
    absent = Target("99", "drug_free", Fraction(1, 5), 3)
    res = check_targets([nat, absent], {"01": {"drug_free": 3}, "02": {"drug_free": 2, "type_1": 5}},
                        {"01": 3, "02": 7})
    assert (res[0].count, res[0].n_units, res[0].actual, res[0].met) == (5, 10, Fraction(1, 2), True)
    assert (res[1].n_units, res[1].actual, res[1].met) == (0, None, None)


@given(st.integers(0, 500), st.integers(1, 500), st.integers(0, 100), st.integers(1, 100))
def test_met_is_exactly_count_over_units_at_least_target(k, n, a, b):
    k = min(k, n)
    share = Fraction(min(a, b), b)
    (res,) = check_targets([Target("01", "x", share, 2)], {"01": {"x": k}}, {"01": n})
    assert res.met == (k * share.denominator >= share.numerator * n)
