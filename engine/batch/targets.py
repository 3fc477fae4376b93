"""Targets: the share of a province's commune-level units that must reach a class (e.g. 20 % drug-free
in 2025), read from a small CSV file, and the exact check of an actual share against it.

The file has a header `province_code,class,share` and one row per (province, class):

    province_code,class,share
    40,drug_free,20%
    42,drug_free,1/4
    *,drug_free,50%

`share` is a percentage ("20%", "12.5%", "12,5%") or a fraction ("1/4"), read exactly as a
`Fraction` between 0 and 1. `province_code` "*" is the national target (the whole batch). Every
error names the file, the row, the column and the value. A share exactly equal to its target is met.
"""
from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterable, Optional

from lanhmanh.errors import UsageError
from lanhmanh.i18n import _

COLUMNS = ("province_code", "class", "share")
NATIONAL = "*"
_PERCENT = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*%\s*$")
_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class TargetsError(UsageError, ValueError):
    """A targets file that cannot be used (exit 2): the message names file, row, column and value."""


@dataclass(frozen=True)
class Target:
    province_code: str  # NATIONAL for the national row
    class_id: str
    share: Fraction
    row: int  # the file's line number (the header is row 1)


def parse_share(text: str) -> Optional[Fraction]:
    """'20%' → 1/5, '12,5%' → 1/8, '1/4' → 1/4; None when the text is neither form."""
    percent = _PERCENT.match(text)
    if percent:
        return Fraction(percent.group(1).replace(",", ".")) / 100
    fraction = _FRACTION.match(text)
    if fraction and int(fraction.group(2)) != 0:
        return Fraction(int(fraction.group(1)), int(fraction.group(2)))
    return None


def read_targets(path: Path, class_ids: Iterable[str]) -> list[Target]:
    """Every target of the file, checked against the pack's commune class ids."""
    path = Path(path)
    classes = list(class_ids)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise TargetsError(_("{path}: cannot read the targets file: {error}").format(
            path=path, error=getattr(e, "strerror", None) or e))
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise TargetsError(_("{path}: the targets file is empty; expected a header {header}").format(
            path=path, header=",".join(COLUMNS)))
    header = [h.strip() for h in rows[0]]
    if header != list(COLUMNS):
        raise TargetsError(_("{path}: row 1: the header is {got}; expected {expected}").format(
            path=path, got=repr(",".join(header)), expected=repr(",".join(COLUMNS))))
    out: list[Target] = []
    seen: dict[tuple[str, str], int] = {}
    for rowno, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        out.append(_target(path, rowno, cells, classes, seen))
    if not out:
        raise TargetsError(_("{path}: the targets file has a header but no target").format(path=path))
    return out


def _target(path: Path, rowno: int, cells: list[str], classes: list[str], seen: dict) -> Target:
    if len(cells) != len(COLUMNS):
        raise TargetsError(_("{path}: row {row}: {n} value(s), expected {expected} ({columns})").format(
            path=path, row=rowno, n=len(cells), expected=len(COLUMNS), columns=",".join(COLUMNS)))
    code, cid, share_text = (c.strip() for c in cells)
    if code != NATIONAL and not re.fullmatch(r"\d{2}", code):
        raise TargetsError(_("{path}: row {row}, column province_code, value {value}: a province code is two "
                             "digits (or {national} for the national target)").format(
            path=path, row=rowno, value=repr(code), national=repr(NATIONAL)))
    if cid not in classes:
        raise TargetsError(_("{path}: row {row}, column class, value {value}: not a class of the pack "
                             "(one of {classes})").format(path=path, row=rowno, value=repr(cid),
                                                          classes=", ".join(classes)))
    share = parse_share(share_text)
    if share is None:
        raise TargetsError(_("{path}: row {row}, column share, value {value}: a share is a percentage such as "
                             "'20%' or a fraction such as '1/5'").format(path=path, row=rowno, value=repr(share_text)))
    if not 0 <= share <= 1:
        raise TargetsError(_("{path}: row {row}, column share, value {value}: a share is between 0% and 100%")
                           .format(path=path, row=rowno, value=repr(share_text)))
    key = (code, cid)
    if key in seen:
        raise TargetsError(_("{path}: row {row}, column province_code, value {value}: a second target for "
                             "class {cls} (the first is on row {first})").format(
            path=path, row=rowno, value=repr(code), cls=cid, first=seen[key]))
    seen[key] = rowno
    return Target(code, cid, share, rowno)


@dataclass(frozen=True)
class TargetCheck:
    target: Target
    count: int  # units of the province (the batch, for the national row) in the class
    n_units: int  # 0 when the province is not in the batch
    actual: Optional[Fraction]  # None when the province is not in the batch

    @property
    def met(self) -> Optional[bool]:
        """Met when the actual share is at least the target, exactly; None without units."""
        return None if self.actual is None else self.actual >= self.target.share


def check_targets(targets: list[Target], counts: dict[str, dict[str, int]],
                  n_units: dict[str, int]) -> list[TargetCheck]:
    """Each target against the batch: counts[province][class] and n_units[province] (the national
    row is checked against the sums over every province)."""
    out = []
    for target in targets:
        if target.province_code == NATIONAL:
            units = sum(n_units.values())
            in_class = sum(by_class.get(target.class_id, 0) for by_class in counts.values())
        else:
            units = n_units.get(target.province_code, 0)
            in_class = counts.get(target.province_code, {}).get(target.class_id, 0)
        out.append(TargetCheck(target, in_class, units, Fraction(in_class, units) if units else None))
    return out
