"""The results digest: one SHA-256 that a scorecard carries and `verify` re-derives.

What is hashed (format `lanhmanh-results-digest/1`) is the UTF-8 encoding of the compact JSON
text (``json.dumps(payload, ensure_ascii=False, separators=(",", ":"))``: no spaces, no key
sorting needed because the payload holds no objects) of the array

    ["lanhmanh-results-digest/1", UNITS, PROVINCES]

UNITS: one array per scored unit, in national rank order (the order of `BatchResult.units` and
of `units` in the `--json` result):

    [unit_code, class, total, vetoes, rank_province, rank_national, CRITERIA]

- unit_code: the 5-digit code as text ("17329"); class: the class id ("healthy",
  "unclassified"); total: an integer, or null for a pack without points; vetoes: the veto ids
  that apply, in pack order (an array of text, possibly empty); rank_province, rank_national:
  integers;
- CRITERIA: one array per commune criterion in pack order, ``[id, met, points]``, met true/false,
  points the integer points earned, or null for a criterion that carries no points (every
  criterion of qd-28-2025). These are the `id`, `met` and `points` of the unit's `criteria` in
  the `--json` result.

PROVINCES: one array per province with units in the batch, by province code (the order of
`BatchResult.provinces` and of `provinces` in the `--json` result): ``[province_code, class]``,
class the province class id, or null for a pack without a province level.

Text is NFC as the engine holds it. Nothing else (names, values read, pack, inputs, engine,
time) enters the digest: those are recorded beside it in the workbook and checked separately.
The result is the lowercase hex digest (64 characters).
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

from lanhmanh.engine.evaluation.scoring import BatchResult

DIGEST_FORMAT = "lanhmanh-results-digest/1"


def digest_payload(batch: BatchResult) -> list:
    """The array that is hashed, built from a scored batch (see the module docstring)."""
    scored = [c.scored for c in batch.pack.commune.criteria.values()]
    ids = list(batch.pack.commune.criteria)
    units = []
    for r in batch.units:
        out = r.outcome
        crit = [[cid, bool(met), pts if sc else None]
                for cid, sc, (met, pts, _band) in zip(ids, scored, out.outcomes)]
        units.append([r.unit.code, out.class_id, out.total, list(out.vetoes), r.rank_province,
                      r.rank_national, crit])
    provinces = [[p.province_code, p.outcome.class_id if p.outcome is not None else None]
                 for p in batch.provinces]
    return [DIGEST_FORMAT, units, provinces]


def payload_of_result(doc: dict) -> list:
    """The same array from a `--json` result document (json_out.result_dict or the file)."""
    units = [[u["unit_code"], u["class"], u["total"], list(u["vetoes"]), u["rank_province"],
              u["rank_national"], [[c["id"], bool(c["met"]), c["points"]] for c in u["criteria"]]]
             for u in doc["units"]]
    provinces = [[p["province_code"], p.get("class")] for p in doc["provinces"]]
    return [DIGEST_FORMAT, units, provinces]


def _hash(payload: Any) -> str:
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def results_digest(batch: BatchResult) -> str:
    """SHA-256 (hex) of the batch's results, as defined in this module's docstring."""
    return _hash(digest_payload(batch))


def results_digest_of_result(doc: dict) -> str:
    """The same digest computed from a `--json` result document."""
    return _hash(payload_of_result(doc))
