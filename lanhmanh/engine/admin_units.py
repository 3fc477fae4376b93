"""The official lists of administrative units that submitted codes, types, provinces and names are
checked against.

The list in force since 1 July 2025 (34 provinces, 3,321 commune-level units) comes from the
maintained PyPI package `vietnam-provinces`, not from a table typed here. A newer list can be given
as a CSV file (`score --unit-list FILE.csv`, columns unit_code, unit_name, unit_type,
province_code[, province_name]). Lists for years before the reform are issue 5's business: for those
years `for_year` returns None and the validator warns that nothing was checked.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import io
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

REFORM = dt.date(2025, 7, 1)  # Nghị quyết 202/2025/QH15: 34 provinces, two-level local government


@dataclass(frozen=True)
class AdminUnit:
    code: str  # 5 digits
    name: str  # with its type word: "Phường Thành Vinh"
    type: str  # xã | phường | đặc khu | thị trấn
    province_code: str  # 2 digits


class UnitList:
    """One official list: units by code, provinces by code."""

    def __init__(self, title: str, units: Iterable[AdminUnit], provinces: dict[str, str]):
        self.title = title
        self.units: dict[str, AdminUnit] = {}
        for u in units:
            self.units[u.code] = u
        self.provinces = dict(provinces)  # code → name

    def get(self, code: str) -> Optional[AdminUnit]:
        return self.units.get(code)

    def province(self, code: str) -> Optional[str]:
        return self.provinces.get(code)

    def units_of(self, province_code: str) -> list[AdminUnit]:
        return sorted((u for u in self.units.values() if u.province_code == province_code),
                      key=lambda u: u.code)

    def suggest(self, code: str, name: str = "") -> str:
        """'; did you mean 17329 (Xã Anh Sơn)?' by name first, then by code."""
        if name:
            names = {_fold(u.name): u for u in self.units.values()}
            hit = difflib.get_close_matches(_fold(name), list(names), n=1, cutoff=0.85)
            if hit:
                u = names[hit[0]]
                return f"; did you mean {u.code} ({u.name}, province {u.province_code})?"
        hit = difflib.get_close_matches(code, list(self.units), n=1, cutoff=0.8)
        if hit:
            u = self.units[hit[0]]
            return f"; did you mean {u.code} ({u.name})?"
        return ""

    def __len__(self) -> int:
        return len(self.units)


def _fold(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).lower().split())


@lru_cache(maxsize=1)
def current() -> UnitList:
    """The list in force since 1 July 2025, from the vietnam-provinces package."""
    import vietnam_provinces as vp
    from vietnam_provinces import Province, Ward

    provinces: dict[str, str] = {}
    units: list[AdminUnit] = []
    for p in Province.iter_all():
        pcode = f"{int(p.code):02d}"
        provinces[pcode] = p.name
        for w in Ward.iter_by_province(p.code):
            units.append(AdminUnit(f"{int(w.code):05d}", unicodedata.normalize("NFC", w.name),
                                   w.division_type.value, pcode))
    version = getattr(vp, "__version__", "?")
    return UnitList(f"the official list in force since 1 July 2025 (vietnam-provinces {version}: "
                    f"{len(provinces)} provinces, {len(units)} units)", units, provinces)


def from_csv(path: Path) -> UnitList:
    """A list given as CSV: unit_code, unit_name, unit_type, province_code[, province_name]."""
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    need = {"unit_code", "unit_name", "unit_type", "province_code"}
    if not need <= set(reader.fieldnames or ()):
        raise ValueError(f"{path}: a unit list needs the columns {', '.join(sorted(need))}")
    units, provinces = [], {}
    for i, row in enumerate(reader, start=2):
        try:
            code = f"{int(row['unit_code']):05d}"
            pcode = f"{int(row['province_code']):02d}"
        except (TypeError, ValueError):
            raise ValueError(f"{path}: row {i}: unit_code and province_code must be numbers") from None
        units.append(AdminUnit(code, unicodedata.normalize("NFC", row["unit_name"].strip()),
                               unicodedata.normalize("NFC", row["unit_type"].strip().lower()), pcode))
        provinces.setdefault(pcode, (row.get("province_name") or "").strip() or pcode)
    return UnitList(f"the unit list {path}", units, provinces)


class UnitLists:
    """Which list applies to a batch year: `fixed` for every year, or the official list by date."""

    def __init__(self, fixed: Optional[UnitList] = None):
        self.fixed = fixed

    def for_year(self, year: Optional[int]) -> Optional[UnitList]:
        if self.fixed is not None:
            return self.fixed
        if year is None or dt.date(year, 12, 14) >= REFORM:
            return current()
        return None  # before the reform: the pre-2025 list comes with issue 5
