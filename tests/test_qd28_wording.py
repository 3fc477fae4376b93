"""The QĐ 28/2025 packs say what the text says (issue 10): type III criterion c joins its two
thresholds with "hoặc", Điều 5 and Điều 6 are cited by khoản (province criteria P.1–P.6 after
their khoản), DF.1 carries the text's exclusions, the type II band b is quoted "Có 1 điểm", and
I.đ counts the type II criteria a–d only. In the cumulative pack type III is the residual class,
so reading III.c with "hoặc" changes no class there."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from lmtest import bench_generate

from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.versions import RULES_DIR

PACKS = ["qd-28-2025", "qd-28-2025-literal"]
EXCLUSIONS = ("trừ người đang tham gia điều trị nghiện ma túy bằng thuốc thay thế, người đang cai nghiện ma túy "
              "tại gia đình, cộng đồng và người đang bị quản lý sau cai nghiện")
ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("ref", PACKS)
def test_iii_c_joins_its_thresholds_with_hoac(ref):
    pack, _ = load_pack(ref)
    c = pack.commune.criteria["III.c"]
    assert c.threshold == "(drug_plants < 500) or (drug_plant_area_m2 < 125)"
    assert "dưới 500 cây" in c.title and "hoặc" in c.title and "dưới 125 m²" in c.title


@pytest.mark.parametrize("ref", PACKS)
def test_articles_5_and_6_are_cited_by_khoan(ref):
    pack, _ = load_pack(ref)
    assert list(pack.province.criteria) == [f"P.{k}" for k in range(1, 7)]
    for k in range(1, 7):
        assert pack.province.criteria[f"P.{k}"].cite.endswith(f"Điều 5, khoản {k}")
    for k in range(1, 4):
        assert pack.commune.criteria[f"DF.{k}"].cite.endswith(f"Điều 6, khoản {k}")
    text = (RULES_DIR / f"{ref}.yaml").read_text(encoding="utf-8")
    assert "tiêu chí thứ" not in text
    assert not re.search(r"\bP\.[a-fđ]\b", text)


@pytest.mark.parametrize("ref", PACKS)
def test_df1_carries_the_exclusions_of_the_text(ref):
    pack, _ = load_pack(ref)
    assert pack.commune.criteria["DF.1"].title.endswith(EXCLUSIONS)
    assert EXCLUSIONS in pack.commune.indicators["resident_users_untreated"].label
    assert "trên địa bàn" in pack.commune.criteria["DF.2"].title
    text = (RULES_DIR / f"{ref}.yaml").read_text(encoding="utf-8")
    assert "tự nguyện" not in text and "01 điểm" not in text
    assert "«Có 1 điểm»" in text


@pytest.mark.parametrize("ref", PACKS)
def test_i_dd_counts_the_type_ii_criteria_a_to_d_only(ref):
    pack, _ = load_pack(ref)
    c = pack.commune.criteria["I.đ"]
    assert set(c.reads) >= {"on_key_route"}
    assert "II.đ" not in c.threshold and all(f"or_higher(II.{p})" in c.threshold for p in "abcd")
    assert "II.đ KHÔNG được tính" in c.note


def test_the_literal_pack_says_how_it_reads_co():
    reading = load_pack("qd-28-2025-literal")[0].reading
    assert "Chữ «Có» ở điểm c khoản 3" in reading and "kể cả 0" in reading
    assert "600 cây trên 200 m²" in reading


@pytest.mark.slow
def test_hoac_in_iii_c_changes_no_class_of_the_cumulative_pack(run_cli, tmp_path):
    """III.c read "và" (as before) against "hoặc" (as written) on generated communes, every figure
    near a threshold: criteria change, classes never (type III is the residual class, and
    or_higher(III.c) in II.đ holds either way)."""
    text = (RULES_DIR / "qd-28-2025.yaml").read_text(encoding="utf-8")
    old = "    when: drug_plants < 500 or drug_plant_area_m2 < 125\n"
    assert text.count(old) == 1
    text = text.replace(old, old.replace(" or ", " and "))
    text = text[:text.index("\ncase_defaults:")] + "\n"
    va = tmp_path / "va.yaml"
    va.write_text(text, encoding="utf-8")
    gen = bench_generate()
    rows = list(gen.generate_rows(3000, "qd-28-2025", seed=11))
    inp = tmp_path / "g.csv"
    gen.write_csv(rows, inp)
    result = run_cli("diff", str(va), "qd-28-2025", str(inp), "--unit-list", "none", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    changes = [u["change"] for u in doc["units"]]
    assert "class" not in changes
    assert changes.count("criteria") > 0  # 600 plants on 0 m² and the like: III.c now met
    assert all({c["id"] for c in u["criteria"]} == {"III.c"} for u in doc["units"])


def test_the_literal_oracle_of_bench_agrees_on_iii_c():
    gen = bench_generate()
    row = {"population": 10000, "users_with_records": 60, "harbouring_points": 0, "drug_arrests": 20,
           "drug_plants": 600, "drug_plant_area_m2": "200.00", "on_key_route": False,
           "resident_users_untreated": 1, "resident_drug_violators": 0, "wanted_drug_fugitives": 0}
    assert gen.qd28_class(row, "literal") == "unclassified" and gen.qd28_class(row) == "type_2"
    assert gen.qd28_class({**row, "drug_plant_area_m2": "0.00"}, "literal") == "type_3"


def test_the_sample_fall_through_commune_has_600_plants_on_200_m2():
    with (ROOT / "examples" / "nghe-an-2025-ma-tuy.csv").open(encoding="utf-8-sig") as f:
        row = next(r for r in csv.DictReader(f) if r["unit_code"] == "16858")
    assert (row["users_with_records"], row["drug_arrests"], row["drug_plants"], row["drug_plant_area_m2"]) == \
        ("60", "20", "600", "200.00")
