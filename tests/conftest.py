"""Shared fixtures: a folder to write rule files and inputs into, and the CLI through CliRunner."""
from __future__ import annotations

import csv
import functools
import json
import os
import shutil
import sqlite3
import tempfile
import warnings
from pathlib import Path
from typing import Iterable, Optional

import pytest
from click.testing import CliRunner
from hypothesis import settings

from lanhmanh.cli import cli

# Hypothesis: with CI set, its own "ci" profile is in force (derandomized: the same examples on every
# run, no example database, no deadline). Elsewhere the examples stay random, new ones each run, but
# without a deadline too: a test's time on a machine whose every CPU is busy (pytest-xdist) is no
# property of the code.
if not os.environ.get("CI"):
    settings.register_profile("lanhmanh-dev", deadline=None)
    settings.load_profile("lanhmanh-dev")


class Files:
    """Writes rule files, CSV and JSON inputs into one temporary folder and returns their paths."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, name: str) -> Path:
        p = self.root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def text(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        p = self.path(name)
        p.write_text(text, encoding=encoding)
        return p

    def rules(self, name: str, text: str) -> Path:
        """A rule file, written exactly as given (line numbers in tests count from its first line)."""
        return self.text(name, text)

    def csv(self, name: str, rows: list[dict], header: Optional[Iterable[str]] = None,
            delimiter: str = ",") -> Path:
        cols = list(header) if header is not None else list(dict.fromkeys(k for r in rows for k in r))
        p = self.path(name)
        with p.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, delimiter=delimiter)
            w.writerow(cols)
            for r in rows:
                w.writerow([_cell(r.get(c)) for c in cols])
        return p

    def json(self, name: str, doc) -> Path:
        p = self.path(name)
        p.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        return p


def _cell(v) -> str:
    """A value as a CSV cell (lmtest.as_text's twin: this conftest stands alone, test_history_trust
    copies it into a suite of its own)."""
    if v is None:
        return ""
    if v is True:
        return "có"
    if v is False:
        return "không"
    return str(v)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """A temporary folder helper: files.rules(name, yaml), files.csv(name, rows), files.json(name, doc)."""
    return Files(tmp_path)


# ---- the language ----------------------------------------------------------------------------------
#
# lanhmanh speaks Vietnamese unless told otherwise. The suite asserts on English messages by default:
# LANHMANH_LANG=en for the whole session (set at import of this file, so subprocesses and xdist
# workers inherit it), and each test starts in English. A test of the Vietnamese interface asks for
# it with the `vietnamese` fixture (or `--lang vi` / `LANHMANH_LANG=vi` in the call it makes).

os.environ["LANHMANH_LANG"] = "en"


@pytest.fixture(autouse=True)
def _english_by_default():
    from lanhmanh.i18n import set_language

    set_language("en")
    yield
    set_language("en")


@pytest.fixture
def vietnamese(monkeypatch):
    """lanhmanh speaks Vietnamese during the test (in this process, in CliRunner and subprocesses)."""
    from lanhmanh.i18n import set_language

    monkeypatch.setenv("LANHMANH_LANG", "vi")
    set_language("vi")
    yield
    set_language("en")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch) -> Path:
    """The CLI's working folder: a fresh empty folder, the current directory during the test
    (relative paths written by the CLI land here, never in the checkout)."""
    d = tmp_path / "work"
    d.mkdir()
    monkeypatch.chdir(d)
    return d


@pytest.fixture
def run_cli(runner: CliRunner, workdir: Path):
    """Invoke `lanhmanh ARGS...` in the isolated folder. Asserts what every run must satisfy: the
    command ended through its own exit (no exception escaped) and no traceback reached the user."""

    def run(*args: str):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = runner.invoke(cli, [str(a) for a in args])
        exc = result.exception
        assert exc is None or isinstance(exc, SystemExit), (
            f"`lanhmanh {' '.join(map(str, args))}` raised {type(exc).__name__}: {exc}\n{result.output}")
        assert "Traceback" not in result.output, result.output
        return result

    return run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With CI set every test must run: a skip (a shipped pack or sample missing, LibreOffice or the
    vietnam-provinces 0.6.0 wheel not at hand) is a failure there. An expected failure (xfail) stays."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but CI is set and every test must run there: {reason}"


def pytest_make_parametrize_id(config, val, argname):
    """Readable ids such as `qd-28-2025::tỷ lệ đúng 0,5%[durable]` for values that name themselves."""
    from lmtest import Readable

    if isinstance(val, Readable):
        return val.test_id
    return None


# ---- the history database: never the user's ------------------------------------------------------
#
# `score` records every run in the history database. For the whole session LANHMANH_HISTORY points
# at a file of a temporary folder, set in pytest_configure, so before any fixture of any scope runs
# (module fixtures and subprocesses see it too); each test then gets a file of its own temporary
# folder. The per-user data folder itself is moved to the temporary folder too (XDG_DATA_HOME,
# LOCALAPPDATA, APPDATA), so that a subprocess started with LANHMANH_HISTORY removed from its
# environment still cannot find the real database. Opening the user's real database (the default
# path as it was before the session, or anything in the per-user lanhmanh data folder) through
# sqlite3 raises RealHistoryTouched, and fails the test that tried, or the session when it happened
# outside a test.

_BLOCKED_ENV = "LANHMANH_TESTS_REAL_HISTORY"  # the real locations, handed on to pytest-xdist workers
_DATA_DIR_ENV = ("XDG_DATA_HOME", "LOCALAPPDATA", "APPDATA")  # where user_data_dir() looks
_blocked: list[str] = []
_attempts: list[str] = []
_reported = [0]  # how many of _attempts a test has failed for
_session_dir: Optional[str] = None
_saved_env: dict[str, Optional[str]] = {}


class RealHistoryTouched(BaseException):
    """A test opened the user's real history database. BaseException: no `except Exception` of the
    code under test can swallow it."""


def _real(path) -> str:
    return os.path.normcase(os.path.realpath(os.fsdecode(path)))


def _is_blocked(database) -> bool:
    try:
        name = os.fsdecode(database)
    except TypeError:
        return False
    if name == ":memory:" or name == "":
        return False
    if name.startswith("file:"):  # a URI (uri=True): file:///path?mode=ro, percent-encoded
        from urllib.parse import unquote, urlsplit

        parts = urlsplit(name)
        name = unquote(parts.path or parts.netloc)
        if len(name) > 2 and name[0] == "/" and name[2] == ":":  # /C:/Users/… on Windows
            name = name[1:]
    p = _real(name)
    return any(p == b or p.startswith(b + os.sep) for b in _blocked)


def _guarded(connect):
    @functools.wraps(connect)
    def guarded_connect(database, *args, **kwargs):
        if _is_blocked(database):
            _attempts.append(os.fsdecode(database))
            raise RealHistoryTouched(f"a test opened the user's real history database {database!r}; "
                                     f"tests must use LANHMANH_HISTORY or --db in a temporary folder")
        return connect(database, *args, **kwargs)

    guarded_connect._lanhmanh_guard = True  # type: ignore[attr-defined]
    return guarded_connect


def pytest_configure(config):
    global _session_dir
    from lanhmanh.engine.batch import history

    inherited = os.environ.get(_BLOCKED_ENV)
    if inherited:  # a pytest-xdist worker: the controller worked out the real locations
        _blocked[:] = inherited.split(os.pathsep)
    else:
        real = [history.user_data_dir() / history.DB_FILENAME, history.user_data_dir()]
        if os.environ.get(history.ENV_VAR):  # the user's own setting is real too
            real.append(Path(os.environ[history.ENV_VAR]))
        _blocked[:] = sorted({_real(p) for p in real})
    for name in (history.ENV_VAR, _BLOCKED_ENV, *_DATA_DIR_ENV):
        _saved_env[name] = os.environ.get(name)
    os.environ[_BLOCKED_ENV] = os.pathsep.join(_blocked)
    _session_dir = tempfile.mkdtemp(prefix="lanhmanh-tests-history-")
    os.environ[history.ENV_VAR] = str(Path(_session_dir) / "history.sqlite")
    for name in _DATA_DIR_ENV:
        os.environ[name] = str(Path(_session_dir) / "user-data")
    if not getattr(sqlite3.connect, "_lanhmanh_guard", False):
        sqlite3.connect = _guarded(sqlite3.connect)
    if not getattr(sqlite3.dbapi2.connect, "_lanhmanh_guard", False):
        sqlite3.dbapi2.connect = sqlite3.connect


def pytest_unconfigure(config):
    for name, value in _saved_env.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    if _session_dir:
        shutil.rmtree(_session_dir, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    if _attempts:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
        tr = session.config.pluginmanager.get_plugin("terminalreporter")
        if tr is not None:
            tr.write_line(f"ERROR: the user's real history database was opened: {sorted(set(_attempts))}",
                          red=True, bold=True)


@pytest.fixture(autouse=True)
def _history_in_tmp(tmp_path, monkeypatch):
    """Every `score` records its run in the history database: in tests, a file of the test's own
    temporary folder, never the user's. Fails the test when the real one was opened during it (in
    its setup, a module fixture's included, its call or its teardown), even when the code under
    test caught the error."""
    monkeypatch.setenv("LANHMANH_HISTORY", str(tmp_path / "history.sqlite"))
    yield
    new, _reported[0] = _attempts[_reported[0]:], len(_attempts)
    if new:
        pytest.fail(f"the user's real history database was opened: {new}", pytrace=False)
