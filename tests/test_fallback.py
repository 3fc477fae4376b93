"""Without durable_rules (a Windows laptop with no C compiler), `--engine durable` falls back to
the pure-Python backend with a warning, and the results are the same."""
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lanhmanh.cli import cli
from lanhmanh.engine.evaluation.python_backend import PythonBackend
from lanhmanh.engine.evaluation.scoring import make_backend
from lanhmanh.engine.model.loader import load_pack


@pytest.fixture
def no_durable(monkeypatch):
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)  # import now raises ImportError
    monkeypatch.delitem(sys.modules, "lanhmanh.engine.evaluation.durable_backend", raising=False)


def test_make_backend_warns_and_uses_python(no_durable):
    pack, _ = load_pack("qd-28-2025")
    with pytest.warns(RuntimeWarning, match="durable_rules is not installed"):
        backend = make_backend("durable", pack.commune)
    assert isinstance(backend, PythonBackend)


def test_score_without_durable_gives_the_same_json(tmp_path, monkeypatch):
    sample = str(Path(__file__).resolve().parent.parent / "examples" / "nghe-an-2025-lanh-manh.csv")
    runner = CliRunner()
    with_durable = tmp_path / "durable.json"
    r = runner.invoke(cli, ["score", sample, "--rules", "xa-lanh-manh", "--json", str(with_durable)])
    assert r.exit_code == 0, r.output
    monkeypatch.setitem(sys.modules, "durable_rules_engine", None)
    monkeypatch.delitem(sys.modules, "lanhmanh.engine.evaluation.durable_backend", raising=False)
    fallback = tmp_path / "fallback.json"
    r = runner.invoke(cli, ["score", sample, "--rules", "xa-lanh-manh", "--json", str(fallback)])
    assert r.exit_code == 0, r.output
    assert "durable_rules is not installed" in r.output
    a, b = json.loads(with_durable.read_text()), json.loads(fallback.read_text())
    assert a["engine"]["name"] == "durable" and b["engine"]["name"] == "python"
    a.pop("engine"), b.pop("engine")
    assert a == b
