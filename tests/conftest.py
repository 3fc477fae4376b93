"""Shared fixtures: a folder to write rule files and inputs into, and the CLI through CliRunner."""
from __future__ import annotations

import csv
import json
import warnings
from pathlib import Path
from typing import Iterable, Optional

import pytest
from click.testing import CliRunner

from lanhmanh.cli import cli


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
                w.writerow(["" if r.get(c) is None else _cell(r.get(c)) for c in cols])
        return p

    def json(self, name: str, doc) -> Path:
        p = self.path(name)
        p.write_text(json.dumps(doc, ensure_ascii=False, default=str), encoding="utf-8")
        return p


def _cell(v) -> str:
    if v is True:
        return "có"
    if v is False:
        return "không"
    return str(v)


@pytest.fixture
def files(tmp_path: Path) -> Files:
    """A temporary folder helper: files.rules(name, yaml), files.csv(name, rows), files.json(name, doc)."""
    return Files(tmp_path)


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


def pytest_make_parametrize_id(config, val, argname):
    """Readable ids such as `qd-28-2025::tỷ lệ đúng 0,5%[durable]` for values that name themselves."""
    from lmtest import Readable

    if isinstance(val, Readable):
        return val.test_id
    return None


@pytest.fixture(autouse=True)
def _history_in_tmp(tmp_path, monkeypatch):
    """Every `score` records its run in the history database: in tests, a file of the test's own
    temporary folder, never the user's."""
    monkeypatch.setenv("LANHMANH_HISTORY", str(tmp_path / "history.sqlite"))
