"""Every scenario case written inside a rule file, run on both backends, as its own test.

The shipped packs (lanhmanh/rules/*.yaml) are collected as they land; the packs the test suite
owns (tests/packs/*.yaml, written from the legal text) are collected too. A second test checks that
the cases of each shipped pack drive every criterion both met and not met.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import pytest
from lmtest import TEST_PACKS, Readable

from lanhmanh.engine.analysis import scenarios
from lanhmanh.engine.evaluation.scoring import ENGINES
from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.versions import shipped_packs

TEST_PACK_FILES = sorted(TEST_PACKS.glob("*.yaml"))


def _load(path: Path):
    try:
        return load_pack(path)[0], None
    except RuleFileError as e:
        return None, str(e)


@dataclass(frozen=True)
class CaseRef(Readable):
    path: Path
    case_name: Optional[str]
    engine: Optional[str]
    error: Optional[str]  # the pack does not load: the test fails with this
    test_id: str = ""


def _case_params(paths: list[Path]) -> list[CaseRef]:
    params = []
    for path in paths:
        pack, error = _load(path)
        if pack is None:
            # An invalid pack still yields a (failing) test, so it cannot silently drop its cases.
            params.append(CaseRef(path, None, None, error, f"{path.stem}::(the pack does not load)"))
            continue
        for case in pack.cases:
            for engine in ENGINES:
                params.append(CaseRef(path, case.name, engine, None, f"{pack.id}::{case.name}[{engine}]"))
    return params


_PACKS: dict[Path, object] = {}


def _pack(path: Path):
    if path not in _PACKS:
        _PACKS[path] = load_pack(path)[0]
    return _PACKS[path]


def _run(ref: CaseRef):
    assert ref.error is None, f"{ref.path} does not load:\n{ref.error}"
    pack, engine = _pack(ref.path), ref.engine
    case = next(c for c in pack.cases if c.name == ref.case_name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = scenarios.run_case(pack, case, engine)
    assert res.ok, f"{pack.path}:{case.line}: case {case.name!r} on {engine}:\n  " + "\n  ".join(res.failures)


@pytest.mark.parametrize("ref", _case_params(shipped_packs()))
def test_shipped_scenario(ref):
    _run(ref)


@pytest.mark.parametrize("ref", _case_params(TEST_PACK_FILES))
def test_suite_pack_scenario(ref):
    _run(ref)


def _coverage(pack, monkeypatch) -> tuple[dict, dict]:
    """Run every case on the python backend; which criteria (per level) ended met / not met."""
    batches = []
    real = scenarios.score_units

    def capture(*args, **kwargs):
        batch = real(*args, **kwargs)
        batches.append(batch)
        return batch

    monkeypatch.setattr(scenarios, "score_units", capture)
    met: dict[str, set] = {"commune": set(), "province": set()}
    not_met: dict[str, set] = {"commune": set(), "province": set()}

    def record(level_name, level, outcome):
        for cid, (ok, _pts, _band) in zip(level.criteria, outcome.outcomes):
            (met if ok else not_met)[level_name].add(cid)

    for case in pack.cases:
        batches.clear()
        scenarios.run_case(pack, case, "python")
        for batch in batches:
            for r in batch.units:
                record("commune", pack.commune, r.outcome)
            if pack.province is not None:
                for p in batch.provinces:
                    if p.outcome is not None:
                        record("province", pack.province, p.outcome)
    return met, not_met


@pytest.mark.parametrize("path", shipped_packs(), ids=lambda p: p.stem)
def test_shipped_cases_cover_every_criterion(path, monkeypatch):
    """Scenario cases cover every criterion: each one is met in some case and not met in another."""
    pack = load_pack(path)[0]
    met, not_met = _coverage(pack, monkeypatch)
    gaps = []
    levels = [("commune", pack.commune)] + ([("province", pack.province)] if pack.province else [])
    for name, level in levels:
        for cid in level.criteria:
            if cid not in met[name]:
                gaps.append(f"{name} criterion {cid}: never met by any case")
            if cid not in not_met[name]:
                gaps.append(f"{name} criterion {cid}: never left unmet by any case")
    assert not gaps, f"{pack.path}: the scenario cases leave gaps:\n  " + "\n  ".join(gaps)


@pytest.mark.parametrize("path", shipped_packs(), ids=lambda p: p.stem)
def test_shipped_pack_has_cases_on_both_levels(path):
    pack = load_pack(path)[0]
    levels = {c.level for c in pack.cases}
    assert "commune" in levels, f"{pack.id} has no commune-level scenario case"
    if pack.province is not None:
        assert "province" in levels, f"{pack.id} has a province level but no province-level case"


def test_case_failures_are_reported(files):
    """A case whose expectation is wrong fails, with a message naming what differed (not a silent pass)."""
    p = files.rules("wrong.yaml", """\
pack: {id: wrong, title: T, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  n: {label: N, type: integer, min: 0}
criteria:
  A: {title: A, when: n >= 3, points: 5}
classes:
  - {id: good, label: Tốt, when: total >= 5}
  - {id: bad, label: Chưa, residual: true}
cases:
  - name: sai kỳ vọng
    given: {n: 3}
    expect: {class: bad, total: 0, not_met: [A], points: {A: 0}}
""")
    pack = load_pack(p)[0]
    for engine in ENGINES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = scenarios.run_case(pack, pack.cases[0], engine)
        assert not res.ok
        text = "\n".join(res.failures)
        assert "class: expected bad, got good" in text
        assert "total: expected 0, got 5" in text
        assert "A: expected not met, got met" in text
        assert "A: expected 0 points, got 5" in text


# ---- `lanhmanh test`: the same cases from the command line ------------------------------------

@pytest.mark.parametrize("path", shipped_packs()[:1], ids=lambda p: p.stem)
def test_cli_test_runs_a_shipped_pack_by_id(run_cli, path):
    result = run_cli("test", path.stem, "-q")
    n = len(load_pack(path)[0].cases) * len(ENGINES)
    assert result.output.strip().splitlines()[-1] == f"{n} passed, 0 failed", result.output
    assert result.exit_code == 0


def test_cli_test_reports_a_failing_case(run_cli, files):
    p = files.rules("failing.yaml", """\
pack: {id: failing, title: T, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  n: {label: N, type: integer, min: 0}
criteria:
  A: {title: A, when: n >= 3, points: 5}
classes:
  - {id: good, label: Tốt, when: total >= 5}
  - {id: bad, label: Chưa, residual: true}
cases:
  - name: đúng
    given: {n: 3}
    expect: {class: good}
  - name: sai
    given: {n: 2}
    expect: {class: good}
""")
    result = run_cli("test", str(p))
    assert result.exit_code == 1, result.output
    assert "PASS failing [durable] đúng" in result.output
    assert f"FAIL failing [python] sai ({p}:13)" in result.output
    assert "class: expected good, got bad" in result.output
    assert result.output.strip().endswith("2 passed, 2 failed")
