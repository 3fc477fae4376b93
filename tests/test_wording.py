"""Thresholds in Vietnamese words, generated from the rule tree (engine/analysis/wording.py)."""
from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path

import pytest

from lanhmanh.engine.analysis.wording import Wording, lower_first, number_text
from lanhmanh.engine.language.parser import parse
from lanhmanh.engine.model.loader import load_pack

RULES = Path(__file__).resolve().parent.parent / "rules"
SHIPPED = sorted(p.name for p in RULES.glob("*.yaml"))
MACHINE = re.compile(r">=|<=|==|!=|[<>]|\band\b|\bor\b|\bnot\b|_|\w+\(")


@pytest.fixture(scope="module")
def qd28():
    pack, _ = load_pack("qd-28-2025")
    return pack, Wording(pack, pack.commune)


def test_the_issue_s_examples(qd28):
    pack, w = qd28
    words = {c.id: w.criterion(c) for c in pack.commune.criteria.values()}
    assert words["I.a"] == "Từ 0,5% trở lên"
    assert words["I.b"] == "Có từ 2 điểm trở lên"
    assert words["I.đ"].startswith("Ít nhất 2 tiêu chí loại II trở lên")
    assert "và nằm trên tuyến trọng điểm phức tạp về ma túy" in words["I.đ"]
    assert words["I.d"] == "Có từ 3.000 cây trở lên hoặc từ 750 m² trở lên"
    assert words["III.a"] == "Dưới 0,1%"
    assert words["DF.3"] == "Không có"


def test_values_with_the_same_unit_are_named_by_their_labels(qd28):
    pack, w = qd28
    words = w.criterion(pack.commune.criteria["DF.2"])
    assert words == ("Số người cư trú trên địa bàn vi phạm pháp luật về ma túy bằng 0 và số đối tượng truy nã "
                     "về ma túy lẩn trốn trên địa bàn bằng 0")


def test_classes_vetoes_and_the_province_level():
    pack, _ = load_pack("qd-28-2025")
    w = Wording(pack, pack.commune)
    classes = {c.id: w.class_(c) for c in pack.commune.classes}
    assert classes == {"drug_free": "Đạt cả 3 tiêu chí (DF.1–DF.3)",
                       "type_1": "Đạt ít nhất 3 trong 5 tiêu chí (I.a–I.đ)",
                       "type_2": "Đạt ít nhất 3 trong 5 tiêu chí (II.a–II.đ)",
                       "type_3": "Các đơn vị còn lại"}
    p = Wording(pack, pack.province)
    assert p.criterion(pack.province.criteria["P.4"]) == (
        "Tỷ lệ đơn vị cấp xã là địa bàn trọng điểm phức tạp về ma túy loại I hoặc địa bàn trọng điểm phức "
        "tạp về ma túy loại II từ 3% trở lên")
    assert p.criterion(pack.province.criteria["P.6"]) == "Có"
    xlm, _ = load_pack("xa-lanh-manh")
    x = Wording(xlm, xlm.commune)
    assert [x.class_(c) for c in xlm.commune.classes] == [
        "Tổng điểm từ 90 trở lên và không có điểm liệt", "Tổng điểm từ 75 trở lên", "Các đơn vị còn lại"]
    assert x.veto(xlm.commune.vetoes["V1"]) == "Có từ 1 tụ điểm trở lên"


def test_bands_use_the_pack_s_label_and_list_their_points():
    pack, _ = load_pack("xa-lanh-manh")
    w = Wording(pack, pack.commune)
    assert w.criterion(pack.commune.criteria["B1"]) == "Từ 12 buổi trở lên: 8 điểm; Từ 6 đến 11 buổi: 4 điểm"
    assert w.criterion(pack.commune.criteria["D2"]) == "Từ 90% trở lên"


def test_the_literal_reading_s_ranges():
    pack, _ = load_pack("qd-28-2025-literal")
    w = Wording(pack, pack.commune)
    assert w.criterion(pack.commune.criteria["II.a"]) == "Từ 0,1% đến dưới 0,5%"
    assert w.criterion(pack.commune.criteria["II.b"]) == "Có đúng 1 điểm"


@pytest.mark.parametrize("src,words", [
    ("not on_key_route", "Không"),
    ("on_key_route", "Có"),
    ("harbouring_points > 2", "Có trên 2 điểm"),
    ("harbouring_points <= 2", "Có không quá 2 điểm"),
    ("harbouring_points != 0", "Có từ 1 điểm trở lên"),
    ("drug_plant_area_m2 >= 1250.5", "Từ 1.250,5 m² trở lên"),
    ("user_rate > 1%", "Trên 1%"),
    ("2 <= harbouring_points", "Có từ 2 điểm trở lên"),
    ("drug_arrests >= harbouring_points", "Số đối tượng phạm tội về ma túy bị bắt giữ trên địa bàn không ít hơn "
                                          "số điểm tổ chức, chứa chấp sử dụng trái phép chất ma túy"),
    ("not (harbouring_points >= 2 and on_key_route)",
     "Không phải (số điểm tổ chức, chứa chấp sử dụng trái phép chất ma túy từ 2 điểm trở lên và nằm trên tuyến "
     "trọng điểm phức tạp về ma túy nội tỉnh hoặc liên tỉnh)"),
    ("any(I.a, I.b)", "Đạt ít nhất 1 trong 2 tiêu chí loại I (I.a, I.b)"),
    ("given(drug_plants)", "Có số liệu số cây có chứa chất ma túy bị phát hiện, triệt phá"),
    ("drug_plants + harbouring_points >= 3",
     "Số cây có chứa chất ma túy bị phát hiện, triệt phá cộng số điểm tổ chức, chứa chấp sử dụng trái phép chất "
     "ma túy từ 3 trở lên"),
])
def test_each_kind_of_node(qd28, src, words):
    _, w = qd28
    assert w.condition(parse(src)) == words


def test_numbers_in_vietnamese():
    assert number_text(1234567) == "1.234.567"
    assert number_text(Fraction(1, 2)) == "0,5"
    assert number_text(Fraction(1, 3)) == "1/3"
    assert number_text(Fraction(-5, 4)) == "-1,25"
    assert lower_first("Số người") == "số người" and lower_first("HIV") == "HIV"


@pytest.mark.parametrize("name", SHIPPED)
def test_no_shipped_threshold_reads_like_machine_text(name):
    pack, _ = load_pack(RULES / name)
    for level in (pack.commune, pack.province):
        if level is None:
            continue
        w = Wording(pack, level)
        ids = set(level.indicators) | set(level.derived) | {c.id for c in level.classes} | set(pack.commune.indicators)
        ids |= {c.id for c in pack.commune.classes} | {"total", "vetoed"}
        texts = [(c.id, w.criterion(c)) for c in level.criteria.values()]
        texts += [(c.id, w.band(b)) for c in level.criteria.values() for b in c.bands]
        texts += [(c.id, w.condition(b.cond)) for c in level.criteria.values() for b in c.bands]
        texts += [(c.id, w.class_(c)) for c in level.classes]
        texts += [(v.id, w.veto(v)) for v in level.vetoes.values()]
        for what, text in texts:
            assert text and not text[0].islower(), (name, what, text)
            assert not MACHINE.search(text), (name, what, text)
            words = set(re.findall(r"[\w.]+", text))
            assert not words & ids, (name, what, text)
