"""`lanhmanh score ... --out-dir DIR [--targets FILE]`: one workbook per province and the national
summary, read back with openpyxl and compared with the JSON; failures leave nothing that looks
complete; the progress line is silent off a terminal and drawn on one."""
from __future__ import annotations

import io
import json
import os
import time
from fractions import Fraction
from pathlib import Path

import openpyxl
import pytest
from lmtest import xlm_row

from lanhmanh.commands import progress as progress_mod
from lanhmanh.commands.progress import Progress
from lanhmanh.scorecards.outputs import national
from lanhmanh.scorecards.outputs.national import SUMMARY_FILE, ascii_slug, province_file_name

NOT_MET = {"has_annual_plan": False, "tasks_assigned": False, "communication_sessions": 5,
           "businesses_inspected": 2, "villages_reached": 8}  # 73 points: not_met
ROWS = [
    xlm_row(1, "40"), xlm_row(2, "40"),                      # healthy ×2
    xlm_row(3, "40", prostitution_hotspots=1),               # substantially_reduced (veto)
    xlm_row(4, "40", **NOT_MET),                             # not_met
    xlm_row(5, "42"), xlm_row(6, "42", prostitution_hotspots=1),
    xlm_row(7, "01"), xlm_row(8, "01"), xlm_row(9, "01", communication_sessions=6),
]
FILES = {"40": "40-nghe-an.xlsx", "42": "42-ha-tinh.xlsx", "01": "01-ha-noi.xlsx"}
TARGETS = ("province_code,class,share\n"
           "40,healthy,50%\n"          # 2/4 exactly: met
           "42,healthy,50.01%\n"       # 1/2: not met
           "01,healthy,1/1\n"          # 3/3: met
           "*,healthy,2/3\n")          # 6/9 exactly: met


def run_national(run_cli, files, *extra, rows=ROWS):
    data = files.csv("lo.csv", rows)
    return run_cli("score", data, "--rules", "xa-lanh-manh", "--unit-list", "none", "--out-dir", "out",
                   "--json", "r.json", *extra)


def sheet_rows(path: Path, sheet: str) -> list[tuple]:
    wb = openpyxl.load_workbook(path)
    return [tuple(r) for r in wb[sheet].iter_rows(values_only=True)]


def test_three_provinces_give_three_workbooks_and_a_summary(run_cli, files, workdir):
    res = run_national(run_cli, files)
    assert res.exit_code == 0, res.output
    out = workdir / "out"
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES.values(), SUMMARY_FILE])
    doc = json.loads((workdir / "r.json").read_text(encoding="utf-8"))
    for code, name in FILES.items():
        want = {u["unit_code"]: u for u in doc["units"] if u["province_code"] == code}
        rows = sheet_rows(out / name, "Tổng hợp")
        head = next(i for i, r in enumerate(rows) if r[:3] == ("Hạng trong tỉnh", "Hạng toàn quốc", "Mã đơn vị"))
        got = {r[2]: r for r in rows[head + 1:] if r[2]}
        assert set(got) == set(want)  # that province's units, and only those
        for ucode, r in got.items():  # the ranks are the national batch's
            assert (r[0], r[1], r[8]) == (want[ucode]["rank_province"], want[ucode]["rank_national"],
                                          want[ucode]["class"])
        wb = openpyxl.load_workbook(out / name)
        assert set(want) <= set(wb.sheetnames)  # ≤ 200 units: one scorecard sheet per unit
    summary = sheet_rows(out / SUMMARY_FILE, "Toàn quốc")
    head = next(i for i, r in enumerate(summary) if r[1] == "Mã tỉnh")
    cols = summary[head]
    i_units, i_healthy = cols.index("Số đơn vị"), cols.index("Số đơn vị: Lành mạnh")
    i_sr, i_nm = cols.index("Số đơn vị: Làm giảm cơ bản"), cols.index("Số đơn vị: Chưa đạt")
    body = summary[head + 1:head + 4]
    by_code = {r[1]: r for r in body}
    for p in doc["provinces"]:
        r = by_code[p["province_code"]]
        assert r[i_units] == p["units"]
        assert (r[i_healthy], r[i_sr], r[i_nm]) == tuple(p["class_counts"].get(c, 0) for c in
                                                         ("healthy", "substantially_reduced", "not_met"))
        assert r[cols.index("Tệp kết quả của tỉnh")] == FILES[p["province_code"]]
    # ranked by the share of healthy units: 01 (3/3), 42 (1/2), 40 (2/4) share rank 2
    assert [(r[0], r[1]) for r in body] == [(1, "01"), (2, "40"), (2, "42")]
    total = summary[head + 4]
    assert total[2] == "Toàn quốc"
    assert total[i_units] == f"=SUM({_col(i_units)}{head + 2}:{_col(i_units)}{head + 4})"
    # the cached values of the totals are the national counts
    wbv = openpyxl.load_workbook(out / SUMMARY_FILE, data_only=True)["Toàn quốc"]
    cached = [c.value for c in wbv[head + 5]]
    assert (cached[i_units], cached[i_healthy], cached[i_sr], cached[i_nm]) == (9, 6, 2, 1)
    assert cached[cols.index("Tỷ lệ: Lành mạnh")] == pytest.approx(2 / 3)
    assert "3 province workbook(s) and toan-quoc.xlsx written to out" in res.output


def _col(i: int) -> str:
    from xlsxwriter.utility import xl_col_to_name

    return xl_col_to_name(i)


def test_targets_met_exactly_at_the_boundary(run_cli, files, workdir):
    files.text("work/t.csv", TARGETS)
    res = run_national(run_cli, files, "--targets", "t.csv")
    assert res.exit_code == 0, res.output
    rows = sheet_rows(workdir / "out" / SUMMARY_FILE, "Chỉ tiêu")
    assert rows[0][0] == "Mã tỉnh"
    got = [(r[0], r[1], r[4], r[5], r[7], r[8]) for r in rows[1:5]]
    assert got == [("40", "Nghệ An", 2, 4, "2/4", "Đạt"),
                   ("42", "Hà Tĩnh", 1, 2, "1/2", "Không đạt"),
                   ("01", "Thành phố Hà Nội", 3, 3, "3/3", "Đạt"),
                   ("", "Toàn quốc", 6, 9, "6/9", "Đạt")]
    assert "target province 40 healthy 50%: 2/4 = 50%, met" in res.output
    assert "target province 42 healthy 50.01%: 1/2 = 50%, not met" in res.output
    assert "target national healthy 66.67%: 6/9 = 66.67%, met" in res.output
    # with a national row, the programme's 2030 goal is not repeated as a note
    assert not any(r[0] and str(r[0]).startswith("Mục tiêu của Chương trình") for r in rows)


def test_without_a_national_target_the_programme_goal_is_a_note(run_cli, files, workdir):
    files.text("work/t.csv", "province_code,class,share\n40,healthy,50%\n")
    res = run_national(run_cli, files, "--targets", "t.csv")
    assert res.exit_code == 0, res.output
    rows = sheet_rows(workdir / "out" / SUMMARY_FILE, "Chỉ tiêu")
    assert any(r[0] == national.PROGRAMME_GOAL for r in rows)


@pytest.mark.parametrize("body,expected", [
    ("province_code,class,share\n40,healthy,20%\n42,drug_free,20%\n", "row 3, column class, value 'drug_free'"),
    ("province_code,class,share\n40,healthy,abc\n", "row 2, column share, value 'abc'"),
])
def test_a_bad_targets_file_exits_2_naming_row_and_column(run_cli, files, workdir, body, expected):
    files.text("work/t.csv", body)
    res = run_national(run_cli, files, "--targets", "t.csv")
    assert res.exit_code == 2, res.output
    assert "t.csv" in res.output and expected in res.output
    assert not (workdir / "out").exists() and not (workdir / "r.json").exists()


def test_targets_need_out_dir(run_cli, files, workdir):
    files.text("work/t.csv", TARGETS)
    res = run_cli("score", files.csv("lo.csv", ROWS), "--rules", "xa-lanh-manh", "--unit-list", "none",
                  "--targets", "t.csv")
    assert res.exit_code == 2 and "--out-dir" in res.output


def test_out_dir_under_a_file_exits_6(run_cli, files, workdir):
    (workdir / "plain").write_text("x")
    data = files.csv("lo.csv", ROWS)
    res = run_cli("score", data, "--rules", "xa-lanh-manh", "--unit-list", "none", "--out-dir", "plain/out")
    assert res.exit_code == 6, res.output
    assert "cannot write" in res.output
    assert sorted(p.name for p in workdir.iterdir()) == ["plain"]


def test_a_failure_half_way_leaves_no_folder_and_no_partial(run_cli, files, workdir, monkeypatch):
    calls = []
    real = national.write_scorecard

    def fail_second(batch, out, now=None, unit_sheets=None, profile=None):
        calls.append(out)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", str(out))
        real(batch, out, now, unit_sheets, profile)

    monkeypatch.setattr(national, "write_scorecard", fail_second)
    res = run_national(run_cli, files)
    assert res.exit_code == 6, res.output
    assert "No space left on device" in res.output
    assert len(calls) == 2
    assert sorted(p.name for p in workdir.iterdir()) == []  # no out/, no .out.*.partial, no JSON


def test_a_failure_leaves_an_earlier_complete_run_as_it_was(run_cli, files, workdir, monkeypatch):
    assert run_national(run_cli, files).exit_code == 0
    before = {p.name: p.read_bytes() for p in (workdir / "out").iterdir()}

    def fail_summary(nat, out, now, profile=None):
        raise OSError(13, "Permission denied", str(out))

    monkeypatch.setattr(national, "write_summary", fail_summary)
    res = run_national(run_cli, files, rows=ROWS[:4])
    assert res.exit_code == 6, res.output
    assert {p.name: p.read_bytes() for p in (workdir / "out").iterdir()} == before
    assert not [p for p in workdir.iterdir() if p.name.endswith(".partial")]


def test_a_rerun_into_an_existing_folder_replaces_the_summary_and_keeps_other_files(run_cli, files, workdir):
    (workdir / "out").mkdir()
    (workdir / "out" / "ghi-chu.txt").write_text("của người dùng")
    assert run_national(run_cli, files).exit_code == 0
    assert run_national(run_cli, files, rows=ROWS[:4]).exit_code == 0  # province 40 only
    names = sorted(p.name for p in (workdir / "out").iterdir())
    assert names == sorted([*FILES.values(), SUMMARY_FILE, "ghi-chu.txt"])
    summary = sheet_rows(workdir / "out" / SUMMARY_FILE, "Toàn quốc")
    assert [r[1] for r in summary if r[1] and r[1].isdigit()] == ["40"]


def test_out_dir_with_out_and_json_alone(run_cli, files, workdir):
    data = files.csv("lo.csv", ROWS)
    res = run_cli("score", data, "--rules", "xa-lanh-manh", "--unit-list", "none", "--out-dir", "d",
                  "--out", "all.xlsx")
    assert res.exit_code == 0, res.output
    assert (workdir / "all.xlsx").exists() and (workdir / "d" / SUMMARY_FILE).exists()
    res = run_cli("score", data, "--rules", "xa-lanh-manh", "--unit-list", "none", "--out-dir", "e")
    assert res.exit_code == 0 and len(list((workdir / "e").iterdir())) == 4


def test_no_progress_line_when_stderr_is_not_a_terminal(run_cli, files, workdir, monkeypatch):
    import click

    made = []

    def immediate(delay: float = 0):  # no delay: only "not a terminal" can keep it silent
        made.append(Progress(click.get_text_stream("stderr"), delay=0))
        return made[-1]

    monkeypatch.setattr(progress_mod, "for_stderr", immediate)
    res = run_national(run_cli, files)
    assert res.exit_code == 0, res.output
    assert made and not made[0].enabled
    assert "\r" not in res.stderr and "scoring" not in res.stderr and "[#" not in res.stderr


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_progress_line_is_drawn_on_a_terminal_after_the_delay():
    tty, clock = FakeTTY(), Clock()
    bar = Progress(tty, delay=1.5, interval=1, clock=clock)
    with bar.phase("reading"):
        clock.t = 1.0
        bar.step()
    assert tty.getvalue() == ""  # a run shorter than the delay draws nothing
    clock.t = 2.0
    for _ in bar.iterate("scoring", range(10)):
        pass
    text = tty.getvalue()
    assert "\rscoring  [" in text and "10/10  00:02" in text
    assert "#" * 24 in text  # the finished phase's bar is full
    clock.t = 65.0
    with bar.phase("writing", 4):
        bar.step(1)  # within the interval of the last draw: not redrawn
        assert tty.getvalue().rstrip(" ").endswith("writing  [------------------------]  0/4  01:05")
        clock.t = 66.0
        bar.step(1)
        assert tty.getvalue().rstrip(" ").endswith("writing  [############------------]  2/4  01:06")
    bar.close()
    assert tty.getvalue().endswith("\r")  # the line is cleared at the end


def test_a_phase_without_a_count_is_drawn_by_the_timer():
    tty = FakeTTY()
    bar = Progress(tty, delay=0, interval=0.01)
    with bar.phase("reading"):
        import time

        deadline = time.monotonic() + 5
        while "reading  ..." not in tty.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    bar.close()
    assert "\rreading  ...  00:0" in tty.getvalue()


def test_not_a_terminal_draws_nothing():
    stream = io.StringIO()
    bar = Progress(stream, delay=0)
    for _ in bar.iterate("scoring", range(3)):
        pass
    bar.close()
    assert stream.getvalue() == "" and bar.timer is None


@pytest.mark.parametrize("name,slug", [("Nghệ An", "nghe-an"), ("Đắk Lắk", "dak-lak"),
                                       ("Thành phố Hồ Chí Minh", "ho-chi-minh"), ("Tỉnh Bà Rịa - Vũng Tàu",
                                                                                  "ba-ria-vung-tau"),
                                       ("Thừa Thiên Huế", "thua-thien-hue")])
def test_ascii_slugs(name, slug):
    assert ascii_slug(name) == slug


def test_file_name_falls_back_to_the_code():
    assert province_file_name("40", "Nghệ An") == "40-nghe-an.xlsx"
    assert province_file_name("77", "77") == "77.xlsx"


def test_province_view_keeps_national_ranks_and_its_own_warnings():
    from lmtest import scored_batch

    batch = scored_batch("xa-lanh-manh", ROWS)
    view = national.province_batch(batch, "42", n_rejected=3)
    assert [r.unit.code for r in view.units] == [r.unit.code for r in batch.units if r.unit.province_code == "42"]
    assert [r.rank_national for r in view.units] == [r.rank_national for r in batch.units
                                                     if r.unit.province_code == "42"]
    assert [p.province_code for p in view.provinces] == ["42"]
    assert any("toan-quoc.xlsx" in n and "3 dòng" in n for n in view.notes)
    nat = national.national_figures(batch)
    assert [(ln.code, ln.rank) for ln in nat.lines] == [("01", 1), ("40", 2), ("42", 2)]
    assert Fraction(nat.lines[1].counts["healthy"], nat.lines[1].n_units) == Fraction(1, 2)


@pytest.mark.slow
def test_two_writer_processes_write_the_same_workbooks(tmp_path):
    import datetime as dt

    from lmtest import scored_batch

    batch = scored_batch("xa-lanh-manh", ROWS)
    now = dt.datetime(2025, 12, 15, tzinfo=dt.timezone.utc)
    steps = []
    one = national.write_national(batch, tmp_path / "one", now=now)
    two = national.write_national(batch, tmp_path / "two", now=now, workers=2, step=lambda: steps.append(1))
    assert len(steps) == 4  # three provinces and the summary
    assert [ln.file for ln in one.lines] == [ln.file for ln in two.lines]
    for ln in one.lines:
        a, b = openpyxl.load_workbook(tmp_path / "one" / ln.file), openpyxl.load_workbook(tmp_path / "two" / ln.file)
        assert a.sheetnames == b.sheetnames
        for name in a.sheetnames:
            assert list(a[name].values) == list(b[name].values)


def test_the_summary_lists_each_workbooks_results_digest(run_cli, files, workdir):
    from lanhmanh.scorecards.outputs.presentation import INFO_DIGEST_LABEL

    assert run_national(run_cli, files).exit_code == 0
    listed = {r[0][len("Tệp "):]: r[1][len("mã kiểm tra "):]
              for r in sheet_rows(workdir / "out" / SUMMARY_FILE, "Thông tin") if r[0] and r[0].startswith("Tệp ")}
    assert set(listed) == set(FILES.values())
    for name, digest in listed.items():
        info = dict(r[:2] for r in sheet_rows(workdir / "out" / name, "Thông tin") if r and r[0])
        assert info[INFO_DIGEST_LABEL] == digest


def test_a_large_national_batch_leaves_out_the_per_unit_sheets(run_cli, files, workdir, monkeypatch):
    """Up to UNIT_SHEETS_BATCH_MAX units in the batch, a province of up to 200 units gets one
    printable sheet per unit; above it (a national run), none: they are the bulk of its time."""
    import openpyxl as ox

    from lanhmanh.scorecards.outputs import national

    def unit_sheets(path: Path) -> list[str]:
        return [n for n in ox.load_workbook(path, read_only=True).sheetnames if n.isdigit()]

    assert run_national(run_cli, files).exit_code == 0
    assert unit_sheets(workdir / "out" / FILES["40"]) == ["00001", "00002", "00003", "00004"]
    monkeypatch.setattr(national, "UNIT_SHEETS_BATCH_MAX", len(ROWS) - 1)
    assert run_national(run_cli, files).exit_code == 0
    assert unit_sheets(workdir / "out" / FILES["40"]) == []


def test_a_killed_runs_staging_folder_is_removed_by_the_next_national_run(run_cli, files, workdir):
    # a run killed while writing leaves `.out.XXXXXXXX.partial` beside `out`; the next national run
    # into that folder removes it once it is 15 minutes old, and leaves a younger one (a run going on)
    dead, alive = workdir / ".out.k3j_x9a2.partial", workdir / ".out.abcdefgh.partial"
    for d in (dead, alive):
        d.mkdir()
        (d / "40-nghe-an.xlsx").write_bytes(b"half")
    hour_ago = time.time() - 3600
    for p in (dead / "40-nghe-an.xlsx", dead):
        os.utime(p, (hour_ago, hour_ago))
    assert run_national(run_cli, files).exit_code == 0
    assert not dead.exists() and (alive / "40-nghe-an.xlsx").read_bytes() == b"half"
    assert sorted(p.name for p in workdir.iterdir() if p.name.endswith(".partial")) == [alive.name]


def test_the_national_summary_carries_lanhmanhs_properties(run_cli, files, workdir):
    # an input folder holding it skips it as lanhmanh's own output, whatever its title says
    import zipfile

    from lanhmanh.scorecards.inputs.xlsx_reader import made_by_lanhmanh

    assert run_national(run_cli, files).exit_code == 0
    summary = workdir / "out" / SUMMARY_FILE
    with zipfile.ZipFile(summary) as z:
        custom = z.read("docProps/custom.xml").decode("utf-8")
    assert 'name="lanhmanh.document"' in custom and "national_summary" in custom
    assert 'name="lanhmanh.pack_id"' in custom and "xa-lanh-manh" in custom
    assert made_by_lanhmanh(summary)
