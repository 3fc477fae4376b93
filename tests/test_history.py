"""The history database (lanhmanh/history.py) and `lanhmanh history`: runs recorded and read back,
append-only, several years, last year's results, interrupted runs (an exception, a killed process),
a reader during a write, and the command's table, JSON and errors."""
from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from lmtest import TESTS, identity, scored_batch, xlm_row, xlm_values

from lanhmanh.engine.batch import history as H

EXAMPLES = TESTS.parent / "examples"


def xlm_year(code: int, year: int, **over) -> dict:
    return {**identity(code, year=year), **xlm_values(**over)}


def batch_2025():
    # 00001: 100 points, healthy; 00002: no communication sessions (B1 missed) → 90, healthy;
    # 00003: a harbouring point
    return scored_batch("xa-lanh-manh", [xlm_row(1), xlm_row(2, communication_sessions=0),
                                         xlm_row(3, harbouring_points=1)])


def batch_2024():
    return scored_batch("xa-lanh-manh", [xlm_year(1, 2024, harbouring_points=1), xlm_year(2, 2024),
                                         xlm_year(3, 2024, harbouring_points=1)])


def count(db: Path, table: str) -> int:
    with closing(sqlite3.connect(db)) as c:
        return c.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as c:
        return c.execute("PRAGMA integrity_check").fetchone()[0]


# ---- recording and reading back ----------------------------------------------------------------

def test_a_run_is_recorded_and_read_back(tmp_path):
    db = tmp_path / "h.sqlite"
    batch = batch_2025()
    run_id = H.record_run(db, batch, argv=["score", "t.csv", "--rules", "xa-lanh-manh"])
    assert run_id == 1
    (run,) = H.runs(db)
    pack = batch.pack
    assert (run.year, run.pack_id, run.pack_version, run.pack_sha256, run.pack_status) == \
        (2025, "xa-lanh-manh", str(pack.version), pack.sha256, pack.status)
    assert run.recorded_at.endswith("Z") and run.engine == "python"
    assert (run.units, run.rejected_rows, run.argv) == (3, 0, ["score", "t.csv", "--rules", "xa-lanh-manh"])
    assert run.inputs == [{"path": "t.csv", "sha256": "0" * 64, "rows": 3}]
    ids = list(pack.commune.criteria)
    for r in batch.units:
        (row,) = H.unit_history(db, r.unit.code)
        assert (row.class_id, row.total, row.rank_province, row.rank_national, list(row.vetoes)) == \
            (r.outcome.class_id, r.outcome.total, r.rank_province, r.rank_national, list(r.outcome.vetoes))
        assert row.class_label == pack.commune.class_label(r.outcome.class_id)
        assert row.criteria == {cid: [int(bool(o[0])), o[1]] for cid, o in zip(ids, r.outcome.outcomes)}
    two = H.unit_history(db, "00002")[0]
    assert two.total == 90 and type(two.total) is int and two.criteria["B1"] == [0, 0]


def test_schema_version_wal_and_integer_columns(tmp_path):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch_2025())
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("PRAGMA user_version").fetchone()[0] == H.SCHEMA_VERSION
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert {t for (t,) in c.execute("SELECT DISTINCT typeof(total) FROM unit_results")} == {"integer"}
        # a float total is refused by the table itself, not only by record_run
        with pytest.raises(sqlite3.IntegrityError):
            c.execute("INSERT INTO unit_results VALUES (1,'x','x','xã','01',NULL,2025,'healthy','L',90.5,"
                      "'[]',1,1,'{}')")


def test_a_float_total_is_refused_and_nothing_is_written(tmp_path):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch_2025())
    batch = batch_2025()
    r = batch.units[0]
    object.__setattr__(r.outcome, "total", 99.5)
    with pytest.raises(TypeError, match="exact integers"):
        H.record_run(db, batch)
    assert count(db, "runs") == 1 and count(db, "unit_results") == 3


def test_past_runs_are_never_rewritten(tmp_path):
    db = tmp_path / "h.sqlite"
    batch = batch_2025()
    assert [H.record_run(db, batch), H.record_run(db, batch)] == [1, 2]
    assert count(db, "runs") == 2 and count(db, "unit_results") == 6
    (latest,) = H.unit_history(db, "00001")
    assert latest.run_id == 2
    assert [r.run_id for r in H.unit_history(db, "00001", all_runs=True)] == [1, 2]
    with closing(sqlite3.connect(db)) as c:
        for sql in ("UPDATE unit_results SET total = 0", "DELETE FROM runs", "DELETE FROM unit_results",
                    "UPDATE runs SET year = 2030", "DELETE FROM inputs"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                c.execute(sql)
    assert H.unit_history(db, "00001")[0].total == 100


# ---- several years, last year's results --------------------------------------------------------

def test_several_years_and_class_changes(tmp_path):
    db = tmp_path / "h.sqlite"
    b24, b25 = batch_2024(), batch_2025()
    assert {r.unit.year for r in b24.units} == {2024}
    H.record_run(db, b24)
    H.record_run(db, b25)
    rows = H.unit_history(db, "00001")
    assert [(r.year, r.class_id) for r in rows] == [(2024, _cls(b24, "00001")), (2025, "healthy")]
    assert _cls(b24, "00001") != "healthy"
    assert [r.year for r in H.unit_history(db, "00002")] == [2024, 2025]


def _cls(batch, code):
    return next(r.outcome.class_id for r in batch.units if r.unit.code == code)


def test_previous_results_is_last_years_latest_run_of_the_same_pack(tmp_path):
    db = tmp_path / "h.sqlite"
    assert H.previous_results(db, "xa-lanh-manh", 2025) == {}
    assert not db.exists()  # reading never creates the file
    b24 = batch_2024()
    H.record_run(db, b24)
    second = scored_batch("xa-lanh-manh", [xlm_year(1, 2024), xlm_year(2, 2024), xlm_year(4, 2024)])
    run2 = H.record_run(db, second)
    H.record_run(db, batch_2025())
    prev = H.previous_results(db, "xa-lanh-manh", 2025)
    assert set(prev) == {"00001", "00002", "00004"}  # the latest 2024 run, not the union
    p = prev["00001"]
    assert (p.class_id, p.total, p.run_id, p.vetoes) == ("healthy", 100, run2, ())
    assert p.class_label == "Lành mạnh"
    assert H.previous_results(db, "xa-lanh-manh", 2024) == {}
    assert H.previous_results(db, "qd-28-2025", 2025) == {}
    assert set(H.previous_results(db, "xa-lanh-manh", 2026)) == {"00001", "00002", "00003"}


def test_the_batch_year_comes_from_the_option_then_the_rows(tmp_path):
    db = tmp_path / "h.sqlite"
    no_year = scored_batch("xa-lanh-manh", [{**identity(1, year=None), **xlm_values()}])
    H.record_run(db, no_year, year=2023)
    H.record_run(db, batch_2024())
    assert [r.year for r in H.runs(db)] == [2023, 2024]


# ---- interrupted runs ------------------------------------------------------------------------

def test_an_exception_in_the_middle_of_a_run_leaves_the_database_as_it_was(tmp_path, monkeypatch):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch_2024())
    real = H._insert_unit_rows

    def half_then_fail(conn, run_id, batch):
        real(conn, run_id, batch)  # the rows are written inside the transaction …
        assert conn.execute("SELECT count(*) FROM unit_results").fetchone()[0] == 6
        raise RuntimeError("disk on fire")  # … and then the run fails before COMMIT

    monkeypatch.setattr(H, "_insert_unit_rows", half_then_fail)
    with pytest.raises(RuntimeError, match="disk on fire"):
        H.record_run(db, batch_2025())
    assert count(db, "runs") == 1 and count(db, "unit_results") == 3 and count(db, "inputs") == 1
    assert integrity(db) == "ok"
    monkeypatch.setattr(H, "_insert_unit_rows", real)
    assert H.record_run(db, batch_2025()) == 2  # the rolled-back run left no trace, not even its id
    assert [r.year for r in H.runs(db)] == [2024, 2025]


KILLED_CHILD = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {tests!r})
    from lanhmanh.engine.batch import history as H
    from lmtest import scored_batch, xlm_row

    real = H._insert_unit_rows
    def write_then_hang(conn, run_id, batch):
        real(conn, run_id, batch)
        n = conn.execute("SELECT count(*) FROM unit_results").fetchone()[0]
        print("WRITTEN", n, flush=True)
        time.sleep(600)
    H._insert_unit_rows = write_then_hang
    batch = scored_batch("xa-lanh-manh", [xlm_row(i) for i in range(1, 41)])
    H.record_run({db!r}, batch)
""")


@pytest.mark.skipif(sys.platform.startswith("win"), reason="SIGKILL")
def test_a_run_killed_mid_transaction_leaves_the_database_as_it_was(tmp_path):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch_2024())
    before = [r.as_dict() for r in H.runs(db)]
    child = subprocess.Popen([sys.executable, "-c", KILLED_CHILD.format(tests=str(TESTS), db=str(db))],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(TESTS.parent)})
    try:
        line = child.stdout.readline()
        assert line.split() == ["WRITTEN", "43"], child.stderr.read() if not line else line
        child.kill()  # SIGKILL: no handler, no rollback, no close
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -9
    assert integrity(db) == "ok"
    assert [r.as_dict() for r in H.runs(db)] == before
    assert count(db, "unit_results") == 3
    assert H.record_run(db, batch_2025()) >= 2  # the file is writable again: no stale lock
    assert [r.year for r in H.runs(db)] == [2024, 2025]


def test_a_reader_during_a_write_sees_only_committed_runs(tmp_path, monkeypatch):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch_2024())
    real = H._insert_unit_rows
    seen = {}

    def write_and_look(conn, run_id, batch):
        real(conn, run_id, batch)
        seen["runs"] = [r.run_id for r in H.runs(db)]  # another connection, not blocked (WAL)
        seen["00001"] = [r.year for r in H.unit_history(db, "00001")]

    monkeypatch.setattr(H, "_insert_unit_rows", write_and_look)
    H.record_run(db, batch_2025())
    assert seen == {"runs": [1], "00001": [2024]}
    assert [r.year for r in H.unit_history(db, "00001")] == [2024, 2025]


# ---- files that are not a usable history --------------------------------------------------------

def test_foreign_newer_and_missing_files_are_refused(tmp_path):
    with pytest.raises(H.HistoryError, match="no history database"):
        H.unit_history(tmp_path / "none.sqlite", "00001")
    other = tmp_path / "other.sqlite"
    with closing(sqlite3.connect(other)) as c:
        c.execute("CREATE TABLE t (x)")
    with pytest.raises(H.HistoryError, match="not a lanhmanh history"):
        H.record_run(other, batch_2025())
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all " * 100)
    with pytest.raises(H.HistoryError, match="not a lanhmanh history"):
        H.runs(text)
    newer = tmp_path / "newer.sqlite"
    H.record_run(newer, batch_2025())
    with closing(sqlite3.connect(newer)) as c:
        c.execute(f"PRAGMA user_version = {H.SCHEMA_VERSION + 1}")
    with pytest.raises(H.HistoryError, match="newer lanhmanh"):
        H.record_run(newer, batch_2025())
    assert count(newer, "runs") == 1


def test_default_location(monkeypatch, tmp_path):
    monkeypatch.setenv(H.ENV_VAR, str(tmp_path / "x.sqlite"))
    assert H.default_db_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv(H.ENV_VAR)
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
        assert H.default_db_path() == tmp_path / "data" / "lanhmanh" / "lanhmanh-history.sqlite"
        monkeypatch.delenv("XDG_DATA_HOME")
        assert H.default_db_path() == Path.home() / ".local" / "share" / "lanhmanh" / "lanhmanh-history.sqlite"


# ---- the command ------------------------------------------------------------------------------

def test_history_table_marks_the_class_change(run_cli, workdir):
    db = workdir / "h.sqlite"
    b24 = batch_2024()
    H.record_run(db, b24)
    H.record_run(db, batch_2025())
    H.record_run(db, batch_2025())
    res = run_cli("history", "00001", "--db", db)
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"00001 Xã 00001 (xã, province 01) · {db}"
    assert lines[1].split()[:3] == ["year", "pack", "run"]
    was = _cls(b24, "00001")
    label24 = b24.pack.commune.class_label(was)
    assert lines[2].startswith("2024  xa-lanh-manh ") and f"{label24} ({was})" in lines[2]
    assert lines[3].startswith("2025  xa-lanh-manh ") and "Lành mạnh (healthy)" in lines[3]
    assert lines[3].split()[3] == "3" and " 100 " in lines[3] and lines[3].endswith(f"* was {was}")
    assert not lines[2].endswith("*") and "* was" not in lines[2]
    assert lines[4] == "* the class changed from the row before under the same pack"
    assert len(lines) == 5
    every = run_cli("history", "00001", "--db", db, "--all-runs").output.splitlines()
    assert [ln.split()[0] for ln in every[2:5]] == ["2024", "2025", "2025"]
    assert "* was" not in every[4]  # run 3 repeats run 2's class


def test_history_json(run_cli, workdir):
    db = workdir / "h.sqlite"
    b24 = batch_2024()
    H.record_run(db, b24)
    H.record_run(db, batch_2025())
    res = run_cli("history", "00002", "--db", db, "--format", "json")
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["unit_code"] == "00002" and doc["db"] == str(db)
    got = [{k: r[k] for k in ("year", "run_id", "class", "class_label", "total", "rank_province", "class_changed",
                              "previous_class")} for r in doc["results"]]
    assert got == [
        {"year": 2024, "run_id": 1, "class": "healthy", "class_label": "Lành mạnh", "total": 100,
         "rank_province": 1, "class_changed": False, "previous_class": None},
        {"year": 2025, "run_id": 2, "class": "healthy", "class_label": "Lành mạnh", "total": 90,
         "rank_province": 2, "class_changed": False, "previous_class": "healthy"},
    ]
    assert doc["results"][1]["pack"]["sha256"] == batch_2025().pack.sha256
    assert doc["results"][1]["criteria"]["B1"] == [0, 0]


def test_history_pack_filter_and_runs_listing(run_cli, workdir):
    db = workdir / "h.sqlite"
    H.record_run(db, batch_2024())
    H.record_run(db, scored_batch("qd-28-2025", [_qd28(1)]))
    res = run_cli("history", "00001", "--db", db)
    assert [ln.split()[:2] for ln in res.output.splitlines()[2:]] == [["2024", "xa-lanh-manh"],
                                                                      ["2025", "qd-28-2025"]]
    assert "* was" not in res.output  # different packs: their classes are not compared
    only = run_cli("history", "00001", "--db", db, "--pack", "qd-28-2025")
    assert [ln.split()[1] for ln in only.output.splitlines()[2:]] == ["qd-28-2025"]
    missing = run_cli("history", "00002", "--db", db, "--pack", "qd-28-2025")
    assert missing.exit_code == 2 and "in no run of pack qd-28-2025" in missing.output
    listing = run_cli("history", "--runs", "--db", db)
    assert listing.exit_code == 0
    lines = listing.output.splitlines()
    assert lines[0] == f"2 run(s) in {db}"
    assert lines[2].split()[:4] == ["1", H.runs(db)[0].recorded_at, "2024", "xa-lanh-manh"]
    assert lines[3].split()[2:4] == ["2025", "qd-28-2025"] and lines[3].endswith("t.csv " + "0" * 12)
    doc = json.loads(run_cli("history", "--runs", "--db", db, "--format", "json", "--pack", "qd-28-2025").output)
    assert [(r["run_id"], r["pack"]["id"], r["units"]) for r in doc["runs"]] == [(2, "qd-28-2025", 1)]


def _qd28(code):
    from lmtest import qd28_row

    return qd28_row(code)


def test_unknown_unit_names_the_closest_codes(run_cli, workdir):
    db = workdir / "h.sqlite"
    H.record_run(db, scored_batch("xa-lanh-manh", [xlm_row(c) for c in (1, 7, 9, 12, 40, 41, 300)]))
    res = run_cli("history", "00010", "--db", db)
    assert res.exit_code == 2
    assert f"unit 00010 is in no recorded run of {db}; the closest recorded codes: 00009, 00012, 00007, " \
           "00001, 00040" in res.output


def test_missing_or_foreign_database_and_usage(run_cli, workdir):
    res = run_cli("history", "00001", "--db", "nope.sqlite")
    assert res.exit_code == 4 and "no history database at nope.sqlite" in res.output
    default = run_cli("history", "00001")
    assert default.exit_code == 4 and str(H.default_db_path()) in default.output and H.ENV_VAR in default.output
    (workdir / "x.sqlite").write_bytes(b"PK\x03\x04 this is a workbook, not a database" * 50)
    res = run_cli("history", "--runs", "--db", "x.sqlite")
    assert res.exit_code == 4 and "x.sqlite is not a lanhmanh history database" in res.output
    assert run_cli("history", "--db", "x.sqlite").exit_code == 2
    assert run_cli("history", "00001", "--runs", "--db", "x.sqlite").exit_code == 2


def test_the_sample_through_score_and_history(run_cli, workdir):
    """The real sample read and scored as `score` does it, recorded, then read with `history`."""
    from lanhmanh.api import load_for_batch, score_intake

    pack, intake, _notes = load_for_batch("qd-28-2025", [str(EXAMPLES / "nghe-an-2025-ma-tuy.csv")], "official")
    batch = score_intake(pack, intake, "python")
    db = workdir / "h.sqlite"
    H.record_run(db, batch)
    (run,) = H.runs(db)
    assert run.units == len(batch.units) == 130 and run.year == 2025
    assert run.inputs[0]["sha256"] == intake.files[0].sha256
    assert run.inputs[0]["rows"] == intake.files[0].row_count() == intake.inputs[0]["rows"] == 131
    res = run_cli("history", "16858", "--db", db)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith("16858 Xã Mường Típ (xã, province 40)")
    assert "(type_2)" in res.output.splitlines()[2]


# ---- the wiring in `score` (pending) -----------------------------------------------------------

def test_score_records_the_run(run_cli, workdir):
    sample = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
    res = run_cli("score", sample, "--rules", "xa-lanh-manh", "--json", "r.json", "--db", "h.sqlite")
    assert res.exit_code == 0, res.output
    assert "run 1 recorded in the history database h.sqlite" in res.output
    again = run_cli("score", sample, "--rules", "xa-lanh-manh", "--db", "h.sqlite")
    assert "run 2 recorded" in again.output
    doc = json.loads((workdir / "r.json").read_text(encoding="utf-8"))
    first = doc["units"][0]
    (row,) = H.unit_history(workdir / "h.sqlite", first["unit_code"])
    assert (row.run_id, row.class_id, row.total, row.rank_national) == (2, first["class"], first["total"], 1)
    none = run_cli("score", sample, "--rules", "xa-lanh-manh", "--no-db")
    assert none.exit_code == 0 and "recorded" not in none.output
    assert len(H.runs(workdir / "h.sqlite")) == 2
    dflt = run_cli("score", sample, "--rules", "xa-lanh-manh")
    assert f"recorded in the history database {H.default_db_path()}" in dflt.output
