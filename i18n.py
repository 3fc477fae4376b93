"""The language lanhmanh speaks: Vietnamese by default, English on request.

Messages are written in English in the code, wrapped in `_()` where they are said (or marked with
`N_()` where they are only named, as a command's help text), and translated through the gettext
catalogue `locale/vi/LC_MESSAGES/lanhmanh.po` (compiled to `lanhmanh.mo`, shipped in the package).
Placeholders are named (`_("{n} unit(s) scored").format(n=n)`), so a translation may move them.

The language is, first to last: `--lang` on the command line, `LANHMANH_LANG` (`vi` or `en`),
Vietnamese. Exit codes, JSON keys and ids never change with it.
"""
from __future__ import annotations

import functools
import gettext
import os
from pathlib import Path
from typing import Optional

DOMAIN = "lanhmanh"
LANGUAGES = ("vi", "en")
DEFAULT = "vi"
ENV = "LANHMANH_LANG"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
LOCALE_ENV = "LANHMANH_LOCALE_DIR"  # another catalogue folder (translators trying their work)

_current = [""]  # the language in force; "" until it is first asked for


def chosen(value: Optional[str]) -> Optional[str]:
    """The language a setting names ("vi", "vi_VN.UTF-8", "EN" ...), or None when it names none."""
    if not value:
        return None
    code = value.strip().lower().replace("-", "_").split("_")[0].split(".")[0]
    return code if code in LANGUAGES else None


def set_language(lang: Optional[str] = None) -> str:
    """Speaks `lang` from now on; None: what LANHMANH_LANG says, else Vietnamese. Returns it."""
    _current[0] = chosen(lang) or chosen(os.environ.get(ENV)) or DEFAULT
    return _current[0]


def language() -> str:
    return _current[0] or set_language()


@functools.cache
def _catalogue() -> gettext.NullTranslations:
    """The Vietnamese catalogue, read once."""
    try:
        return gettext.translation(DOMAIN, os.environ.get(LOCALE_ENV) or str(LOCALE_DIR), languages=["vi"])
    except OSError:  # a checkout whose catalogue was never compiled: English rather than a crash
        return gettext.NullTranslations()


def _(message: str) -> str:
    """`message` in the language in force."""
    if language() == "en":
        return message
    return _catalogue().gettext(message)


def N_(message: str) -> str:
    """Marks a message for the catalogue without translating it yet (help texts, constants): it is
    translated where it is said, through `_()`."""
    return message
