"""Evidence for every criterion of a unit: the values read, the threshold, met or not, points,
citation, interpretation note. Built from the pack and the unit's values, for the criteria that
were met and for those that were not ("why not" matters as much as "why")."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, Optional

from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.model.pack import Criterion, Derived, Level, ratio_of

ZERO_SHOWN = "mẫu số bằng 0"  # how a zero denominator is shown when the pack does not say


class ZeroRatio(str):
    """The exact text of a rate whose denominator is 0 ("0/0"), as the JSON writes it, carrying
    what the pack makes of it: `shown` ("không phát sinh") and `counted_as` (the value compared:
    a Fraction, or None for `zero_denominator: unknown`). Never a silent 100 %: the workbooks
    show both (presentation.value_text), the JSON row lists it under `zero_denominator`."""

    shown: str
    counted_as: Optional[Fraction]

    def __new__(cls, text: str, shown: str, counted_as: Optional[Fraction]) -> "ZeroRatio":
        obj = super().__new__(cls, text)
        obj.shown, obj.counted_as = shown, counted_as
        return obj

    def __reduce__(self):  # pickled and copied whole (a worker process, deepcopy)
        return (ZeroRatio, (str(self), self.shown, self.counted_as))

    def as_dict(self) -> dict:
        counted = None if self.counted_as is None else value_for_output(self.counted_as)
        return {"shown": self.shown, "counted_as": counted}


def value_for_output(v: Any) -> Any:
    """Exact values for JSON: ints and bools as they are, decimals as text, rates as 'n/d'."""
    if v is None or type(v) is int or type(v) is bool:  # the common values, as they are
        return v
    if isinstance(v, tuple) and len(v) == 2:
        return f"{value_for_output(v[0])}/{value_for_output(v[1])}"
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else str(Decimal(v.numerator) / Decimal(v.denominator)) \
            if terminates(v) else f"{v.numerator}/{v.denominator}"
    if isinstance(v, Decimal):
        return str(v)
    return v


def terminates(f: Fraction) -> bool:
    """Whether f is a terminating decimal (its denominator has no prime factor but 2 and 5)."""
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


class EvidenceBuilder:
    """Per level, the static half of every criterion's evidence, computed once."""

    def __init__(self, level: Level):
        self.level = level
        # per criterion: (criterion, [(output name, "value" | "ratio", indicator id | Derived)], fields)
        self.static: list[tuple[Criterion, list[tuple[str, str, Any]], dict[str, Any]]] = []
        for c in level.criteria.values():
            reads: dict[str, tuple[str, Any]] = {}  # output name → (kind, payload), first one kept
            for name in c.reads:
                d = level.derived.get(name)
                if d is not None:
                    for k in d.reads:
                        reads.setdefault(k, ("value", k))
                    reads.setdefault(name, ("ratio", d))
                else:
                    reads.setdefault(name, ("value", name))
            names = [(name, kind, payload) for name, (kind, payload) in reads.items()]
            self.static.append((c, names, {
                "id": c.id, "title": c.title, "threshold": c.threshold, "cite": c.cite, "note": c.note,
                "max_points": c.max_points if c.scored else None, "scored": c.scored,
            }))

        # the same, as tuples read once per unit: (id, scored, max_points, threshold, cite, names)
        self.rows = [(base["id"], base["scored"], base["max_points"], base["threshold"], base["cite"], names)
                     for _, names, base in self.static]

        # every name any criterion reads, once: (name, "value" | "ratio", indicator id | Derived)
        self.reads = list({name: (name, kind, payload) for _, names, _ in self.static
                           for name, kind, payload in names}.values())

    def read(self, values: dict) -> dict[str, Any]:
        """A unit's value of every name the criteria read, as the evidence shows it."""
        return {name: ratio_text(values, payload) if kind == "ratio" else value_for_output(values.get(payload))
                for name, kind, payload in self.reads}

    def build(self, values: dict, out: Outcome) -> list[dict]:
        read = self.read(values)
        rows = []
        outcomes = out.outcomes
        for i, (cid, scored, max_points, threshold, cite, names) in enumerate(self.rows):
            met, pts, band = outcomes[i]
            inputs = {}
            zero = {}
            for name, kind, _payload in names:
                value = inputs[name] = read[name]
                if kind == "ratio" and isinstance(value, ZeroRatio):
                    zero[name] = value.as_dict()
            row = {
                "id": cid, "met": met, "points": pts if scored else None, "max_points": max_points,
                "band": band, "inputs": inputs, "threshold": threshold, "cite": cite,
            }
            if zero:  # the rates read whose denominator is 0: how shown, what counted as
                row["zero_denominator"] = zero
            rows.append(row)
        return rows


def ratio_text(values: dict, d: Derived) -> Any:
    """A rate's evidence: "n/d" exactly, a ZeroRatio when d is 0 (None: a term missing)."""
    r = ratio_of(values, d.num, d.den)
    if r is None:
        return None
    text = f"{value_for_output(r[0])}/{value_for_output(r[1])}"
    if r[1] == 0 and d.zero != "reject":
        return ZeroRatio(text, d.zero_shown or ZERO_SHOWN, d.zero if isinstance(d.zero, Fraction) else None)
    return text


_BUILDERS: dict[int, EvidenceBuilder] = {}


def catalogue(level: Level) -> list[dict]:
    """What does not change from unit to unit: each criterion's title, group, threshold, points,
    citation and interpretation note (written once in the JSON, beside the units)."""
    return [{"id": c.id, "title": c.title, "group": c.group, "threshold": c.threshold,
             "max_points": c.max_points if c.scored else None, "cite": c.cite, "note": c.note}
            for c in level.criteria.values()]


def _builder(level: Level) -> EvidenceBuilder:
    builder = _BUILDERS.get(id(level))
    if builder is None or builder.level is not level:
        builder = _BUILDERS[id(level)] = EvidenceBuilder(level)
    return builder


def criteria_evidence(level: Level, values: dict, out: Outcome) -> list[dict]:
    return _builder(level).build(values, out)


def evidence_inputs(level: Level, values: dict) -> dict[str, Any]:
    """A unit's value of every name its level's criteria read, as the evidence shows it."""
    return _builder(level).read(values)


def evidence_rows(level: Level) -> list[tuple[str, bool, Any, str, Optional[str], list[tuple[str, str, Any]]]]:
    """Per criterion, in order, what its evidence row takes from the pack: (id, scored, max_points,
    threshold, cite, [(input name, "value" | "ratio", indicator id | Derived)])."""
    return _builder(level).rows
