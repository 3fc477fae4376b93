"""`score --json` streams the units (result_dict(stream=True)): each unit's text is made when it is
written, its criteria by `_CriteriaText` instead of the JSON encoder. The text must be exactly what
encoding the whole document as a list of dicts writes."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmtest import generated_rows, qd28_row, scored_batch, xlm_row

from lanhmanh.engine.evaluation import forked
from lanhmanh.scorecards.outputs import json_out
from lanhmanh.scorecards.outputs.json_out import chunks, result_dict


def _both(batch) -> tuple[str, str]:
    return "".join(chunks(result_dict(batch, stream=True))), "".join(chunks(result_dict(batch)))


@pytest.mark.parametrize("pack_id", ["qd-28-2025", "qd-28-2025-literal", "xa-lanh-manh"])
def test_streamed_units_are_the_encoded_document(pack_id):
    rows = generated_rows(400, "xa-lanh-manh" if pack_id == "xa-lanh-manh" else "qd-28-2025", seed=5)
    streamed, listed = _both(scored_batch(pack_id, rows))
    assert streamed == listed
    doc = json.loads(streamed)
    assert len(doc["units"]) == 400
    if pack_id == "xa-lanh-manh":  # its generated rows put some shares on a zero denominator
        assert any("zero_denominator" in c for u in doc["units"] for c in u["criteria"])


def test_no_unit_is_an_empty_list():
    batch = scored_batch("qd-28-2025", [qd28_row(1, population=-1)])  # rejected: no unit scored
    streamed, listed = _both(batch)
    assert streamed == listed
    assert json.loads(streamed)["units"] == []


@settings(max_examples=40)
@given(st.lists(st.fixed_dictionaries({
    "population": st.integers(0, 10**9),
    "communication_sessions": st.integers(0, 30),
    "villages_total": st.integers(0, 40),
    "reached": st.integers(0, 40),
    "name": st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=12),
}), min_size=1, max_size=6))
def test_any_values_and_names_stream_the_same(rows):
    made = []
    for i, r in enumerate(rows):
        total = r["villages_total"]
        made.append(xlm_row(i + 1, name=f"Xã {r['name'].strip() or 'A'}", population=r["population"],
                            communication_sessions=r["communication_sessions"], villages_total=total,
                            villages_reached=min(r["reached"], total)))
    streamed, listed = _both(scored_batch("xa-lanh-manh", made))
    assert streamed == listed


# ---- two processes: the latter half of the units made by a forked copy ---------------------------------

needs_fork = pytest.mark.skipif(forked.fork_context() is None, reason="no fork on this system")


def _batch(n: int):
    return scored_batch("qd-28-2025", generated_rows(n, "qd-28-2025", seed=3))


@needs_fork
def test_two_processes_write_the_same_file(tmp_path, monkeypatch):
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    batch = _batch(101)
    json_out.write_json_atomic(str(tmp_path / "one.json"), result_dict(batch, stream=True), processes=1)
    json_out.write_json_atomic(str(tmp_path / "two.json"), result_dict(batch, stream=True), processes=2)
    assert (tmp_path / "one.json").read_bytes() == (tmp_path / "two.json").read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.json", "two.json"]  # no temporary file left


@needs_fork
def test_a_failed_helper_process_leaves_the_work_to_this_one(tmp_path, monkeypatch):
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)

    def fails(*args):
        raise OSError("the disk is full")

    monkeypatch.setattr(json_out, "_write_unit_texts", fails)  # the forked copy fails
    batch = _batch(40)
    json_out.write_json_atomic(str(tmp_path / "two.json"), result_dict(batch, stream=True), processes=2)
    assert (tmp_path / "two.json").read_text(encoding="utf-8") == "".join(chunks(result_dict(batch)))
    assert [p.name for p in tmp_path.iterdir()] == ["two.json"]


@needs_fork
def test_a_failure_while_writing_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(forked, "PARALLEL_FROM", 10)
    batch = _batch(40)
    real = json_out._unit_texts
    made = []

    def breaks_in_this_process(b, start=0, stop=None):
        for i, text in enumerate(real(b, start, stop)):
            if start == 0 and i == 5:
                raise OSError("no space left on device")
            made.append(i)
            yield text

    monkeypatch.setattr(json_out, "_unit_texts", breaks_in_this_process)
    with pytest.raises(OSError):
        json_out.write_json_atomic(str(tmp_path / "two.json"), result_dict(batch, stream=True), processes=2)
    assert list(tmp_path.iterdir()) == []  # neither the output nor the helper's file
