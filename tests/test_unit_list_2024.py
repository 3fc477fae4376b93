"""Batches up to 2024 are checked against the last list in force before the 1 July 2025 reform
(63 provinces, 696 districts, 10,051 communes, wards and townships, shipped as
data/units-2024.csv.gz and built by tools/build_unit_lists.py); units carry their district.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
import importlib.util
import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from lmtest import XLM_TEST, identity, pack_for_year, xlm_row, xlm_values

from lanhmanh.engine.evaluation.validate import Validator
from lanhmanh.engine.model import admin_units
from lanhmanh.engine.model.admin_units import AdminUnit, District
from lanhmanh.engine.model.loader import load_pack

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_2024 = ROOT / "tests" / "data" / "nghe-an-2024-lanh-manh.csv"
DATA = ROOT / "data"
WHEEL = Path(os.environ.get("LANHMANH_VP060_WHEEL", "/tmp/vpold/vietnam_provinces-0.6.0-py3-none-any.whl"))


def tool():
    spec = importlib.util.spec_from_file_location("build_unit_lists", ROOT / "tools" / "build_unit_lists.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def doc(workdir):
    return json.loads((workdir / "o.json").read_text(encoding="utf-8"))


def score(run_cli, *args, rules="xa-lanh-manh"):
    return run_cli("score", *args, "--rules", rules, "--engine", "python", "--json", "o.json")


def row_2024(code: str, name: str, utype: str = "xã", province: str = "40", **over) -> dict:
    """A xa-lanh-manh row of batch 2024 for a real pre-reform unit."""
    return {**identity(code, name=name, unit_type=utype, province=province, year=2024), **xlm_values(), **over}


# -- the list ------------------------------------------------------------------------------------


def test_years_up_to_2024_use_the_pre_reform_list_with_its_districts():
    lists = admin_units.UnitLists()
    lst = lists.for_year(2024)
    assert (len(lst.provinces), len(lst.districts), len(lst)) == (63, 696, 10051)
    assert lists.for_year(2020) is lst  # loaded once
    assert lst.get("17329") == AdminUnit("17329", "Thị trấn Kim Nhan", "thị trấn", "40", "424")
    assert lst.province("40") == "Tỉnh Nghệ An"
    assert lst.district("424") == District("424", "Huyện Anh Sơn", "40")
    assert lst.district_name("412") == "Thành phố Vinh" and lst.district_name("999") is None
    nghe_an = lst.districts_of("40")
    assert [d.code for d in nghe_an] == [f"{c}" for c in range(412, 433) if c != 413]
    assert len(lst.units_of("40")) == 412 == sum(len(lst.units_of_district(d.code)) for d in nghe_an)
    assert {u.code for u in lst.units_of_district("424")} >= {"17329", "17332"}
    assert {u.type for u in lst.units.values()} == {"xã", "phường", "thị trấn"}
    assert all(lst.district(u.district_code).province_code == u.province_code for u in lst.units.values())
    # the island districts without communes are in the hierarchy, with no units
    assert lst.district_name("755") == "Huyện Côn Đảo" and lst.units_of_district("755") == []


def test_batch_2025_and_later_use_the_list_of_the_reform():
    """Batch 2025 runs 15 Dec 2024 – 14 Dec 2025; units are assessed as they stand at its end."""
    lists = admin_units.UnitLists()
    assert lists.for_year(2025) is admin_units.current() is lists.for_year(2030) is lists.for_year(None)
    assert not lists.for_year(2025).has_districts and lists.for_year(2024).has_districts
    assert lists.for_year(2024).get("03980") is None  # Phường Mộc Châu exists since the reform only
    assert lists.for_year(2025).get("16663") is None  # Phường Đông Vĩnh, Vinh: merged by the reform


def test_the_shipped_file_matches_its_record_of_source():
    meta = json.loads((DATA / "units-2024.json").read_text(encoding="utf-8"))
    payload = (DATA / "units-2024.csv.gz").read_bytes()
    assert hashlib.sha256(payload).hexdigest() == meta["sha256"]
    assert (meta["source"]["package"], meta["source"]["version"]) == ("vietnam-provinces", "0.6.0")
    assert meta["source"]["data_version"] == "2025-01-04" and meta["in_force"]["until"] == "2025-06-30"
    lst = admin_units.pre_reform()
    assert meta["counts"] == {"provinces": 63, "districts": 696, "units": 10051,
                              "thị trấn": 618, "phường": 1716, "xã": 7717}
    assert sum(meta["counts"][t] for t in ("thị trấn", "phường", "xã")) == len(lst)


def fake_wheel(path: Path) -> Path:
    """A wheel laid out as vietnam-provinces 0.6.0 with three rows, its bugs included: every
    ward's division_type 'xã' (the type is in the name), a district without wards."""
    flat = [
        {"province_name": "Tỉnh Nghệ An", "province_code": 40, "district_name": "Huyện Anh Sơn",
         "district_code": 424, "ward_name": "Xã Thọ Sơn", "ward_code": 17332},
        {"province_name": "Tỉnh Nghệ An", "province_code": 40, "district_name": "Huyện Anh Sơn",
         "district_code": 424, "ward_name": "Thị trấn Kim Nhan", "ward_code": 17329},
        {"province_name": "Tỉnh Quảng Ngãi", "province_code": 51, "district_name": "Huyện Lý Sơn",
         "district_code": 536, "ward_name": "", "ward_code": None},
    ]
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("vietnam_provinces/data/flat-divisions.json", json.dumps(flat, ensure_ascii=False))
        z.writestr("vietnam_provinces/__init__.py", "__version__ = '0.6.0'\n__data_version__ = '2025-01-04'\n")
    return path


def test_the_build_is_deterministic_and_reads_types_from_names(tmp_path):
    build = tool()
    whl = fake_wheel(tmp_path / "vietnam_provinces-0.6.0-py3-none-any.whl")
    build.main(["--wheel", str(whl), "--out-dir", str(tmp_path / "a")])
    build.main(["--wheel", str(whl), "--out-dir", str(tmp_path / "b")])
    for name in ("units-2024.csv.gz", "units-2024.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    rows = list(csv.reader(io.StringIO(gzip.decompress((tmp_path / "a" / "units-2024.csv.gz").read_bytes())
                                       .decode("utf-8"))))
    assert rows == [list(build.COLUMNS),
                    ["40", "Tỉnh Nghệ An", "424", "Huyện Anh Sơn", "17329", "Thị trấn Kim Nhan", "thị trấn"],
                    ["40", "Tỉnh Nghệ An", "424", "Huyện Anh Sơn", "17332", "Xã Thọ Sơn", "xã"],
                    ["51", "Tỉnh Quảng Ngãi", "536", "Huyện Lý Sơn", "", "", ""]]
    meta = json.loads((tmp_path / "a" / "units-2024.json").read_text(encoding="utf-8"))
    assert meta["source"]["wheel_sha256"] == hashlib.sha256(whl.read_bytes()).hexdigest()
    assert meta["counts"]["units"] == 2 and meta["counts"]["districts"] == 2


def test_a_name_without_a_type_word_stops_the_build(tmp_path):
    build = tool()
    with pytest.raises(ValueError, match="Kim Nhan"):
        build.type_of("Kim Nhan", build.UNIT_TYPES)


@pytest.mark.skipif(not WHEEL.is_file(), reason="the vietnam-provinces 0.6.0 wheel is not at hand "
                                                "(set LANHMANH_VP060_WHEEL)")
def test_rebuilding_from_the_real_wheel_gives_the_shipped_bytes(tmp_path):
    tool().main(["--wheel", str(WHEEL), "--out-dir", str(tmp_path)])
    for name in ("units-2024.csv.gz", "units-2024.json"):
        assert (tmp_path / name).read_bytes() == (DATA / name).read_bytes()


# -- through `lanhmanh score` ----------------------------------------------------------------------


def test_the_2024_sample_is_scored_with_its_districts(run_cli, workdir):
    r = score(run_cli, str(SAMPLE_2024))
    assert r.exit_code == 0, r.output
    d = doc(workdir)
    assert d["warnings"] == [] and d["rejected"] == []
    lst = admin_units.pre_reform()
    assert len(d["units"]) == 34
    assert {u["district_code"] for u in d["units"]} == {"424", "431"}
    assert all(lst.get(u["unit_code"]).district_code == u["district_code"] for u in d["units"])
    # ranked within each district too: 1, 2, ... in national order, ties sharing a rank (1, 2, 2, 4)
    for district in ("424", "431"):
        units = [u for u in d["units"] if u["district_code"] == district]  # already in national order
        expect, prev_key = [], None
        for i, u in enumerate(units, start=1):
            key = (u["class"], u["total"], len(u["vetoes"]))
            expect.append(expect[-1] if key == prev_key and expect else i)
            prev_key = key
        assert [u["rank_district"] for u in units] == expect, district


def test_units_of_2025_have_no_district_rank(run_cli, workdir):
    r = score(run_cli, str(ROOT / "examples" / "nghe-an-2025-lanh-manh.csv"))
    assert r.exit_code == 0, r.output
    assert all("rank_district" not in u for u in doc(workdir)["units"])


def test_a_blank_or_missing_district_code_is_filled_from_the_list(run_cli, files, workdir):
    rows = [row_2024("17332", "Xã Thọ Sơn", district_code=""), row_2024("16711", "Xã Hưng Hòa")]
    r = score(run_cli, str(files.csv("a.csv", rows)))
    assert r.exit_code == 0, r.output
    assert {u["unit_code"]: u["district_code"] for u in doc(workdir)["units"]} == {"17332": "424", "16711": "412"}
    r = score(run_cli, str(files.csv("b.csv", [row_2024("17332", "Xã Thọ Sơn")])))  # no such column
    assert r.exit_code == 0 and doc(workdir)["units"][0]["district_code"] == "424"


@pytest.mark.parametrize("given, says", [
    ("412", "lies in district 424 (Huyện Anh Sơn), not 412 (Thành phố Vinh, province 40)"),
    ("999", "not 999: there is no district 999"),
])
def test_a_district_code_that_is_not_the_units_is_rejected(run_cli, files, workdir, given, says):
    rows = [row_2024("17332", "Xã Thọ Sơn", district_code=given), row_2024("17329", "Thị trấn Kim Nhan",
                                                                           utype="thị trấn", district_code="424")]
    r = score(run_cli, str(files.csv("a.csv", rows)))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert (rej["row"], rej["column"], rej["value"]) == (2, "district_code", given)
    assert says in rej["reason"] and "Xã Thọ Sơn" in rej["reason"]
    assert [u["unit_code"] for u in doc(workdir)["units"]] == ["17329"]


def test_a_malformed_district_code_is_rejected_not_dropped(run_cli, files, workdir):
    r = score(run_cli, str(files.csv("a.csv", [row_2024("17332", "Xã Thọ Sơn", district_code="42a")])))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert (rej["column"], rej["value"]) == ("district_code", "42a") and "1–3 digits" in rej["reason"]


def test_codes_are_checked_against_the_list_of_their_year(run_cli, files, workdir):
    # Phường Mộc Châu (Sơn La) exists since the reform only; Phường Đông Vĩnh (Vinh) until it only
    after = {**xlm_row("03980", province="14", name="Phường Mộc Châu"), "unit_type": "phường"}
    before = row_2024("16663", "Phường Đông Vĩnh", utype="phường")
    r = score(run_cli, str(files.csv("a.csv", [{**after, "year": 2024}, before])))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert (rej["row"], rej["column"], rej["value"]) == (2, "unit_code", "03980")
    assert "no commune-level unit 03980 in the last official list before the 1 July 2025 reform" in rej["reason"]
    assert "did you mean 03979 (Thị trấn Mộc Châu, province 14)?" in rej["reason"]  # the name, less its type
    assert [u["unit_code"] for u in doc(workdir)["units"]] == ["16663"]

    r = score(run_cli, str(files.csv("b.csv", [after, {**before, "year": 2025}])))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert (rej["row"], rej["value"]) == (3, "16663") and "since 1 July 2025" in rej["reason"]
    assert [u["unit_code"] for u in doc(workdir)["units"]] == ["03980"]


def test_a_code_reused_by_the_reform_is_checked_against_its_years_unit(run_cli, files, workdir):
    # 17329 was Thị trấn Kim Nhan before the reform and is Xã Anh Sơn since
    rows = [row_2024("17329", "Xã Anh Sơn", utype="xã"), row_2024("17332", "Xã Thọ Sơn", province="42")]
    r = score(run_cli, str(files.csv("a.csv", rows)))
    assert r.exit_code == 1, r.output
    by_row = {x["row"]: x for x in doc(workdir)["rejected"]}
    assert by_row[2]["column"] == "unit_type" and "is a thị trấn, not a xã" in by_row[2]["reason"]
    assert by_row[3]["column"] == "province_code" and "(Tỉnh Nghệ An), not 42" in by_row[3]["reason"]
    r = score(run_cli, str(files.csv("b.csv", [row_2024("17329", "Xã Anh Sơn", utype="thị trấn")])))
    assert r.exit_code == 0, r.output
    (w,) = doc(workdir)["warnings"]
    assert w["column"] == "unit_name" and "'Thị trấn Kim Nhan'" in w["message"]


def test_an_unknown_code_suggests_the_unit_of_that_name_in_the_province(run_cli, files, workdir):
    r = score(run_cli, str(files.csv("a.csv", [row_2024("99999", "Xã Thọ Sơn")])))
    assert r.exit_code == 1, r.output
    (rej,) = doc(workdir)["rejected"]
    assert "did you mean 17332 (Xã Thọ Sơn, province 40)?" in rej["reason"]


def test_rows_of_2024_are_checked_and_not_merely_warned(run_cli, files, workdir):
    """Replaces test_unit_list.py's expectation that a year before the reform is not checked."""
    rows = [{**xlm_row(1), "year": 2024}, {**xlm_row(2), "year": 2024}]
    r = run_cli("score", str(files.csv("a.csv", rows)), "--rules", str(XLM_TEST), "--engine", "python",
                "--json", "o.json", "--force")
    assert r.exit_code == 1, r.output
    d = doc(workdir)
    assert not [w for w in d["warnings"] if "no official list" in w["message"]]
    # 00001 is Phường Phúc Xá (Ba Đình, Hà Nội) in 2024: the xã of the row is rejected; 00002 is no unit
    assert {(x["row"], x["column"]) for x in d["rejected"]} == {(2, "unit_type"), (3, "unit_code")}
    r = run_cli("score", str(files.csv("a.csv", rows)), "--rules", str(XLM_TEST), "--engine", "python",
                "--json", "o.json", "--force", "--unit-list", "none")
    assert r.exit_code == 0 and len(doc(workdir)["units"]) == 2


def test_a_district_column_after_the_reform_is_kept_aside_with_one_warning(run_cli, files, workdir):
    rows = [xlm_row("17329", province="40", name="Xã Anh Sơn", district_code="424"),
            xlm_row("17464", province="40", name="Xã Diễn Châu", district_code="425")]
    r = score(run_cli, str(files.csv("a.csv", rows)))
    assert r.exit_code == 0, r.output
    d = doc(workdir)
    (w,) = d["warnings"]
    assert (w["column"], w["row"]) == ("district_code", 2)
    assert "has no districts (district-level units were abolished on 1 July 2025)" in w["message"]
    assert [(u["district_code"], u["extra"]) for u in d["units"]] == [(None, {"district_code": "424"}),
                                                                     (None, {"district_code": "425"})]


def test_a_province_row_of_2024_is_checked_against_the_63_provinces():
    pack, _ = load_pack("qd-28-2025")
    v = Validator(pack, admin_units.UnitLists())
    ok = v.row("a.csv", 2, {"unit_code": "", "unit_name": "Tỉnh Nghệ An", "unit_type": "tỉnh",
                            "province_code": "40", "year": 2024, "on_interprovincial_route": "có"})
    assert ok is not None and ok.district_code is None
    bad = v.row("a.csv", 3, {"unit_code": "", "unit_name": "Tỉnh Hà Tây", "unit_type": "tỉnh",
                             "province_code": "03", "year": 2024, "on_interprovincial_route": "có"})
    assert bad is None and [(x.column, x.row) for x in v.rejected] == [("province_code", 3)]
    assert "no province 03 in the last official list before the 1 July 2025 reform" in v.rejected[0].reason


def test_a_list_given_as_csv_may_carry_districts(run_cli, files, workdir):
    lst = files.text("units.csv", "unit_code,unit_name,unit_type,province_code,district_code,district_name\n"
                                  "00001,Xã Một,xã,01,001,Huyện Một\n00002,Xã Hai,xã,01,002,Huyện Hai\n")
    loaded = admin_units.from_csv(lst)
    assert loaded.district("002") == District("002", "Huyện Hai", "01") and loaded.get("00001").district_code == "001"
    rows = [xlm_row(1, district_code=""), xlm_row(2, district_code="001")]
    r = run_cli("score", str(files.csv("a.csv", rows)), "--rules", str(XLM_TEST), "--engine", "python",
                "--json", "o.json", "--unit-list", str(lst))
    assert r.exit_code == 1, r.output
    assert [(u["unit_code"], u["district_code"]) for u in doc(workdir)["units"]] == [("00001", "001")]
    (rej,) = doc(workdir)["rejected"]
    assert rej["column"] == "district_code" and "not 001 (Huyện Một, province 01)" in rej["reason"]


def test_rows_without_a_year_take_the_batch_year_given_to_the_lists():
    pack = pack_for_year("xa-lanh-manh", 2024)
    row = {**row_2024("17332", "Xã Thọ Sơn"), "year": ""}
    v = Validator(pack, admin_units.UnitLists(year=2024))
    u = v.row("a.csv", 2, row)
    assert u is not None and u.district_code == "424" and not v.rejected
    v = Validator(pack, admin_units.UnitLists())  # no year at all: today's list
    assert v.row("a.csv", 2, row) is None and v.rejected[0].column == "unit_code"


def test_year_option_chooses_the_list_for_rows_without_a_year(run_cli, files, workdir):
    rows = [{k: v for k, v in row_2024("17332", "Xã Thọ Sơn").items() if k != "year"}]
    r = score(run_cli, str(files.csv("a.csv", rows)), "--year", "2024")
    assert r.exit_code == 0, r.output
    assert doc(workdir)["units"][0]["district_code"] == "424"


def test_a_damaged_data_file_is_named_not_loaded(tmp_path, monkeypatch):
    (tmp_path / "units-2024.json").write_bytes((DATA / "units-2024.json").read_bytes())
    payload = bytearray((DATA / "units-2024.csv.gz").read_bytes())
    payload[-9] ^= 1
    (tmp_path / "units-2024.csv.gz").write_bytes(bytes(payload))
    monkeypatch.setattr(admin_units, "PRE_REFORM_FILE", tmp_path / "units-2024.csv.gz")
    admin_units.pre_reform.cache_clear()
    try:
        with pytest.raises(ValueError, match="does not match the sha256 in units-2024.json"):
            admin_units.pre_reform()
        (tmp_path / "units-2024.json").unlink()
        with pytest.raises(FileNotFoundError, match="lacks lanhmanh's package data"):
            admin_units.pre_reform()
    finally:
        admin_units.pre_reform.cache_clear()


def test_a_2024_national_run_names_the_provinces_of_its_own_list(run_cli, files, workdir):
    """Hà Giang (02) is a province of the pre-reform list only: a 2024 batch's workbooks name it
    (regression: the names came from the 2025 list, so the file was '02.xlsx' and the name '02')."""
    import openpyxl

    rows = [row_2024("00688", "Phường Quang Trung", "phường", "02"), row_2024("17332", "Xã Thọ Sơn")]
    inp = files.csv("a.csv", rows)
    r = score(run_cli, str(inp), "--out-dir", "out", "--out", "s.xlsx")
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (workdir / "out").iterdir()) == ["02-ha-giang.xlsx", "40-nghe-an.xlsx",
                                                                    "toan-quoc.xlsx"]
    rows = list(openpyxl.load_workbook(workdir / "s.xlsx", read_only=True)["Tổng hợp"].iter_rows(values_only=True))
    h = next(i for i, r in enumerate(rows) if "Mã đơn vị" in r)  # the columns, under the heading block
    heads = {c: i for i, c in enumerate(rows[h])}
    got = {r[heads["Mã đơn vị"]]: (r[heads["Tỉnh, thành phố"]], r[heads["Mã huyện"]], r[heads["Quận, huyện"]],
                                   r[heads["Hạng trong huyện"]]) for r in rows[h + 1:h + 3]}
    assert got == {"00688": ("Tỉnh Hà Giang", "024", "Thành phố Hà Giang", 1),
                   "17332": ("Tỉnh Nghệ An", "424", "Huyện Anh Sơn", 1)}
    assert rows[h - 1][0] == "Thứ hạng" and rows[h - 1][heads["Mã đơn vị"]] == "Đơn vị"
    # and verify reads the province names of the same list (regression: it took the 2025 list's)
    v = run_cli("verify", "s.xlsx", str(inp), "--rules", "xa-lanh-manh", "--engine", "python")
    assert v.exit_code == 0, v.output
