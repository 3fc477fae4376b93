"""The history database: every `score` run recorded in an embedded SQLite file (stdlib sqlite3).

What is stored (schema version `SCHEMA_VERSION`, kept in `PRAGMA user_version` so a later
lanhmanh can migrate the file; a file made by a newer lanhmanh is refused, not guessed at):

- `runs`: one row per recorded run: id (1, 2, 3 … never reused), the time (UTC, ISO 8601 with
  `Z`), the lanhmanh version, the engine, the batch year, the pack's id, version, sha256 and status,
  the notes the results carry (JSON list, e.g. a pack applied with --force), the command line
  (JSON list), and the counts: units scored, rows rejected, warnings.
- `inputs`: the files read by a run, in order: path, sheet (workbooks), sha256, rows.
- `unit_results`: every unit's result in a run: code, name, type, province, district, year,
  class id and Vietnamese label, total (an integer, or NULL for a pack without points), vetoes
  (JSON list of ids), province and national ranks, and `criteria`.
- `criteria` is a compact JSON object `{"criterion_id": [met, points], …}` in pack order (met 0/1,
  points an integer or null). A JSON column rather than a row per criterion: packs differ in
  their criteria, a unit's criteria are always read together with the unit, and a national run
  (≈10,000 communes × ≈20 criteria) stays one row per unit (one insert each) instead of 200,000
  rows; SQLite's `json_extract(criteria, '$.c1[1]')` still answers a per-criterion query.

- `run_events` (schema 2): what was said about a run afterwards, appended: time, run id, event
  (`void`), reason, user. `lanhmanh history --void RUN --reason TEXT` appends one; the run stays
  listed (marked void) and is never taken as last year's results.

Past runs are never rewritten: triggers make UPDATE and DELETE on every table fail, and
re-scoring the same batch adds a new run. `record_run` writes a run in one transaction
(BEGIN IMMEDIATE … COMMIT): a run interrupted at any point (an exception, a kill, a power cut)
leaves the file as it was before. WAL journal (readers are not blocked by a run being written)
and a busy timeout (`BUSY_TIMEOUT_S`) when two runs are recorded at once. Numbers are exact:
totals, ranks and counts are checked to be integers (a CHECK constraint too); no floats.

Where the file is (`default_db_path`): `$LANHMANH_HISTORY` when set, else `lanhmanh-history.sqlite`
in the per-user data folder: `%LOCALAPPDATA%\\lanhmanh\\` on Windows, `~/Library/Application
Support/lanhmanh/` on macOS, `$XDG_DATA_HOME/lanhmanh/` (default `~/.local/share/lanhmanh/`)
elsewhere. One file per user gathers every year's runs wherever their outputs were written, so
`lanhmanh history` finds them without options. Keep it on a local disk (SQLite over a network
share is not safe).

Samples: a run that read one of the sample inputs shipped in the repository's examples/ is a
*sample* run (`RunInfo.kind`), recognised by the sha256 of its input files, recorded with each
run, against `lanhmanh/data/samples.json` (every version of every sample, also with Windows line
endings). Decided when reading, so runs recorded before this check existed are recognised too.

Another program's file given as the database (an SQLite file of another schema, or no SQLite file
at all) is looked at read-only (its header, then `file:…?mode=ro&immutable=1`) before anything is written,
refused with HistoryError (exit 4) and left byte for byte as it was: never switched to WAL.

Reading:
- `unit_history(db, unit_code, pack_id=None, all_runs=False) -> list[HistoryRow]`: the unit's
  results, oldest year first; by default only the latest run per (year, pack id).
- `runs(db) -> list[RunInfo]`: every run, oldest first, with its inputs, kind and void record.
- `previous_results(db, pack_id, year) -> dict[unit_code, PreviousResult]`: last year's
  results taken from the history: `year` is the CURRENT batch year; the result is the
  latest run (highest id) recorded for `pack_id` (exact id; a provincial variant has its own id)
  and the year `year - 1` that is neither void nor a sample (`choose_previous` says which run
  and which were passed over), one entry per unit code, with class id, class label, total (int or
  None), vetoes (tuple), ranks, name and province, plus the run id and pack version it comes
  from. `{}` when there is no such run or no database file (the file is then not created).
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import os
import sqlite3
import sys
from collections.abc import Iterable
from contextlib import closing
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from lanhmanh.engine.model.versions import assessment_year
from lanhmanh.errors import EXIT_INPUT, EXIT_USAGE, LanhmanhError
from lanhmanh.i18n import _
from lanhmanh.version import __version__

SCHEMA_VERSION = 2
DB_FILENAME = "lanhmanh-history.sqlite"
ENV_VAR = "LANHMANH_HISTORY"
BUSY_TIMEOUT_S = 30

_TABLES = ("runs", "inputs", "unit_results")
_KNOWN_TABLES = {*_TABLES, "run_events", "sqlite_sequence"}
SQLITE_MAGIC = b"SQLite format 3\x00"
KIND_SAMPLE, KIND_BATCH = "sample", "batch"
EVENT_VOID = "void"


def _append_only(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table}
BEGIN SELECT RAISE(ABORT, 'the lanhmanh history is append-only: past runs are never rewritten'); END;
CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table}
BEGIN SELECT RAISE(ABORT, 'the lanhmanh history is append-only: past runs are never rewritten'); END;
"""


_SCHEMA_V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    lanhmanh_version TEXT NOT NULL,
    engine TEXT NOT NULL,
    year INTEGER NOT NULL CHECK (typeof(year) = 'integer'),
    pack_id TEXT NOT NULL,
    pack_version TEXT NOT NULL,
    pack_sha256 TEXT NOT NULL,
    pack_status TEXT NOT NULL,
    notes TEXT NOT NULL,
    argv TEXT NOT NULL,
    units INTEGER NOT NULL CHECK (typeof(units) = 'integer'),
    rejected_rows INTEGER NOT NULL CHECK (typeof(rejected_rows) = 'integer'),
    warnings INTEGER NOT NULL CHECK (typeof(warnings) = 'integer')
);
CREATE INDEX runs_pack_year ON runs (pack_id, year);
CREATE TABLE inputs (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    seq INTEGER NOT NULL,
    path TEXT NOT NULL,
    sheet TEXT,
    sha256 TEXT NOT NULL,
    rows INTEGER NOT NULL CHECK (typeof(rows) = 'integer'),
    PRIMARY KEY (run_id, seq)
);
CREATE TABLE unit_results (
    run_id INTEGER NOT NULL REFERENCES runs (id),
    unit_code TEXT NOT NULL,
    unit_name TEXT NOT NULL,
    unit_type TEXT NOT NULL,
    province_code TEXT NOT NULL,
    district_code TEXT,
    year INTEGER,
    class_id TEXT NOT NULL,
    class_label TEXT NOT NULL,
    total INTEGER CHECK (total IS NULL OR typeof(total) = 'integer'),
    vetoes TEXT NOT NULL,
    rank_province INTEGER NOT NULL CHECK (typeof(rank_province) = 'integer'),
    rank_national INTEGER NOT NULL CHECK (typeof(rank_national) = 'integer'),
    criteria TEXT NOT NULL
);
CREATE INDEX unit_results_run ON unit_results (run_id);
CREATE INDEX unit_results_code ON unit_results (unit_code, run_id);
""" + "".join(_append_only(t) for t in _TABLES)

# schema 2: what was said about a run afterwards (voided, with the reason), appended only
_SCHEMA_V2 = """
CREATE TABLE IF NOT EXISTS run_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs (id),
    event TEXT NOT NULL CHECK (event IN ('void')),
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    user TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS run_events_run ON run_events (run_id);
""" + _append_only("run_events").replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS")

# user_version N → the statements that take a file from N to N+1
_MIGRATIONS: dict[int, str] = {0: _SCHEMA_V1, 1: _SCHEMA_V2}


class HistoryError(LanhmanhError):
    """The history database cannot be used (missing, not a lanhmanh history, made by a newer
    lanhmanh, or not writable); the message says which file and why. Exit 4 where it is read
    (`history`); `lanhmanh.api.record` turns a failure to write it into an OutputError (exit 6)."""
    exit_code = EXIT_INPUT


class NoSuchRun(HistoryError):
    """`history --void` of a run id the database does not hold, or of a run already void: exit 2."""
    exit_code = EXIT_USAGE


# ---- where the file is --------------------------------------------------------------------------

def user_data_dir() -> Path:
    """The per-user data folder for lanhmanh (stdlib only, the platformdirs conventions)."""
    if sys.platform.startswith("win"):
        base = os.environ.get("LOCALAPPDATA") or os.environ.get("APPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME")
        root = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return root / "lanhmanh"


def default_db_path() -> Path:
    """$LANHMANH_HISTORY, else lanhmanh-history.sqlite in the per-user data folder."""
    env = os.environ.get(ENV_VAR)
    return Path(env) if env else user_data_dir() / DB_FILENAME


# ---- opening --------------------------------------------------------------------------------------

def connect(db_path: str | Path, create: bool = True) -> sqlite3.Connection:
    """An open connection for writing (autocommit mode: transactions are explicit), WAL, busy
    timeout, the schema created or migrated. `create=False`: a missing file raises HistoryError.
    The file is checked read-only first (`inspect`): another program's file is refused untouched."""
    path = Path(db_path)
    version = inspect(path)
    if version is None and not create:
        raise HistoryError(_("no history database at {path}").format(path=path))
    if create:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise HistoryError(_("cannot create the folder of the history database {path}: {error}").format(
                path=path, error=e.strerror or e))
    try:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as e:
        raise HistoryError(_("cannot open the history database {path}: {error}").format(path=path, error=e))
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        _ensure_schema(conn, path, create)
    except sqlite3.DatabaseError as e:
        conn.close()
        raise HistoryError(_("{path} is not a lanhmanh history database ({error})").format(path=path, error=e))
    except BaseException:
        conn.close()
        raise
    return conn


def inspect(path: Path) -> int | None:
    """The schema version of a lanhmanh history at `path` (0: an empty file or empty database, which
    may become one), None when there is no file. Reads the file's header, then opens it read-only
    and immutable (`file:…?mode=ro&immutable=1`): a file that is not SQLite, another program's
    database, or one of a newer lanhmanh raises HistoryError and is left exactly as it was (no WAL,
    no journal, no write)."""
    try:
        with open(path, "rb") as f:
            head = f.read(100)  # the SQLite header
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise HistoryError(_("{path} is a folder, not a history database").format(path=path))
    except OSError as e:
        raise HistoryError(_("cannot read the history database {path}: {error}").format(path=path,
                                                                                       error=e.strerror or e))
    if not head:
        return 0
    if not head.startswith(SQLITE_MAGIC):
        raise HistoryError(_("{path} is not a lanhmanh history database: it is not an SQLite file; it was opened "
                             "read-only and left as it was").format(path=path))
    try:
        try:
            version, tables = _schema(_connect_untouched(path))
        except sqlite3.DatabaseError:
            if head[18:19] != b"\x02":
                raise
            # a WAL file: perhaps read while another run checkpointed it; look again, with locks
            version, tables = _schema(_connect_untouched(path, immutable=False))
    except sqlite3.Error as e:
        raise HistoryError(_("{path} is not a lanhmanh history database: it cannot be read as an SQLite "
                             "database ({error}); it was opened read-only and left as it was").format(path=path,
                                                                                                     error=e))
    if version > SCHEMA_VERSION and set(_TABLES) <= tables:
        raise HistoryError(_("{path} was written by a newer lanhmanh (history schema {version}; this one knows up "
                             "to {known}): upgrade lanhmanh to read it; it was opened read-only and left as it was")
                           .format(path=path, version=version, known=SCHEMA_VERSION))
    if (version == 0 and tables) or (version and not (set(_TABLES) <= tables <= _KNOWN_TABLES)) \
            or version > SCHEMA_VERSION:
        shown = ", ".join(sorted(tables)[:8]) or _("none")
        raise HistoryError(_("{path} is not a lanhmanh history database: it is an SQLite database of another "
                             "program (its tables: {tables}; schema version {version}); it was opened read-only "
                             "and left as it was").format(path=path, tables=shown, version=version))
    return version


def _connect_untouched(path: Path, immutable: bool = True) -> sqlite3.Connection:
    """Read-only and immutable: SQLite then makes no journal, -wal or -shm file and takes no lock
    (a write still under way in another process's WAL is not seen: a new file then looks empty)."""
    uri = Path(os.path.abspath(path)).as_uri() + ("?mode=ro&immutable=1" if immutable else "?mode=ro")
    return sqlite3.connect(uri, uri=True, isolation_level=None, timeout=BUSY_TIMEOUT_S)


def _schema(conn: sqlite3.Connection) -> tuple[int, set[str]]:
    """(user_version, the names of the tables) of a database; closes the connection."""
    with closing(conn):
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        return version, {n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _ensure_schema(conn: sqlite3.Connection, path: Path, create: bool) -> None:
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise HistoryError(_("{path} was written by a newer lanhmanh (history schema {version}; this one knows up "
                             "to {known}): upgrade lanhmanh to read it").format(path=path, version=version,
                                                                               known=SCHEMA_VERSION))
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        others = conn.execute("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchone()[0]
        if others:
            raise HistoryError(_("{path} is an SQLite database but not a lanhmanh history (it has other tables)")
                               .format(path=path))
        if not create:
            raise HistoryError(_("{path} holds no recorded run").format(path=path))
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have won
        while current < SCHEMA_VERSION:
            for stmt in _statements(_MIGRATIONS[current]):
                conn.execute(stmt)
            current += 1
            conn.execute(f"PRAGMA user_version = {current}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _statements(script: str) -> list[str]:
    """Split a schema script into statements (triggers keep their inner `;`)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out


# ---- recording --------------------------------------------------------------------------------

def record_run(db_path: str | Path, batch, *, year: int | None = None,
               argv: Iterable[str] | None = None, recorded_at: dt.datetime | None = None) -> int:
    """Record a scored batch as a new run and return its id. One transaction: either the whole
    run is in the file or nothing of it is. `year`: the batch year; when None it is the
    units' year, else the assessment year of today (as `score` decides it)."""
    run_year = batch_year(batch, year)
    when = (recorded_at or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    pack = batch.pack
    bad_rows = len({(r.path, r.sheet, r.row) for r in batch.rejected})
    run_row = (when.strftime("%Y-%m-%dT%H:%M:%SZ"), __version__, batch.engine, run_year, pack.id,
               str(pack.version), pack.sha256, pack.status, _json(list(batch.notes)),
               _json(list(argv) if argv is not None else sys.argv[1:]), _int(len(batch.units)), bad_rows,
               len(batch.warnings))
    with closing(connect(db_path)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            cur = conn.execute(
                "INSERT INTO runs (recorded_at, lanhmanh_version, engine, year, pack_id, pack_version, "
                "pack_sha256, pack_status, notes, argv, units, rejected_rows, warnings) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", run_row)
            run_id = cur.lastrowid
            assert run_id is not None  # sqlite3 sets it after every INSERT
            _insert_inputs(conn, run_id, batch.inputs)
            _insert_unit_rows(conn, run_id, batch)
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return run_id


def batch_year(batch, year: int | None = None) -> int:
    """The batch year: `year` if given, else the units' (single) year, else today's assessment year."""
    if year is not None:
        return _int(year)
    years = {r.unit.year for r in batch.units if r.unit.year is not None}
    if len(years) > 1:
        raise ValueError(_("a run is one batch year; the units give {years}").format(years=sorted(years)))
    if years:
        return _int(years.pop())

    return assessment_year(dt.date.today())


def _insert_inputs(conn: sqlite3.Connection, run_id: int, inputs: list[dict]) -> None:
    conn.executemany("INSERT INTO inputs (run_id, seq, path, sheet, sha256, rows) VALUES (?,?,?,?,?,?)",
                     [(run_id, i, str(f["path"]), f.get("sheet"), f["sha256"], _int(f["rows"]))
                      for i, f in enumerate(inputs, start=1)])


def _insert_unit_rows(conn: sqlite3.Connection, run_id: int, batch) -> None:
    conn.executemany(
        "INSERT INTO unit_results (run_id, unit_code, unit_name, unit_type, province_code, district_code, "
        "year, class_id, class_label, total, vetoes, rank_province, rank_national, criteria) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", unit_rows(run_id, batch))


def unit_rows(run_id: int, batch):
    """The unit_results rows of a batch (a generator: a national batch is not copied in memory)."""
    level = batch.pack.commune
    ids = list(level.criteria)
    for r in batch.units:
        u, out = r.unit, r.outcome
        yield (run_id, u.code, u.name, u.type, u.province_code, u.district_code,
               None if u.year is None else _int(u.year), out.class_id, level.class_label(out.class_id),
               None if out.total is None else _int(out.total), _json(list(out.vetoes)),
               _int(r.rank_province), _int(r.rank_national), criteria_json(ids, out.outcomes))


def criteria_json(ids: list[str], outcomes: list) -> str:
    """`{"id": [met 0/1, points int|null], …}` in pack order."""
    return _json({cid: [1 if o[0] else 0, None if o[1] is None else _int(o[1])]
                  for cid, o in zip(ids, outcomes)})


def _int(v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise TypeError(f"the history stores exact integers; got {v!r} ({type(v).__name__})")
    return v


def _json(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


# ---- reading ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class HistoryRow:
    run_id: int
    recorded_at: str
    year: int
    pack_id: str
    pack_version: str
    pack_sha256: str
    unit_code: str
    unit_name: str
    unit_type: str
    province_code: str
    district_code: str | None
    class_id: str
    class_label: str
    total: int | None
    vetoes: tuple
    rank_province: int
    rank_national: int
    criteria: dict

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "recorded_at": self.recorded_at, "year": self.year,
                "pack": {"id": self.pack_id, "version": self.pack_version, "sha256": self.pack_sha256},
                "unit_name": self.unit_name, "unit_type": self.unit_type, "province_code": self.province_code,
                "district_code": self.district_code, "class": self.class_id, "class_label": self.class_label,
                "total": self.total, "vetoes": list(self.vetoes), "rank_province": self.rank_province,
                "rank_national": self.rank_national, "criteria": self.criteria}


_ROW_SQL = ("SELECT r.id, r.recorded_at, r.year, r.pack_id, r.pack_version, r.pack_sha256, u.unit_code, "
            "u.unit_name, u.unit_type, u.province_code, u.district_code, u.class_id, u.class_label, u.total, "
            "u.vetoes, u.rank_province, u.rank_national, u.criteria "
            "FROM unit_results u JOIN runs r ON r.id = u.run_id ")


def _history_row(t: tuple) -> HistoryRow:
    return HistoryRow(*t[:14] + (tuple(json.loads(t[14])), t[15], t[16], json.loads(t[17])))


def open_existing(db_path: str | Path) -> sqlite3.Connection:
    """A connection to read an existing history database (HistoryError when missing or not one,
    found so without writing to it). Nothing is changed: no journal mode is set and a file of an
    earlier schema is read as it is (it is migrated when a run is next written)."""
    path = Path(db_path)
    version = inspect(path)
    if version is None:
        raise HistoryError(_("no history database at {path}").format(path=path))
    if version == 0:  # an empty file, or a new database whose creation is still in its WAL
        with closing(sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S)) as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            raise HistoryError(_("{path} holds no recorded run").format(path=path))
    try:
        return sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None)
    except sqlite3.Error as e:
        raise HistoryError(_("cannot open the history database {path}: {error}").format(path=path, error=e))


def _has_events(conn: sqlite3.Connection) -> bool:
    """Whether the file has the run_events table (schema 2; a schema-1 file is read without it)."""
    return conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'run_events'").fetchone() \
        is not None


def _voided(conn: sqlite3.Connection) -> dict[int, dict]:
    """run id → its (first) void record: {"at", "reason", "user"}."""
    if not _has_events(conn):
        return {}
    out: dict[int, dict] = {}
    for run_id, at, reason, user in conn.execute(
            "SELECT run_id, recorded_at, reason, user FROM run_events WHERE event = ? ORDER BY id", (EVENT_VOID,)):
        out.setdefault(run_id, {"at": at, "reason": reason, "user": user})
    return out


# ---- samples ----------------------------------------------------------------------------------

SAMPLES_MANIFEST = "samples.json"


@lru_cache(maxsize=1)
def sample_hashes() -> dict[str, str]:
    """sha256 → name of every shipped sample input (lanhmanh/data/samples.json)."""
    text = resources.files("lanhmanh.data").joinpath(SAMPLES_MANIFEST).read_text(encoding="utf-8")
    return dict(json.loads(text)["sha256"])


def kind_of(input_hashes: Iterable[str]) -> str:
    """KIND_SAMPLE when any input file is a shipped sample (its figures are synthetic), else KIND_BATCH."""
    known = sample_hashes()
    return KIND_SAMPLE if any(h in known for h in input_hashes) else KIND_BATCH


def batch_kind(batch) -> str:
    """The kind a scored batch is recorded as (see kind_of)."""
    return kind_of(f["sha256"] for f in batch.inputs)


def unit_history(db_path: str | Path, unit_code: str, pack_id: str | None = None,
                 all_runs: bool = False) -> list[HistoryRow]:
    """One unit's results, oldest year first (then pack id, then run id). By default the latest
    run of each (year, pack id) that holds the unit; `all_runs` gives every run."""
    where, args = ["u.unit_code = ?"], [unit_code]
    if pack_id is not None:
        where.append("r.pack_id = ?")
        args.append(pack_id)
    with closing(open_existing(db_path)) as conn:
        if not all_runs:
            not_void = ("AND r2.id NOT IN (SELECT run_id FROM run_events WHERE event = 'void')"
                        if _has_events(conn) else "")
            where.append("r.id = (SELECT max(r2.id) FROM runs r2 JOIN unit_results u2 ON u2.run_id = r2.id "
                         "WHERE u2.unit_code = u.unit_code AND r2.year = r.year AND r2.pack_id = r.pack_id "
                         f"{not_void})")
        sql = _ROW_SQL + "WHERE " + " AND ".join(where) + " ORDER BY r.year, r.pack_id, r.id"
        return [_history_row(t) for t in conn.execute(sql, args)]


def closest_codes(db_path: str | Path, unit_code: str, n: int = 5) -> list[str]:
    """The recorded unit codes nearest to `unit_code`: by numeric distance for digit codes of the
    same length, else by spelling."""
    with closing(open_existing(db_path)) as conn:
        codes = [c for (c,) in conn.execute("SELECT DISTINCT unit_code FROM unit_results")]
    if unit_code.isdigit():
        same = [c for c in codes if c.isdigit() and len(c) == len(unit_code)]
        if same:
            return sorted(same, key=lambda c: (abs(int(c) - int(unit_code)), c))[:n]
    return difflib.get_close_matches(unit_code, codes, n=n, cutoff=0.0)


@dataclass(frozen=True)
class RunInfo:
    run_id: int
    recorded_at: str
    lanhmanh_version: str
    engine: str
    year: int
    pack_id: str
    pack_version: str
    pack_sha256: str
    pack_status: str
    notes: list
    argv: list
    units: int
    rejected_rows: int
    warnings: int
    inputs: list  # dicts: path, sheet (when a workbook), sha256, rows
    void: dict | None = None  # {"at", "reason", "user"} once voided

    @property
    def kind(self) -> str:
        """KIND_SAMPLE for a run on a shipped sample, else KIND_BATCH."""
        return kind_of(i["sha256"] for i in self.inputs)

    def describe(self) -> str:
        """'run 7 (recorded 2026-01-05T08:00:00Z, xa-lanh-manh 2025.1, 2025, 130 units)'."""
        return _("run {run} (recorded {at}, {pack} {version}, {year}, {units} units)").format(
            run=self.run_id, at=self.recorded_at, pack=self.pack_id, version=self.pack_version, year=self.year,
            units=self.units)

    def as_dict(self) -> dict:
        return {"run_id": self.run_id, "recorded_at": self.recorded_at, "lanhmanh_version": self.lanhmanh_version,
                "engine": self.engine, "year": self.year,
                "pack": {"id": self.pack_id, "version": self.pack_version, "sha256": self.pack_sha256,
                         "status": self.pack_status},
                "notes": self.notes, "argv": self.argv, "units": self.units, "rejected_rows": self.rejected_rows,
                "warnings": self.warnings, "inputs": self.inputs, "kind": self.kind, "void": self.void}


def runs(db_path: str | Path) -> list[RunInfo]:
    """Every recorded run, oldest first, with its inputs."""
    with closing(open_existing(db_path)) as conn:
        ins: dict[int, list] = {}
        for run_id, path, sheet, sha, rows in conn.execute(
                "SELECT run_id, path, sheet, sha256, rows FROM inputs ORDER BY run_id, seq"):
            ins.setdefault(run_id, []).append(
                {"path": path, **({"sheet": sheet} if sheet is not None else {}), "sha256": sha, "rows": rows})
        voided = _voided(conn)
        out = []
        for t in conn.execute("SELECT id, recorded_at, lanhmanh_version, engine, year, pack_id, pack_version, "
                              "pack_sha256, pack_status, notes, argv, units, rejected_rows, warnings "
                              "FROM runs ORDER BY id"):
            out.append(RunInfo(*t[:9] + (json.loads(t[9]), json.loads(t[10])) + t[11:]
                               + (ins.get(t[0], []), voided.get(t[0]))))
        return out


def void_run(db_path: str | Path, run_id: int, reason: str, user: str | None = None,
             when: dt.datetime | None = None) -> RunInfo:
    """Mark a run void by appending a run_events record (nothing is deleted or changed): it stays
    listed, marked void, and is never taken as last year's results. Returns the run as it is now.
    NoSuchRun (exit 2) for an unknown or already void run; ValueError for a blank reason."""
    reason = (reason or "").strip()
    if not reason:
        raise ValueError(_("a reason is required to void a run"))
    at = (when or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    who = user or _user_name()
    path = Path(db_path)
    with closing(connect(path, create=False)) as conn:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if conn.execute("SELECT 1 FROM runs WHERE id = ?", (run_id,)).fetchone() is None:
                last = conn.execute("SELECT max(id) FROM runs").fetchone()[0]
                if last:
                    raise NoSuchRun(_("run {run} is not in {path} (its runs are 1 to {last}; `lanhmanh history "
                                      "--runs` lists them)").format(run=run_id, path=path, last=last))
                raise NoSuchRun(_("run {run} is not in {path} (it holds no run)").format(run=run_id, path=path))
            before = _voided(conn).get(run_id)
            if before is not None:
                raise NoSuchRun(_("run {run} of {path} is already void since {at} ({user}: {reason})").format(
                    run=run_id, path=path, at=before["at"], user=before["user"], reason=before["reason"]))
            conn.execute("INSERT INTO run_events (recorded_at, run_id, event, reason, user) VALUES (?,?,?,?,?)",
                         (at, run_id, EVENT_VOID, reason, who))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return next(r for r in runs(path) if r.run_id == run_id)


def _user_name() -> str:
    try:
        import getpass
        return getpass.getuser()
    except Exception:  # no user name in the environment (a service account): say so
        return "unknown"


def choose_previous(db_path: str | Path, pack_id: str, year: int) -> tuple[RunInfo | None, list[RunInfo]]:
    """The run taken as last year's results for a batch of `year` scored with `pack_id`: the latest
    run of that pack for `year - 1` that is neither void nor a sample (None when there is none,
    or no database file: the file is then not created), and the runs of that pack and year passed
    over (newest first)."""
    if not Path(db_path).is_file():
        return None, []
    candidates = [r for r in reversed(runs(db_path)) if r.pack_id == pack_id and r.year == _int(year) - 1]
    skipped: list[RunInfo] = []
    for r in candidates:
        if r.void is None and r.kind != KIND_SAMPLE:
            return r, skipped
        skipped.append(r)
    return None, skipped


def why_skipped(r: RunInfo) -> str:
    """'run 3 (void: wrong pack variant)' or 'run 1 (a run on the bundled sample)'."""
    if r.void is not None:
        return _("run {run} (void: {reason})").format(run=r.run_id, reason=r.void["reason"])
    return _("run {run} (a run on the bundled sample, whose figures are synthetic)").format(run=r.run_id)


@dataclass(frozen=True)
class PreviousResult:
    unit_code: str
    unit_name: str
    province_code: str
    class_id: str
    class_label: str
    total: int | None
    vetoes: tuple
    rank_province: int
    rank_national: int
    run_id: int
    pack_version: str


def previous_results(db_path: str | Path, pack_id: str, year: int) -> dict[str, PreviousResult]:
    """Last year's results taken from the history (see the module docstring):
    the run `choose_previous` takes, by unit code; {} when none (or no file)."""
    chosen, _skipped = choose_previous(db_path, pack_id, year)
    return {} if chosen is None else run_results(db_path, chosen)


def run_results(db_path: str | Path, run: RunInfo) -> dict[str, PreviousResult]:
    """The units' results of one run, by unit code."""
    run_id, version = run.run_id, run.pack_version
    with closing(open_existing(db_path)) as conn:
        return {code: PreviousResult(code, name, prov, cid, label, total, tuple(json.loads(vetoes)), rp, rn,
                                     run_id, version)
                for code, name, prov, cid, label, total, vetoes, rp, rn in conn.execute(
                    "SELECT unit_code, unit_name, province_code, class_id, class_label, total, vetoes, "
                    "rank_province, rank_national FROM unit_results WHERE run_id = ? ORDER BY rank_national, "
                    "unit_code", (run_id,))}
