"""Checking submitted rows against a pack's vocabulary: types, bounds, cross-field rules, identity.

A row is either a `Unit` ready to score or a list of rejections (file, row, column, value,
reason). Nothing is dropped silently: unknown columns become warnings and are kept with the unit.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Context, Decimal, InvalidOperation, localcontext
from typing import Any, Callable, Optional, Union

from lanhmanh.engine.evaluation import forked
from lanhmanh.engine.evaluation.headings import IDENTITY, MISSING_COLUMN, fold_header
from lanhmanh.engine.evaluation.python_backend import Compiler, prepare
from lanhmanh.engine.language.nodes import names_in
from lanhmanh.engine.language.problems import did_you_mean
from lanhmanh.engine.model.admin_units import current
from lanhmanh.engine.model.pack import Constraint, Indicator, Level, Pack, ratio_of
from lanhmanh.i18n import N_, _, language

# the Vietnamese headings of the identity columns, as templates and scorecards write them
_IDENTITY_SET = frozenset(IDENTITY)
IDENTITY_LABELS = {"unit_code": "Mã đơn vị", "unit_name": "Tên đơn vị", "unit_type": "Loại đơn vị",
                   "province_code": "Mã tỉnh", "district_code": "Mã huyện", "year": "Năm đánh giá"}
COMMUNE_TYPES = ("xã", "phường", "đặc khu", "thị trấn")
PROVINCE_TYPES = ("tỉnh", "thành phố")
TRUE_WORDS = {"true", "1", "có", "x", "yes", "đúng", "c"}
FALSE_WORDS = {"false", "0", "không", "no", "sai", "k", ""}


class BadValue(str):
    """A cell a reader could not take as it stands (a formula never calculated, a number beyond
    the limits): its text as the user typed it, with the reason the validator rejects it for."""
    reason: str

    def __new__(cls, text: str, reason: str) -> "BadValue":
        obj = super().__new__(cls, shorten(text))
        obj.reason = reason
        return obj

    def __reduce__(self):  # pickled as it is (a forked validator sends its rejections back)
        return _bad_value, (str(self), self.reason)


def _bad_value(text: str, reason: str) -> BadValue:
    obj = str.__new__(BadValue, text)
    obj.reason = reason
    return obj


SHOWN_CHARS = 60  # a value longer than this is shortened in messages and the JSON


def shorten(text: str) -> str:
    """A long text as its start and its length ("1111…(5000 characters)")."""
    if len(text) <= SHOWN_CHARS:
        return text
    return _("{start}…({n} characters)").format(start=text[:SHOWN_CHARS // 2], n=len(text))


def shown(v: Any) -> str:
    """A value in a message as the user typed it: numbers as written, text in quotes, "blank"."""
    if _blank(v):
        return _("blank")
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int) and v.bit_length() > 200:  # str() of a huge int is slow, then refused
        return _("(a number of about {n} digits)").format(n=int(v.bit_length() * 0.30103))
    if isinstance(v, (int, Decimal)):
        return shorten(str(v))
    return repr(shorten(str(v)))


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
    unit_name: Optional[str] = None  # and its name
    headline: Optional[str] = None  # the first rejection of a table most of whose rows fail: why

    def __post_init__(self) -> None:
        if isinstance(self.value, int) and not isinstance(self.value, bool) and self.value.bit_length() > 200:
            self.value = shown(self.value)  # as the library may hand it over: never str() of a huge int
        elif isinstance(self.value, str) and len(self.value) > SHOWN_CHARS:
            self.value = shorten(self.value)  # a number of thousands of digits, a pasted page

    def as_dict(self) -> dict:
        d = {"path": self.path, "row": self.row, "column": self.column,
             "value": _jsonable(self.value), "reason": self.reason,
             "unit_code": self.unit_code, "unit_name": self.unit_name}
        if self.sheet is not None:
            d["sheet"], d["cell"] = self.sheet, self.cell
        if self.headline is not None:
            d["headline"] = self.headline
        return d

    def line(self) -> str:
        """The rejection as one line of the command line's report: where, (unit), column, value: reason."""
        what = ""
        if self.row is not None:
            what = ", " + _("column {column}").format(column=self.column)
            if self.reason != _(MISSING_COLUMN):
                what += ", " + _("value {value}").format(value=shown(self.value))
        unit = ""
        if self.unit_code and self.row is not None:
            code = self.unit_code + (" " + self.unit_name if self.unit_name else "")
            unit = " (" + _("unit {unit}").format(unit=code) + ")"
        return f"{self.where()}{unit}{what}: {self.reason}"

    def table(self) -> str:
        """The file, or the file and sheet, the rejection is in."""
        if self.sheet is None:
            return self.path
        return _("{path}, sheet {sheet}").format(path=self.path, sheet=repr(self.sheet))

    def where(self) -> str:
        if self.row is None:  # the whole file (or sheet)
            return self.table()
        if self.sheet is not None:
            if not self.cell or self.cell.startswith("row "):  # a column the sheet does not have
                return _("{path}, sheet {sheet}, row {row}").format(path=self.path, sheet=repr(self.sheet),
                                                                    row=self.row)
            return _("{path}, sheet {sheet}, cell {cell}").format(path=self.path, sheet=repr(self.sheet),
                                                                  cell=self.cell)
        return _("{path}: row {row}").format(path=self.path, row=self.row)


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
    if isinstance(v, str):
        return str(v)
    if v is None or isinstance(v, (bool, int)):
        return v
    if isinstance(v, float):
        return v
    return str(v)


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and v.strip() == "")


class CellError(ValueError):
    pass


class BlankTable(ValueError):
    """A table whose every row gives no figure: a template not filled in."""

    def __init__(self, n: int):
        super().__init__(_("{n} row(s) have no figures filled in (a blank template?): fill in the figures "
                           "and run again").format(n=n))
        self.n = n


def _spans(rows: list[int]) -> str:
    """Row numbers as spans: "rows 5–134, 140"."""
    spans: list[list[int]] = []
    for r in rows:
        if spans and r == spans[-1][1] + 1:
            spans[-1][1] = r
        else:
            spans.append([r, r])
    text = ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in spans[:10]) + (", …" if len(spans) > 10 else "")
    return (_("rows {rows}") if len(rows) > 1 else _("row {rows}")).format(rows=text)


def parse_value(ind: Indicator, raw: Any) -> Any:
    """A cell → int | Decimal | bool | None (blank). Raises CellError with a reason (in the language in force)."""
    if isinstance(raw, BadValue):
        raise CellError(raw.reason)
    value: Union[int, Decimal]
    if type(raw) is str and ind.type == "integer" and raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS:
        value = int(raw)  # plain ASCII digits, the common cell: as _to_int reads them, checked below
        if value > MAX_MAGNITUDE:
            raise CellError(_too_large())
        return _in_bounds(ind, value)
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
        raise CellError(_("not a yes/no value (use có/không, true/false, 1/0, x/blank)"))
    if _blank(raw):
        if ind.required:
            raise CellError(_("missing value (required)"))
        return None
    if ind.type == "integer":
        value = _to_int(raw)
    else:
        value = _to_decimal(raw, ind.decimals)
    if not -MAX_MAGNITUDE <= value <= MAX_MAGNITUDE:
        raise CellError(_too_large())
    return _in_bounds(ind, value)


def _in_bounds(ind: Indicator, value):
    """`value` when it lies within the indicator's min and max; CellError otherwise."""
    if ind.min is not None and value < ind.min:
        raise CellError(_("below the minimum {min}").format(min=ind.min) if ind.min != 0
                        else _("negative (must be ≥ 0)"))
    if ind.max is not None and value > ind.max:
        raise CellError(_("above the maximum {max}").format(max=ind.max))
    return value


def _too_large() -> str:
    return _("implausibly large (more than {limit})").format(limit=f"{MAX_MAGNITUDE:,}".replace(",", "."))


MAX_MAGNITUDE = 10 ** 12  # no commune counts a trillion of anything; keeps exact int64 arithmetic safe
MAX_DIGITS = 30  # digits in a number as written (leading zeros included); more: the cell is rejected
MAX_EXPONENT = 30  # a number's decimal exponent (1e30, 1e-30); beyond: the cell is rejected
TOO_MANY_DIGITS = N_("a number of more than {n} digits")  # .format(n=MAX_DIGITS), said through _()
OUT_OF_RANGE = N_("a number out of range (beyond 10^±{n})")  # .format(n=MAX_EXPONENT)


def too_many_digits() -> str:
    return _(TOO_MANY_DIGITS).format(n=MAX_DIGITS)


def out_of_range() -> str:
    return _(OUT_OF_RANGE).format(n=MAX_EXPONENT)


def number_problem(text: str) -> Optional[str]:
    """Why a number as written is beyond the limits (digits, exponent), or None. Cheap on any
    text: nothing is converted."""
    m = _NUMBER_LIKE.match(text)
    if m is None:
        return None  # not a number at all: the caller says so
    exp = m.group(2)
    if exp and (len(exp) > 4 or abs(int(exp)) > MAX_EXPONENT):
        return out_of_range()
    return too_many_digits() if sum(1 for c in m.group(1) if c.isdigit()) > MAX_DIGITS else None


_NUMBER_LIKE = re.compile(r"^[+-]?([\d.,]*\d[\d.,]*)(?:[eE]([+-]?\d+))?$")


def _decimal_problem(d: Decimal) -> Optional[str]:
    if not d.is_finite():
        return _("not a number")
    if len(d.as_tuple().digits) > MAX_DIGITS:
        return too_many_digits()
    if abs(d.adjusted()) > MAX_EXPONENT:
        return out_of_range()
    return None


def canonical(d: Decimal) -> Decimal:
    """A decimal value as every input format shows it: no trailing zeros ("0.00" in a CSV and 0
    in a workbook are both "0"; "12.70" is "12.7"), never an exponent."""
    if d == 0:
        return Decimal(0)
    with localcontext(Context(prec=2 * MAX_DIGITS)):  # exact: never rounded to 28 digits
        n = d.normalize()
    exp = n.as_tuple().exponent
    return Decimal(int(n)) if isinstance(exp, int) and exp > 0 else n
_INT_RE = re.compile(r"^[+-]?\d+$")
# "3.000" is three thousand in a Vietnamese sheet and three in an English one: never guess
_GROUPED_RE = re.compile(r"^[+-]?[1-9]\d{0,2}([.,]\d{3})+$")
AMBIGUOUS = N_("ambiguous: a dot or comma before exactly three digits may be a thousands separator; "
              "write the number without separators")


def cell_year(raw: Any) -> Optional[int]:
    """The year a `year` cell gives, as a row's validation takes it (2000–2100); None otherwise."""
    if _blank(raw):
        return None
    try:
        year = _to_int(raw)
    except CellError:
        return None
    return year if 2000 <= year <= 2100 else None


def _to_int(raw: Any) -> int:
    if type(raw) is str and raw.isascii() and raw.isdigit() and len(raw) <= MAX_DIGITS:
        return int(raw)  # plain ASCII digits, the common cell: what the checks below would give
    if isinstance(raw, bool):
        raise CellError(_("true/false where a whole number is expected"))
    if isinstance(raw, int):
        return raw
    if isinstance(raw, float):
        if raw.is_integer():
            return int(raw)
        raise CellError(_("not a whole number"))
    if isinstance(raw, Decimal):
        problem = _decimal_problem(raw)
        if problem:
            raise CellError(problem)
        if raw == raw.to_integral_value():
            return int(raw)
        raise CellError(_("not a whole number"))
    text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
    if _GROUPED_RE.match(text):
        raise CellError(_(AMBIGUOUS))
    problem = number_problem(text)
    if problem:
        raise CellError(problem)
    if _INT_RE.match(text):
        return int(text)
    if re.match(r"^[+-]?\d+\.0+$", text):
        return int(text.split(".")[0])
    raise CellError(_("not a whole number"))


_DECIMALS: dict[tuple[str, int, str], Union[Decimal, str]] = {}  # (text, places, language) → value, or why not
_MAX_DECIMALS = 4096  # texts remembered; past it, forgotten


def _to_decimal(raw: Any, places: int) -> Decimal:
    """A cell as a Decimal with at most `places` decimals (canonical: no trailing zeros). The
    answer for a text depends on nothing else, so each distinct text is worked out once."""
    if type(raw) is not str:
        return _read_decimal(raw, places)
    key = (raw, places, language())
    known = _DECIMALS.get(key)
    if known is None:
        try:
            known = _read_decimal(raw, places)
        except CellError as e:
            known = str(e)
        if len(_DECIMALS) >= _MAX_DECIMALS:
            _DECIMALS.clear()
        _DECIMALS[key] = known
    if isinstance(known, str):
        raise CellError(known)
    return known


def _read_decimal(raw: Any, places: int) -> Decimal:
    if isinstance(raw, bool):
        raise CellError(_("true/false where a number is expected"))
    if isinstance(raw, (int, Decimal)):
        value = Decimal(raw)
    else:
        text = str(raw).strip().replace("\u00a0", "").replace(" ", "")
        problem = number_problem(text)
        if problem:
            raise CellError(problem)
        if _GROUPED_RE.match(text):
            raise CellError(_("more than {places} decimal places, or ambiguous: a dot or comma before exactly "
                              "three digits may be a thousands separator; write the number without "
                              "separators").format(places=places))
        if "," in text and "." not in text and text.count(",") == 1:
            text = text.replace(",", ".")  # Vietnamese decimal comma: 750,5
        if not re.match(r"^[+-]?(\d+(\.\d*)?|\.\d+)$", text):
            raise CellError(_("not a number"))
        try:
            value = Decimal(text)
        except InvalidOperation:
            raise CellError(_("not a number")) from None
    problem = _decimal_problem(value)
    if problem:
        raise CellError(problem)
    with localcontext(Context(prec=2 * MAX_DIGITS)):
        exp = value.normalize().as_tuple().exponent
    if isinstance(exp, int) and -exp > places:
        raise CellError(_("more than {places} decimal places").format(places=places))
    return canonical(value)


MAX_UNKNOWN_LISTED = 5  # unknown columns of a file warned one by one; more: one warning naming the first


@dataclass
class _Findings:
    """What a forked copy of a Validator found in its rows (Validator._findings)."""
    units: list[Unit]
    rejected: list[Rejection]
    warnings: list[RowWarning]
    seen: dict[str, tuple[str, int]]
    province_seen: dict[str, tuple[str, int]]
    years_read: set[int]
    years_warned: set


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
            self.by_label[fold_header(ind.label)] = ind.id
            if ind.unit:  # the template heads a column "label (unit)"
                self.by_label.setdefault(fold_header(f"{ind.label} ({ind.unit})"), ind.id)
        for ident, label in IDENTITY_LABELS.items():
            self.by_label.setdefault(fold_header(label), ident)
        self.known = set(self.level.indicators) | set(self.province_inds) | set(IDENTITY)
        self.rejected: list[Rejection] = []
        self.warnings: list[RowWarning] = []
        self.years_warned: set = set()
        self.years_read: set[int] = set()  # the valid years of every row read, rejected rows included
        self._check_plan: Optional[_CheckPlan] = None  # the constraints, prepared once (_plan)

    def knows(self, header: Any) -> bool:
        """Whether a header cell names a column of this pack (id, identity column or label)."""
        if header is None:
            return False
        key = nfc(str(header)).strip()
        return key in self.known or key.lower() in self.known or fold_header(key) in self.by_label

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
            elif fold_header(key) in self.by_label:
                ident = self.by_label[fold_header(key)]
            elif key.lower() in known:
                ident = key.lower()
            else:
                ident = key
                if key:
                    unknown.append((key, h))
            if ident and ident in first:
                raise ValueError(_("columns {first} and {second} both give {id}; keep one").format(
                    first=repr(first[ident]), second=repr(key), id=repr(ident)))
            first[ident] = key
            out[h] = ident
        if len(unknown) > MAX_UNKNOWN_LISTED:  # one warning, not one per column (another pack's file)
            names = ", ".join(repr(shorten(k)) for k, _h in unknown[:MAX_UNKNOWN_LISTED])
            self.warnings.append(RowWarning(path, None, None, _("{n} unknown columns ({names}, …) are kept with "
                                                                "the results but not scored").format(
                                                                    n=len(unknown), names=names), sheet))
            return out
        for key, h in unknown:
            text = _("unknown column {column} is kept with the results but not scored").format(column=repr(key))
            self.warnings.append(RowWarning(path, None, key, text + did_you_mean(key, known),
                                          sheet, (cells or {}).get(h)))
        return out

    def row(self, path: str, rowno: int, record: dict[str, Any], sheet: Optional[str] = None,
            letters: Optional[dict[str, str]] = None) -> Optional[Unit]:
        """Validate one row already keyed by column ids. Returns a Unit, or None when rejected.
        For a workbook, `sheet` and `letters` (column id → column letter) let every rejection and
        warning name its cell."""
        bad: list[Rejection] = []
        said: set[str] = set()  # identity columns rejected for a BadValue: said once

        def cell(col: Optional[str]) -> Optional[str]:
            if sheet is None:
                return None
            letter = (letters or {}).get(col or "")
            if letter is None and col and col.startswith("(column ") and col[8:-1].isdigit():
                # imported here: openpyxl (and numpy, which it loads) costs start-up on every run
                from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
                letter = get_column_letter(int(col[8:-1]))
            return f"{letter}{rowno}" if letter else f"row {rowno}"

        def reject(col: str, value: Any, reason: str) -> None:
            if col not in said:
                bad.append(Rejection(path, rowno, col, value, reason, sheet, cell(col)))

        def warn(col: Optional[str], message: str, value: Any = None, check: Optional[str] = None) -> None:
            self.warnings.append(RowWarning(path, rowno, col, message, sheet, cell(col), value, check))

        for col in IDENTITY:
            raw = record.get(col)
            if isinstance(raw, BadValue):
                reject(col, raw, raw.reason)
                said.add(col)
        utype_raw = record.get("unit_type")
        utype = nfc(str(utype_raw)).strip().lower() if not _blank(utype_raw) else ""
        is_province = utype in PROVINCE_TYPES
        if not is_province and utype not in COMMUNE_TYPES:
            reject("unit_type", utype_raw, _("unknown unit type (xã, phường, đặc khu, thị trấn; or tỉnh / "
                                             "thành phố for a province row)") if utype else _("missing unit type"))
        pcode = _code(record.get("province_code"), 2)
        if pcode is None:
            reject("province_code", record.get("province_code"), _("province_code must be a code of 1–2 digits"))
        code = _code(record.get("unit_code"), 5)
        if is_province:
            if not _blank(record.get("unit_code")) and code != (pcode.zfill(5) if pcode else None) and \
                    _code(record.get("unit_code"), 2) != pcode:
                reject("unit_code", record.get("unit_code"),
                       _("a province row's unit_code is blank or the province code"))
            code = pcode or ""
        elif code is None:
            reject("unit_code", record.get("unit_code"), _("unit_code must be the official code of 1–5 digits"))
        name = record.get("unit_name")
        if _blank(name):
            reject("unit_name", name, _("missing unit name"))
        year = None
        if not _blank(record.get("year")):
            try:
                read = _to_int(record.get("year"))
                if not 2000 <= read <= 2100:
                    raise CellError("")
                year = read  # only a year in range goes further (a 20-digit one overflowed datetime.date)
            except CellError:
                reject("year", record.get("year"), _("year must be a year such as 2025"))
        district = None
        if not _blank(record.get("district_code")):
            district = _code(record.get("district_code"), 3)
            if district is None:
                reject("district_code", record.get("district_code"),
                       _("district_code must be a district code of 1–3 digits (or blank)"))
        if year is not None:
            self.years_read.add(year)
        if year is not None and (path, year) not in self.years_warned:
            self.years_warned.add((path, year))
            end = period_end(year)
            pack = self.pack
            if pack.effective_from > end or (pack.effective_to is not None and pack.effective_to < end):
                if pack.effective_to:
                    text = _("pack {pack} {version} is in force from {start} to {to}, not on {end}, the last day "
                             "of the {year} assessment period: rows of year {year} are scored with it anyway; "
                             "check --rules")
                else:
                    text = _("pack {pack} {version} is in force from {start}, not on {end}, the last day of the "
                             "{year} assessment period: rows of year {year} are scored with it anyway; check --rules")
                warn("year", text.format(pack=pack.id, version=pack.version, start=pack.effective_from,
                                         to=pack.effective_to, end=end, year=year))

        values: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        inds = self.province_inds if is_province else self.level.indicators
        for col, raw in record.items():
            if col in _IDENTITY_SET:
                continue
            if col.startswith("(column ") and not _blank(raw):
                reject(col, raw, _("a value beyond the last headed column: add a heading or move the value")
                       if sheet else _("a value beyond the last headed column (a shifted row or an unquoted comma?)"))
                continue
            ind = inds.get(col)
            if ind is None:
                if is_province and col in self.level.indicators and self.level.indicators[col].numeric:
                    ind = self.level.indicators[col]  # a province-level figure overriding the sum
                    if _blank(raw):
                        continue
                elif not is_province and col in self.province_inds:
                    if not _blank(raw):
                        warn(col, _("a province indicator on a commune row is ignored"))
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
                    reject(ind.id, None, _(MISSING_COLUMN))
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
                       _("duplicate unit_code: already given in {path} row {row}").format(path=p0, row=r0))
            else:
                seen[code] = (path, rowno)
        if bad or code is None or pcode is None:  # a missing code has been rejected
            self._reject_row(bad, code, name)
            return None
        unit = Unit(code=code, name=nfc(str(name)).strip(), type=utype, province_code=pcode, year=year,
                    values=values, path=path, row=rowno, district_code=district, extra=extra, sheet=sheet)
        if self.units is not None:
            self._check_official(unit, record, reject, warn)
            if bad:
                self._reject_row(bad, code, name)
                if code:
                    (self.province_seen if is_province else self.seen).pop(code, None)
                return None
        for col, message, value, check in soft:
            warn(col, message, value, check)
        return unit

    def _reject_row(self, bad: list[Rejection], code: Optional[str], name: Any) -> None:
        text = None if _blank(name) else shorten(nfc(str(name)).strip())
        for r in bad:
            r.unit_code, r.unit_name = code or None, text
        self.rejected.extend(bad)

    def rows(self, path: str, rows: list[tuple[int, dict[str, Any]]], cols: dict[str, str],
             sheet: Optional[str] = None, letters: Optional[dict[str, str]] = None) -> list[Unit]:
        """Validate the rows of one table (keyed by its headers; `cols`: header → id). Commune rows
        that give no figure at all (a template's rows not filled in) are skipped with one warning;
        a table of nothing else raises BlankTable. When most rows are rejected, the first of the
        table's rejections carries a headline saying why (diagnosis.headline)."""
        from lanhmanh.engine.evaluation.diagnosis import headline

        units: list[Unit] = []
        blank: list[int] = []
        start = len(self.rejected)
        records = [(rowno, {cols.get(k, k): val for k, val in rec.items()}) for rowno, rec in rows]
        todo = []
        for rowno, record in records:
            if self._no_figures(record):
                blank.append(rowno)
            else:
                todo.append((rowno, record))
        if blank and all(self._province_without_figures(r) for _rowno, r in todo):
            raise BlankTable(len(blank))
        units = self._validated(path, todo, sheet, letters)
        if blank:
            self.warnings.append(RowWarning(path, None, None, _("{n} row(s) have no figures filled in ({rows}): "
                                                                "skipped, not scored").format(
                                                                    n=len(blank), rows=_spans(blank)), sheet))
        mine = self.rejected[start:]
        text = headline(self, path, sheet, list(cols), len(rows) - len(blank), mine)
        if text:
            mine[0].headline = text
        return units

    def _each(self, path: str, todo: list[tuple[int, dict[str, Any]]], sheet: Optional[str],
              letters: Optional[dict[str, str]]) -> list[Unit]:
        return [u for rowno, record in todo if (u := self.row(path, rowno, record, sheet, letters)) is not None]

    def _validated(self, path: str, todo: list[tuple[int, dict[str, Any]]], sheet: Optional[str],
                   letters: Optional[dict[str, str]]) -> list[Unit]:
        """The units of the rows, in row order. A large table is shared with a forked copy of this
        validator (engine.evaluation.forked), which validates the latter half; what it found is
        taken when it is what one process would have found (no unit code of one half also in the
        other, no once-per-file warning said by both), else the latter half is validated here."""
        first = self._each(path, todo[:1], sheet, letters)  # the file's once-per-file notes said before the split
        half = max(1, len(todo) // 2)
        copy = forked.copy_doing(len(todo), lambda: self._findings(path, todo[half:], sheet, letters))
        if copy is None:
            return first + self._each(path, todo[1:], sheet, letters)
        with copy:
            units = first + self._each(path, todo[1:half], sheet, letters)
            theirs = copy.result()
            if theirs is not None and self._take(theirs):
                return units + theirs.units
        return units + self._each(path, todo[half:], sheet, letters)

    def _findings(self, path: str, todo: list[tuple[int, dict[str, Any]]], sheet: Optional[str],
                  letters: Optional[dict[str, str]]) -> "_Findings":
        """In the forked copy: the rows validated, and what that added to the validator's memory."""
        n_rejected, n_warnings = len(self.rejected), len(self.warnings)
        seen, province_seen, years_warned = set(self.seen), set(self.province_seen), set(self.years_warned)
        units = self._each(path, todo, sheet, letters)
        return _Findings(units, self.rejected[n_rejected:], self.warnings[n_warnings:],
                         {k: v for k, v in self.seen.items() if k not in seen},
                         {k: v for k, v in self.province_seen.items() if k not in province_seen},
                         self.years_read, self.years_warned - years_warned)

    def _take(self, f: "_Findings") -> bool:
        """Add a copy's findings; False (nothing added) when they depend on rows the copy did not see."""
        if (any(k in self.seen for k in f.seen) or any(k in self.province_seen for k in f.province_seen)
                or f.years_warned & self.years_warned):
            return False
        self.seen.update(f.seen)
        self.province_seen.update(f.province_seen)
        self.years_read |= f.years_read
        self.years_warned |= f.years_warned
        self.rejected.extend(f.rejected)
        self.warnings.extend(f.warnings)
        return True

    def _province_without_figures(self, record: dict[str, Any]) -> bool:
        """A province row (as a template writes one) whose indicator cells are all blank."""
        utype = record.get("unit_type")
        if _blank(utype) or nfc(str(utype)).strip().lower() not in PROVINCE_TYPES:
            return False
        return all(_blank(v) for k, v in record.items()
                   if k in self.level.indicators or k in self.province_inds)

    def _no_figures(self, record: dict[str, Any]) -> bool:
        """A template's commune row not filled in: its unit code and name given (the template
        writes them), every indicator cell blank. A stray row without a name is rejected instead."""
        utype = record.get("unit_type")
        if not _blank(utype) and nfc(str(utype)).strip().lower() in PROVINCE_TYPES:
            return False
        if _blank(record.get("unit_code")) or _blank(record.get("unit_name")):
            return False
        indicators = self.level.indicators
        given = False  # an indicator column in the row; any filled in: the row has figures
        for k, v in record.items():
            if k in indicators:
                if not _blank(v):
                    return False
                given = True
        if given:
            year = record.get("year")  # the batch year is still read from such rows
            if isinstance(year, int) and not isinstance(year, bool) and 2000 <= year <= 2100:
                self.years_read.add(year)
            elif isinstance(year, str) and year.strip().isdigit() and 2000 <= int(year.strip()) <= 2100:
                self.years_read.add(int(year.strip()))
            return True
        return False

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
                       _("no province {code} in {list}").format(code=unit.province_code, list=unit_list.title))
            return
        official = unit_list.get(unit.code)
        if official is None:
            reject("unit_code", record.get("unit_code"),
                   _("no commune-level unit {code} in {list}").format(code=unit.code, list=unit_list.title)
                   + unit_list.suggest(unit.code, unit.name, unit.province_code))
            return
        if official.province_code != unit.province_code:
            reject("province_code", record.get("province_code"),
                   _("unit {code} ({name}) belongs to province {province} ({province_name}), not {given}").format(
                       code=unit.code, name=official.name, province=official.province_code,
                       province_name=unit_list.province(official.province_code), given=unit.province_code))
        if official.type != unit.type:
            reject("unit_type", record.get("unit_type"),
                   _("unit {code} ({name}) is a {type}, not a {given}").format(
                       code=unit.code, name=official.name, type=official.type, given=unit.type))
        if not _same_name(official.name, unit.name, official.type):
            warn("unit_name", _("unit {code} is named {official} in {list}, not {given}: check the row (it is "
                                "scored under the name given)").format(
                code=unit.code, official=repr(official.name), list=unit_list.title, given=repr(unit.name)))
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
            if given is not None:
                text = _("unit {code} ({name}) lies in district {district} ({district_name}), not {given} "
                         "({given_name}, province {given_province})")
            else:
                text = _("unit {code} ({name}) lies in district {district} ({district_name}), not {given}: "
                         "there is no district {given} in {list}")
            reject("district_code", record.get("district_code"), text.format(
                code=unit.code, name=official.name, district=official.district_code,
                district_name=unit_list.district_name(official.district_code), given=unit.district_code,
                given_name=getattr(given, "name", ""), given_province=getattr(given, "province_code", ""),
                list=unit_list.title))

    def _set_aside_district(self, unit: Unit, unit_list, warn) -> None:
        """A list without districts (the one in force since 1 July 2025, when district-level
        government was abolished): a district_code is neither checked nor used; it is kept with the
        unit's other unknown columns (`extra`) and the file is warned once."""
        unit.extra["district_code"] = unit.district_code
        unit.district_code = None
        key = ("district-ignored", unit.path)
        if key not in self.years_warned:
            self.years_warned.add(key)
            if unit_list is current():
                text = _("{list} has no districts (district-level units were abolished on 1 July 2025): the "
                         "district_code column is neither checked nor used; it is kept with the results")
            else:
                text = _("{list} has no districts: the district_code column is neither checked nor used; it is "
                         "kept with the results")
            warn("district_code", text.format(list=unit_list.title))

    def _cross_checks(self, values: dict, reject, is_province: bool = False) -> list[tuple[str, str, Any, str]]:
        """The pack's constraints over one row: a broken `severity: error` rejects the row; a
        broken `severity: warning` (plausibility) gives a warning naming the cell of the
        constraint's first indicator with its value: returned as (column, message, value, id), to be
        given when the row is accepted. A constraint reading a value the row does not give (a blank
        optional indicator; on a province row, a figure left to the communes' sum) is skipped.
        What depends only on the pack (the names each constraint reads, its compiled condition) is
        worked out once per validator (`_plan`); per row only the rates read are computed, once."""
        soft = []
        plan = self._plan()
        ratios: dict[str, Any] = {}  # derived id → ratio_of(values, …), computed once per row
        env = None  # the evaluation dict (prepare), made once per row when a constraint is tested
        for check in plan.checks:
            c = check.constraint
            reads = check.reads_given(values, ratios)
            if reads is None:
                continue
            if env is None:
                env = prepare(self.level, values)
            if check.test(self.level)(env):
                continue
            first = c.first
            if c.severity == "error":
                reject(first, values.get(first), f"{c.message} ({c.text})")
            else:
                figures = ", ".join(f"{n} = {_shown(values[n])}" for n in reads)
                text = _("column {column}, value {value}: {message} ({condition}; {figures}; plausibility "
                         "check {check}: the row is scored as given)").format(
                    column=first, value=_shown(values.get(first)), message=c.message, condition=c.text,
                    figures=figures, check=c.id)
                soft.append((first, text, values.get(first), c.id))
        if not is_province:
            for d in plan.zero_rejects:
                r = ratios[d.id] if d.id in ratios else ratio_of(values, d.num, d.den)
                if r is not None and r[1] == 0:
                    col = d.den[0]
                    reject(col, values.get(col), _("{rate} = {expression} has a zero denominator").format(
                        rate=d.id, expression=d.text))
        return soft

    def _plan(self) -> "_CheckPlan":
        plan = self._check_plan
        if plan is None or plan.level is not self.level:
            plan = self._check_plan = _CheckPlan(self.level)
        return plan


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


class _Check:
    """One constraint with what depends only on the pack: the names its condition reads (each with
    its Derived, or None for an indicator), the indicators `_reads` lists when they are all given,
    and its condition compiled (on first use: a pack whose constraint cannot be compiled fails on
    the first row that tests it, as eval_bool did)."""

    def __init__(self, c: Constraint, level: Level):
        self.constraint = c
        self.names = [(name, level.derived.get(name)) for name in _names(c.cond)]
        out: dict[str, None] = {}
        for name, d in self.names:
            if d is not None:
                out.update(dict.fromkeys(d.reads))
            else:
                out[name] = None
        self.reads = list(out)
        self._test: Optional[Callable[[dict], bool]] = None

    def reads_given(self, values: dict, ratios: dict) -> Optional[list[str]]:
        """`Validator._reads` for one row: None when a value read is not given or a rate read has
        a zero denominator that is not a number; the indicators read otherwise (a new list)."""
        for name, d in self.names:
            if d is not None:
                if name in ratios:
                    r = ratios[name]
                else:
                    r = ratios[name] = ratio_of(values, d.num, d.den)
                if r is None or (r[1] == 0 and isinstance(d.zero, str)):
                    return None
            elif values.get(name) is None:
                return None
        return list(self.reads)

    def test(self, level: Level) -> Callable[[dict], bool]:
        if self._test is None:
            self._test = Compiler(level).condition(self.constraint.cond)
        return self._test


class _CheckPlan:
    """A level's constraints (errors first, then plausibility warnings) as `_Check`s, and the rates
    whose zero denominator rejects a row."""

    def __init__(self, level: Level):
        self.level = level
        self.checks = [_Check(c, level) for c in level.constraints + level.soft_constraints]
        self.zero_rejects = [d for d in level.derived.values() if d.zero == "reject"]


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
