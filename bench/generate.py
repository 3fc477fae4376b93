"""Synthetic input rows for the two shipped packs (benchmarks, property tests, samples).

    python bench/generate.py --pack qd-28-2025 -n 10000 --out /tmp/x.csv [--seed 1] [--summary]

`generate_rows(n, pack, seed=0)` yields one dict per commune: the identity columns
(unit_code, unit_name, unit_type, province_code, year) and the pack's indicator ids, in the
order of the pack's rule file. Every figure is VALID for the pack (bounds and every cross-field
"≤" rule hold); the figures are made up but plausible, and a large share sits exactly on a
threshold (user rate 0.1 % / 0.5 %, arrest rate 0.05 % / 0.1 %, 500 / 3,000 plants,
125.00 / 750.00 m², 6 / 12 sessions, shares of exactly 50 / 70 / 80 / 90 / 100 %, zero
denominators) or one step below it, so that every class of both packs occurs, including the
commune that the literal reading of QĐ 28/2025 leaves unclassified.

Units: the 3,321 official units in force since 1 July 2025 (package `vietnam-provinces`) in
its order; beyond them, synthetic units cycling over the 34 provinces, with unique 5-digit
codes that are not official codes (90000–99999 first, then downwards from 89999) and names
such as "Xã Tổng hợp 1234". Year 2025.

Types: integers are int, booleans bool, the plant area a Decimal with exactly 2 places
(str() gives "125.00"); a blank optional value is None.

The module also holds two small independent oracles, `qd28_class` and `xlm_score`, written
from the legal texts (QĐ 28/2025/QĐ-TTg; the xa-lanh-manh points table) with exact Fractions.
They are used to steer the generator towards a class mix and to check the samples; they are not
the engine.
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from functools import lru_cache
from typing import Any, Iterable, Iterator, Optional

YEAR = 2025
IDENTITY = ["unit_code", "unit_name", "unit_type", "province_code", "year"]

QD28 = "qd-28-2025"
XLM = "xa-lanh-manh"

QD28_INDICATORS = [
    "population", "users_with_records", "harbouring_points", "drug_arrests", "drug_plants",
    "drug_plant_area_m2", "on_key_route", "resident_users_untreated", "resident_drug_violators",
    "wanted_drug_fugitives",
]
XLM_INDICATORS = [
    "has_annual_plan", "tasks_assigned", "communication_sessions", "villages_total",
    "villages_reached", "villages_healthy", "businesses_conditional", "businesses_inspected",
    "violations_detected", "violations_handled", "new_drug_addicts", "new_drug_addicts_prev",
    "addicts_total", "addicts_managed", "harbouring_points", "prostitution_hotspots",
    "sex_workers_known", "sex_workers_supported", "venues_prostitution_violations",
]
INDICATORS = {QD28: QD28_INDICATORS, XLM: XLM_INDICATORS}

# Cross-field "≤" rules of xa-lanh-manh; qd-28-2025 states none. The generator
# also keeps resident_users_untreated ≤ users_with_records (plausibility, not a stated rule).
XLM_LE = [
    ("villages_reached", "villages_total"), ("villages_healthy", "villages_total"),
    ("businesses_inspected", "businesses_conditional"), ("violations_handled", "violations_detected"),
    ("addicts_managed", "addicts_total"), ("sex_workers_supported", "sex_workers_known"),
]

CENT = Decimal("0.01")
TIERS = ("III", "II", "I")


# --------------------------------------------------------------------------------------------
# Units

@lru_cache(maxsize=1)
def official_units() -> tuple[tuple[str, str, str, str], ...]:
    """(unit_code 5 digits, name, type, province_code 2 digits) of every official unit."""
    from vietnam_provinces import Ward

    return tuple((f"{int(w.code):05d}", w.name, w.division_type.value, f"{int(w.province_code):02d}")
                 for w in Ward.iter_all())


def province_units(province_code: int) -> list[tuple[str, str, str, str]]:
    """The official units of one province, sorted by code."""
    from vietnam_provinces import Ward

    return sorted((f"{int(w.code):05d}", w.name, w.division_type.value, f"{int(w.province_code):02d}")
                  for w in Ward.iter_by_province(province_code))


@lru_cache(maxsize=1)
def _province_codes() -> tuple[str, ...]:
    from vietnam_provinces import Province

    return tuple(sorted(f"{int(p.code):02d}" for p in Province.iter_all()))


def _synthetic_codes() -> Iterator[int]:
    taken = {int(u[0]) for u in official_units()}
    for c in list(range(90000, 100000)) + list(range(89999, -1, -1)):
        if c not in taken:
            yield c


def iter_units(n: int) -> Iterator[tuple[str, str, str, str]]:
    """n units: the official ones first, then synthetic ones with unique codes."""
    official = official_units()
    yield from official[:n]
    extra = n - len(official)
    if extra <= 0:
        return
    provinces = _province_codes()
    codes = _synthetic_codes()
    for k in range(extra):
        try:
            code = next(codes)
        except StopIteration:
            raise ValueError(f"n={n} exceeds the 100,000 distinct 5-digit unit codes") from None
        utype = "phường" if k % 5 == 4 else "xã"
        name = f"{'Phường' if utype == 'phường' else 'Xã'} Tổng hợp {k + 1}"
        yield f"{code:05d}", name, utype, provinces[k % len(provinces)]


# --------------------------------------------------------------------------------------------
# Oracles (exact, written from the legal texts, not from the packs)

def _frac(v: Any) -> Fraction:
    if isinstance(v, (Decimal, int)):
        return Fraction(v)
    return Fraction(Decimal(str(v)))


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() in ("có", "true", "1", "x", "yes")


def qd28_tiers(row: dict) -> dict[str, str]:
    """The band ('I', 'II' or 'III') of each aspect, read cumulatively (at this level or higher)."""
    pop = int(row["population"])
    ur = Fraction(int(row["users_with_records"]), pop)
    ar = Fraction(int(row["drug_arrests"]), pop)
    hp = int(row["harbouring_points"])
    plants = int(row["drug_plants"])
    area = _frac(row["drug_plant_area_m2"])
    return {
        "users": "I" if ur >= Fraction(5, 1000) else "II" if ur >= Fraction(1, 1000) else "III",
        "points": "I" if hp >= 2 else "II" if hp >= 1 else "III",
        "arrests": "I" if ar >= Fraction(1, 1000) else "II" if ar >= Fraction(5, 10000) else "III",
        "plants": "I" if plants >= 3000 or area >= 750 else "II" if plants >= 500 or area >= 125 else "III",
    }


def qd28_literal_bands(row: dict) -> tuple[dict[str, bool], dict[str, bool]]:
    """The type II criteria a–d and the type III criteria a–c, each read exactly as worded: type II
    "from 0.1 % to under 0.5 %", "Có 1 điểm", "from 0.05 % to under 0.1 %", "from 500 to under 3,000
    plants or from 125 m² to under 750 m²"; type III "under 0.1 %", "under 0.05 %", "under 500
    plants OR under 125 m²" (the text's "hoặc"; a 0 counts as under)."""
    pop = int(row["population"])
    ur = Fraction(int(row["users_with_records"]), pop)
    ar = Fraction(int(row["drug_arrests"]), pop)
    plants = int(row["drug_plants"])
    area = _frac(row["drug_plant_area_m2"])
    ii = {"users": Fraction(1, 1000) <= ur < Fraction(5, 1000), "points": int(row["harbouring_points"]) == 1,
          "arrests": Fraction(5, 10000) <= ar < Fraction(1, 1000),
          "plants": 500 <= plants < 3000 or 125 <= area < 750}
    iii = {"users": ur < Fraction(1, 1000), "arrests": ar < Fraction(5, 10000), "plants": plants < 500 or area < 125}
    return ii, iii


def qd28_drug_free(row: dict) -> bool:
    return (int(row["resident_users_untreated"]) == 0 and int(row["resident_drug_violators"]) == 0
            and int(row["wanted_drug_fugitives"]) == 0 and int(row["harbouring_points"]) == 0)


def qd28_class(row: dict, reading: str = "cumulative") -> str:
    """Class id of a commune row under QĐ 28/2025, Điều 4 and 6.

    reading="cumulative": every band "at this level or higher"; type III is the residual.
    reading="literal": type II bands as worded ("from 0.1 % to under 0.5 %", "exactly 1 point",
    ...), type III = at least one of its "below" bands, else "unclassified". Criterion đ keeps
    its own "or higher" wording in both readings.
    """
    if qd28_drug_free(row):
        return "drug_free"
    t = qd28_tiers(row)
    route = _bool(row["on_key_route"])
    aspects = ("users", "points", "arrests", "plants")
    at_ii_or_higher = sum(t[a] in ("I", "II") for a in aspects)
    type_1 = sum(t[a] == "I" for a in aspects) + (at_ii_or_higher >= 2 and route)
    if type_1 >= 3:
        return "type_1"
    # đ of type II: at least 2 of the type III criteria a–c met at type III level or higher, and
    # on a route. Every figure meets type III or higher, so this is the route.
    if reading == "cumulative":
        type_2 = at_ii_or_higher + route
    elif reading == "literal":
        type_2 = sum(qd28_literal_bands(row)[0].values()) + route
    else:
        raise ValueError(f"unknown reading {reading!r}")
    if type_2 >= 3:
        return "type_2"
    if reading == "cumulative":
        return "type_3"
    if any(qd28_literal_bands(row)[1].values()):
        return "type_3"
    return "unclassified"


def _share(num: Any, den: Any) -> Fraction:
    den = int(den)
    return Fraction(1) if den == 0 else Fraction(int(num), den)


def xlm_points(row: dict) -> dict[str, int]:
    """Points of each criterion A1…F1 of the xa-lanh-manh scorecard."""
    s = int(row["communication_sessions"])
    reached = _share(row["villages_reached"], row["villages_total"])
    inspected = _share(row["businesses_inspected"], row["businesses_conditional"])
    handled = _share(row["violations_handled"], row["violations_detected"])
    managed = _share(row["addicts_managed"], row["addicts_total"])
    supported = _share(row["sex_workers_supported"], row["sex_workers_known"])
    healthy = _share(row["villages_healthy"], row["villages_total"])
    new = int(row["new_drug_addicts"])
    prev = row.get("new_drug_addicts_prev")
    prev = None if prev is None or str(prev).strip() == "" else int(prev)
    return {
        "A1": 5 if _bool(row["has_annual_plan"]) else 0,
        "A2": 5 if _bool(row["tasks_assigned"]) else 0,
        "B1": 10 if s >= 12 else 5 if s >= 6 else 0,
        "B2": 5 if reached == 1 else 3 if reached >= Fraction(80, 100) else 0,
        "C1": 10 if inspected == 1 else 5 if inspected >= Fraction(50, 100) else 0,
        "C2": 10 if handled == 1 else 5 if handled >= Fraction(80, 100) else 0,
        "D1": 10 if new == 0 else 5 if prev is not None and new < prev else 0,
        "D2": 5 if managed >= Fraction(90, 100) else 0,
        "D3": 10 if int(row["harbouring_points"]) == 0 else 0,
        "E1": 10 if int(row["prostitution_hotspots"]) == 0 else 0,
        "E2": 5 if supported >= Fraction(50, 100) else 0,
        "E3": 5 if int(row["venues_prostitution_violations"]) == 0 else 0,
        "F1": 10 if healthy >= Fraction(70, 100) else 5 if healthy >= Fraction(50, 100) else 0,
    }


def xlm_score(row: dict) -> tuple[int, list[str], str]:
    """(total, vetoes, class id) of a commune row under the xa-lanh-manh scorecard."""
    total = sum(xlm_points(row).values())
    vetoes = []
    if int(row["harbouring_points"]) > 0:
        vetoes.append("harbouring_points")
    if int(row["prostitution_hotspots"]) > 0:
        vetoes.append("prostitution_hotspots")
    if total >= 90 and not vetoes:
        cls = "healthy"
    elif total >= 75:
        cls = "substantially_reduced"
    else:
        cls = "not_met"
    return total, vetoes, cls


def check_row(row: dict, pack: str) -> list[str]:
    """Problems of a generated row (empty when valid): bounds, types, ≤ rules, 2 decimal places."""
    out = []
    for k in IDENTITY + INDICATORS[pack]:
        if k not in row:
            out.append(f"missing {k}")
    if out:
        return out
    if not (isinstance(row["unit_code"], str) and len(row["unit_code"]) == 5 and row["unit_code"].isdigit()):
        out.append("unit_code")
    if row["unit_type"] not in ("xã", "phường", "đặc khu", "thị trấn"):
        out.append("unit_type")
    for k in INDICATORS[pack]:
        v = row[k]
        if k in ("on_key_route", "has_annual_plan", "tasks_assigned"):
            if not isinstance(v, bool):
                out.append(f"{k} not bool")
        elif k == "drug_plant_area_m2":
            if not isinstance(v, Decimal) or v < 0 or v != v.quantize(CENT):
                out.append(f"{k}={v!r}")
        elif k == "new_drug_addicts_prev" and v is None:
            pass
        elif not isinstance(v, int) or isinstance(v, bool) or v < 0:
            out.append(f"{k}={v!r}")
    if pack == QD28:
        if row["population"] <= 0:
            out.append("population must be > 0")
        if row["resident_users_untreated"] > row["users_with_records"]:
            out.append("resident_users_untreated > users_with_records")
    else:
        if row["villages_total"] <= 0:
            out.append("villages_total must be > 0")
        for a, b in XLM_LE:
            if row[a] > row[b]:
                out.append(f"{a} > {b}")
    return out


# --------------------------------------------------------------------------------------------
# qd-28-2025 figures

def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def _loguniform(rng: random.Random, lo: int, hi: int) -> int:
    import math

    return int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))


def population_for(rng: random.Random, unit_type: str, setting: str, boundary_p: float = 0.3,
                   lo: Optional[int] = None, hi: Optional[int] = None) -> int:
    if lo is None or hi is None:
        lo, hi = {"urban": (12000, 90000), "mountain": (4000, 18000),
                  "island": (2000, 30000)}.get(setting, (6000, 40000))
        if unit_type == "phường":
            lo, hi = max(lo, 12000), max(hi, 60000)
    pop = _loguniform(rng, lo, hi)
    if rng.random() < boundary_p:
        pop = max(2000, round(pop / 2000) * 2000)  # every rate threshold then falls on a whole count
    return pop


def _count_in_band(rng: random.Random, pop: int, tier: str, den_ii: int, den_i: int, top_per_100k: int,
                   boundary_p: float) -> int:
    """A count whose rate count/pop lies in a band: III < 1/den_ii ≤ II < 1/den_i ≤ I."""
    lo2 = _ceil_div(pop, den_ii)  # the least count reaching the type II threshold
    lo1 = _ceil_div(pop, den_i)   # the least count reaching the type I threshold
    r = rng.random()
    if tier == "III":
        if lo2 - 1 < 1 or r < 0.25:
            return 0
        if r < 0.25 + boundary_p * 0.5:
            return lo2 - 1  # one below the threshold
        return rng.randint(1, lo2 - 1)
    if tier == "II":
        if r < boundary_p * 0.6:
            return lo2      # exactly the threshold when pop is a round figure
        if r < boundary_p:
            return lo1 - 1
        return rng.randint(lo2, lo1 - 1)
    top = max(lo1, pop * top_per_100k // 100000)
    if r < boundary_p:
        return lo1
    return rng.randint(lo1, top)


def _area(plants: int, density: Decimal) -> Decimal:
    return (Decimal(plants) / density).quantize(CENT, rounding=ROUND_HALF_UP)


def _plants_in_band(rng: random.Random, tier: str, setting: str, boundary_p: float) -> tuple[int, Decimal]:
    density = Decimal(rng.randint(40, 120)) / 10  # plants per m²
    b = rng.random() < boundary_p
    if tier == "III":
        if setting != "mountain" or rng.random() < 0.45:
            return 0, Decimal("0.00")
        if b:
            return rng.choice([(499, _area(499, density)), (rng.randint(150, 480), Decimal("124.99"))])
        p = rng.randint(1, 499)
        return p, min(_area(p, density), Decimal("124.99"))
    if tier == "II":
        if b:
            return rng.choice([
                (500, _area(500, density)),                       # exactly 500 plants, area below 125
                (rng.randint(200, 499), Decimal("125.00")),       # exactly 125 m², fewer than 500 plants
                (2999, min(_area(2999, density), Decimal("749.99"))),
                (rng.randint(1500, 2999), Decimal("749.99")),
            ])
        p = rng.randint(500, 2999)
        return p, min(_area(p, density), Decimal("749.99"))
    if b:
        return rng.choice([
            (3000, min(_area(3000, density), Decimal("749.99"))),  # exactly 3,000 plants
            (rng.randint(1800, 2999), Decimal("750.00")),          # exactly 750 m²
            (3000, Decimal("750.00")),
        ])
    p = rng.randint(3000, 25000)
    return p, _area(p, density)


# Band weights (III, II, I) per aspect, and P(on_key_route), by target class. The generator draws
# bands, realises figures, classifies them with the oracle and keeps the row when it matches.
_QD28_WEIGHTS = {
    "type_1": {"users": (.1, .4, .5), "points": (.35, .3, .35), "arrests": (.2, .4, .4),
               "plants": (.3, .3, .4), "route": .7},
    "type_2": {"users": (.2, .6, .2), "points": (.45, .45, .1), "arrests": (.3, .55, .15),
               "plants": (.6, .35, .05), "route": .5},
    "type_3": {"users": (.6, .37, .03), "points": (.94, .06, 0), "arrests": (.78, .2, .02),
               "plants": (.88, .12, 0), "route": .25},
    "fall_through": {"users": (0, .4, .6), "points": (.85, 0, .15), "arrests": (0, .4, .6),
                     "plants": (0, .6, .4), "route": 0},
}


def _pick(rng: random.Random, weights: tuple) -> str:
    return rng.choices(TIERS, weights=weights)[0]


def qd28_figures(rng: random.Random, unit_type: str, target: str, setting: Optional[str] = None,
                 boundary_p: float = 0.3, pop_range: Optional[tuple[int, int]] = None,
                 route_p: Optional[float] = None) -> dict:
    """Indicator values for one commune whose class (cumulative reading) is `target`.

    target: drug_free | type_1 | type_2 | type_3 | fall_through (type_2 cumulatively, unclassified
    literally, like the fall-through example 0.6 %, 0.2 %, 600 plants on 200 m²) | drug_free_high
    (drug-free although its rates reach type I: the first match wins).
    setting: mountain | lowland | urban | island (plants only grow in the mountains here).
    """
    if target == "fall_through":
        setting = "mountain"  # the literal gap needs plants at type II level or higher
    if setting is None:
        setting = {"phường": "urban", "đặc khu": "island"}.get(unit_type) or \
            ("mountain" if rng.random() < 0.3 else "lowland")
    lo_hi = pop_range or (None, None)
    for _ in range(5000):
        pop = population_for(rng, unit_type, setting, boundary_p, *lo_hi)
        if target in ("drug_free", "drug_free_high"):
            row = _drug_free(rng, pop, setting, target == "drug_free_high", boundary_p)
        else:
            w = _QD28_WEIGHTS[target]
            plants_w = w["plants"] if setting == "mountain" else (1, 0, 0) if setting in ("urban", "island") \
                else (w["plants"][0] + .8 * (w["plants"][1] + w["plants"][2]), .2 * w["plants"][1], .2 * w["plants"][2])
            t = {a: _pick(rng, w[a]) for a in ("users", "points", "arrests")}
            t["plants"] = _pick(rng, plants_w)
            users = _count_in_band(rng, pop, t["users"], 1000, 200, 1500, boundary_p)
            arrests = _count_in_band(rng, pop, t["arrests"], 2000, 1000, 300, boundary_p)
            if t["points"] == "III":
                points = 0
            elif t["points"] == "II":
                points = 1
            else:
                points = 2 if rng.random() < max(boundary_p, .4) else rng.randint(3, 6)
            plants, area = _plants_in_band(rng, t["plants"], setting, boundary_p)
            rp = w["route"] if route_p is None else route_p
            untreated = 0
            if users and rng.random() < 0.9:
                untreated = rng.randint(_ceil_div(users, 5), users)
            violators = rng.randint(0, arrests + 2) if rng.random() < 0.7 else 0
            fugitives = rng.randint(1, 2) if rng.random() < 0.08 else 0
            if untreated == violators == fugitives == points == 0:
                if users:
                    untreated = 1
                else:
                    violators = 1
            row = {"population": pop, "users_with_records": users, "harbouring_points": points,
                   "drug_arrests": arrests, "drug_plants": plants, "drug_plant_area_m2": area,
                   "on_key_route": rng.random() < rp if target != "fall_through" else False,
                   "resident_users_untreated": untreated, "resident_drug_violators": violators,
                   "wanted_drug_fugitives": fugitives}
        got = qd28_class(row)
        if target == "fall_through":
            if got == "type_2" and qd28_class(row, "literal") == "unclassified":
                return row
        elif target == "drug_free_high":
            if got == "drug_free" and qd28_tiers(row)["users"] == "I":
                return row
        elif got == target:
            return row
    raise RuntimeError(f"could not draw a {target} commune ({unit_type}, {setting})")


def _drug_free(rng: random.Random, pop: int, setting: str, high: bool, boundary_p: float) -> dict:
    """No untreated resident user, no resident violator, no fugitive, no harbouring point. Users on
    record may still exist (all in treatment), arrests may be of non-residents passing through."""
    if high:
        users = _count_in_band(rng, pop, "I", 1000, 200, 1000, boundary_p)
        arrests = _count_in_band(rng, pop, rng.choice(TIERS), 2000, 1000, 200, boundary_p)
    else:
        users = 0 if rng.random() < 0.6 else _count_in_band(rng, pop, "III", 1000, 200, 0, boundary_p)
        arrests = 0 if rng.random() < 0.75 else _count_in_band(rng, pop, "III", 2000, 1000, 0, boundary_p)
    plants, area = (0, Decimal("0.00"))
    if setting == "mountain" and rng.random() < 0.1:
        plants, area = _plants_in_band(rng, "III", setting, boundary_p)
    return {"population": pop, "users_with_records": users, "harbouring_points": 0,
            "drug_arrests": arrests, "drug_plants": plants, "drug_plant_area_m2": area,
            "on_key_route": rng.random() < 0.2, "resident_users_untreated": 0,
            "resident_drug_violators": 0, "wanted_drug_fugitives": 0}


# --------------------------------------------------------------------------------------------
# xa-lanh-manh figures

def _outcome(rng: random.Random, weights: tuple) -> str:
    return rng.choices(("full", "partial", "none"), weights=weights)[0]


def _share_count(rng: random.Random, den: int, pct: int, boundary_p: float, below: bool = False,
                 upto: Optional[int] = None) -> Optional[int]:
    """A numerator with num/den ≥ pct % (or < pct % when below), up to `upto` (exclusive bound
    handled by the caller). Prefers the least such numerator (the threshold) with boundary_p."""
    lo = _ceil_div(den * pct, 100)  # least numerator reaching pct %
    if below:
        if lo - 1 < 0:
            return None
        return lo - 1 if rng.random() < boundary_p else rng.randint(lo // 2, lo - 1)
    hi = den if upto is None else upto
    if lo > hi:
        return None
    return lo if rng.random() < boundary_p else rng.randint(lo, hi)


XLM_TARGET_WEIGHTS = {
    "healthy": (.9, .08, .02),
    "reduced": (.65, .25, .1),
    "not_met": (.35, .3, .35),
    "vetoed": (.75, .15, .1),
}


def xlm_figures(rng: random.Random, unit_type: str, target: str, total: Optional[int] = None,
                harbouring: Optional[int] = None, hotspots: Optional[int] = None,
                addicts_total: Optional[int] = None, no_new_addicts: bool = False,
                prev_blank_p: float = 0.15, boundary_p: float = 0.3) -> dict:
    """Indicator values for one commune of the xa-lanh-manh scorecard.

    target: healthy (≥ 90, no veto) | reduced (75–89, no veto) | not_met (< 75, no veto) |
    vetoed (harbouring point or prostitution hotspot, any score). `total` asks for an exact total.
    harbouring / hotspots / addicts_total fix those figures (e.g. copied from a qd-28 row).
    """
    if harbouring and target != "vetoed":
        raise ValueError("a commune with a harbouring point is vetoed")
    weights = XLM_TARGET_WEIGHTS[target]
    for _ in range(20000):
        o = {c: _outcome(rng, weights) for c in
             ("A1", "A2", "B1", "B2", "C1", "C2", "D1", "D2", "E2", "E3", "F1")}
        row: dict[str, Any] = {}
        row["has_annual_plan"] = o["A1"] != "none" or rng.random() < .3
        row["tasks_assigned"] = o["A2"] != "none" or rng.random() < .3
        b = rng.random() < boundary_p
        row["communication_sessions"] = (
            (12 if b else rng.randint(12, 36)) if o["B1"] == "full" else
            (rng.choice((6, 11)) if b else rng.randint(6, 11)) if o["B1"] == "partial" else
            (5 if b else rng.randint(0, 5)))
        vt = {"phường": rng.randint(6, 22), "đặc khu": rng.randint(3, 15)}.get(unit_type, rng.randint(5, 26))
        if rng.random() < boundary_p:
            vt = rng.choice((10, 20)) if vt >= 8 else 5
        row["villages_total"] = vt
        reached = vt if o["B2"] == "full" else \
            _share_count(rng, vt, 80, boundary_p, upto=vt - 1) if o["B2"] == "partial" else None
        if reached is None:
            reached = _share_count(rng, vt, 80, boundary_p, below=True)
        row["villages_reached"] = reached
        if o["F1"] == "full":
            healthy = _share_count(rng, vt, 70, boundary_p)
        elif o["F1"] == "partial":
            healthy = _share_count(rng, vt, 50, boundary_p, upto=_ceil_div(vt * 70, 100) - 1)
            if healthy is None:
                healthy = _share_count(rng, vt, 50, boundary_p, below=True)
        else:
            healthy = _share_count(rng, vt, 50, boundary_p, below=True)
        row["villages_healthy"] = healthy
        # C1: conditional businesses inspected (none registered = nothing to manage = full)
        if o["C1"] == "full" and rng.random() < .2:
            bc, bi = 0, 0
        else:
            bc = rng.randint(2, 80 if unit_type == "phường" else 30)
            bi = bc if o["C1"] == "full" else _share_count(rng, bc, 50, boundary_p, upto=bc - 1) \
                if o["C1"] == "partial" else _share_count(rng, bc, 50, boundary_p, below=True)
        row["businesses_conditional"], row["businesses_inspected"] = bc, bi
        # C2: violations handled
        if o["C2"] == "full" and rng.random() < .25:
            vd, vh = 0, 0
        else:
            vd = rng.randint(1, 40)
            vh = vd if o["C2"] == "full" else _share_count(rng, vd, 80, boundary_p, upto=vd - 1) \
                if o["C2"] == "partial" else None
            if vh is None:
                vh = _share_count(rng, vd, 80, boundary_p, below=True)
        row["violations_detected"], row["violations_handled"] = vd, vh
        # D1: new addicts (prev optional)
        d1 = "full" if no_new_addicts else o["D1"]
        if d1 == "full":
            new = 0
            prev = None if rng.random() < prev_blank_p else rng.randint(0, 4)
        elif d1 == "partial":
            new = rng.randint(1, 8)
            prev = new + (1 if rng.random() < boundary_p else rng.randint(1, 6))
        else:
            new = rng.randint(1, 10)
            prev = None if rng.random() < max(prev_blank_p, .3) else \
                (new if rng.random() < boundary_p else rng.randint(0, new))
        row["new_drug_addicts"], row["new_drug_addicts_prev"] = new, prev
        # D2: addicts under management
        at = addicts_total
        if at is None:
            at = 0 if (o["D2"] == "full" and rng.random() < .2) else rng.randint(1, 60)
        if at == 0:
            am = 0
        elif o["D2"] == "full":
            am = _share_count(rng, at, 90, boundary_p)
        else:
            am = _share_count(rng, at, 90, boundary_p, below=True)
            if am is None:
                am = 0
        row["addicts_total"], row["addicts_managed"] = at, am
        # D3, E1: the veto figures
        hp, hs = harbouring, hotspots
        if target == "vetoed" and not hp and not hs:
            if hp is None and hs is None:
                r = rng.random()  # harbouring point only, hotspot only, or both
                hp = rng.randint(1, 3) if r < .6 or r >= .9 else 0
                hs = rng.randint(1, 2) if r >= .6 else 0
            elif hp is None:
                hp = rng.randint(1, 3)
            elif hs is None:
                hs = rng.randint(1, 2)
            else:
                raise ValueError("a vetoed target with both veto figures fixed at 0")
        row["harbouring_points"] = hp or 0
        row["prostitution_hotspots"] = hs or 0
        # E2: sex workers supported (none known = full)
        if o["E2"] == "full" and rng.random() < (.3 if row["prostitution_hotspots"] else .6):
            sk, ss = 0, 0
        else:
            sk = rng.randint(1, 12 if row["prostitution_hotspots"] else 5)
            ss = _share_count(rng, sk, 50, boundary_p) if o["E2"] == "full" else \
                _share_count(rng, sk, 50, boundary_p, below=True)
        row["sex_workers_known"], row["sex_workers_supported"] = sk, ss
        row["venues_prostitution_violations"] = 0 if o["E3"] == "full" else rng.randint(1, 3)
        row = {k: row[k] for k in XLM_INDICATORS}
        t, vetoes, cls = xlm_score(row)
        if total is not None and t != total:
            continue
        ok = {"healthy": cls == "healthy",
              "reduced": cls == "substantially_reduced" and not vetoes,
              "not_met": cls == "not_met" and not vetoes,
              "vetoed": bool(vetoes)}[target]
        if ok:
            return row
    raise RuntimeError(f"could not draw a {target} commune (total={total})")


# --------------------------------------------------------------------------------------------
# Rows

_QD28_MIX = [("type_3", 42), ("drug_free", 20), ("type_2", 20), ("type_1", 12),
             ("fall_through", 4), ("drug_free_high", 2)]
_XLM_MIX = [("healthy", 33), ("reduced", 25), ("not_met", 25), ("vetoed", 17)]
# Exact-total targets for xa-lanh-manh (a share of the rows sits on 90 and 75).
_XLM_EXACT = [("healthy", 90), ("reduced", 75), ("vetoed", 90), ("not_met", 73)]


def _draw(rng: random.Random, mix: list) -> str:
    return rng.choices([m[0] for m in mix], weights=[m[1] for m in mix])[0]


def generate_rows(n: int, pack: str, seed: int = 0) -> Iterator[dict]:
    """n valid rows for `pack` (identity columns + the pack's indicators), reproducible by seed.

    The first rows cycle through every target once, so that even a small n shows every class.
    """
    if pack not in INDICATORS:
        raise ValueError(f"unknown pack {pack!r}: use {QD28} or {XLM}")
    rng = random.Random(f"{pack}:{seed}")
    mix = _QD28_MIX if pack == QD28 else _XLM_MIX
    first = [m[0] for m in mix]
    for i, (code, name, utype, pcode) in enumerate(iter_units(n)):
        row: dict[str, Any] = {"unit_code": code, "unit_name": name, "unit_type": utype,
                               "province_code": pcode, "year": YEAR}
        if pack == QD28:
            target = first[i] if i < len(first) else _draw(rng, mix)
            row.update(qd28_figures(rng, utype, target))
        else:
            j = i - len(first)
            if i < len(first):
                target, total = first[i], None
            elif 0 <= j < len(_XLM_EXACT):
                target, total = _XLM_EXACT[j]
            else:
                target = _draw(rng, mix)
                total = None
                if rng.random() < 0.06:
                    target, total = rng.choice(_XLM_EXACT)
            row.update(xlm_figures(rng, utype, target, total=total))
        yield row


def _cell(v: Any, yes: str, no: str) -> str:
    if v is None:
        return ""
    if v is True:
        return yes
    if v is False:
        return no
    return str(v)


def write_csv(rows: Iterable[dict], path, yes: str = "có", no: str = "không") -> int:
    """Writes rows as UTF-8 CSV with a BOM; header = the keys of the first row. Returns the count."""
    count = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        w = None
        for r in rows:
            if w is None:
                header = list(r)
                w = csv.writer(f, lineterminator="\n")
                w.writerow(header)
            w.writerow([_cell(r.get(k), yes, no) for k in header])
            count += 1
    return count


def summary(rows: list[dict], pack: str) -> dict:
    if pack == QD28:
        return {"cumulative": dict(Counter(qd28_class(r) for r in rows).most_common()),
                "literal": dict(Counter(qd28_class(r, "literal") for r in rows).most_common())}
    scores = [xlm_score(r) for r in rows]
    return {"classes": dict(Counter(s[2] for s in scores).most_common()),
            "vetoed": sum(bool(s[1]) for s in scores),
            "total_90": sum(s[0] == 90 for s in scores), "total_75": sum(s[0] == 75 for s in scores)}


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description="Write synthetic, valid input rows for a pack as CSV.")
    ap.add_argument("--pack", required=True, choices=[QD28, XLM])
    ap.add_argument("-n", type=int, default=1000, help="number of units (default 1000)")
    ap.add_argument("--out", required=True, help="CSV file to write (UTF-8 with BOM)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--summary", action="store_true", help="print the expected class mix (oracle)")
    a = ap.parse_args(argv)
    if a.n < 1:
        ap.error("-n must be at least 1")
    rows = list(generate_rows(a.n, a.pack, seed=a.seed))
    count = write_csv(rows, a.out)
    print(f"wrote {count} {a.pack} rows to {a.out}", file=sys.stderr)
    if a.summary:
        print(summary(rows, a.pack), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
