"""`score --json` streams the units (result_dict(stream=True)): each unit's text is made when it is
written, its criteria by `_CriteriaText` instead of the JSON encoder. The text must be exactly what
encoding the whole document as a list of dicts writes."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lmtest import qd28_row, scored_batch, xlm_row

from lanhmanh.scorecards.outputs.json_out import chunks, result_dict

ROOT = Path(__file__).resolve().parent.parent


def _generate():
    spec = importlib.util.spec_from_file_location("lanhmanh_bench_generate", ROOT / "bench" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _both(batch) -> tuple[str, str]:
    return "".join(chunks(result_dict(batch, stream=True))), "".join(chunks(result_dict(batch)))


@pytest.mark.parametrize("pack_id", ["qd-28-2025", "qd-28-2025-literal", "xa-lanh-manh"])
def test_streamed_units_are_the_encoded_document(pack_id):
    gen = _generate()
    rows = list(gen.generate_rows(400, "xa-lanh-manh" if pack_id == "xa-lanh-manh" else "qd-28-2025", seed=5))
    streamed, listed = _both(scored_batch(pack_id, [{k: _text(v) for k, v in r.items()} for r in rows]))
    assert streamed == listed
    doc = json.loads(streamed)
    assert len(doc["units"]) == 400
    if pack_id == "xa-lanh-manh":  # its generated rows put some shares on a zero denominator
        assert any("zero_denominator" in c for u in doc["units"] for c in u["criteria"])


def _text(v) -> str:
    if v is True:
        return "có"
    if v is False:
        return "không"
    return "" if v is None else str(v)


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
