"""A batch whose rows give one year is read once, with the pack version in force for that year
(api._read_with_rows_version): before, a 2025 batch of xa-lanh-manh was read and validated with
the newest version (2026.1) to learn its year, then again with 2025.1. Whatever the way, the
batch read must be the one the two readings gave."""
from __future__ import annotations

import warnings

import pytest
from lmtest import bench_generate, identity, pack_for_year, rows_validated, xlm_values

from lanhmanh import api
from lanhmanh.errors import UsageError


def _csv(tmp_path, years: list, **over) -> str:
    """Rows of xa-lanh-manh, with the columns 2026.1 added (0, or "không"), so both versions read them."""
    added = {ind.id: "không" if ind.type == "boolean" else "0"
             for ind in pack_for_year("xa-lanh-manh", 2026).commune.indicators.values()}
    rows = []
    for i, y in enumerate(years):
        row = {**identity(i + 1, year=None), "year": "" if y is None else str(y), **added, **xlm_values(**over)}
        rows.append({k: ("có" if v is True else "không" if v is False else "" if v is None else v)
                     for k, v in row.items()})
    rows[2]["communication_sessions"] = "mười"  # a rejected row among them
    path = tmp_path / "in.csv"
    bench_generate().write_csv(rows, path)
    return str(path)


def _prepared(path: str, **kw) -> tuple:
    pack, intake = api.prepare([path], "xa-lanh-manh", unit_list="none", **kw)
    v = intake.validator
    return (pack.version, intake.year, [(u.code, u.year, u.values) for u in intake.units],
            [r.as_dict() for r in v.rejected], [w.as_dict() for w in v.warnings], intake.notes)


def _twice(path: str, monkeypatch, **kw) -> tuple:
    """The batch as the two readings made it (the newest version, then the year's)."""
    with monkeypatch.context() as m:
        m.setattr(api, "_read_with_rows_version", lambda *args: None)
        return _prepared(path, **kw)


def test_a_batch_of_an_earlier_version_is_read_once(tmp_path, monkeypatch):
    path = _csv(tmp_path, [2025] * 6)
    before = _twice(path, monkeypatch)
    counted = rows_validated(monkeypatch)
    assert _prepared(path) == before
    assert before[:2] == ("2025.1", 2025) and len(before[2]) == 5 and len(before[3]) == 1
    assert len(counted) == 6  # once each


def test_a_batch_of_the_newest_version_is_read_once_as_before(tmp_path, monkeypatch):
    path = _csv(tmp_path, [2026] * 6)
    before = _twice(path, monkeypatch)
    counted = rows_validated(monkeypatch)
    assert _prepared(path) == before and before[:2] == ("2026.1", 2026) and len(before[2]) == 5
    assert len(counted) == 6


def _outcome(read) -> tuple:
    """What a reading gives (its batch, or the error it raises) and the warnings it issues."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        try:
            got = read()
        except UsageError as e:
            got = ("refused", str(e))
    return got, [str(w.message) for w in said]


def test_rows_of_two_years_are_refused_as_before(tmp_path, monkeypatch):
    path = _csv(tmp_path, [2026, 2026, 2026, 2025, 2025, 2026])
    before = _outcome(lambda: _twice(path, monkeypatch))
    assert _outcome(lambda: _prepared(path)) == before
    assert before[0][0] == "refused" and "several years" in before[0][1]


def test_rows_without_a_year_take_the_given_year_as_before(tmp_path, monkeypatch):
    path = _csv(tmp_path, [None] * 6)
    before = _twice(path, monkeypatch, year=2025)
    assert _prepared(path, year=2025) == before and before[:2] == ("2025.1", 2025)


def test_a_year_the_rows_read_do_not_give_falls_back_to_two_readings(tmp_path, monkeypatch):
    """The one row giving 2025 is rejected: the rows read give no year but their cells' 2025,
    which year_of_batch takes too; any other outcome would be left to the two readings."""
    path = _csv(tmp_path, [2025, None, None])
    before = _twice(path, monkeypatch)
    assert _prepared(path) == before


@pytest.mark.parametrize("years, reads", [([2026] * 6, 1), ([2025] * 6, 2), ([2025, 2026, 2026], 1)])
def test_a_file_is_read_no_more_often_than_before(years, reads, tmp_path, monkeypatch):
    """Rows of the newest version's year: read once (the look at the year cells is that reading);
    of an earlier version's: read for each version, as before, but validated once; of two years:
    read and validated with the newest, which refuses them, as before."""
    path = _csv(tmp_path, years)
    calls = []
    real = api.read_any
    monkeypatch.setattr(api, "read_any", lambda p, knows: calls.append(p) or real(p, knows))
    _outcome(lambda: _prepared(path))
    assert len(calls) == reads
