"""A large batch is read and evaluated on two cores (engine.evaluation.forked): a forked copy
validates the latter half of a table's rows, and evaluates the latter half of the units. Whatever
the split, the batch must be the one a single process makes: the same units, outcomes, ranks,
rejections and warnings in the same order, with either engine; and when the copy fails, has
something to say, or found what depends on the other half, this process does that half itself."""
from __future__ import annotations

import os
import pickle
import warnings

import pytest
from lmtest import bench_generate, generated_rows, pack_for_year, qd28_row, rows_validated

from lanhmanh import api
from lanhmanh.engine.evaluation import forked, scoring
from lanhmanh.engine.evaluation.scoring import score_units
from lanhmanh.engine.evaluation.validate import BadValue, Validator

needs_fork = pytest.mark.skipif(forked.fork_context() is None or (os.cpu_count() or 1) < 2,
                                reason="no fork, or one core, on this system")


REFUSED_POPULATION = 7777  # a unit the engines refuse (EngineRefused), as durable refuses a value too large


@pytest.fixture(autouse=True)
def _refusing(monkeypatch):
    from lanhmanh.engine.evaluation.durable_backend import DurableBackend, ValueTooLarge
    from lanhmanh.engine.evaluation.python_backend import PythonBackend

    for backend in (DurableBackend, PythonBackend):
        def evaluate(self, values, extra_ratios=None, real=backend.evaluate):
            if values.get("population") == REFUSED_POPULATION:
                raise ValueTooLarge("a value too large (simulated)")
            return real(self, values, extra_ratios)

        monkeypatch.setattr(backend, "evaluate", evaluate)


def _rows() -> list[dict]:
    rows = generated_rows(60, "qd-28-2025", seed=7)
    rows[45] = qd28_row(99991, population=REFUSED_POPULATION)  # in the latter half: refused
    rows[10] = qd28_row(99992, population=REFUSED_POPULATION)  # in the first half too
    return rows


def _scored(engine: str, rows: list[dict]):
    pack = pack_for_year("qd-28-2025", 2025)
    v = Validator(pack)
    units = [u for i, r in enumerate(rows) if (u := v.row("t.csv", i + 2, r)) is not None]
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        batch = score_units(pack, units, engine, v.rejected, v.warnings)
    return batch, [str(w.message) for w in said]


def _seen(batch) -> tuple:
    """Everything the outputs are made of, as plain values."""
    units = [(r.unit.code, r.outcome.class_id, r.outcome.total, r.outcome.vetoes, r.outcome.outcomes,
              r.rank_national, r.rank_province, r.also_meets) for r in batch.units]
    rejected = [r.as_dict() for r in batch.rejected]
    warned = [(w.path, w.row, w.column, w.message) for w in batch.warnings]
    provinces = [(p.province_code, p.outcome.class_id if p.outcome else None) for p in batch.provinces]
    return units, rejected, warned, provinces, batch.engine


def _serial(engine: str, rows: list[dict], monkeypatch) -> tuple:
    with monkeypatch.context() as m:
        m.setattr(forked, "PARALLEL_FROM", 10 ** 9)
        batch, said = _scored(engine, rows)
    return _seen(batch), said


class _Counting:
    """The backend, counting the units this process evaluates (a forked copy counts in its own memory)."""

    def __init__(self, backend):
        self.backend, self.name, self.calls = backend, backend.name, 0

    def evaluate(self, values, extra_ratios=None):
        self.calls += 1
        return self.backend.evaluate(values, extra_ratios)


@needs_fork
@pytest.mark.parametrize("engine", ["durable", "python"])
def test_two_processes_give_the_batch_of_one(engine, monkeypatch):
    rows = _rows()
    alone, said_alone = _serial(engine, rows, monkeypatch)
    made = []
    real = scoring.make_backend

    def counted(name, level):
        made.append(_Counting(real(name, level)))
        return made[-1]

    monkeypatch.setattr(scoring, "make_backend", counted)
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    batch, said = _scored(engine, rows)
    assert _seen(batch) == alone and said == said_alone
    refused = [r.unit_code for r in batch.rejected if "refused the row" in r.reason]
    assert made[0].calls == (len(batch.units) + len(refused)) // 2  # the forked copy evaluated the rest
    assert refused == ["99992", "99991"]  # in unit order, whichever process met them


@needs_fork
def test_a_failed_copy_leaves_the_half_to_this_process(monkeypatch):
    rows = _rows()
    alone, said_alone = _serial("durable", rows, monkeypatch)

    def dies(work, writer):
        os._exit(3)

    monkeypatch.setattr(forked, "_run", dies)
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    batch, said = _scored("durable", rows)
    assert _seen(batch) == alone and said == said_alone


@needs_fork
def test_a_copy_that_warns_leaves_the_half_to_this_process(monkeypatch):
    """The durable engine failing on a unit of the latter half: its fallback warning is said once,
    here, and the rest is scored by the python backend exactly as in one process."""
    from lanhmanh.engine.evaluation.durable_backend import DurableBackend, DurableError

    rows = _rows()
    real = DurableBackend.evaluate

    def fails_on_one(self, values, extra_ratios=None):
        if values.get("population") == 4321:
            raise DurableError("simulated failure of the C engine")
        return real(self, values, extra_ratios)

    rows[50] = qd28_row(99993, population=4321)
    monkeypatch.setattr(DurableBackend, "evaluate", fails_on_one)
    alone, said_alone = _serial("durable", rows, monkeypatch)
    assert len(said_alone) == 1 and "simulated failure" in said_alone[0]
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    batch, said = _scored("durable", rows)
    assert _seen(batch) == alone and said == said_alone
    assert batch.engine == "python"  # the name of the backend that finished the batch, as in one process


def test_a_small_batch_is_not_split(monkeypatch):
    def never(*args):
        raise AssertionError("a batch below PARALLEL_FROM was split")

    monkeypatch.setattr(forked, "Copy", never)
    batch, _said = _scored("python", generated_rows(30, "qd-28-2025", seed=2))
    assert len(batch.units) == 30


# ---- reading: the latter half of a table's rows validated by the copy ------------------------------

def _read(rows: list[dict], tmp_path, unit_list: str = "official") -> tuple:
    src = tmp_path / "in.csv"
    bench_generate().write_csv(rows, src)
    intake = api.read_inputs([src], pack_for_year("qd-28-2025", 2025), unit_list, 2025)
    v = intake.validator
    units = [(u.code, u.name, u.type, u.province_code, u.year, u.values, u.row, u.extra) for u in intake.units]
    return (units, [r.as_dict() for r in v.rejected], [w.as_dict() for w in v.warnings],
            v.seen, v.years_read)


def _table_rows() -> list[dict]:
    rows = generated_rows(80, "qd-28-2025", seed=9)  # official units first, then codes no list has
    rows[3]["population"] = "mười"  # rejected cells in both halves
    rows[61]["drug_arrests"] = "-2"
    rows[62]["users_with_records"] = str(10 ** 9)  # more users than people: a cross-field rejection
    rows[70] = dict(rows[65])  # a duplicate unit code, both rows in the latter half
    return rows


@needs_fork
@pytest.mark.parametrize("unit_list", ["official", "none"])
def test_a_table_read_by_two_processes_is_read_as_by_one(unit_list, tmp_path, monkeypatch):
    rows = _table_rows()
    with monkeypatch.context() as m:
        m.setattr(forked, "PARALLEL_FROM", 10 ** 9)
        alone = _read(rows, tmp_path, unit_list)
    counted = rows_validated(monkeypatch)
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    assert _read(rows, tmp_path, unit_list) == alone
    assert len(counted) == len(rows) // 2  # the copy's findings were taken
    rejected = alone[1]
    assert {(r["row"], r["column"]) for r in rejected} >= {(5, "population"), (63, "drug_arrests"), (72, "unit_code")}


@needs_fork
def test_a_unit_code_in_both_halves_is_read_again_here(tmp_path, monkeypatch):
    rows = _table_rows()
    rows[75] = dict(rows[5])  # the duplicate of a row of the first half: the copy cannot know it
    with monkeypatch.context() as m:
        m.setattr(forked, "PARALLEL_FROM", 10 ** 9)
        alone = _read(rows, tmp_path)
    counted = rows_validated(monkeypatch)
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    assert _read(rows, tmp_path) == alone
    assert len(counted) == len(rows)  # the latter half validated again here
    assert any(r["row"] == 77 and "duplicate unit_code" in r["reason"] for r in alone[1])


@needs_fork
@pytest.mark.parametrize("where", [(20, 60), (60, 70)])
def test_a_warning_once_per_file_is_said_once(where, tmp_path, monkeypatch):
    """Rows of 2024 (the pack is not in force for it: one warning per file): in both halves, the
    copy's warning would be a second one, so the half is read again here; in the latter half
    only, the copy's warning is the one."""
    rows = _table_rows()
    for i in where:
        rows[i]["year"] = "2024"
    with monkeypatch.context() as m:
        m.setattr(forked, "PARALLEL_FROM", 10 ** 9)
        alone = _read(rows, tmp_path, "none")
    counted = rows_validated(monkeypatch)
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    assert _read(rows, tmp_path, "none") == alone
    said = [w["row"] for w in alone[2] if "not on 2024-12-14" in w["message"]]
    assert said == [where[0] + 2]  # once, at the first row of 2024
    assert len(counted) == (len(rows) if where[0] < len(rows) // 2 else len(rows) // 2)


def test_a_bad_value_keeps_its_reason_through_a_pipe():
    bad = BadValue("=SUM(A1:A9)" * 20, "a formula never calculated")
    back = pickle.loads(pickle.dumps(bad))
    assert type(back) is BadValue and back == bad and back.reason == bad.reason and len(back) < 100


def test_python_3_12s_warning_on_forking_beside_a_thread_is_not_printed():
    """On a terminal the progress line's timer is a thread; Python 3.12+ warns when a process with
    threads forks, and `score` prints every warning of its run: the copy must not make one."""
    class Process:
        def start(self):
            warnings.warn("This process (pid=42) is multi-threaded, use of fork() may lead to deadlocks in "
                          "the child.", DeprecationWarning, stacklevel=1)
            warnings.warn("something else", DeprecationWarning, stacklevel=1)

    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        forked.started(Process())
    assert [str(w.message) for w in said] == ["something else"]
