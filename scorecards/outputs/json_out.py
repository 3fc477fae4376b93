"""The JSON result of `score --json` (its fields: README, "Output (`--json`)"), written atomically."""
from __future__ import annotations

import itertools
import json
import os
from collections.abc import Iterator
from contextlib import nullcontext
from json.encoder import (  # type: ignore[attr-defined]
    c_encode_basestring,
    c_make_encoder,
    encode_basestring,
)
from pathlib import Path
from typing import Any, Optional

from lanhmanh.engine.batch.previous import unit_previous_fields
from lanhmanh.engine.evaluation import forked
from lanhmanh.engine.evaluation.evidence import (
    ZeroRatio,
    catalogue,
    criteria_evidence,
    evidence_inputs,
    evidence_rows,
    value_for_output,
)
from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.scorecards.outputs.atomic import discard, new_temp_file
from lanhmanh.version import __version__


def result_dict(batch: BatchResult, stream: bool = False) -> dict:
    """The JSON document of a batch. With `stream`, its "units" is a UnitTexts that makes each
    unit's entry (with its evidence) only when `chunks` writes it, so that a 100,000-unit document
    never holds every unit's evidence at once; otherwise a list."""
    pack = batch.pack
    level = pack.commune
    units: Any
    if stream:
        units = UnitTexts(batch)
    else:
        labels = _Labels(level)
        units = [_unit_entry(r, labels) for r in batch.units]
    provinces = []
    for p in batch.provinces:
        entry: dict[str, Any] = {
            "province_code": p.province_code,
            "units": p.n_units,
            # the province's communes in the official unit list of the batch year (null with
            # --unit-list none: share(...) is then over the units scored) and how many were not scored
            "official_units": p.n_official,
            "missing_units": p.n_missing,
            "share_denominator": "official_units" if p.n_official is not None else "units",
            "class_counts": p.class_counts,
            "class": None,
            "class_label": None,
            "criteria": [],
        }
        if batch.previous is not None:  # units maintained (giữ vững) and transformed (chuyển hóa)
            entry["maintained"] = sum(1 for r in batch.units
                                      if r.unit.province_code == p.province_code and r.maintained)
            entry["transformed"] = sum(1 for r in batch.units
                                       if r.unit.province_code == p.province_code and r.transformed)
        if p.outcome is not None and pack.province is not None:
            entry["class"] = p.outcome.class_id
            entry["class_label"] = pack.province.class_label(p.outcome.class_id)
            entry["values"] = {k: value_for_output(v) for k, v in p.values.items()}
            entry["supplied"] = p.supplied
            entry["criteria"] = criteria_evidence(pack.province, p.values, p.outcome)  # met null: undetermined
            entry["also_meets"] = p.also_meets
            entry["undetermined"] = list(p.undetermined)
            entry["undetermined_reason"] = p.reason
        provinces.append(entry)
    return {
        "pack": {**pack.meta(), "criteria": catalogue(level),
                 "province_criteria": catalogue(pack.province) if pack.province else []},
        "inputs": batch.inputs,
        "engine": {"name": batch.engine, "version": __version__},
        # what a reader must know about how the results were made (e.g. a pack applied outside
        # its period with --force); always present, [] when there is nothing to say
        "notes": list(batch.notes),
        # last year's results compared with (--previous): path, sha256, pack, year, crosswalk
        **({"previous": batch.previous.meta()} if batch.previous is not None else {}),
        "units": units,
        "provinces": provinces,
        "rejected": [x.as_dict() for x in batch.rejected],
        "warnings": [w.as_dict() for w in batch.warnings],
    }


class _Labels(dict):
    """class id → label, looked up once per class."""

    def __init__(self, level):
        super().__init__()
        self.level = level

    def __missing__(self, class_id: str) -> str:
        label = self[class_id] = self.level.class_label(class_id)
        return label


def _unit_entry(r, labels: _Labels, criteria: bool = True) -> dict:
    """A unit's entry of the document (without "criteria" when not `criteria`: _unit_texts writes it)."""
    u, out = r.unit, r.outcome
    entry = {
        "unit_code": u.code,
        "unit_name": u.name,
        "unit_type": u.type,
        "province_code": u.province_code,
        "district_code": u.district_code,
        "year": u.year,
        "class": out.class_id,
        "class_label": labels[out.class_id],
        # the later class of the pack's `also_report` whose condition also holds (null: none)
        "also_meets": r.also_meets,
        "total": out.total,
        "vetoes": list(out.vetoes),
        # with --previous: maintained, previous {class, class_label, total, unit_codes}, change,
        # transformed (chuyển hóa), filled_from_previous
        **unit_previous_fields(r),
        "rank_province": r.rank_province,
        "rank_national": r.rank_national,
        **({"rank_district": r.rank_district} if r.rank_district is not None else {}),
    }
    if criteria:
        entry["criteria"] = criteria_evidence(labels.level, u.values, out)
    entry["source"] = {"path": u.path, "row": u.row, **({"sheet": u.sheet} if u.sheet is not None else {})}
    if u.extra:
        entry["extra"] = {k: value_for_output(v) for k, v in u.extra.items()}
    return entry


class UnitTexts:
    """The "units" of a streamed document (result_dict stream=True): each unit's text made when
    `chunks` writes it. `write_json_atomic(..., processes=2)` gives it a file beside the output
    (`helper_file`) where a forked copy of this process (engine.evaluation.forked) writes the
    latter half meanwhile; its text follows the first half. When the copy fails, this process
    makes the latter half itself."""

    def __init__(self, batch: BatchResult):
        self.batch = batch
        self.helper_file: Optional[str] = None  # where a second process may write the latter half

    def pieces(self) -> Iterator[str | bytes]:
        """The text of the units; with a second process (write_json_atomic only), its half as UTF-8 bytes."""
        n = len(self.batch.units)
        if n == 0:
            yield "[]\n"
            return
        half, path = n // 2, self.helper_file
        copy = None if path is None else forked.copy_doing(n, lambda: _write_unit_texts(self.batch, half, path))
        with copy if copy is not None else nullcontext():
            for i, text in enumerate(_unit_texts(self.batch, 0, n if copy is None else half)):
                yield ("[\n" if i == 0 else ",") + text + "\n"
            if copy is not None and path is not None:
                if copy.result() is not None:  # its UTF-8 bytes, copied as they are
                    with open(path, "rb") as f:
                        while block := f.read(1 << 20):
                            yield block
                else:  # the copy failed: the latter half made here
                    for text in _unit_texts(self.batch, half, n):
                        yield "," + text + "\n"
        yield "]\n"

    def close(self) -> None:
        """The second process's file removed."""
        if self.helper_file is not None:
            discard(self.helper_file)


def _write_unit_texts(batch: BatchResult, start: int, path: str) -> int:
    """In the forked process: units start.. as JSON pieces ("," + text + newline each); their number."""
    with open(path, "w", encoding="utf-8") as f:
        for text in _unit_texts(batch, start, len(batch.units)):
            f.write("," + text + "\n")
    return len(batch.units) - start


def _unit_texts(batch: BatchResult, start: int = 0, stop: Optional[int] = None) -> Iterator[str]:
    """Each unit's entry as JSON text, in rank order, made when it is asked for: the text `one`
    writes for `_unit_entry(r, labels)`, with the criteria written by `_CriteriaText` (no dict
    per criterion; tests/test_json_stream.py checks the two agree)."""
    level = batch.pack.commune
    labels = _Labels(level)
    one = _encoder()
    criteria = _CriteriaText(level)
    for r in itertools.islice(batch.units, start, stop):
        entry = _unit_entry(r, labels, criteria=False)
        head = {k: entry.pop(k) for k in list(entry) if k not in ("source", "extra")}
        yield (one(head)[:-1] + ',"criteria":' + criteria.text(r.unit.values, r.outcome) + ","
               + one(entry)[1:])


_LITERALS = {True: "true", False: "false", None: "null"}


class _CriteriaText:
    """A unit's "criteria" list as JSON text, from each criterion's fixed parts written once per
    pack (id, max_points, threshold and citation, the input names) and the unit's values: exactly
    what the JSON encoder writes for `criteria_evidence(level, values, out)`."""

    def __init__(self, level):
        self.level = level
        self.enc = _one
        self.texts = _Texts()  # a string's JSON text, escaped once per document
        self.parts = []
        for cid, scored, max_points, threshold, cite, names in evidence_rows(level):
            self.parts.append(('{"id":' + _one(cid) + ',"met":', scored,
                               ',"max_points":' + _one(max_points) + ',"band":',
                               [(name, kind, payload, _one(name) + ":") for name, kind, payload in names],
                               ',"threshold":' + _one(threshold) + ',"cite":' + _one(cite)))

    def value(self, v: Any) -> str:
        if v is None or v is True or v is False:
            return _LITERALS[v]
        if type(v) is int:
            return str(v)
        if type(v) is str:
            if len(self.texts) > _MAX_TEXTS:
                self.texts.clear()
            return self.texts[v]
        return self.enc(v)

    def text(self, values: dict, out) -> str:
        value = self.value
        read = evidence_inputs(self.level, values)  # every value read, worked out once per unit
        rows = []
        for (head, scored, mid, names, tail), (met, pts, band) in zip(self.parts, out.outcomes):
            inputs = []
            zero = None
            for name, kind, _payload, key in names:
                v = read[name]
                inputs.append(key + value(v))
                if kind == "ratio" and isinstance(v, ZeroRatio):
                    zero = zero or {}
                    zero[name] = v.as_dict()
            rows.append(head + value(met) + ',"points":' + (value(pts) if scored else "null") + mid + value(band)
                        + ',"inputs":{' + ",".join(inputs) + "}" + tail
                        + (',"zero_denominator":' + self.enc(zero) if zero else "") + "}")
        return "[" + ",".join(rows) + "]"


# json.dumps(v, ensure_ascii=False, separators=(",", ":")), without an encoder made per call
_one = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_MAX_TEXTS = 200_000  # strings remembered by one document's encoder (_encoder); past it, forgotten


class _Texts(dict):
    """A string → its JSON text, escaped once per document: the criteria's thresholds and
    citations repeat in every unit."""

    def __missing__(self, s: str) -> str:
        text = self[s] = encode_basestring(s)
        return text


def _encoder():
    """A function writing exactly what `_one` writes, faster on a document's repeated strings:
    json's C encoder (as json.dumps uses it) given the memo above as its string escaper, which
    is json's own escaper behind a dictionary. `_one` itself where the C encoder is missing."""
    if c_make_encoder is None or encode_basestring is not c_encode_basestring:
        return _one
    texts = _Texts()
    default = json.JSONEncoder().default  # what json.dumps raises on a value it cannot write

    def one(v) -> str:
        if isinstance(v, str):
            return _one(v)
        if len(texts) > _MAX_TEXTS:
            texts.clear()
        encode = c_make_encoder({}, default, texts.__getitem__, None, ":", ",", False, False, True)
        return "".join(encode(v, 0))
    return one


def chunks(doc: dict):
    """The result as JSON text, in pieces: one top-level key per line and one unit (or rejected
    row, or warning) per line, so that a diff or grep finds a commune; compact inside, which
    keeps the C encoder (an indented dump of 10,000 units takes ~20 s in the pure-Python one)."""
    one = _encoder()
    yield "{\n"
    for i, (k, v) in enumerate(doc.items()):
        yield ("," if i else "") + f"{one(k)}: "
        if isinstance(v, UnitTexts):
            yield from v.pieces()
        elif isinstance(v, list):
            j = -1
            for j, x in enumerate(v):
                yield ("[\n" if j == 0 else ",") + one(x) + "\n"
            yield "[]\n" if j < 0 else "]\n"
        else:
            yield one(v) + "\n"
    yield "}\n"


def dumps(doc: dict) -> str:
    return "".join(chunks(doc))


def write_json_atomic(path: str, doc: dict, processes: int = 1) -> None:
    """Write to a temporary file beside the target, then rename: never a half-written file. With
    `processes` 2 and a streamed document of forked.PARALLEL_FROM units or more, a second process
    makes the latter half of the units (where processes can be forked)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = new_temp_file(target)
    units = doc.get("units")
    if processes > 1 and isinstance(units, UnitTexts) and len(units.batch.units) >= forked.PARALLEL_FROM:
        units.helper_file = new_temp_file(target)
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            for piece in chunks(doc):
                if isinstance(piece, bytes):  # the second process's text, already UTF-8: not decoded again
                    f.flush()
                    f.buffer.write(piece)
                else:
                    f.write(piece)
        os.replace(tmp, target)
    except BaseException:
        discard(tmp)
        raise
    finally:
        if isinstance(units, UnitTexts):
            units.close()
