"""A history that can be trusted: runs on the shipped samples are recorded as samples and never
taken as last year's results; a run can be voided (a record appended, nothing deleted); another
program's file given as the database is left byte for byte as it was; a database of an earlier
schema keeps working; and the tests themselves can never reach the user's database."""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import pytest
from lmtest import TESTS, csv_as_year, scored_batch, xlm_row

from lanhmanh.engine.batch import history as H

EXAMPLES = TESTS.parent / "examples"
SAMPLES = sorted(p for p in EXAMPLES.iterdir() if p.suffix in (".csv", ".xlsx"))
MANIFEST = TESTS.parent / "data" / "samples.json"

# LANHMANH_HISTORY as the test modules are collected: module-scoped fixtures (tests/test_diff.py)
# run with it, before any test's own redirection
AT_COLLECTION = os.environ.get(H.ENV_VAR)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def batch(year: int = 2025, sample: str | None = None, code: int = 1):
    """A scored xa-lanh-manh batch of one unit for `year`, read from "t.csv" (whose sha256 is the
    sample file's when `sample` names one)."""
    b = scored_batch("xa-lanh-manh", [{**xlm_row(code), "year": year}])
    if sample is not None:
        b.inputs = [{"path": str(EXAMPLES / sample), "sha256": sha((EXAMPLES / sample).read_bytes()), "rows": 1}]
    return b


def file_state(p: Path) -> tuple:
    """What must not change on a file left as it was: its bytes, its mtime, and no file beside it."""
    beside = sorted(x.name for x in p.parent.iterdir() if x.name.startswith(p.name) and x != p)
    return sha(p.read_bytes()), p.stat().st_mtime_ns, beside


# ---- the samples -------------------------------------------------------------------------------

def test_every_shipped_sample_is_in_the_manifest():
    """data/samples.json (in the wheel) knows every sample of examples/, as committed and, for the CSV
    files, as git checks them out on Windows (CRLF). Fails when the samples are remade and the
    manifest is not."""
    known = json.loads(MANIFEST.read_text(encoding="utf-8"))["sha256"]
    assert SAMPLES and {p.name for p in SAMPLES} >= {"nghe-an-2025-ma-tuy.csv", "nghe-an-2025-ma-tuy.xlsx"}
    missing = {}
    for p in SAMPLES:
        data = p.read_bytes()
        variants = {f"examples/{p.name}": data}
        if p.suffix == ".csv":
            crlf = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            variants[f"examples/{p.name} (Windows line endings)"] = crlf
        for name, content in variants.items():
            if sha(content) not in known:
                missing[sha(content)] = name
    assert not missing, ("data/samples.json lacks these samples; add (keep the old entries: runs recorded on "
                         "earlier samples stay samples):\n" + json.dumps(missing, indent=1))
    assert H.sample_hashes() == known  # the package reads this very file


def test_kind_of_a_run():
    ma_tuy = sha((EXAMPLES / "nghe-an-2025-ma-tuy.csv").read_bytes())
    assert H.kind_of([ma_tuy]) == H.KIND_SAMPLE
    assert H.kind_of(["0" * 64, ma_tuy]) == H.KIND_SAMPLE  # any sample among the inputs: synthetic figures
    assert H.kind_of(["0" * 64]) == H.KIND_BATCH
    edited = (EXAMPLES / "nghe-an-2025-ma-tuy.csv").read_bytes().replace(b"\n", b"\n", 1) + b"\n"
    assert H.kind_of([sha(edited)]) == H.KIND_BATCH  # a copy with any change is the user's own file


def test_a_sample_run_is_never_taken_as_last_year(tmp_path):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch(2025, "nghe-an-2025-lanh-manh.csv"))
    (run,) = H.runs(db)
    assert run.kind == "sample" and run.as_dict()["kind"] == "sample" and run.void is None
    chosen, skipped = H.choose_previous(db, "xa-lanh-manh", 2026)
    assert chosen is None and [r.run_id for r in skipped] == [1]
    assert H.previous_results(db, "xa-lanh-manh", 2026) == {}
    H.record_run(db, batch(2025, code=2))
    H.record_run(db, batch(2025, "bad-rows.csv", code=3))  # a later sample run does not hide it
    chosen, skipped = H.choose_previous(db, "xa-lanh-manh", 2026)
    assert chosen.run_id == 2 and [r.run_id for r in skipped] == [3]
    assert set(H.previous_results(db, "xa-lanh-manh", 2026)) == {"00002"}


# ---- voiding a run -------------------------------------------------------------------------------

def test_void_appends_a_record_and_the_run_is_skipped_but_kept(tmp_path):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch(2025, code=1))
    H.record_run(db, batch(2025, code=2))
    assert H.choose_previous(db, "xa-lanh-manh", 2026)[0].run_id == 2
    run = H.void_run(db, 2, "  wrong province's files  ", user="auditor")
    assert run.void["reason"] == "wrong province's files" and run.void["user"] == "auditor"
    assert run.void["at"].endswith("Z")
    chosen, skipped = H.choose_previous(db, "xa-lanh-manh", 2026)
    assert chosen.run_id == 1 and [r.run_id for r in skipped] == [2]
    assert [r.run_id for r in H.runs(db)] == [1, 2]  # still listed
    with closing(sqlite3.connect(db)) as c:
        assert c.execute("SELECT count(*) FROM unit_results WHERE run_id = 2").fetchone()[0] == 1
        assert c.execute("SELECT run_id, event, reason, user FROM run_events").fetchall() == \
            [(2, "void", "wrong province's files", "auditor")]
        for sql in ("UPDATE run_events SET reason = 'x'", "DELETE FROM run_events"):
            with pytest.raises(sqlite3.DatabaseError, match="append-only"):
                c.execute(sql)
    # the unit's history shows the latest run that is not void; --all-runs every run
    assert [r.run_id for r in H.unit_history(db, "00002")] == []
    assert [r.run_id for r in H.unit_history(db, "00002", all_runs=True)] == [2]
    H.void_run(db, 1, "test batch")
    assert H.choose_previous(db, "xa-lanh-manh", 2026)[0] is None


def test_void_refuses_an_unknown_run_a_void_run_and_a_blank_reason(tmp_path):
    db = tmp_path / "h.sqlite"
    H.record_run(db, batch())
    with pytest.raises(H.NoSuchRun, match=r"run 7 is not in .*its runs are 1 to 1"):
        H.void_run(db, 7, "x")
    with pytest.raises(ValueError, match="reason"):
        H.void_run(db, 1, "   ")
    H.void_run(db, 1, "first")
    with pytest.raises(H.NoSuchRun, match="already void since .*: first"):
        H.void_run(db, 1, "second")
    with pytest.raises(H.HistoryError, match="no history database"):
        H.void_run(tmp_path / "none.sqlite", 1, "x")
    assert not (tmp_path / "none.sqlite").exists()


def test_history_void_command(run_cli, workdir):
    db = workdir / "h.sqlite"
    H.record_run(db, batch(2025, code=1))
    H.record_run(db, batch(2025, "nghe-an-2025-lanh-manh.csv", code=2))
    res = run_cli("history", "--void", "1", "--reason", "điền nhầm tệp của huyện khác", "--db", db)
    assert res.exit_code == 0, res.output
    assert res.output.startswith("run 1 (recorded ") and "marked void" in res.output
    assert "điền nhầm tệp của huyện khác" in res.output
    unknown = run_cli("history", "--void", "12", "--reason", "x", "--db", db)
    assert unknown.exit_code == 2 and "run 12 is not in" in unknown.output
    again = run_cli("history", "--void", "1", "--reason", "x", "--db", db)
    assert again.exit_code == 2 and "already void" in again.output
    no_reason = run_cli("history", "--void", "2", "--db", db)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    blank = run_cli("history", "--void", "2", "--reason", " ", "--db", db)
    assert blank.exit_code == 2
    assert run_cli("history", "--reason", "x", "--db", db).exit_code == 2
    assert run_cli("history", "--void", "2", "--reason", "x", "--runs", "--db", db).exit_code == 2
    assert len(H.runs(db)) == 2 and H.runs(db)[1].void is None
    listing = run_cli("history", "--runs", "--db", db)
    lines = listing.output.splitlines()
    assert "kind" in lines[1].split()
    assert lines[2].split()[0] == "1" and " batch VOID " in lines[2]
    assert lines[3].split()[0] == "2" and " sample " in lines[3]
    assert any(ln.startswith("run 1 is void (since ") and ln.endswith("điền nhầm tệp của huyện khác")
               for ln in lines)
    doc = json.loads(run_cli("history", "--runs", "--db", db, "--format", "json").output)
    assert [(r["run_id"], r["kind"], (r["void"] or {}).get("reason")) for r in doc["runs"]] == \
        [(1, "batch", "điền nhầm tệp của huyện khác"), (2, "sample", None)]


# ---- older databases -----------------------------------------------------------------------------

def test_a_database_of_schema_1_is_read_as_it_is_and_migrated_when_written(tmp_path, monkeypatch):
    db = tmp_path / "old.sqlite"
    with monkeypatch.context() as m:  # what lanhmanh of schema 1 wrote
        m.setattr(H, "SCHEMA_VERSION", 1)
        H.record_run(db, batch(2025, code=1))

    def version_and_tables():
        with closing(sqlite3.connect(db)) as c:
            return (c.execute("PRAGMA user_version").fetchone()[0],
                    {t for (t,) in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")})

    assert version_and_tables() == (1, {"runs", "inputs", "unit_results", "sqlite_sequence"})
    assert [(r.run_id, r.void, r.kind) for r in H.runs(db)] == [(1, None, "batch")]
    assert H.choose_previous(db, "xa-lanh-manh", 2026)[0].run_id == 1
    assert [r.run_id for r in H.unit_history(db, "00001")] == [1]
    assert version_and_tables()[0] == 1  # reading does not migrate
    H.void_run(db, 1, "migrated and voided")
    assert version_and_tables() == (2, {"runs", "inputs", "unit_results", "sqlite_sequence", "run_events"})
    H.record_run(db, batch(2025, code=2))
    assert [(r.run_id, bool(r.void)) for r in H.runs(db)] == [(1, True), (2, False)]


def test_a_folder_name_with_vietnamese_letters_and_uri_characters(tmp_path):
    db = tmp_path / "Lịch sử #1 %20 &x=1" / "lịch-sử.sqlite"
    H.record_run(db, batch())
    assert [r.run_id for r in H.runs(db)] == [1]
    H.void_run(db, 1, "thử")
    assert H.runs(db)[0].void["reason"] == "thử"


# ---- another program's file ------------------------------------------------------------------------

def _foreign(path: Path, wal: bool = False) -> Path:
    with closing(sqlite3.connect(path)) as c:
        if wal:
            c.execute("PRAGMA journal_mode=WAL")
        c.execute("CREATE TABLE contacts (name TEXT, phone TEXT)")
        c.execute("INSERT INTO contacts VALUES ('Nguyễn Văn A', '0912')")
        c.commit()
    return path


@pytest.mark.parametrize("wal", [False, True], ids=["rollback-journal", "wal"])
def test_another_programs_database_is_left_exactly_as_it_was(tmp_path, wal):
    other = _foreign(tmp_path / "other.sqlite", wal)
    before = file_state(other)
    for attempt in (lambda: H.runs(other), lambda: H.unit_history(other, "00001"),
                    lambda: H.record_run(other, batch()), lambda: H.void_run(other, 1, "x"),
                    lambda: H.choose_previous(other, "xa-lanh-manh", 2026)):
        with pytest.raises(H.HistoryError, match="other.sqlite is not a lanhmanh history database: it is an "
                                                 r"SQLite database of another program \(its tables: contacts"):
            attempt()
        assert file_state(other) == before
    with closing(sqlite3.connect(other)) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == ("wal" if wal else "delete")


def test_other_program_files_through_the_commands(run_cli, workdir):
    other = _foreign(workdir / "other.sqlite")
    text = workdir / "notes.sqlite"
    text.write_text("unit_code,name\n1,x\n", encoding="utf-8")
    sample = EXAMPLES / "nghe-an-2025-lanh-manh.csv"
    for f in (other, text):
        before = file_state(f)
        res = run_cli("history", "--runs", "--db", f)
        assert res.exit_code == 4 and f"{f} is not a lanhmanh history database" in res.output
        assert "left as it was" in res.output
        res = run_cli("history", "--void", "1", "--reason", "x", "--db", f)
        assert res.exit_code == 4 and "left as it was" in res.output
        # refused before anything is scored or written: no scorecard that the history lacks
        res = run_cli("score", sample, "--rules", "xa-lanh-manh", "--db", f, "--out", "s.xlsx", "--json", "s.json")
        assert res.exit_code == 4 and f"{f} is not a lanhmanh history database" in res.output
        assert not (workdir / "s.xlsx").exists() and not (workdir / "s.json").exists()
        assert file_state(f) == before
    with closing(sqlite3.connect(other)) as c:
        assert c.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert c.execute("SELECT * FROM contacts").fetchall() == [("Nguyễn Văn A", "0912")]


# ---- the README's sample, then next year's batch ------------------------------------------------------

def test_readme_sample_then_next_years_batch_does_not_take_the_sample(run_cli, workdir):
    """The README's first command (its CSV twin) records into the default database; a 2026 batch
    with --previous history then finds no previous run rather than the sample's synthetic figures.
    A real 2025 run is taken and named; voided, it is passed over and still listed."""
    sample = EXAMPLES / "nghe-an-2025-ma-tuy.csv"
    first = run_cli("score", sample, "--rules", "qd-28-2025", "--json", "out/nghe-an-2025-ma-tuy.json")
    assert first.exit_code == 0, first.output
    assert f"run 1 recorded in the history database {H.default_db_path()}" in first.output
    y26 = csv_as_year(sample, workdir / "nghe-an-2026.csv", 2026)
    res = run_cli("score", y26, "--rules", "qd-28-2025", "--previous", "history", "--no-db")
    assert res.exit_code == 2, res.output
    assert "no previous run was found" in res.output
    assert "run 1 (a run on the bundled sample" in res.output

    own = csv_as_year(sample, workdir / "nghe-an-2025.csv", 2025)
    assert run_cli("score", own, "--rules", "qd-28-2025").exit_code == 0
    res = run_cli("score", y26, "--rules", "qd-28-2025", "--previous", "history", "--no-db")
    assert res.exit_code == 0, res.output
    taken = [ln for ln in res.output.splitlines() if "last year's results taken from the history" in ln]
    assert len(taken) == 1 and taken[0].endswith(", 2025, 130 units)")  # the sample, older, is not named
    assert "run 2 (recorded " in taken[0] and "qd-28-2025 2025.1" in taken[0]

    assert run_cli("history", "--void", "2", "--reason", "scored before the corrections").exit_code == 0
    res = run_cli("score", y26, "--rules", "qd-28-2025", "--previous", "history", "--no-db")
    assert res.exit_code == 2 and "no previous run was found" in res.output
    assert "run 2 (void: scored before the corrections)" in res.output
    listing = run_cli("history", "--runs").output.splitlines()
    assert [ln.split()[0] for ln in listing[2:4]] == ["1", "2"]
    assert " sample " in listing[2] and " batch VOID " in listing[3]


def test_render_summary_script_records_nothing():
    script = (TESTS.parent / "docs" / "render_summary.sh").read_text(encoding="utf-8")
    scores = [ln for ln in script.splitlines() if "lanhmanh score" in ln and not ln.lstrip().startswith("#")]
    assert scores and all("--no-db" in ln for ln in scores)


# ---- the guard: tests never reach the user's database -------------------------------------------------

def test_the_history_is_redirected_before_any_fixture_runs():
    import conftest

    assert AT_COLLECTION and not conftest._is_blocked(AT_COLLECTION)
    assert Path(AT_COLLECTION).parent.name.startswith("lanhmanh-tests-history-")
    assert not conftest._is_blocked(H.default_db_path())


def test_even_without_lanhmanh_history_the_default_is_not_the_users(monkeypatch):
    import conftest

    monkeypatch.delenv(H.ENV_VAR)
    assert not conftest._is_blocked(H.default_db_path())
    env = {k: v for k, v in os.environ.items() if k != H.ENV_VAR}
    out = subprocess.run([sys.executable, "-c", "from lanhmanh.engine.batch.history import default_db_path; "
                          "print(default_db_path())"], env=env, capture_output=True, text=True, check=True)
    if not sys.platform == "darwin":  # macOS's data folder is under the home folder, which is not moved
        assert not conftest._is_blocked(out.stdout.strip())


def test_opening_the_real_database_raises_and_is_reported(tmp_path, monkeypatch):
    import conftest

    real = tmp_path / "real-user-data"
    monkeypatch.setattr(conftest, "_blocked", [conftest._real(real)])
    seen = len(conftest._attempts)
    try:
        for opener in (lambda: sqlite3.connect(real / "lanhmanh-history.sqlite"),
                       lambda: sqlite3.dbapi2.connect(str(real / "x.sqlite")),
                       lambda: sqlite3.connect((real / "h.sqlite").as_uri() + "?mode=ro", uri=True)):
            with pytest.raises(conftest.RealHistoryTouched):
                opener()
        monkeypatch.setenv(H.ENV_VAR, str(real / "lanhmanh-history.sqlite"))
        with pytest.raises(conftest.RealHistoryTouched):  # not even `except BaseException` in record_run hides it
            H.record_run(H.default_db_path(), batch())
        assert len(conftest._attempts) == seen + 4
    finally:  # these attempts were this test's own: not a failure of it
        del conftest._attempts[seen:]
    assert not (real / "lanhmanh-history.sqlite").exists()


@pytest.mark.slow  # a pytest session in a subprocess
def test_a_module_fixture_reaching_the_real_database_fails_the_session(tmp_path):
    """A fresh pytest session with this conftest, where the user's data folder is a folder of
    tmp_path: a module-scoped fixture that records a run in the user's real database, and swallows
    the error, still fails its test and the session; the database is left as it was."""
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text((TESTS / "conftest.py").read_text(encoding="utf-8"), encoding="utf-8")
    (suite / "pytest.ini").write_text("[pytest]\naddopts = -p no:cacheprovider\n", encoding="utf-8")
    real_data = tmp_path / "user-data"
    real_db = real_data / "lanhmanh" / H.DB_FILENAME
    H.record_run(real_db, batch())  # the user's own runs
    before = file_state(real_db)
    (suite / "test_reaches.py").write_text(textwrap.dedent(f"""
        import pytest
        from lanhmanh.engine.batch import history as H

        @pytest.fixture(scope="module")
        def recorded():
            try:
                H.runs({str(real_db)!r})
            except Exception:  # code under test that hides errors
                pass
            return 1

        def test_uses_it(recorded):
            assert recorded == 1
        """), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in (H.ENV_VAR, "LANHMANH_TESTS_REAL_HISTORY")}
    env.update({"XDG_DATA_HOME": str(real_data), "LOCALAPPDATA": str(real_data), "APPDATA": str(real_data)})
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:xdist", str(suite)], cwd=suite, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0, out.stdout
    assert "RealHistoryTouched" in out.stdout and "1 error" in out.stdout
    assert "the user's real history database was opened" in out.stdout
    assert file_state(real_db) == before


def test_the_readers_record_the_sha256_the_manifest_knows():
    """The README's first command reads the sample workbook: the sha256 the readers record for each
    sample (what a run keeps in `inputs`) is the one the manifest knows."""
    from lanhmanh.scorecards.inputs.readers import read_any

    for p in SAMPLES:
        files = read_any(p, lambda heading: True)
        assert files and H.kind_of(f.sha256 for f in files) == H.KIND_SAMPLE, p
