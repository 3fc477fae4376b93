"""Checking submitted cells and rows: types, bounds, Vietnamese forms, cross-field rules, identity."""
from __future__ import annotations

import unicodedata
from decimal import Decimal

import pytest
from lmtest import QD28_TEST, XLM_TEST, identity, qd28_row, xlm_row

from lanhmanh.engine.evaluation.validate import CellError, Validator, parse_value
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.pack import Indicator


def nfd(s: str) -> str:
    return unicodedata.normalize("NFD", s)


INT = Indicator("n", "N", "integer", min=Decimal(0))
POS = Indicator("population", "Dân số", "integer", min=Decimal(1))
DEC = Indicator("area", "Diện tích", "decimal", min=Decimal(0), decimals=2)
DEC0 = Indicator("whole", "Nguyên", "decimal", min=Decimal(0), decimals=0)
BOOL = Indicator("b", "B", "boolean")
OPT_BOOL = Indicator("ob", "OB", "boolean", required=False)
OPT_INT = Indicator("oi", "OI", "integer", min=Decimal(0), required=False)
CAPPED = Indicator("c", "C", "integer", min=Decimal(0), max=Decimal(100))


@pytest.fixture(scope="module")
def qd28():
    return load_pack(QD28_TEST)[0]


@pytest.fixture(scope="module")
def xlm():
    return load_pack(XLM_TEST)[0]


# ---- integers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("12", 12), (12, 12), ("12.0", 12), (" 12 ", 12), ("0", 0), ("+12", 12), (12.0, 12),
    (Decimal("12.0"), 12), ("1 000", 1000), ("1\u00a0000", 1000), ("12.00", 12),
])
def test_integer_accepted(raw, value):
    got = parse_value(INT, raw)
    assert got == value and type(got) is int


@pytest.mark.parametrize("raw, words", [
    ("mười", "whole number"), ("12.5", "whole number"), (12.5, "whole number"), (Decimal("0.5"), "whole number"),
    ("-1", "negative"), (-1, "negative"), ("1e3", "whole number"), ("12,5", "whole number"),
    (True, "true/false"), ("", "missing"), (None, "missing"), ("  ", "missing"),
])
def test_integer_rejected(raw, words):
    with pytest.raises(CellError) as info:
        parse_value(INT, raw)
    assert words in str(info.value)


def test_integer_bounds():
    with pytest.raises(CellError, match="minimum 1"):
        parse_value(POS, "0")
    assert parse_value(CAPPED, "100") == 100
    with pytest.raises(CellError, match="maximum 100"):
        parse_value(CAPPED, "101")


def test_optional_integer_blank_is_none():
    assert parse_value(OPT_INT, "") is None
    assert parse_value(OPT_INT, None) is None
    assert parse_value(OPT_INT, "3") == 3


def test_bug_integer_with_a_thousands_dot_read_as_units():
    """'3.000' is how a Vietnamese spreadsheet writes three thousand (and '3,000' is rejected); it is
    silently read as 3 — three plants instead of the type I threshold of 3,000. Expected: rejected
    as ambiguous, or read as 3000; never 3."""
    try:
        got = parse_value(INT, "3.000")
    except CellError:
        return
    assert got == 3000, f"'3.000' was read as {got!r}"


# ---- decimals ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("750,5", Decimal("750.5")), ("750.5", Decimal("750.5")), ("124,99", Decimal("124.99")),
    ("124.99", Decimal("124.99")), ("125", Decimal("125")), ("125.00", Decimal("125")), (750, Decimal(750)),
    (Decimal("0.01"), Decimal("0.01")), (" 0,01 ", Decimal("0.01")), (".5", Decimal("0.5")),
])
def test_decimal_accepted(raw, value):
    got = parse_value(DEC, raw)
    assert got == value and isinstance(got, Decimal)


@pytest.mark.parametrize("raw, words", [
    ("124.999", "decimal places"), ("124,999", "decimal places"), ("1.2345", "more than 2 decimal places"),
    ("0.001", "more than 2 decimal places"), ("abc", "not a number"), ("1,5,0", "not a number"),
    ("NaN", "not a number"), ("Infinity", "not a number"), ("-0.01", "negative"), ("1e2", "not a number"),
    (True, "true/false"), ("", "missing"),
])
def test_decimal_rejected(raw, words):
    with pytest.raises(CellError) as info:
        parse_value(DEC, raw)
    assert words in str(info.value)


def test_decimal_places_follow_the_indicator():
    with pytest.raises(CellError, match="more than 0 decimal places"):
        parse_value(DEC0, "1.5")
    assert parse_value(DEC0, "2") == 2


# ---- booleans ---------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, value", [
    ("có", True), ("Có", True), ("CÓ", True), (nfd("có"), True), ("x", True), ("X", True), ("true", True),
    ("TRUE", True), ("1", True), (1, True), (True, True),
    ("không", False), ("Không", False), (nfd("không"), False), ("", False), ("  ", False), (None, False),
    ("false", False), ("0", False), (0, False), (False, False),
])
def test_boolean(raw, value):
    assert parse_value(BOOL, raw) is value


def test_optional_boolean_blank_is_none():
    assert parse_value(OPT_BOOL, "") is None
    assert parse_value(OPT_BOOL, None) is None
    assert parse_value(OPT_BOOL, "có") is True


@pytest.mark.parametrize("raw", ["maybe", "2", 2, "có thể", "yes please"])
def test_boolean_rejected(raw):
    with pytest.raises(CellError, match="yes/no"):
        parse_value(BOOL, raw)


# ---- rows ---------------------------------------------------------------------------------------

def test_good_row_is_typed(qd28):
    v = Validator(qd28)
    u = v.row("a.csv", 2, qd28_row(7, drug_plant_area_m2="124,99", on_key_route="x", population="12000"))
    assert u is not None, v.rejected
    assert u.code == "00007" and u.province_code == "01" and u.type == "xã" and u.year == 2025
    assert u.values["population"] == 12000
    assert u.values["drug_plant_area_m2"] == Decimal("124.99")
    assert u.values["on_key_route"] is True
    assert (u.path, u.row) == ("a.csv", 2)
    assert not v.rejected


def test_codes_are_zero_padded(qd28):
    v = Validator(qd28)
    u = v.row("a.csv", 2, {**qd28_row(), "unit_code": "4", "province_code": "1"})
    assert (u.code, u.province_code) == ("00004", "01")


def test_nfd_identity_is_normalised(qd28):
    v = Validator(qd28)
    u = v.row("a.csv", 2, {**qd28_row(name=nfd("Xã Diễn Châu")), "unit_type": nfd("Phường"),
                           "on_key_route": nfd("Có")})
    assert u is not None, v.rejected
    assert u.type == "phường"
    assert u.name == "Xã Diễn Châu" and unicodedata.is_normalized("NFC", u.name)
    assert u.values["on_key_route"] is True


@pytest.mark.parametrize("utype", ["xã", "phường", "đặc khu", "thị trấn", "Xã", " xã "])
def test_commune_unit_types(qd28, utype):
    v = Validator(qd28)
    assert v.row("a.csv", 2, {**qd28_row(), "unit_type": utype}) is not None, v.rejected


@pytest.mark.parametrize("utype", ["huyện", "thôn", "village", ""])
def test_unknown_unit_type_rejected(qd28, utype):
    v = Validator(qd28)
    assert v.row("a.csv", 5, {**qd28_row(), "unit_type": utype}) is None
    [r] = v.rejected
    assert (r.path, r.row, r.column) == ("a.csv", 5, "unit_type")


@pytest.mark.parametrize("col, value", [("unit_code", "12345678"), ("unit_code", "AB123"), ("unit_code", ""),
                                        ("province_code", "123"), ("unit_name", ""), ("year", "20x5"),
                                        ("year", "1899")])
def test_bad_identity_rejected(qd28, col, value):
    v = Validator(qd28)
    assert v.row("a.csv", 3, {**qd28_row(), col: value}) is None
    assert [r.column for r in v.rejected] == [col]


def test_every_bad_cell_of_a_row_is_listed(qd28):
    v = Validator(qd28)
    assert v.row("a.csv", 4, qd28_row(population="mười", drug_arrests="-1", on_key_route="hmm")) is None
    got = {r.column: r for r in v.rejected}
    assert set(got) == {"population", "drug_arrests", "on_key_route"}
    assert got["population"].value == "mười" and "whole number" in got["population"].reason
    assert "negative" in got["drug_arrests"].reason
    assert all(r.row == 4 and r.path == "a.csv" for r in v.rejected)


def test_missing_required_column(qd28):
    row = qd28_row()
    del row["drug_plants"]
    v = Validator(qd28)
    assert v.row("a.csv", 2, row) is None
    [r] = v.rejected
    assert r.column == "drug_plants" and "missing" in r.reason


def test_optional_column_may_be_absent_or_blank(xlm):
    row = xlm_row()
    del row["new_drug_addicts_prev"]
    v = Validator(xlm)
    u = v.row("a.csv", 2, row)
    assert u is not None and u.values["new_drug_addicts_prev"] is None
    u2 = v.row("a.csv", 3, xlm_row(2, new_drug_addicts_prev=""))
    assert u2 is not None and u2.values["new_drug_addicts_prev"] is None
    u3 = v.row("a.csv", 4, xlm_row(3, new_drug_addicts_prev="4"))
    assert u3.values["new_drug_addicts_prev"] == 4


def test_duplicate_unit_code_names_the_first_row(qd28):
    v = Validator(qd28)
    assert v.row("a.csv", 2, qd28_row(1)) is not None
    assert v.row("a.csv", 3, qd28_row(2)) is not None
    assert v.row("b.csv", 7, qd28_row("1")) is None
    [r] = v.rejected
    assert (r.path, r.row, r.column) == ("b.csv", 7, "unit_code")
    assert "duplicate" in r.reason and "a.csv" in r.reason and "row 2" in r.reason


def test_cross_field_constraint(xlm):
    v = Validator(xlm)
    assert v.row("a.csv", 6, xlm_row(villages_reached=11, villages_total=10)) is None
    [r] = v.rejected
    assert (r.row, r.column, r.value) == (6, "villages_reached", 11)
    assert "vượt tổng số thôn" in r.reason and "villages_reached <= villages_total" in r.reason
    # equal is fine
    assert v.row("a.csv", 7, xlm_row(2, villages_reached=10, villages_total=10)) is not None


def test_zero_denominator_reject_policy(files):
    p = files.rules("zero.yaml", """\
pack: {id: zero, title: Z, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  num: {label: Tử, type: integer, min: 0}
  den: {label: Mẫu, type: integer, min: 0}
derived:
  r: {label: R, expr: num / den, zero_denominator: reject}
criteria:
  A: {title: A, when: r >= 50%}
classes:
  - {id: hi, label: Cao, when: A}
  - {id: lo, label: Thấp, residual: true}
""")
    pack = load_pack(p)[0]
    v = Validator(pack)
    assert v.row("a.csv", 2, {**identity(1), "num": 0, "den": 0}) is None
    [r] = v.rejected
    assert r.column == "den" and "zero denominator" in r.reason
    assert v.row("a.csv", 3, {**identity(2), "num": 0, "den": 1}) is not None


def test_unknown_columns_warn_and_are_kept(qd28):
    v = Validator(qd28)
    headers = list(qd28_row()) + ["ghi_chu", "Người lập"]
    cols = v.header_map("a.csv", headers)
    assert cols["ghi_chu"] == "ghi_chu"
    warned = {w.column for w in v.warnings}
    assert {"ghi_chu", "Người lập"} <= warned
    assert all(w.path == "a.csv" for w in v.warnings)
    u = v.row("a.csv", 2, {**qd28_row(), "ghi_chu": "đã xác minh", "Người lập": "A"})
    assert u is not None
    assert u.extra == {"ghi_chu": "đã xác minh", "Người lập": "A"}


def test_misspelt_column_warns_with_a_suggestion(qd28):
    v = Validator(qd28)
    v.header_map("a.csv", list(qd28_row()) + ["drug_arrest"])
    [w] = v.warnings
    assert w.column == "drug_arrest" and "drug_arrests" in w.message


def test_vietnamese_label_header_maps_to_the_id(qd28):
    v = Validator(qd28)
    labels = {ind.label: ind.id for ind in qd28.commune.indicators.values()}
    headers = ["unit_code", "unit_name", "unit_type", "province_code"] + list(labels)
    cols = v.header_map("a.csv", headers)
    for label, ind_id in labels.items():
        assert cols[label] == ind_id
    assert not v.warnings


@pytest.mark.parametrize("header", [
    "Số nhân khẩu hiện đang cư trú (người)",  # with the unit the template adds
    "  số nhân khẩu  hiện đang cư trú ",  # case and spacing
    nfd("Số nhân khẩu hiện đang cư trú"),  # NFD, as some editors save
    "population", "POPULATION",
])
def test_header_variants(qd28, header):
    v = Validator(qd28)
    assert v.header_map("a.csv", [header])[header] == "population"
    assert not v.warnings


def test_scoring_through_label_headers(qd28):
    v = Validator(qd28)
    labels = {ind.id: ind.label for ind in qd28.commune.indicators.values()}
    raw = {(labels.get(k, k)): val for k, val in qd28_row(users_with_records=50).items()}
    cols = v.header_map("a.csv", list(raw))
    u = v.row("a.csv", 2, {cols[k]: val for k, val in raw.items()})
    assert u is not None, v.rejected
    assert u.values["users_with_records"] == 50


def test_province_row(qd28):
    v = Validator(qd28)
    u = v.row("a.csv", 9, {"unit_code": "", "unit_name": "Tỉnh Nghệ An", "unit_type": "tỉnh",
                           "province_code": "40", "on_interprovincial_route": "có", "population": "3000000"})
    assert u is not None, v.rejected
    assert u.type == "tỉnh" and u.code == "40"
    assert u.values["on_interprovincial_route"] is True
    assert u.values["population"] == 3000000


def test_province_indicator_on_a_commune_row_warns(qd28):
    v = Validator(qd28)
    u = v.row("a.csv", 2, {**qd28_row(), "on_interprovincial_route": "có"})
    assert u is not None
    assert any(w.column == "on_interprovincial_route" for w in v.warnings)


# ---- plausibility checks (constraints with severity: warning); more in test_plausibility.py ------

def test_a_soft_check_warns_once_the_row_is_accepted_and_never_for_a_rejected_row(qd28):
    v = Validator(qd28)
    assert v.row("a.csv", 2, qd28_row(1, users_with_records=600)) is not None
    assert [(w.row, w.column, w.value, w.check) for w in v.warnings] == [
        (2, "users_with_records", 600, "user_rate_plausible")]
    # the same figures, but the row is rejected for another reason (a duplicate code): no warning
    assert v.row("a.csv", 3, qd28_row(1, users_with_records=600)) is None
    assert len(v.warnings) == 1


def test_a_rate_check_is_skipped_when_its_rate_cannot_be_computed(files):
    text = QD28_TEST.read_text(encoding="utf-8").replace(
        "expr: users_with_records / population\n    zero_denominator: reject",
        "expr: users_with_records / population\n    zero_denominator: unknown", 1).replace(
        "expr: drug_arrests / population\n    zero_denominator: reject",
        "expr: drug_arrests / population\n    zero_denominator: unknown", 1).replace(
        "population: {label: \"Số nhân khẩu hiện đang cư trú\", type: integer, min: 1}",
        "population: {label: \"Số nhân khẩu hiện đang cư trú\", type: integer, min: 0}", 1).replace(
        "rule: users_with_records <= population,", "rule: users_with_records <= population + 1000,", 1)
    pack, _ = load_pack(files.rules("p.yaml", text))
    v = Validator(pack)
    # user_rate 5/0 is unknown: `user_rate <= 5%` cannot be compared, so it neither warns nor rejects
    u = v.row("a.csv", 2, qd28_row(1, population=0, users_with_records=5, drug_arrests=0))
    assert u is not None, v.rejected
    assert [w.check for w in v.warnings if w.check] == []
