"""Versions of a rule pack and the in-force rule (docs/rule-language.md, "Versions and the years
they apply to").

A pack id may have several rule files, one per version, found among the shipped packs and in the
folders of `LANHMANH_RULES_PATH`; a file's pack id is read from its `pack:` block, not from its
name. A pack applies to batch year Y when it is in force on 14 Dec of Y (`in_force`); among the
versions in force on a day the latest `effective_from` wins, and two that take effect the same
day are refused (`AmbiguousVersions`). Identical copies of one file (same sha256) count once.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

from ruamel.yaml import YAML

from lanhmanh.engine.model import fast_yaml
from lanhmanh.errors import RuleError
from lanhmanh.i18n import _

ENV = "LANHMANH_RULES_PATH"


@dataclass(frozen=True)
class Version:
    """What the `pack:` block of one rule file says about itself."""
    path: Path
    id: str
    version: str
    effective_from: Optional[dt.date]
    effective_to: Optional[dt.date]
    status: str
    sha256: str

    def dates(self) -> str:
        """`from 2025-08-24` or `from 2020-01-01 to 2024-12-31`."""
        return span(self.effective_from.isoformat() if self.effective_from else "?",
                    self.effective_to.isoformat() if self.effective_to else None)


def span(start: object, end: object) -> str:
    """`from START` or `from START to END` (dates as given), in the language in force."""
    if end is None:
        return _("from {start}").format(start=start)
    return _("from {start} to {end}").format(start=start, end=end)


class AmbiguousVersions(RuleError, ValueError):
    """Two different versions of a pack are in force on a date and take effect on the same day (exit 3)."""


# ---- the calendar ---------------------------------------------------------------------------------

def period_end(year: int) -> dt.date:
    """The last day of a batch year's assessment period (14 Dec of that year)."""
    return dt.date(year, 12, 14)


def period_start(year: int) -> dt.date:
    """The first day of a batch year's assessment period (15 Dec of the year before)."""
    return dt.date(year - 1, 12, 15)


def assessment_year(today: dt.date) -> int:
    """The batch year whose assessment period contains `today` (15 Dec onward counts as next year)."""
    return today.year + 1 if (today.month, today.day) >= (12, 15) else today.year


def vi_date(day: dt.date) -> str:
    """`24/08/2025`, as dates are written in Vietnamese."""
    return day.strftime("%d/%m/%Y")


def in_force_on(effective_from: Optional[dt.date], effective_to: Optional[dt.date], day: dt.date) -> bool:
    """True when a pack with these dates (both inclusive; no end date = still in force) is in force on `day`."""
    if effective_from is None or effective_from > day:
        return False
    return effective_to is None or effective_to >= day


def in_force(pack_or_version, year: int) -> bool:
    """True when a pack (or a Version) applies to batch `year`: in force on 14 Dec of that year."""
    return in_force_on(pack_or_version.effective_from, pack_or_version.effective_to, period_end(year))


# ---- finding the versions ---------------------------------------------------------------------------

RULES_DIR = Path(__file__).resolve().parents[2] / "rules"


def shipped_packs() -> list[Path]:
    """The rule files shipped with lanhmanh."""
    return sorted(RULES_DIR.glob("*.yaml"))


def version_key(v: str) -> tuple:
    """'2025.10' → (2025, 10): versions compared part by part as numbers."""
    return tuple(int(part) if part.isdigit() else 0 for part in str(v).split("."))


def search_dirs() -> list[Path]:
    """The folders of LANHMANH_RULES_PATH (in order), then the shipped packs."""
    extra = [Path(p) for p in os.environ.get(ENV, "").split(os.pathsep) if p.strip()]
    return [*extra, RULES_DIR]


def rule_files(dirs: Optional[Iterable[Path]] = None) -> list[Path]:
    out = []
    for d in dirs if dirs is not None else search_dirs():
        if d.is_dir():
            out += sorted(p for p in d.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file())
    return out


_CACHE: dict[tuple, Optional[Version]] = {}


def read_version(path: Path) -> Optional[Version]:
    """The `pack:` block of a rule file, read without loading the rest; None when it cannot be read
    (the file is then only reported when it is loaded by name)."""
    try:
        st = path.stat()
    except OSError:
        return None
    key = (str(path.resolve()), st.st_mtime_ns, st.st_size)
    if key not in _CACHE:
        _CACHE[key] = _read_version(path)
    return _CACHE[key]


def _read_version(path: Path) -> Optional[Version]:
    try:
        data = path.read_bytes()
        text = data.decode("utf-8-sig")
        block = _pack_block(text)
        meta = _quick_meta(block)
        if meta is None:
            meta = YAML(typ="safe", pure=True).load(block)
    except Exception:  # a broken file is reported when it is loaded, not while versions are listed
        return None
    meta = meta.get("pack") if isinstance(meta, dict) else None
    if not isinstance(meta, dict) or not isinstance(meta.get("id"), str):
        return None
    return Version(path, meta["id"], str(meta.get("version", "")), _date(meta.get("effective_from")),
                   _date(meta.get("effective_to")), str(meta.get("status", "")),
                   hashlib.sha256(data).hexdigest())


def _quick_meta(block: str) -> Optional[dict]:
    """The fields of the `pack:` block read below, read by libyaml (fast_yaml) when each comes out
    as ruamel's safe loader gives it (text, a whole number, true/false, a date, null); None when
    not, or when fast_yaml declines the block: ruamel's safe loader reads it then."""
    try:
        tree = fast_yaml.load(block)
    except fast_yaml.Declined:
        return None
    pack = tree.get("pack") if isinstance(tree, dict) else None
    if not isinstance(pack, dict):
        return None
    out: dict = {}
    for key in ("id", "version", "effective_from", "effective_to", "status"):
        if key in pack:
            value = pack[key]
            if isinstance(value, str):
                value = str(value)  # a quoted or anchored string: ruamel's str subclass
            elif value is not None and type(value) not in (int, bool, dt.date):
                return None  # 1.0, 0o17, a date and time: as ruamel's safe loader reads them
            out[key] = value
    return {"pack": out}


def _pack_block(text: str) -> str:
    """The `pack:` mapping of a rule file as YAML text: its first line and every line indented
    under it (comments and blank lines included), so a long file is not parsed to list versions."""
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("pack:"):
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or lines[j][0] in " \t#"):
                j += 1
            return "\n".join(lines[i:j]) + "\n"
    return ""


def _date(v) -> Optional[dt.date]:
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    return None


def versions_of(pack_id: str, dirs: Optional[Iterable[Path]] = None) -> list[Version]:
    """Every version of a pack id found, oldest first (by effective_from, then version); identical
    copies of a file count once."""
    seen: set[str] = set()
    out = []
    for p in rule_files(dirs):
        v = read_version(p)
        if v is None or v.id != pack_id or v.sha256 in seen:
            continue
        seen.add(v.sha256)
        out.append(v)
    return sorted(out, key=_order)


def known_ids(dirs: Optional[Iterable[Path]] = None) -> list[str]:
    ids = {v.id for v in (read_version(p) for p in rule_files(dirs)) if v is not None}
    return sorted(ids)


def _order(v: Version) -> tuple:
    return (v.effective_from or dt.date.min, version_key(v.version), str(v.path))


def newest(versions: list[Version]) -> Optional[Version]:
    """The version that takes effect last (what a command without a batch year uses)."""
    return max(versions, key=_order) if versions else None


def in_force_version(versions: list[Version], day: dt.date) -> Optional[Version]:
    """The version in force on `day`: among those in force, the latest effective_from. Two
    different versions in force from the same day are refused (AmbiguousVersions)."""
    live = [v for v in versions if in_force_on(v.effective_from, v.effective_to, day)]
    if not live:
        return None
    start = max(v.effective_from or dt.date.min for v in live)  # in force: effective_from is set
    top = [v for v in live if v.effective_from == start]
    if len(top) > 1:
        which = "; ".join(f"{v.version} ({v.path})" for v in top)
        raise AmbiguousVersions(_("pack {id}: versions {versions} are all in force on {day} and take effect on the "
                                  "same day ({start}): give --rules FILE, or correct their dates")
                                .format(id=top[0].id, versions=which, day=day, start=start))
    return top[0]


def for_year(versions: list[Version], year: int) -> Optional[Version]:
    """The version that applies to batch `year` (in force on 14 Dec of that year), or None."""
    return in_force_version(versions, period_end(year))


def nearest(versions: list[Version], year: int) -> Optional[Version]:
    """With --force and no version in force: the version whose period of force is nearest to the
    batch's period end (the earliest for a year before them all, the latest for a year after)."""
    end = period_end(year)

    def distance(v: Version) -> tuple:
        start = v.effective_from or dt.date.min
        stop = v.effective_to or dt.date.max
        gap = (start - end).days if end < start else (end - stop).days if end > stop else 0
        return (gap, -start.toordinal())

    return min(versions, key=distance) if versions else None


def describe(versions: list[Version]) -> str:
    """`2020.1 (from 2020-01-01 to 2024-12-31), 2025.1 (from 2025-01-01)`."""
    return ", ".join(f"{v.version} ({v.dates()})" for v in versions) or _("(none)")


def refusal(pack, year: int, versions: list[Version]) -> str:
    """The message of a pack refused for a batch year: the pack, version and dates, the batch year
    and its period, the versions available, and --force."""
    return _("pack {id} {version} ({path}) is in force {dates}; it does not apply to the {year} batch "
             "(assessment period {start} to {end}; a pack applies when it is in force on {end}). {available} "
             "Give --rules with a pack in force for {year}, or --force to score with this one anyway (the "
             "scorecard and the JSON then say so)").format(
        id=pack.id, version=pack.version, path=pack.path, dates=span(pack.effective_from, pack.effective_to),
        year=year, start=period_start(year), end=period_end(year), available=_available(pack, versions))


def _available(pack, versions: list[Version]) -> str:
    if not versions:
        return _("No version of {id} is among the shipped packs or the folders of {env} "
                 "(it was given as a file).").format(id=pack.id, env=ENV)
    return _("Versions of {id} available: {versions}.").format(id=pack.id, versions=describe(versions))


def forced_note(pack, year: int) -> str:
    """The Vietnamese note a --force run carries into the workbook and the JSON."""
    to = f" đến {vi_date(pack.effective_to)}" if pack.effective_to else ""
    return (f"Gói {pack.id} {pack.version} không có hiệu lực cho năm {year} (kỳ đánh giá "
            f"{vi_date(period_start(year))}–{vi_date(period_end(year))}; gói có hiệu lực từ "
            f"{vi_date(pack.effective_from)}{to}); áp dụng theo --force")
