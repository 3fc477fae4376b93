"""The council profile (`--profile hoi-dong.yaml`): who issues the printed documents, where, under
which number, and who signs them. Everything is optional: a blank field prints as a dotted line
to fill in by hand.

    superior_body: UBND TỈNH NGHỆ AN          # cơ quan chủ quản (top line of the heading block)
    issuing_body: CÔNG AN TỈNH NGHỆ AN         # cơ quan ban hành
    place: Nghệ An                              # địa danh, before the date
    number: "125"                               # số
    symbol: BC-CAT                              # ký hiệu (after the number: Số: 125/BC-CAT)
    date: 2026-12-15                            # ngày ban hành (default: the day of the run)
    signatories:                                # by the role ids a pack declares (`roles:`)
      approves: {title: KT. CHỦ TỊCH, name: Nguyễn Văn A}
    recipients: [Bộ Công an, Lưu VT]           # nơi nhận

Unknown keys are warned about (with the closest known key), not ignored in silence; a value of
the wrong type is an error naming the file, line and key.
"""
from __future__ import annotations

import datetime as dt
import difflib
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from lanhmanh.errors import LanhmanhWarning, UsageError
from lanhmanh.i18n import _

DOTS = "…………………"  # a blank field, to fill in by hand
FIELDS = ("superior_body", "issuing_body", "place", "number", "symbol", "date", "signatories", "recipients")


@dataclass(frozen=True)
class Signatory:
    title: Optional[str] = None  # e.g. "KT. CHỦ TỊCH / PHÓ CHỦ TỊCH"; None: the pack's role title
    name: Optional[str] = None


@dataclass(frozen=True)
class CouncilProfile:
    superior_body: Optional[str] = None
    issuing_body: Optional[str] = None
    place: Optional[str] = None
    number: Optional[str] = None
    symbol: Optional[str] = None
    date: Optional[dt.date] = None
    signatories: dict[str, Signatory] = field(default_factory=dict)
    recipients: tuple[str, ...] = ()

    def signatory(self, role: str) -> Signatory:
        return self.signatories.get(role, Signatory())

    def number_line(self) -> str:
        """'Số: 125/BC-CAT', or 'Số: ……/……' with what is missing dotted."""
        return f"Số: {self.number or '……'}/{self.symbol or '……'}"

    def place_date_line(self, today: dt.date) -> str:
        """'Nghệ An, ngày 15 tháng 12 năm 2026'. ND 30/2020/NĐ-CP: a day under 10 and a month under 3
        take a leading zero ('ngày 05 tháng 02', 'ngày 15 tháng 3')."""
        return f"{self.place or DOTS}, {date_words(self.date or today)}"

    def with_fields(self, **values: Any) -> "CouncilProfile":
        """A copy with the flags given on the command line (None: keep the profile's value)."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def date_words(d: dt.date) -> str:
    """'ngày 05 tháng 02 năm 2026', 'ngày 24 tháng 8 năm 2025': a date as Nghị định 30/2020/NĐ-CP
    writes it (a day under 10 and a month under 3 take a leading zero)."""
    month = f"{d.month:02d}" if d.month <= 2 else str(d.month)
    return f"ngày {d.day:02d} tháng {month} năm {d.year}"


def or_dots(value: Optional[str]) -> str:
    return value if value else DOTS


def load_profile(path: Path) -> CouncilProfile:
    """Read a profile file (YAML); UsageError (exit 2) naming the file, line and key when it is wrong."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(_("{path}: the council profile cannot be read: {error}").format(path=path, error=e),
                         argument="profile")
    try:
        raw = YAML(typ="rt").load(text) if text.strip() else {}
    except YAMLError as e:
        raise UsageError(_("{path}: the council profile is not valid YAML: {error}").format(path=path, error=e),
                         argument="profile")
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise UsageError(_("{path}: a council profile is a mapping of keys (issuing_body: ..., place: ...)")
                         .format(path=path), argument="profile")
    return _profile(path, raw)


def _where(path: Path, raw: Any, key: str) -> str:
    try:
        line = raw.lc.key(key)[0] + 1
        return f"{path}:{line}"
    except Exception:  # plain dicts carry no line numbers
        return str(path)


def _profile(path: Path, raw: dict) -> CouncilProfile:
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in FIELDS:
            close = difflib.get_close_matches(str(key), FIELDS, n=1)
            message = (_("{where}: unknown key {key} in the council profile is ignored (did you mean {close}?)")
                       if close else _("{where}: unknown key {key} in the council profile is ignored"))
            warnings.warn(LanhmanhWarning(message.format(where=_where(path, raw, key), key=repr(key),
                                                         close=repr(close[0]) if close else "")))
            continue
        if value is None or value == "":
            continue
        if key == "date":
            if isinstance(value, str):
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    value = None
            if not isinstance(value, dt.date):
                raise UsageError(_("{where}: date: give a date as 2026-12-15").format(where=_where(path, raw, key)),
                                 argument="profile")
        elif key == "signatories":
            values[key] = _signatories(path, raw, value)
            continue
        elif key == "recipients":
            if isinstance(value, str):
                value = [value]
            if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
                raise UsageError(_("{where}: recipients: a list of names").format(where=_where(path, raw, key)),
                                 argument="profile")
            value = tuple(str(v) for v in value)
        elif isinstance(value, (str, int)) and not isinstance(value, bool):
            value = str(value)
        else:
            raise UsageError(_("{where}: {key}: give a text").format(where=_where(path, raw, key), key=key),
                             argument="profile")
        values[key] = value
    return CouncilProfile(**values)


def _signatories(path: Path, raw: dict, value: Any) -> dict[str, Signatory]:
    if not isinstance(value, dict):
        raise UsageError(_("{where}: signatories: a mapping of role: {{title, name}}")
                         .format(where=_where(path, raw, "signatories")), argument="profile")
    out = {}
    for role, s in value.items():
        if isinstance(s, str):
            out[str(role)] = Signatory(name=s)
        elif isinstance(s, dict) and set(s) <= {"title", "name"}:
            out[str(role)] = Signatory(title=_text(s.get("title")), name=_text(s.get("name")))
        else:
            raise UsageError(_("{where}: signatories.{role}: give a name, or {{title: ..., name: ...}}")
                             .format(where=_where(path, value, role), role=role), argument="profile")
    return out


def _text(v: Any) -> Optional[str]:
    return None if v is None or v == "" else str(v)


def parse_signer(text: str) -> tuple[str, Signatory]:
    """`--signer approves="Nguyễn Văn A"` or `--signer "approves=KT. CHỦ TỊCH|Nguyễn Văn A"`."""
    role, sep, rest = text.partition("=")
    if not sep or not role.strip():
        raise UsageError(_("--signer {text}: write ROLE=NAME or ROLE=TITLE|NAME").format(text=repr(text)),
                         argument="signer")
    title, bar, name = rest.partition("|")
    if not bar:
        title, name = "", rest
    return role.strip(), Signatory(title=_text(title.strip()), name=_text(name.strip()))
