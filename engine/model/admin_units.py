"""The official lists of administrative units that submitted codes, types, provinces and names are
checked against.

The list in force since 1 July 2025 (34 provinces, 3,321 commune-level units) comes from the
maintained PyPI package `vietnam-provinces`, not from a table typed here. A newer list can be given
as a CSV file (`score --unit-list FILE.csv`, columns unit_code, unit_name, unit_type,
province_code[, province_name][, district_code, district_name]).

For batch years up to 2024 the list is the last one in force before the reform (63 provinces, 696
districts, 10,051 communes, wards and townships), shipped as `data/units-2024.csv.gz` and
built from the PyPI package `vietnam-provinces` 0.6.0 by `tools/build_unit_lists.py` (its source,
version and sha256 are in `units-2024.json` beside it). That list has districts: every unit knows
its district, and `district`, `districts_of` and `district_name` give the hierarchy.

Which list a batch year uses: a batch year's assessment period runs from 15 December of the year
before to 14 December, and units are assessed as they stand at the end of the period. The reform
took effect on 1 July 2025, so batch 2025 (15 Dec 2024 – 14 Dec 2025) and later use the current
list, and batch 2024 and earlier the pre-reform one. That one list serves every year before 2025:
it is the list as the GSO published it on 4 January 2025, so a unit merged away earlier (the
2019–2021 and 2023–2025 mergers, the last of them on 1 January 2025) is not in it; a batch of
such a year that needs its own list gives it with --unit-list FILE.csv.
"""
from __future__ import annotations

import csv
import datetime as dt
import difflib
import gzip
import hashlib
import io
import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Iterable, Optional

from lanhmanh.i18n import N_, _

REFORM = dt.date(2025, 7, 1)  # Nghị quyết 202/2025/QH15: 34 provinces, two-level local government


@dataclass(frozen=True)
class AdminUnit:
    code: str  # 5 digits
    name: str  # with its type word: "Phường Thành Vinh"
    type: str  # xã | phường | đặc khu | thị trấn
    province_code: str  # 2 digits
    district_code: Optional[str] = None  # 3 digits; lists before the reform only


@dataclass(frozen=True)
class District:
    """A district-level unit of a pre-reform list (quận, huyện, thị xã, thành phố thuộc tỉnh)."""
    code: str  # 3 digits
    name: str  # with its type word: "Huyện Anh Sơn"
    province_code: str


class UnitList:
    """One official list: units by code, provinces by code, and (before the reform) districts.
    `title` names it in messages: a message (N_) with `title_args` filled in, translated where it is said."""

    def __init__(self, title: str, units: Iterable[AdminUnit], provinces: dict[str, str],
                 districts: Iterable[District] = (), title_args: Optional[dict] = None):
        self._title, self._title_args = title, title_args
        self.units: dict[str, AdminUnit] = {}
        for u in units:
            self.units[u.code] = u
        self.provinces = dict(provinces)  # code → name
        self.districts: dict[str, District] = {d.code: d for d in districts}
        self._province_index: Optional[dict[str, list[AdminUnit]]] = None

    @property
    def title(self) -> str:
        if self._title_args is None:
            return _(self._title)
        return _(self._title).format(**self._title_args)

    def get(self, code: str) -> Optional[AdminUnit]:
        return self.units.get(code)

    def province(self, code: str) -> Optional[str]:
        return self.provinces.get(code)

    @property
    def has_districts(self) -> bool:
        return bool(self.districts)

    def district(self, code: str) -> Optional[District]:
        return self.districts.get(code)

    def district_name(self, code: str) -> Optional[str]:
        d = self.districts.get(code)
        return d.name if d is not None else None

    def districts_of(self, province_code: str) -> list[District]:
        return sorted((d for d in self.districts.values() if d.province_code == province_code),
                      key=lambda d: d.code)

    def units_of_district(self, district_code: str) -> list[AdminUnit]:
        return sorted((u for u in self.units.values() if u.district_code == district_code),
                      key=lambda u: u.code)

    def units_of(self, province_code: str) -> list[AdminUnit]:
        return list(self._by_province().get(province_code, ()))

    def _by_province(self) -> dict[str, list[AdminUnit]]:
        """Units by province, sorted by code: built on first use (did-you-mean per rejected row)."""
        if self._province_index is None:
            index: dict[str, list[AdminUnit]] = {}
            for u in sorted(self.units.values(), key=lambda u: u.code):
                index.setdefault(u.province_code, []).append(u)
            self._province_index = index
        return self._province_index

    def suggest(self, code: str, name: str = "", province_code: Optional[str] = None) -> str:
        """'; did you mean 17329 (Xã Anh Sơn)?' by name first (within the province when it is known
        to the list: a few hundred names instead of ten thousand, and a commune's name repeats
        across the country), then by code (within the province too)."""
        pool = list(self.units.values())
        if province_code is not None and province_code in self.provinces:
            pool = self._by_province().get(province_code, [])
        if name:
            names: dict[str, AdminUnit] = {}
            for u in pool:  # "Phường Mộc Châu" (2025) is "Thị trấn Mộc Châu" (2024): names without type
                names.setdefault(_bare(u.name), u)
            hit = difflib.get_close_matches(_bare(name), list(names), n=1, cutoff=0.85)
            if hit:
                u = names[hit[0]]
                return _("; did you mean {code} ({name}, province {province})?").format(
                    code=u.code, name=u.name, province=u.province_code)
        codes = {u.code: u for u in pool}
        hit = difflib.get_close_matches(code, list(codes), n=1, cutoff=0.8)
        if hit:
            u = codes[hit[0]]
            return _("; did you mean {code} ({name})?").format(code=u.code, name=u.name)
        return ""

    def __len__(self) -> int:
        return len(self.units)


def _fold(s: str) -> str:
    return " ".join(unicodedata.normalize("NFC", s).lower().split())


TYPE_WORDS = ("thị trấn", "phường", "đặc khu", "xã")


def _bare(name: str) -> str:
    """A unit's name folded, without its type word: 'Thị trấn Mộc Châu' → 'mộc châu'."""
    s = _fold(name)
    for t in TYPE_WORDS:
        if s.startswith(t + " "):
            return s[len(t) + 1:]
    return s


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
    return UnitList(N_("the official list in force since 1 July 2025 (vietnam-provinces {version}: "
                       "{provinces} provinces, {units} units)"), units, provinces,
                    title_args={"version": version, "provinces": len(provinces), "units": len(units)})


DATA = Path(__file__).resolve().parents[2] / "data"
PRE_REFORM_FILE = DATA / "units-2024.csv.gz"


@lru_cache(maxsize=1)
def pre_reform() -> UnitList:
    """The last list in force before 1 July 2025 (63 provinces, 696 districts, 10,051 units), from
    the data file shipped with lanhmanh; loaded on first use, then kept."""
    sidecar = PRE_REFORM_FILE.with_suffix("").with_suffix(".json")
    if not (PRE_REFORM_FILE.is_file() and sidecar.is_file()):
        raise FileNotFoundError(_("{path} or {sidecar} is missing: this installation lacks lanhmanh's package "
                                  "data (the list of units before the 2025 reform)").format(
                                      path=PRE_REFORM_FILE, sidecar=sidecar.name))
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    payload = PRE_REFORM_FILE.read_bytes()
    if hashlib.sha256(payload).hexdigest() != meta["sha256"]:
        raise ValueError(_("{path} does not match the sha256 in {sidecar}: the file is damaged; "
                           "rebuild it with tools/build_unit_lists.py").format(
                               path=PRE_REFORM_FILE, sidecar=sidecar.name))
    with io.TextIOWrapper(gzip.GzipFile(fileobj=io.BytesIO(payload)), encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        next(reader)  # province_code, province_name, district_code, district_name, unit_code, unit_name, unit_type
        provinces: dict[str, str] = {}
        districts: dict[str, District] = {}
        units: list[AdminUnit] = []
        for pcode, pname, dcode, dname, code, name, utype in reader:
            provinces[pcode] = pname
            if dcode not in districts:
                districts[dcode] = District(dcode, dname, pcode)
            if code:
                units.append(AdminUnit(code, name, utype, pcode, dcode))
    src = meta["source"]
    return UnitList(N_("the last official list before the 1 July 2025 reform ({package} {version}, data of "
                       "{data_version}: {provinces} provinces, {districts} districts, {units} units)"),
                    units, provinces, districts.values(),
                    title_args={"package": src["package"], "version": src["version"],
                                "data_version": src["data_version"], "provinces": len(provinces),
                                "districts": len(districts), "units": len(units)})


def from_csv(path: Path) -> UnitList:
    """A list given as CSV: unit_code, unit_name, unit_type, province_code[, province_name]
    [, district_code[, district_name]]: with a district_code column, the list has districts."""
    text = Path(path).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    need = {"unit_code", "unit_name", "unit_type", "province_code"}
    if not need <= set(reader.fieldnames or ()):
        raise ValueError(_("{path}: a unit list needs the columns {columns}").format(
            path=path, columns=", ".join(sorted(need))))
    with_districts = "district_code" in (reader.fieldnames or ())
    units: list[AdminUnit] = []
    provinces: dict[str, str] = {}
    districts: dict[str, District] = {}
    for i, row in enumerate(reader, start=2):
        try:
            code = f"{int(row['unit_code']):05d}"
            pcode = f"{int(row['province_code']):02d}"
            dcode = f"{int(row['district_code']):03d}" if with_districts else None
        except (TypeError, ValueError):
            if with_districts:
                message = _("{path}: row {row}: unit_code, province_code and district_code must be numbers")
            else:
                message = _("{path}: row {row}: unit_code and province_code must be numbers")
            raise ValueError(message.format(path=path, row=i)) from None
        units.append(AdminUnit(code, unicodedata.normalize("NFC", row["unit_name"].strip()),
                               unicodedata.normalize("NFC", row["unit_type"].strip().lower()), pcode, dcode))
        provinces.setdefault(pcode, (row.get("province_name") or "").strip() or pcode)
        if dcode is not None and dcode not in districts:
            dname = unicodedata.normalize("NFC", (row.get("district_name") or "").strip()) or dcode
            districts[dcode] = District(dcode, dname, pcode)
    return UnitList(N_("the unit list {path}"), units, provinces, districts.values(), title_args={"path": str(path)})


class UnitLists:
    """Which list applies to a batch year: `fixed` for every year, or the official list by date.
    `year` is the batch year given on the command line (--year): the year of rows that give none."""

    def __init__(self, fixed: Optional[UnitList] = None, year: Optional[int] = None):
        self.fixed = fixed
        self.year = year

    def for_year(self, year: Optional[int]) -> UnitList:
        if self.fixed is not None:
            return self.fixed
        year = year if year is not None else self.year
        return current() if uses_current_list(year) else pre_reform()


def uses_current_list(year: Optional[int]) -> bool:
    """Whether a batch year is assessed against the list in force since the reform: the units as
    they stand on the last day of its period (14 December), so 2025 and later; no year: today's."""
    return year is None or dt.date(year, 12, 14) >= REFORM
