"""Checking submitted rows against a pack's vocabulary: types, bounds, cross-field rules, identity.

A row is either a `Unit` ready to score or a list of rejections (file, row, column, value,
reason). Nothing is dropped silently: unknown columns become warnings and are kept with the unit.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Optional, Union

from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from lanhmanh.engine.evaluation.python_backend import eval_bool
from lanhmanh.engine.language.nodes import names_in
from lanhmanh.engine.language.problems import did_you_mean
from lanhmanh.engine.model.admin_units import current
from lanhmanh.engine.model.pack import Constraint, Indicator, Level, Pack, ratio_of

IDENTITY = ("unit_code", "unit_name", "unit_type", "province_code", "district_code", "year")
# the Vietnamese headings of the identity columns, as templates and scorecards write them
IDENTITY_LABELS = {"unit_code": "Mã đơn vị", "unit_name": "Tên đơn vị", "unit_type": "Loại đơn vị",
                   "province_code": "Mã tỉnh", "district_code": "Mã huyện", "year": "Năm đánh giá"}
COMMUNE_TYPES = ("xã", "phường", "đặc khu", "thị trấn")
PROVINCE_TYPES = ("tỉnh", "thành phố")
TRUE_WORDS = {"true", "1", "có", "x", "yes", "đúng", "c"}
FALSE_WORDS = {"false", "0", "không", "no", "sai", "k", ""}


@dataclass
class Rejection:
    path: str
    row: Optional[int]  # None: the whole file could not be read
    column: str
    value: Any
    reason: str
    sheet: Optional[str] = None  # workbook inputs: the sheet and the cell ("E7") as Excel shows them
    cell: Optional[str] = None
    unit_code: Optional[str] = None  # the row's unit code, when it could be read

    def as_dict(self) -> dict:
        d = {"path": self.path, "row": self.row, "column": self.column,
             "value": _jsonable(self.value), "reason": self.reason}
        if self.sheet is not None:
            d["sheet"], d["cell"] = self.sheet, self.cell
        return d

    def where(self) -> str:
        if self.row is None:  # the whole file (or sheet)
            return self.path + (f", sheet {self.sheet!r}" if self.sheet is not None else "")
        if self.sheet is not None:
            return f"{self.path}, sheet {self.sheet!r}, cell {self.cell or f'row {self.row}'}"
        return f"{self.path}: row {self.row}"


@dataclass
class RowWarning:
    path: str
    row: Optional[int]
    column: Optional[str]
    message: str
    sheet: Optional[str] = None
    cell: Optional[str] = None
    value: Any = None  # a plausibility warning: the value of the cell it names
    check: Optional[str] = None  # and the id of the `severity: warning` constraint the row breaks

    def as_dict(self) -> dict:
        d = {"path": self.path, "row": self.row, "column": self.column, "message": self.message}
        if self.sheet is not None:
            d["sheet"], d["cell"] = self.sheet, self.cell
        if self.check is not None:
            d["check"], d["value"] = self.check, _jsonable(self.value)
        return d


@dataclass
class Unit:
    """One validated commune (or province row): identity, typed indicator values, provenance."""
    code: str
    name: str
    type: str
    province_code: str
    year: Optional[int]
    values: dict[str, Any]  # indicator id → int | Decimal | bool | None (blank optional)
    path: str = ""
    row: int = 0
    district_code: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)
    sheet: Optional[str] = None  # the sheet of a workbook input


def period_end(year: int):
    """The last day of a batch year's assessment period (15 Dec of the year before to 14 Dec)."""
    return dt.date(year, 12, 14)


def nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)


def _jsonable(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v
    return str(v)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


class CellError(ValueError):
    pass


def parse_value(ind: Indicator, raw: Any) -> Any:
    """A cell → int | Decimal | bool | None (blank). Raises CellError with a reason in Vietnamese+English."""
    if ind.type == "boolean":
        if isinstance(raw, bool):
            return raw
        if isinstance(raw, int) and raw in (0, 1):
            return bool(raw)
        if raw is None:
            return None if not ind.required else False
        word = nfc(str(raw)).strip().lower()
        if word == "" and not ind.required:
            return None
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise CellError("not a yes/no value (use có/không, true/false, 1/0, x/blank)")
    if _blank(raw):
        if ind.required:
            raise CellError("missing value (required)")
        return None
    value: Union[int, Decimal]
    if ind.type == "integer":
        value = _to_int(raw)
    else:
        value = _to_decimal(raw, ind.decimals)
    if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        raise CellError(f"implausibly large (more than {MAX_MAGNITUDE:,})".replace(",", "."))
    if ind.min is not None and value < ind.min:
        raise CellError(f"below the minimum {ind.min}" if ind.min != 0 else "negative (must be ≥ 0)")
    if ind.max is not None and value > ind.max:
        raise CellError(f"above the maximum {ind.max}")
    return value


MAX_MAGNITUDE = 10 ** 12  # no commune counts a trillion of anything; keeps exact int64 arithmetic safe
_INT_RE = re.compile(r"^[+-]?\d+$")
# "3.000" is three thousand in a Vietnamese sheet and three in an English one: never guess
_GROUPED_RE = re.compile(r"^[+-]?[1-9]\d{0,2}([.,]\d{3})+$")
AMBIGUOUS = "ambiguous: a dot or comma before exactly three digits may be a thousands separator; " \
            "write the number without separators"


def _to_int(raw: Any) -> int:
    if isinstance(raw, bool):
        raise CellError("true/false where a whole number is expected")
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise CellError("not a whole number")
    if isinstance(raw, Decimal):
        if raw == raw.to_integral_value():
            return int(raw)
        raise CellError("not a whole number")
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if _GROUPED_RE.match(text):
        raise CellError(AMBIGUOUS)
    if _INT_RE.match(text):
        return int(text)
    if re.match(r"^[+-]?\d+\.0+$", text):
        return int(text.split(".")[0])
    raise CellError("not a whole number")


def _to_decimal(raw: Any, places: int) -> Decimal:
    if isinstance(raw, bool):
        raise CellError("true/false where a number is expected")
    if isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    else:
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
        if _GROUPED_RE.match(text):
            raise CellError(f"more than {places} decimal places, or {AMBIGUOUS}")
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # Vietnamese decimal comma: 750,5
        if not re.match(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", text):
            raise CellError("not a number")
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise CellError("not a number") from None
    if not value.is_finite():
        raise CellError("not a number")
    exp = value.normalize().as_tuple().exponent
    if isinstance(exp, int) and -exp > places:
        raise CellError(f"more than {places} decimal places")
    return value


class Validator:
    """Validates rows for one pack; remembers unit codes across files to catch duplicates."""

    def __init__(self, pack: Pack, units=None):
        """`units`: the official lists of administrative units (admin_units.UnitLists) that codes,
        types, provinces and names are checked against; None checks nothing."""
        self.pack = pack
        self.units = units
        self.level: Level = pack.commune
        self.province_inds: dict[str, Indicator] = {}
        if pack.province is not None:
            self.province_inds = {k: v for k, v in pack.province.indicators.items()
                                  if k not in pack.province.summed}
        self.seen: dict[str, tuple[str, int]] = {}
        self.province_seen: dict[str, tuple[str, int]] = {}
        self.by_label: dict[str, str] = {}
        for ind in list(self.level.indicators.values()) + list(self.province_inds.values()):
            self.by_label[_fold_header(ind.label)] = ind.id
            if ind.unit:  # the template heads a column "label (unit)"
                self.by_label.setdefault(_fold_header(f"{ind.label} ({ind.unit})"), ind.id)
        for ident, label in IDENTITY_LABELS.items():
            self.by_label.setdefault(_fold_header(label), ident)
        self.known = set(self.level.indicators) | set(self.province_inds) | set(IDENTITY)
        self.rejected: list[Rejection] = []
        self.warnings: list[RowWarning] = []
        self.years_warned: set = set()
        self.years_read: set[int] = set()  # the valid years of every row read, rejected rows included

    def knows(self, header: Any) -> bool:
        """Whether a header cell names a column of this pack (id, identity column or label)."""
        if header is None:
            return False
        key = nfc(str(header)).strip()
        return key in self.known or key.lower() in self.known or _fold_header(key) in self.by_label

    def header_map(self, path: str, headers: list[str], sheet: Optional[str] = None,
                   cells: Optional[dict[str, str]] = None) -> dict[str, str]:
        """Column header → id (indicator id, identity column, or itself when unknown, with a warning).
        Raises ValueError when two columns name the same indicator: which one is meant is unknowable.
        For a workbook, `sheet` and `cells` (header → its cell, "E3") locate the warnings."""
        known = self.known
        out: dict[str, str] = {}
        first: dict[str, str] = {}  # id → the header that gave it
        unknown: list[tuple[str, Any]] = []
        for h in headers:
            if h is None:
                continue
            key = nfc(str(h)).strip()
            if key in known:
                ident = key
            elif _fold_header(key) in self.by_label:
                ident = self.by_label[_fold_header(key)]
            elif key.lower() in known:
                ident = key.lower()
            else:
                ident = key
                if key:
                    unknown.append((key, h))
            if ident and ident in first:
                raise ValueError(f"columns {first[ident]!r} and {key!r} both give {ident!r}; keep one")
            first[ident] = key
            out[h] = ident
        for key, h in unknown:
            self.warnings.append(RowWarning(path, None, key, f"unknown column {key!r} is kept with "
                                          f"the results but not scored{did_you_mean(key, known)}",
                                          sheet, (cells or {}).get(h)))
        return out

    def row(self, path: str, rowno: int, record: dict[str, Any], sheet: Optional[str] = None,
            letters: Optional[dict[str, str]] = None) -> Optional[Unit]:
        """Validate one row already keyed by column ids. Returns a Unit, or None when rejected.
        For a workbook, `sheet` and `letters` (column id → column letter) let every rejection and
        warning name its cell."""
        bad: list[Rejection] = []

        def cell(col: Optional[str]) -> Optional[str]:
            if sheet is None:
                return None
            letter = (letters or {}).get(col or "")
            if letter is None and col and col.startswith("(column ") and col[8:-1].isdigit():
                letter = get_column_letter(int(col[8:-1]))
            return f"{letter}{rowno}" if letter else f"row {rowno}"

        def reject(col: str, value: Any, reason: str) -> None:
            bad.append(Rejection(path, rowno, col, value, reason, sheet, cell(col)))

        def warn(col: Optional[str], message: str, value: Any = None, check: Optional[str] = None) -> None:
            self.warnings.append(RowWarning(path, rowno, col, message, sheet, cell(col), value, check))

        utype_raw = record.get("unit_type")
        utype = nfc(str(utype_raw)).strip().lower() if not _blank(utype_raw) else ""
        is_province = utype in PROVINCE_TYPES
        if not is_province and utype not in COMMUNE_TYPES:
            reject("unit_type", utype_raw, "unknown unit type (xã, phường, đặc khu, thị trấn; or tỉnh / "
                                           "thành phố for a province row)" if utype else "missing unit type")
        pcode = _code(record.get("province_code"), 2)
        if pcode is None:
            reject("province_code", record.get("province_code"), "province_code must be a code of 1–2 digits")
        code = _code(record.get("unit_code"), 5)
        if is_province:
            if not _blank(record.get("unit_code")) and code != (pcode.zfill(5) if pcode else None) and \
                    _code(record.get("unit_code"), 2) != pcode:
                reject("unit_code", record.get("unit_code"), "a province row's unit_code is blank or the province code")
            code = pcode or ""
        elif code is None:
            reject("unit_code", record.get("unit_code"), "unit_code must be the official code of 1–5 digits")
        name = record.get("unit_name")
        if _blank(name):
            reject("unit_name", name, "missing unit name")
        year = None
        if not _blank(record.get("year")):
            try:
                year = _to_int(record.get("year"))
                if not 2000 <= year <= 2100:
                    raise CellError("")
            except CellError:
                reject("year", record.get("year"), "year must be a year such as 2025")
        district = None
        if not _blank(record.get("district_code")):
            district = _code(record.get("district_code"), 3)
            if district is None:
                reject("district_code", record.get("district_code"),
                       "district_code must be a district code of 1–3 digits (or blank)")
        if year is not None:
            self.years_read.add(year)
        if year is not None and (path, year) not in self.years_warned:
            self.years_warned.add((path, year))
            end = period_end(year)
            pack = self.pack
            if pack.effective_from > end or (pack.effective_to is not None and pack.effective_to < end):
                warn("year", (
                    f"pack {pack.id} {pack.version} is in force from {pack.effective_from}"
                    + (f" to {pack.effective_to}" if pack.effective_to else "")
                    + f", not on {end}, the last day of the {year} assessment period: rows of year {year} "
                      "are scored with it anyway; check --rules"))

        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        inds = self.province_inds if is_province else self.level.indicators
        for col, raw in record.items():
            if col in IDENTITY:
                continue
            if col.startswith("(column ") and not _blank(raw):
                reject(col, raw, "a value beyond the last headed column" +
                       (": add a heading or move the value" if sheet else " (a shifted row or an unquoted comma?)"))
                continue
            ind = inds.get(col)
            if ind is None:
                if is_province and col in self.level.indicators and self.level.indicators[col].numeric:
                    ind = self.level.indicators[col]  # a province-level figure overriding the sum
                    if _blank(raw):
                        continue
                elif not is_province and col in self.province_inds:
                    if not _blank(raw):
                        warn(col, "a province indicator on a commune row is ignored")
                    continue
                elif is_province and col in self.level.indicators:
                    continue
                else:
                    extra[col] = raw
                    continue
            try:
                values[col] = parse_value(ind, raw)
            except CellError as e:
                reject(col, raw, str(e))
        for ind in inds.values():
            if ind.id not in values and ind.id not in record:
                if ind.required and not is_province:
                    reject(ind.id, None, "column missing (required)")
                else:
                    values[ind.id] = None if ind.type != "boolean" or not ind.required else False
        soft: list[tuple[str, str, Any, str]] = []  # plausibility warnings, given once the row is accepted
        if not bad:
            soft = self._cross_checks(values, reject, is_province)
        if code and not bad:
            seen = self.province_seen if is_province else self.seen
            if code in seen:
                p0, r0 = seen[code]
                reject("unit_code", record.get("unit_code") or code,
                       f"duplicate unit_code: already given in {p0} row {r0}")
            else:
                seen[code] = (path, rowno)
        if bad or code is None or pcode is None:  # a missing code has been rejected
            self._reject_row(bad, code)
            return None
        unit = Unit(code=code, name=nfc(str(name)).strip(), type=utype, province_code=pcode, year=year,
                    values=values, path=path, row=rowno, district_code=district, extra=extra, sheet=sheet)
        if self.units is not None:
            self._check_official(unit, record, reject, warn)
            if bad:
                self._reject_row(bad, code)
                if code:
                    (self.province_seen if is_province else self.seen).pop(code, None)
                return None
        for col, message, value, check in soft:
            warn(col, message, value, check)
        return unit

    def _reject_row(self, bad: list[Rejection], code: Optional[str]) -> None:
        for r in bad:
            r.unit_code = code
        self.rejected.extend(bad)

    def _check_official(self, unit: Unit, record: dict, reject, warn) -> None:
        """The row's code, type, province, name and (before the reform) district against the
        official list for its year."""
        unit_list = self.units.for_year(unit.year)
        if unit.type not in PROVINCE_TYPES and not unit_list.has_districts and unit.district_code is not None:
            self._set_aside_district(unit, unit_list, warn)
        if unit.type in PROVINCE_TYPES:
            prov = unit_list.province(unit.province_code)
            if prov is None:
                reject("province_code", record.get("province_code"),
                       f"no province {unit.province_code} in {unit_list.title}")
            return
        official = unit_list.get(unit.code)
        if official is None:
            reject("unit_code", record.get("unit_code"), f"no commune-level unit {unit.code} in {unit_list.title}"
                   + unit_list.suggest(unit.code, unit.name, unit.province_code))
            return
        if official.province_code != unit.province_code:
            reject("province_code", record.get("province_code"),
                   f"unit {unit.code} ({official.name}) belongs to province {official.province_code} "
                   f"({unit_list.province(official.province_code)}), not {unit.province_code}")
        if official.type != unit.type:
            reject("unit_type", record.get("unit_type"),
                   f"unit {unit.code} ({official.name}) is a {official.type}, not a {unit.type}")
        if not _same_name(official.name, unit.name, official.type):
            warn("unit_name", f"unit {unit.code} is named {official.name!r} in {unit_list.title}, not {unit.name!r}: "
                              "check the row (it is scored under the name given)")
        if unit_list.has_districts:
            self._check_district(unit, official, unit_list, record, reject)

    @staticmethod
    def _check_district(unit: Unit, official, unit_list, record: dict, reject) -> None:
        """Before the reform every unit lies in a district: a district_code given must be the
        unit's; a blank one is filled from the list, so that the unit carries its district."""
        if official.district_code is None:
            return
        if unit.district_code is None:
            unit.district_code = official.district_code
        elif unit.district_code != official.district_code:
            given = unit_list.district(unit.district_code)
            reject("district_code", record.get("district_code"),
                   f"unit {unit.code} ({official.name}) lies in district {official.district_code} "
                   f"({unit_list.district_name(official.district_code)}), not {unit.district_code}"
                   + (f" ({given.name}, province {given.province_code})" if given is not None
                      else f": there is no district {unit.district_code} in {unit_list.title}"))

    def _set_aside_district(self, unit: Unit, unit_list, warn) -> None:
        """A list without districts (the one in force since 1 July 2025, when district-level
        government was abolished): a district_code is neither checked nor used; it is kept with the
        unit's other unknown columns (`extra`) and the file is warned once."""
        unit.extra["district_code"] = unit.district_code
        unit.district_code = None
        key = ("district-ignored", unit.path)
        if key not in self.years_warned:
            self.years_warned.add(key)
            why = " (district-level units were abolished on 1 July 2025)" if unit_list is current() else ""
            warn("district_code", f"{unit_list.title} has no districts{why}: the district_code column is "
                                  "neither checked nor used; it is kept with the results")

    def _cross_checks(self, values: dict, reject, is_province: bool = False) -> list[tuple[str, str, Any, str]]:
        """The pack's constraints over one row: a broken `severity: error` rejects the row; a
        broken `severity: warning` (plausibility) gives a warning naming the cell of the
        constraint's first indicator with its value: returned as (column, message, value, id), to be
        given when the row is accepted. A constraint reading a value the row does not give (a blank
        optional indicator; on a province row, a figure left to the communes' sum) is skipped."""
        soft = []
        for c in self.level.constraints + self.level.soft_constraints:
            reads = self._reads(c, values)
            if reads is None or eval_bool(c.cond, values, self.level):
                continue
            first = c.first
            if c.severity == "error":
                reject(first, values.get(first), f"{c.message} ({c.text})")
            else:
                figures = ", ".join(f"{n} = {_shown(values[n])}" for n in reads)
                soft.append((first, f"column {first}, value {_shown(values.get(first))}: {c.message} "
                                    f"({c.text}; {figures}; plausibility check {c.id}: the row is scored "
                                    "as given)", values.get(first), c.id))
        if not is_province:
            for d in self.level.derived.values():
                if d.zero == "reject":
                    r = ratio_of(values, d.num, d.den)
                    if r is not None and r[1] == 0:
                        col = d.den[0]
                        reject(col, values.get(col), f"{d.id} = {d.text} has a zero denominator")
        return soft


    def _reads(self, c: Constraint, values: dict) -> Optional[list[str]]:
        """The indicators a constraint reads (a derived value: those of its rate), or None when one
        is not given, or a rate it reads has a zero denominator that is not a number (a `reject`
        rate is rejected by its own check; an `unknown` one cannot be compared)."""
        out: dict[str, None] = {}
        for name in _names(c.cond):
            d = self.level.derived.get(name)
            if d is not None:
                r = ratio_of(values, d.num, d.den)
                if r is None or (r[1] == 0 and isinstance(d.zero, str)):
                    return None
                out.update(dict.fromkeys(d.reads))
            elif values.get(name) is None:
                return None
            else:
                out[name] = None
        return list(out)


def _names(node):
    return [n.id for n in names_in(node)]


def _shown(v: Any) -> str:
    """A value in a message: numbers as written, without quotes."""
    return str(v) if isinstance(v, (int, Decimal)) and not isinstance(v, bool) else repr(v)


def _code(raw: Any, width: int) -> Optional[str]:
    if _blank(raw) or isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        if not raw.is_integer():
            return None
        raw = int(raw)
    text = str(raw).strip()
    if not text.isdigit() or len(text) > width:
        return None
    return text.zfill(width)


def _same_name(official: str, given: str, utype: str) -> bool:
    """'Phường Thành Vinh' matches 'Thành Vinh' and 'phường thành vinh' (case, spacing, the type word)."""
    def fold(s: str) -> str:
        s = re.sub(r"\s+", " ", nfc(s)).strip().lower()
        for t in (utype,) + COMMUNE_TYPES:
            if s.startswith(t + " "):
                return s[len(t) + 1:]
        return s
    return fold(official) == fold(given)


def _fold_header(s: str) -> str:
    s = nfc(s).lower()
    s = re.sub(r"\s*\([^)]*\)\s*$", "", s)  # "Số nhân khẩu (người)" → label without unit
    return re.sub(r"\s+", " ", s).strip()

