"""The council profile (--profile and its flags): read, checked, and carried to the documents."""
from __future__ import annotations

import datetime as dt
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanhmanh.cli import cli
from lanhmanh.errors import LanhmanhWarning, UsageError
from lanhmanh.scorecards.outputs.profile import DOTS, CouncilProfile, Signatory, load_profile, parse_signer

ROOT = Path(__file__).resolve().parent.parent


def test_the_shipped_example_profile_reads():
    prof = load_profile(ROOT / "examples" / "ho-so-hoi-dong.yaml")
    assert prof.issuing_body == "CÔNG AN TỈNH NGHỆ AN"
    assert prof.number is None  # "" is blank: printed as dots
    assert prof.number_line() == "Số: ……/BC-CAT"
    assert prof.signatory("proposes").title == "KT. GIÁM ĐỐC\nPHÓ GIÁM ĐỐC"
    assert prof.signatory("approves") == Signatory()
    assert prof.recipients[-1] == "Lưu VT, PC04"


@pytest.mark.parametrize("day, expected", [
    (dt.date(2026, 1, 5), "Vinh, ngày 05 tháng 01 năm 2026"),
    (dt.date(2026, 3, 15), "Vinh, ngày 15 tháng 3 năm 2026"),
    (dt.date(2026, 12, 1), "Vinh, ngày 01 tháng 12 năm 2026"),
])
def test_place_and_date_as_decree_30_writes_them(day, expected):
    assert CouncilProfile(place="Vinh").place_date_line(day) == expected


def test_a_blank_place_prints_dots():
    assert CouncilProfile().place_date_line(dt.date(2026, 2, 20)).startswith(DOTS + ", ngày 20 tháng 02")


def test_unknown_key_warns_with_the_key_meant(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("issuing_bdy: X\nplace: Vinh\n", encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prof = load_profile(f)
    assert prof.place == "Vinh" and prof.issuing_body is None
    msg = [str(w.message) for w in caught if issubclass(w.category, LanhmanhWarning)]
    assert msg and f"{f}:1" in msg[0] and "'issuing_body'" in msg[0]


@pytest.mark.parametrize("text, where", [
    ("date: yesterday\n", ":1"),
    ("place: Vinh\nsignatories: [a, b]\n", ":2"),
    ("recipients: {a: 1}\n", ":1"),
    ("- a\n- b\n", ""),
    ("place: [unclosed\n", ""),
])
def test_a_wrong_profile_is_a_usage_error_naming_the_file(tmp_path, text, where):
    f = tmp_path / "p.yaml"
    f.write_text(text, encoding="utf-8")
    with pytest.raises(UsageError) as e:
        load_profile(f)
    assert f"{f}{where}" in str(e.value)


def test_signer_flag():
    assert parse_signer("approves=Nguyễn Văn A") == ("approves", Signatory(None, "Nguyễn Văn A"))
    assert parse_signer("proposes=KT. GIÁM ĐỐC|Lê B") == ("proposes", Signatory("KT. GIÁM ĐỐC", "Lê B"))
    with pytest.raises(UsageError):
        parse_signer("Nguyễn Văn A")


def test_a_bad_profile_on_the_command_line_exits_2_and_writes_nothing(tmp_path):
    bad = tmp_path / "p.yaml"
    bad.write_text("date: 31/02/2026\n", encoding="utf-8")
    out = tmp_path / "out.xlsx"
    res = CliRunner().invoke(cli, ["score", str(ROOT / "examples" / "nghe-an-2025-ma-tuy.csv"), "--rules",
                                    "qd-28-2025", "--no-db", "--out", str(out), "--profile", str(bad)])
    assert res.exit_code == 2, res.output
    assert str(bad) in res.output and not out.exists()
