"""Evidence for every criterion of a unit: the values read, the threshold, met or not, points,
citation, interpretation note. Built from the pack and the unit's values, for the criteria that
were met and for those that were not ("why not" matters as much as "why")."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from lanhmanh.engine.evaluation.outcome import Outcome
from lanhmanh.engine.model.pack import Criterion, Derived, Level, ratio_of


def value_for_output(v: Any) -> Any:
    """Exact values for JSON: ints and bools as they are, decimals as text, rates as 'n/d'."""
    if isinstance(v, tuple) and len(v) == 2:
        return f"{value_for_output(v[0])}/{value_for_output(v[1])}"
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else str(Decimal(v.numerator) / Decimal(v.denominator)) \
            if _terminates(v) else f"{v.numerator}/{v.denominator}"
    if isinstance(v, Decimal):
        return str(v)
    return v


def _terminates(f: Fraction) -> bool:
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

    def build(self, values: dict, out: Outcome) -> list[dict]:
        cache: dict[str, Any] = {}
        rows = []
        for i, (c, names, base) in enumerate(self.static):
            met, pts, band = out.outcomes[i]
            inputs = {}
            for name, kind, payload in names:
                if name not in cache:
                    if kind == "ratio":
                        cache[name] = _ratio_text(values, payload)
                    else:
                        cache[name] = value_for_output(values.get(payload))
                inputs[name] = cache[name]
            rows.append({
                "id": base["id"], "met": met,
                "points": pts if base["scored"] else None, "max_points": base["max_points"],
                "band": band, "inputs": inputs, "threshold": base["threshold"], "cite": base["cite"],
            })
        return rows


def _ratio_text(values: dict, d: Derived) -> Any:
    r = ratio_of(values, d.num, d.den)
    return None if r is None else f"{value_for_output(r[0])}/{value_for_output(r[1])}"


_BUILDERS: dict[int, EvidenceBuilder] = {}


def catalogue(level: Level) -> list[dict]:
    """What does not change from unit to unit: each criterion's title, group, threshold, points,
    citation and interpretation note (written once in the JSON, beside the units)."""
    return [{"id": c.id, "title": c.title, "group": c.group, "threshold": c.threshold,
             "max_points": c.max_points if c.scored else None, "cite": c.cite, "note": c.note}
            for c in level.criteria.values()]


def criteria_evidence(level: Level, values: dict, out: Outcome) -> list[dict]:
    builder = _BUILDERS.get(id(level))
    if builder is None or builder.level is not level:
        builder = _BUILDERS[id(level)] = EvidenceBuilder(level)
    return builder.build(values, out)
