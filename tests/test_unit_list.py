"""Codes, types, provinces and names checked against the official list of administrative units
(vietnam-provinces: 34 provinces and 3,321 units since 1 July 2025), through `lanhmanh score`."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from lmtest import XLM_TEST, xlm_row

from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.model import admin_units
from lanhmanh.engine.model.loader import load_pack

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(run_cli, *args):
    return run_cli("score", *args, "--rules", str(XLM_TEST), "--engine", "python", "--json", "o.json")


def doc(workdir):
    return json.loads((workdir / "o.json").read_text(encoding="utf-8"))


def anh_son(**over):
    """Xã Anh Sơn, Nghệ An, as the official list has it."""
    row = xlm_row("17329", province="40", name="Xã Anh Sơn")
    row.update(over)
    return row


def test_the_official_list_is_the_one_in_force_since_july_2025():
    lst = admin_units.UnitLists().for_year(2025)
    assert len(lst) == 3321 and len(lst.provinces) == 34
    assert lst.get("17329") == admin_units.AdminUnit("17329", "Xã Anh Sơn", "xã", "40")
    assert lst.province("40") == "Nghệ An"
    assert len(lst.units_of("40")) == 130
    assert {u.type for u in lst.units.values()} == {"xã", "phường", "đặc khu"}


def test_the_samples_pass_the_official_check_without_a_warning(run_cli, workdir):
    for sample, rules in (("nghe-an-2025-lanh-manh.csv", "xa-lanh-manh"), ("nghe-an-2025-ma-tuy.csv", "qd-28-2025")):
        r = run_cli("score", str(EXAMPLES / sample), "--rules", rules, "--engine", "python", "--json", "o.json")
        assert r.exit_code == 0, r.output
        assert doc(workdir)["warnings"] == [] and doc(workdir)["rejected"] == []
        assert len(doc(workdir)["units"]) == 130


def test_an_unknown_code_is_rejected_and_the_unit_named_is_suggested(run_cli, files, workdir):
    inp = files.csv("a.csv", [anh_son(), anh_son(unit_code="99999", unit_name="Xã Diễn Châu")])
    r = run(run_cli, str(inp))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert (rej["row"], rej["column"], rej["value"]) == (3, "unit_code", "99999")
    assert "no commune-level unit 99999" in rej["reason"] and "17464 (Xã Diễn Châu" in rej["reason"]
    assert [u["unit_code"] for u in doc(workdir)["units"]] == ["17329"]


@pytest.mark.parametrize("over, column", [({"province_code": "01"}, "province_code"),
                                          ({"unit_type": "phường"}, "unit_type")])
def test_a_code_in_another_province_or_of_another_type_is_rejected(run_cli, files, workdir, over, column):
    r = run(run_cli, str(files.csv("a.csv", [anh_son(**over)])))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert rej["column"] == column and "Xã Anh Sơn" in rej["reason"]
    assert doc(workdir)["units"] == []


def test_a_name_that_differs_is_a_warning_and_the_unit_is_scored(run_cli, files, workdir):
    inp = files.csv("a.csv", [anh_son(unit_name="Xa Anh Son")])
    r = run(run_cli, str(inp))
    assert r.exit_code == 0, r.output
    (w,) = [w for w in doc(workdir)["warnings"] if w["column"] == "unit_name"]
    assert "'Xã Anh Sơn'" in w["message"] and w["row"] == 2
    assert doc(workdir)["units"][0]["unit_name"] == "Xa Anh Son"


@pytest.mark.parametrize("name", ["Anh Sơn", "xã  anh sơn", "XÃ ANH SƠN",
                                  "Xa\u0303 Anh So\u031bn"])  # NFD: decomposed tilde and horn
def test_case_spacing_the_type_word_and_nfd_are_not_differences(run_cli, files, workdir, name):
    r = run(run_cli, str(files.csv("a.csv", [anh_son(unit_name=name)])))
    assert r.exit_code == 0, r.output
    assert doc(workdir)["warnings"] == []


def test_unit_list_none_checks_nothing(run_cli, files, workdir):
    r = run(run_cli, str(files.csv("a.csv", [xlm_row(1)])), "--unit-list", "none")
    assert r.exit_code == 0, r.output
    r = run(run_cli, str(files.csv("a.csv", [xlm_row(1)])))
    assert r.exit_code == 1, r.output


def test_a_newer_list_can_be_given_as_csv(run_cli, files, workdir):
    lst = files.text("units.csv", "unit_code,unit_name,unit_type,province_code,province_name\n"
                                  "00001,Xã 00001,xã,01,Hà Nội\n")
    r = run(run_cli, str(files.csv("a.csv", [xlm_row(1), anh_son()])), "--unit-list", str(lst))
    assert r.exit_code == 1, r.output
    assert [u["unit_code"] for u in doc(workdir)["units"]] == ["00001"]
    assert doc(workdir)["rejected"][0]["value"] == "17329"
    bad = files.text("bad.csv", "code,name\n1,x\n")
    assert run(run_cli, str(files.csv("a.csv", [xlm_row(1)])), "--unit-list", str(bad)).exit_code == 2


def test_a_province_row_is_checked_against_the_provinces():
    pack, _ = load_pack("qd-28-2025")
    v = Validator(pack, admin_units.UnitLists())
    ok = v.row("a.csv", 2, {"unit_code": "", "unit_name": "Tỉnh Nghệ An", "unit_type": "tỉnh",
                            "province_code": "40", "year": 2025, "on_interprovincial_route": "có"})
    assert ok is not None and not v.rejected
    bad = v.row("a.csv", 3, {"unit_code": "", "unit_name": "Tỉnh Hà Tây", "unit_type": "tỉnh",
                             "province_code": "02", "year": 2025, "on_interprovincial_route": "có"})
    assert bad is None and v.rejected[0].column == "province_code"
