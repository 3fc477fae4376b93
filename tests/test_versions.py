"""Versions of a pack and the in-force rule (docs/rule-language.md, "Which version applies"; issue 4 part 6).

A pack applies to a batch year when it is in force on 14 Dec of that year. `score` picks the
version of a pack id in force for the batch's year (from the rows' `year`), refuses a pack not in
force for it (exit 2) unless `--force`, which then puts a note in the JSON and the workbook.
The versions of the tests live in a temporary folder named by LANHMANH_RULES_PATH.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import openpyxl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lanhmanh.engine.model import versions
from lanhmanh.engine.model.loader import load_pack

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "examples" / "nghe-an-2025-ma-tuy.csv"


def version_text(version: str, start: str, end: str | None, threshold: int) -> str:
    """A small pack `vt`: criterion S (sessions >= threshold, 10 points); class ok from 10 points."""
    return f"""\
pack:
  id: vt
  title: Gói thử phiên bản
  version: "{version}"
  status: illustrative
  effective_from: {start}
  effective_to: {end or 'null'}
indicators:
  sessions: {{label: Số buổi, type: integer, min: 0}}
criteria:
  S: {{title: Số buổi, when: sessions >= {threshold}, points: 10}}
classes:
  - {{id: ok, label: Đạt, when: total >= 10}}
  - {{id: not_ok, label: Chưa đạt, residual: true}}
"""


@pytest.fixture
def rules_dir(tmp_path, monkeypatch):
    """An empty folder on LANHMANH_RULES_PATH, where a test writes its versions."""
    d = tmp_path / "council-rules"
    d.mkdir()
    monkeypatch.setenv(versions.ENV, str(d))
    return d


def write_versions(d: Path, *specs) -> None:
    for name, version, start, end, threshold in specs:
        (d / name).write_text(version_text(version, start, end, threshold), encoding="utf-8")


TWO_VERSIONS = [("vt-2020.yaml", "2020.1", "2020-01-01", "2024-12-31", 6),
                ("vt-2025.yaml", "2025.1", "2025-01-01", None, 12)]


def rows_csv(files, year, sessions=(8,), name="rows.csv"):
    rows = []
    for i, s in enumerate(sessions, start=1):
        row = {"unit_code": f"{i:05d}", "unit_name": f"Xã {i}", "unit_type": "xã", "province_code": "01"}
        if year is not None:
            row["year"] = year if not isinstance(year, list) else year[i - 1]
        row["sessions"] = s
        rows.append(row)
    return files.csv(name, rows)


def score(run_cli, inp, *args):
    return run_cli("score", str(inp), "--unit-list", "none", "--engine", "python", *args)


def read(path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


# ---- the calendar ----------------------------------------------------------------------------------

def test_the_assessment_year_of_a_date():
    assert versions.assessment_year(dt.date(2025, 12, 14)) == 2025
    assert versions.assessment_year(dt.date(2025, 12, 15)) == 2026
    assert versions.assessment_year(dt.date(2026, 1, 1)) == 2026
    assert versions.period_start(2025) == dt.date(2024, 12, 15)
    assert versions.period_end(2025) == dt.date(2025, 12, 14)


@given(st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_every_day_lies_in_the_period_of_its_assessment_year(day):
    y = versions.assessment_year(day)
    assert versions.period_start(y) <= day <= versions.period_end(y)


class _Dates:
    def __init__(self, start, end=None):
        self.effective_from, self.effective_to = start, end


def test_in_force_on_the_last_day_of_the_period_exactly():
    assert versions.in_force(_Dates(dt.date(2025, 12, 14)), 2025)
    assert not versions.in_force(_Dates(dt.date(2025, 12, 15)), 2025)
    assert versions.in_force(_Dates(dt.date(2025, 12, 15)), 2026)
    assert versions.in_force(_Dates(dt.date(2020, 1, 1), dt.date(2025, 12, 14)), 2025)  # effective_to inclusive
    assert not versions.in_force(_Dates(dt.date(2020, 1, 1), dt.date(2025, 12, 13)), 2025)


def test_qd28_applies_from_2025_on():
    pack, _ = load_pack("qd-28-2025")
    assert not versions.in_force(pack, 2024)
    assert versions.in_force(pack, 2025) and versions.in_force(pack, 2030)


# ---- choosing the version ---------------------------------------------------------------------------

@pytest.mark.parametrize("year, version, cls", [(2024, "2020.1", "ok"), (2025, "2025.1", "not_ok"),
                                                (2022, "2020.1", "ok"), (2031, "2025.1", "not_ok")])
def test_score_picks_the_version_in_force_for_the_rows_year(run_cli, files, rules_dir, workdir, year, version, cls):
    """8 sessions meet S under 2020.1 (>= 6) and not under 2025.1 (>= 12)."""
    write_versions(rules_dir, *TWO_VERSIONS)
    r = score(run_cli, rows_csv(files, year), "--rules", "vt", "--json", "o.json")
    assert r.exit_code == 0, r.output
    doc = read(workdir / "o.json")
    assert doc["pack"]["version"] == version
    assert doc["pack"]["sha256"] == load_pack(rules_dir / f"vt-{version[:4]}.yaml")[0].sha256
    assert [u["class"] for u in doc["units"]] == [cls]
    assert doc["notes"] == []


def test_without_a_year_check_and_other_commands_take_the_newest_version(run_cli, rules_dir):
    write_versions(rules_dir, *TWO_VERSIONS)
    r = run_cli("check", "vt")
    assert r.exit_code == 0, r.output
    assert "vt 2025.1" in r.output and "vt-2025.yaml" in r.output


def test_a_version_taking_effect_on_14_december_applies_to_that_year(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, ("old.yaml", "1", "2020-01-01", None, 6), ("new.yaml", "2", "2025-12-14", None, 12))
    r = score(run_cli, rows_csv(files, 2025), "--rules", "vt", "--json", "o.json")
    assert r.exit_code == 0, r.output
    assert read(workdir / "o.json")["pack"]["version"] == "2"


def test_a_version_taking_effect_on_15_december_applies_from_the_next_year(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, ("old.yaml", "1", "2020-01-01", None, 6), ("new.yaml", "2", "2025-12-15", None, 12))
    assert score(run_cli, rows_csv(files, 2025), "--rules", "vt", "--json", "a.json").exit_code == 0
    assert read(workdir / "a.json")["pack"]["version"] == "1"
    assert score(run_cli, rows_csv(files, 2026), "--rules", "vt", "--json", "b.json").exit_code == 0
    assert read(workdir / "b.json")["pack"]["version"] == "2"


def test_two_versions_taking_effect_the_same_day_are_refused(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, ("a.yaml", "1", "2025-01-01", None, 6), ("b.yaml", "2", "2025-01-01", None, 12))
    r = score(run_cli, rows_csv(files, 2025), "--rules", "vt", "--json", "o.json")
    assert r.exit_code == 3, r.output
    assert "a.yaml" in r.output and "b.yaml" in r.output and "same day" in r.output
    assert not (workdir / "o.json").exists()


def test_identical_copies_of_a_version_count_once(files, rules_dir, tmp_path, monkeypatch):
    write_versions(rules_dir, *TWO_VERSIONS)
    other = tmp_path / "copy"
    other.mkdir()
    write_versions(other, TWO_VERSIONS[1])
    monkeypatch.setenv(versions.ENV, f"{rules_dir}{__import__('os').pathsep}{other}")
    found = versions.versions_of("vt")
    assert [v.version for v in found] == ["2020.1", "2025.1"]
    assert versions.for_year(found, 2025).version == "2025.1"


# ---- refusing a pack not in force --------------------------------------------------------------------

def test_a_year_before_every_version_is_refused_with_what_to_do(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    r = score(run_cli, rows_csv(files, 2019), "--rules", "vt", "--json", "o.json", "--out", "o.xlsx")
    assert r.exit_code == 2, r.output
    msg = r.output
    for words in ("vt 2025.1", "2025-01-01", "2019 batch", "2018-12-15 to 2019-12-14",
                  "2020.1 (from 2020-01-01 to 2024-12-31), 2025.1 (from 2025-01-01)", "--force"):
        assert words in msg, (words, msg)
    assert not (workdir / "o.json").exists() and not (workdir / "o.xlsx").exists()


def test_force_scores_with_the_nearest_version_and_says_so(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    r = score(run_cli, rows_csv(files, 2019), "--rules", "vt", "--json", "o.json", "--force")
    assert r.exit_code == 0, r.output
    doc = read(workdir / "o.json")
    assert doc["pack"]["version"] == "2020.1"  # the earliest version is the nearest to 2019
    assert doc["notes"] == ["Gói vt 2020.1 không có hiệu lực cho năm 2019 (kỳ đánh giá 15/12/2018–14/12/2019; "
                            "gói có hiệu lực từ 01/01/2020 đến 31/12/2024); áp dụng theo --force"]
    assert "warning: --force" in r.output


def test_a_pack_given_as_a_file_is_checked_against_the_year(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    path = rules_dir / "vt-2025.yaml"
    r = score(run_cli, rows_csv(files, 2024), "--rules", str(path), "--json", "o.json")
    assert r.exit_code == 2, r.output
    assert "2024 batch" in r.output and "2020.1 (from 2020-01-01 to 2024-12-31)" in r.output
    r = score(run_cli, rows_csv(files, 2024), "--rules", str(path), "--json", "o.json", "--force")
    assert r.exit_code == 0, r.output
    doc = read(workdir / "o.json")
    assert doc["pack"]["version"] == "2025.1"  # a file is taken as it is, never swapped for another version
    assert len(doc["notes"]) == 1 and "năm 2024" in doc["notes"][0]


def _sample_as_2024(files) -> Path:
    text = SAMPLE.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    col = lines[0].split(",").index("year")
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        assert cells[col] == "2025"
        cells[col] = "2024"
        out.append(",".join(cells))
    return files.text("nghe-an-2024-ma-tuy.csv", "\n".join(out) + "\n")


def test_qd28_is_refused_for_a_2024_batch(run_cli, files, workdir):
    inp = _sample_as_2024(files)
    r = run_cli("score", str(inp), "--rules", "qd-28-2025", "--unit-list", "none", "--json", "o.json")
    assert r.exit_code == 2, r.output
    assert "qd-28-2025 2025.1" in r.output and "2025-08-24" in r.output and "2024 batch" in r.output
    assert "--force" in r.output
    assert not (workdir / "o.json").exists()


def test_qd28_with_force_on_a_2024_batch_says_so_in_the_json_and_the_workbook(run_cli, files, workdir):
    inp = _sample_as_2024(files)
    r = run_cli("score", str(inp), "--rules", "qd-28-2025", "--unit-list", "none", "--json", "o.json",
                "--out", "o.xlsx", "--force", "--engine", "python")
    assert r.exit_code == 0, r.output
    note = ("Gói qd-28-2025 2025.1 không có hiệu lực cho năm 2024 (kỳ đánh giá 15/12/2023–14/12/2024; "
            "gói có hiệu lực từ 24/08/2025); áp dụng theo --force")
    doc = read(workdir / "o.json")
    assert doc["notes"] == [note]
    assert len(doc["units"]) == 130
    wb = openpyxl.load_workbook(workdir / "o.xlsx", read_only=True)
    info = {row[0]: row[1] for row in wb["Thông tin"].iter_rows(values_only=True) if row and row[0]}
    assert info.get("Lưu ý") == note


def test_without_force_the_json_has_no_notes(run_cli, workdir):
    r = run_cli("score", str(SAMPLE), "--rules", "qd-28-2025", "--json", "o.json", "--engine", "python")
    assert r.exit_code == 0, r.output
    assert read(workdir / "o.json")["notes"] == []


# ---- the batch year ---------------------------------------------------------------------------------

def test_rows_of_several_years_are_refused(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    inp = rows_csv(files, [2024, 2025, 2025], sessions=(8, 8, 8))
    r = score(run_cli, inp, "--rules", "vt", "--json", "o.json")
    assert r.exit_code == 2, r.output
    assert "several years" in r.output
    assert "2024 (1 row(s)" in r.output and "2025 (2 row(s)" in r.output
    assert not (workdir / "o.json").exists()


def test_year_option_gives_the_year_when_no_row_does(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    r = score(run_cli, rows_csv(files, None), "--rules", "vt", "--json", "o.json", "--year", "2024")
    assert r.exit_code == 0, r.output
    assert read(workdir / "o.json")["pack"]["version"] == "2020.1"
    assert "no row gives a year" not in r.output


def test_year_option_must_agree_with_the_rows(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    r = score(run_cli, rows_csv(files, 2025), "--rules", "vt", "--json", "o.json", "--year", "2024")
    assert r.exit_code == 2, r.output
    assert "--year 2024" in r.output and "2025" in r.output


def test_without_any_year_the_assessment_year_of_today_is_taken_with_a_warning(run_cli, files, rules_dir, workdir):
    write_versions(rules_dir, *TWO_VERSIONS)
    r = score(run_cli, rows_csv(files, None), "--rules", "vt", "--json", "o.json")
    assert r.exit_code == 0, r.output
    this_year = versions.assessment_year(dt.date.today())
    assert f"no row gives a year; the batch is taken as {this_year}" in r.output
    expected = versions.for_year(versions.versions_of("vt"), this_year)
    assert read(workdir / "o.json")["pack"]["version"] == expected.version


@given(st.lists(st.tuples(st.dates(min_value=dt.date(2018, 1, 1), max_value=dt.date(2030, 12, 31)),
                          st.one_of(st.none(), st.integers(min_value=0, max_value=3000))),
                min_size=1, max_size=5, unique_by=lambda t: t[0]),
       st.integers(min_value=2017, max_value=2032))
def test_the_version_for_a_year_is_in_force_and_the_latest_to_take_effect(specs, year):
    found = [versions.Version(Path(f"v{i}.yaml"), "p", str(i), start,
                              None if days is None else start + dt.timedelta(days=days), "illustrative", str(i))
             for i, (start, days) in enumerate(specs)]
    chosen = versions.for_year(found, year)
    live = [v for v in found if versions.in_force(v, year)]
    if not live:
        assert chosen is None
        assert versions.nearest(found, year) in found
    else:
        assert chosen in live
        assert all(v.effective_from <= chosen.effective_from for v in live)
