"""Atomic output files (scorecards/outputs/atomic.py): what killed runs leave in a folder (their
temporary files, a national run's staging folder) is removed by the next run writing there, and
only that: a concurrent run's files, and anything not named by lanhmanh's own patterns, stay."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lanhmanh.scorecards.outputs import atomic
from lanhmanh.scorecards.outputs.json_out import write_json_atomic

HOUR_AGO = time.time() - 3600


def aged(p: Path, when: float = HOUR_AGO) -> Path:
    os.utime(p, (when, when))
    return p


def touch(p: Path, text: str = "x") -> Path:
    p.write_text(text, encoding="utf-8")
    return p


def test_the_next_workbook_written_removes_a_killed_runs_temporary_files(tmp_path):
    stale = aged(touch(tmp_path / ".bang-diem.xlsx.1a2b3c4d.tmp"))
    stale_json = aged(touch(tmp_path / ".ket-qua.json.00ff00ff.tmp"))
    concurrent = touch(tmp_path / ".bang-diem.xlsx.99aa88bb.tmp")  # another run, still writing
    keep = [aged(touch(tmp_path / name)) for name in (
        ".notes.tmp",                      # not lanhmanh's pattern
        "bang-diem.xlsx.1a2b3c4d.tmp",     # no leading dot
        ".bang-diem.xlsx.1A2B3C4D.tmp",    # not lowercase hex
        ".bang-diem.xlsx.1a2b3c4.tmp",     # 7 digits
        ".bang-diem.xlsx.zzzzzzzz.tmp",
        "du-lieu.xlsx", "submissions.csv")]
    atomic.write_workbook(tmp_path / "other.xlsx", {}, lambda wb: wb.add_worksheet("A"))
    assert (tmp_path / "other.xlsx").is_file()
    assert not stale.exists() and not stale_json.exists()
    assert concurrent.exists() and all(p.exists() for p in keep)
    # nothing of the run itself is left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [concurrent.name, "other.xlsx"] + [p.name for p in keep])


def test_the_json_writer_sweeps_too(tmp_path):
    stale = aged(touch(tmp_path / ".r.json.deadbeef.tmp"))
    write_json_atomic(str(tmp_path / "r.json"), {"units": []})
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == {"units": []}
    assert not stale.exists()


def test_age_threshold(tmp_path):
    now = time.time()
    young = aged(touch(tmp_path / ".s.xlsx.0000000a.tmp"), now - atomic.STALE_AFTER_S + 60)
    old = aged(touch(tmp_path / ".s.xlsx.0000000b.tmp"), now - atomic.STALE_AFTER_S - 1)
    assert atomic.sweep_stale(tmp_path, now) == [old]
    assert young.exists() and not old.exists()


def test_staging_folders_of_killed_national_runs(tmp_path):
    dead = tmp_path / ".out.k3j_x9a2.partial"
    dead.mkdir()
    aged(touch(dead / "40-nghe-an.xlsx"))
    aged(touch(dead / ".41.xlsx.0badcafe.tmp"))
    aged(dead)
    alive = tmp_path / ".out.abcdefgh.partial"  # a run writing its workbooks now
    alive.mkdir()
    aged(touch(alive / "40-nghe-an.xlsx"))
    touch(alive / "41-thanh-hoa.xlsx")
    aged(alive)
    mine = tmp_path / ".out.partial"  # not mkdtemp's name
    mine.mkdir()
    aged(mine)
    user_file = aged(touch(tmp_path / ".out.abcdefgh.partial.txt"))
    removed = atomic.sweep_stale(tmp_path)
    assert removed == [dead]
    assert not dead.exists() and alive.is_dir() and mine.is_dir() and user_file.exists()


@pytest.mark.skipif(sys.platform.startswith("win"), reason="symbolic links")
def test_links_are_not_followed(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    precious = touch(elsewhere / "keep.xlsx")
    out = tmp_path / "out"
    out.mkdir()
    link_dir = out / ".x.abcdefgh.partial"
    link_dir.symlink_to(elsewhere, target_is_directory=True)
    link_file = out / ".x.xlsx.12345678.tmp"
    link_file.symlink_to(precious)
    os.utime(link_dir, (HOUR_AGO, HOUR_AGO), follow_symlinks=False)
    os.utime(link_file, (HOUR_AGO, HOUR_AGO), follow_symlinks=False)
    assert atomic.sweep_stale(out) == []
    assert precious.exists() and link_dir.is_symlink() and link_file.is_symlink()


def test_a_missing_folder_is_no_error(tmp_path):
    assert atomic.sweep_stale(tmp_path / "none") == []


@pytest.mark.skipif(sys.platform.startswith("win"), reason="SIGKILL")
def test_a_run_killed_while_writing_leaves_a_temp_that_the_next_run_removes(tmp_path):
    """A process killed inside write_workbook leaves its temporary file; a run writing into the same
    folder while it is fresh keeps it (it may be a live run), and once it is stale removes it."""
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from lanhmanh.scorecards.outputs import atomic

        def build(wb):
            wb.add_worksheet("A")
            print("building", flush=True)
            time.sleep(60)

        atomic.write_workbook(Path({str(tmp_path / 's.xlsx')!r}), {{}}, build)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "building"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (left,) = [p for p in tmp_path.iterdir() if atomic.TEMP_FILE.match(p.name)]
    assert left.name.startswith(".s.xlsx.")
    atomic.write_workbook(tmp_path / "t.xlsx", {}, lambda wb: wb.add_worksheet("A"))
    assert left.exists()  # fresh: perhaps a run still going
    aged(left)
    atomic.write_workbook(tmp_path / "t.xlsx", {}, lambda wb: wb.add_worksheet("A"))
    assert not left.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.xlsx"]
