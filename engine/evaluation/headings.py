"""How the columns of a submitted table are named: the identity columns every table has, and the
folding under which a heading matches an indicator's id or label (shared by the validator and by
the diagnosis of a file most of whose rows fail)."""
from __future__ import annotations

import re
import unicodedata

from lanhmanh.i18n import N_

IDENTITY = ("unit_code", "unit_name", "unit_type", "province_code", "district_code", "year")
MISSING_COLUMN = N_("column missing (required)")  # the rejection of a row whose table lacks a required column


def fold_header(s: str) -> str:
    """A column heading or label as headings are matched: NFC, lower case, spaces collapsed, a
    trailing unit in parentheses left out ("Số nhân khẩu (người)" → "số nhân khẩu")."""
    s = unicodedata.normalize("NFC", s).lower()
    s = re.sub(r"\s*\([^)]*\)\s*$", "", s)
    return re.sub(r"\s+", " ", s).strip()
