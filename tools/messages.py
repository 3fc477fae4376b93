"""The message catalogue: gather every message lanhmanh says, keep the Vietnamese translations, compile.

    python tools/messages.py update [--from PART.po ...]   gather the messages into locale/vi/LC_MESSAGES/
                                                           lanhmanh.po (translations kept; new ones empty)
                                                           and compile lanhmanh.mo
    python tools/messages.py missing [FILE ...] [--from PART.po ...]
                                                           the messages without a Vietnamese translation
                                                           (of those FILEs only, when given); exit 1 if any
    python tools/messages.py compile                       lanhmanh.po -> lanhmanh.mo

Messages are gathered from three places: calls of `_()` and `N_()` in the package's code (Babel's
Python extractor), the help texts of every command and option (read from the click commands
themselves, as `--help` shows them), and click's own messages ("Usage:", "Missing argument ...").
Needs Babel (in the `test` extra); lanhmanh itself reads the compiled catalogue with the standard
library's gettext.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import inspect
import string
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Optional

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "locale" / "vi" / "LC_MESSAGES" / "lanhmanh.po"
MO = PO.with_suffix(".mo")
PACKAGE_DIRS = ("commands", "engine", "rules", "scorecards", "data")
PACKAGE_FILES = ("__init__.py", "api.py", "cli.py", "errors.py", "i18n.py", "version.py")
KEYWORDS = {"_": None, "N_": None}
CLICK_KEYWORDS = {"_": None, "ngettext": (1, 2)}
# click's modules whose messages reach a lanhmanh user (cli._speak_for_click translates them)
CLICK_MODULES = ("core", "decorators", "exceptions", "formatting", "parser", "types")


def package_files() -> list[Path]:
    files = [ROOT / f for f in PACKAGE_FILES]
    for d in PACKAGE_DIRS:
        files += sorted((ROOT / d).rglob("*.py"))
    return files


def code_messages(files: Optional[list[Path]] = None) -> Iterator[tuple[str, str, int]]:
    """(message, file, line) of every `_()`/`N_()` call in the package's code."""
    for path in files or package_files():
        for lineno, message, _comments, _context in extract_from_file(
                "python", str(path), keywords=KEYWORDS, comment_tags=(), strip_comment_tags=True):
            if isinstance(message, str) and message:
                yield message, str(path.relative_to(ROOT)), lineno


def help_messages() -> Iterator[tuple[str, str, int]]:
    """Every help text `--help` shows, as the commands hold them (English)."""
    cli = importlib.import_module("lanhmanh.cli")
    commands = [cli.cli]
    for target in cli.COMMANDS.values():
        module, name = target.split(":")
        commands.append(getattr(importlib.import_module(module), name))
    for command in commands:
        where = inspect.getsourcefile(inspect.unwrap(command.callback)) if command.callback else "cli.py"
        rel = str(Path(where or "cli.py").resolve().relative_to(ROOT))
        texts = [getattr(command, a, None) for a in cli.HELP_ATTRS]
        texts += [getattr(p, a, None) for p in command.params for a in cli.PARAM_HELP_ATTRS]
        for text in texts:
            if text:
                yield text, rel, 0


# click's messages said through a variable (`_(extra["required"])`), which no extractor finds
CLICK_RUNTIME = ("required",)


def click_messages() -> Iterator[tuple[str, str, int]]:
    import click

    for message in CLICK_RUNTIME:
        yield message, "click/core.py", 0

    base = Path(click.__file__).parent
    for name in CLICK_MODULES:
        for lineno, message, _comments, _context in extract_from_file(
                "python", str(base / f"{name}.py"), keywords=CLICK_KEYWORDS, comment_tags=()):
            for m in (message if isinstance(message, tuple) else (message,)):
                if m:
                    yield m, f"click/{name}.py", lineno


def all_messages() -> dict[str, list[tuple[str, int]]]:
    found: dict[str, list[tuple[str, int]]] = {}
    for source in (code_messages(), help_messages(), click_messages()):
        for message, where, line in source:
            found.setdefault(message, []).append((where, line))
    return found


def read(path: Path) -> Catalog:
    with path.open("rb") as f:
        return read_po(f, locale="vi")


def translations(paths: list[Path]) -> dict[str, str]:
    """msgid -> msgstr of the catalogues given (the first one given that translates it wins)."""
    known: dict[str, str] = {}
    for path in paths:
        if path.exists():
            for m in read(path):
                if m.id and isinstance(m.id, str) and m.string and not m.fuzzy:
                    known.setdefault(m.id, m.string)
    return known


def fields(text: str) -> set[str]:
    """The named placeholders of a message: {n}, {path} ..."""
    try:
        return {f for _lit, f, _spec, _conv in string.Formatter().parse(text) if f is not None}
    except ValueError:
        return set()


def update(parts: list[Path]) -> Catalog:
    known = translations([PO, *parts])
    fixed = datetime.datetime(2026, 12, 3, tzinfo=datetime.timezone.utc)  # no date churn in diffs
    catalog = Catalog(locale="vi", domain="lanhmanh", project="lanhmanh", version="", charset="utf-8",
                      header_comment="# Vietnamese messages of lanhmanh (tools/messages.py update).",
                      creation_date=fixed, revision_date=fixed, last_translator="lanhmanh",
                      language_team="lanhmanh", fuzzy=False)
    for message, places in sorted(all_messages().items()):
        catalog.add(message, known.get(message, ""), locations=[(w, None) for w, _line in places[:3]])
    PO.parent.mkdir(parents=True, exist_ok=True)
    with PO.open("wb") as f:
        write_po(f, catalog, width=100, include_lineno=False, sort_by_file=False, omit_header=False,
                 include_previous=False)
    compile_mo()
    return catalog


def compile_mo() -> None:
    catalog = read(PO)
    with MO.open("wb") as f:
        write_mo(f, catalog, use_fuzzy=False)


def missing(files: Optional[list[Path]] = None, parts: tuple[Path, ...] = ()) -> list[tuple[str, str, int]]:
    known = translations([PO, *parts])
    if files:
        wanted: Iterator[tuple[str, str, int]] = code_messages(files)
    else:
        wanted = (x for src in (code_messages(), help_messages()) for x in src)
    return [(m, w, line) for m, w, line in wanted if m not in known]


def main(argv: Optional[list[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    up = sub.add_parser("update")
    up.add_argument("--from", dest="parts", nargs="*", type=Path, default=[])
    mi = sub.add_parser("missing")
    mi.add_argument("files", nargs="*", type=Path)
    mi.add_argument("--from", dest="parts", nargs="*", type=Path, default=[])
    sub.add_parser("compile")
    args = ap.parse_args(argv)
    if args.what == "update":
        catalog = update(args.parts)
        empty = sum(1 for m in catalog if m.id and not m.string)
        print(f"{PO.relative_to(ROOT)}: {len(catalog)} messages, {empty} without a translation")
        return 0
    if args.what == "compile":
        compile_mo()
        return 0
    gaps = missing([p.resolve() for p in args.files] or None, tuple(args.parts))
    for message, where, line in gaps:
        print(f"{where}:{line}: {message!r}")
    return 1 if gaps else 0


if __name__ == "__main__":
    sys.exit(main())
