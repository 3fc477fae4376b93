"""Evidence for every criterion of a unit: the values read, the threshold, met or not, points,
citation. Built from the pack and the unit's values, for criteria that fired and those that did not."""
from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

from .outcome import Outcome
from .pack import Level


def value_for_output(v: Any) -> Any:
    """Exact values for JSON: ints and bools as they are, decimals as text, rates as 'n/d'."""
    if isinstance(v, tuple) and len(v) == 2:
        return f"{v[0]}/{v[1]}"
    if isinstance(v, Fraction):
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    if isinstance(v, Decimal):
        return str(v)
    return v


def read_values(level: Level, values: dict, names: tuple) -> dict:
    out: dict[str, Any] = {}
    for n in names:
        d = level.derived.get(n)
        if d is not None:
            for k in d.reads:
                out[k] = value_for_output(values.get(k))
            num = sum(Fraction(values[k]) for k in d.num if values.get(k) is not None)
            den = sum(Fraction(values[k]) for k in d.den if values.get(k) is not None)
            out[n] = value_for_output((num, den))
        elif n in values and isinstance(values[n], tuple):  # share(...) at province level
            out[n] = value_for_output(values[n])
        elif n in values:
            out[n] = value_for_output(values.get(n))
        elif n in level.indicators:
            out[n] = None
    return out


def criteria_evidence(level: Level, values: dict, out: Outcome) -> list[dict]:
    rows = []
    for i, c in enumerate(level.criteria.values()):
        met, pts, band = out.outcomes[i]
        rows.append({
            "id": c.id,
            "title": c.title,
            "met": met,
            "points": pts if c.scored else None,
            "max_points": c.max_points if c.scored else None,
            "band": band,
            "inputs": read_values(level, values, c.reads),
            "threshold": c.threshold,
            "cite": c.cite,
        })
    return rows
