"""Reading submissions: CSV, JSON and Excel files (or folders of them) → rows keyed by headers.

A file that cannot be read at all raises InputError (exit 4); a bad cell is the validator's
business and only rejects its row.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from lanhmanh.engine.evaluation.validate import BadValue, number_problem
from lanhmanh.i18n import _
from lanhmanh.scorecards.inputs.base import InputError, InputFile
from lanhmanh.scorecards.inputs.xlsx_reader import made_by_lanhmanh, read_workbook

SUPPORTED = (".csv", ".json", ".xlsx", ".xlsm", ".xls")


MAX_TEXT_BYTES = 64 * 2**20  # a CSV input larger than this is refused (exit 4)
MAX_JSON_BYTES = 16 * 2**20  # a JSON input larger than this is refused (its objects are all held at once)
MAX_CELLS = 2_000_000  # cells of one input file (CSV, JSON or workbook); more: refused
MAX_JSON_DEPTH = 20  # nesting of arrays and objects in a JSON input ({"units": [{...}]} is 3)
MAX_JSON_CONTAINERS = 500_000  # arrays and objects in a JSON input


@dataclass
class Found:
    """The input files named (folders listed), what cannot be found, and lanhmanh's own
    scorecards and summaries found in folders (skipped, not submissions)."""
    paths: list[Path] = field(default_factory=list)
    missing: list[InputError] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)


def gather(paths: list[str]) -> Found:
    """Every input file of `paths` (files, or folders of them). A missing file or an empty folder
    is listed in `missing`; lanhmanh's own outputs in a folder are skipped (`skipped`): a second
    run into a folder never reads its scorecards back as submissions."""
    found = Found()
    for p in map(Path, paths):
        if p.is_dir():
            # "~$name.xlsx" is Excel's lock file for an open workbook, not a submission
            files = sorted(q for q in p.iterdir() if q.suffix.lower() in SUPPORTED and q.is_file()
                           and not q.name.startswith("~$"))
            ours = [q for q in files if made_by_lanhmanh(q)]
            found.skipped.extend(ours)
            files = [q for q in files if q not in ours]
            if not files:
                if ours:
                    text = _("folder holds no {types} file other than {n} scorecard(s) made by lanhmanh")
                else:
                    text = _("folder holds no {types} file")
                found.missing.append(InputError(str(p), text.format(types=", ".join(SUPPORTED), n=len(ours))))
            found.paths.extend(files)
        elif not p.exists():
            found.missing.append(InputError(str(p), _("no such file or folder")))
        else:
            found.paths.append(p)
    return found


def expand(paths: list[str]) -> list[Path]:
    """The input files of `paths`; raises InputError for the first missing one."""
    found = gather(paths)
    if found.missing:
        raise found.missing[0]
    return found.paths


def read_any(path: Path, is_known: Callable[[str], bool]) -> list[InputFile]:
    """Every table in one input file: a CSV or JSON file is one table; a workbook gives one per
    sheet whose header row names the pack's columns (`is_known(header)`: an indicator id, an
    identity column, or their Vietnamese labels; see xlsx_reader)."""
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        return read_workbook(path, is_known)
    return [read(path)]


def read(path: Path) -> InputFile:
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InputError(str(path), _("unsupported file type {suffix}: use .xlsx, .csv or .json").format(
            suffix=suffix or _("(none)")))
    try:
        limit = MAX_JSON_BYTES if suffix == ".json" else MAX_TEXT_BYTES
        if path.stat().st_size > limit:
            raise InputError(str(path), _("the file is larger than {mb} MB, the limit for a {kind} input: split "
                                          "it (one file per province)").format(mb=limit // 2**20,
                                                                                kind=suffix[1:].upper()))
        data = path.read_bytes()
    except OSError as e:
        raise InputError(str(path), _("cannot read: {error}").format(error=e.strerror or e)) from None
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(str(path), _("the file is empty"))
    if suffix == ".csv":
        headers, rows = _read_csv(path, data)
    else:
        headers, rows = _read_json(path, data)
    if not rows:
        raise InputError(str(path), _("the file has a header but no data rows"))
    return InputFile(str(path), digest, rows, headers)


_BOMS = ((b"\xff\xfe\x00\x00", "utf-32-le"), (b"\x00\x00\xfe\xff", "utf-32-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be"))


def _decode(path: Path, data: bytes) -> str:
    """The text of a CSV or JSON file: UTF-8 (with or without a BOM), UTF-16 or UTF-32 (by their
    BOM, or UTF-16 without one by its zero bytes), else Windows' Vietnamese code page 1258."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return _decode_as(path, data[len(bom):], codec)
    if b"\x00" in data[:4096]:
        head = data[:4096]
        if head[1::2].count(0) > len(head) // 4 and head[0::2].count(0) < len(head) // 8:
            return _decode_as(path, data, "utf-16-le")
        if head[0::2].count(0) > len(head) // 4 and head[1::2].count(0) < len(head) // 8:
            return _decode_as(path, data, "utf-16-be")
        raise InputError(str(path), _("the file holds zero bytes: it is not a text file (save the CSV as "
                                      "'CSV UTF-8')"))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError:
        raise InputError(str(path), _("not UTF-8 text: save the CSV as 'CSV UTF-8'")) from None


def _decode_as(path: Path, data: bytes, codec: str) -> str:
    try:
        text = data.decode(codec)
        return text[1:] if text.startswith("\ufeff") else text
    except UnicodeDecodeError as e:
        raise InputError(str(path), _("not readable as {codec} text (byte {byte}): save the CSV as "
                                      "'CSV UTF-8'").format(codec=codec.upper(), byte=e.start)) from None


def _read_csv(path: Path, data: bytes) -> tuple[list[str], list]:
    text = _decode(path, data)
    first = text.splitlines()[0] if text.splitlines() else ""
    delim = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(str(path), _("the file is empty")) from None
    except csv.Error as e:
        raise InputError(str(path), _("not a readable CSV: {error}").format(error=e)) from None
    header = [h.strip() for h in header]
    if not any(header):
        raise InputError(str(path), _("the first row (the header) is empty"))
    rows = []
    cells_read = 0
    try:
        for cells in reader:
            rowno = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            cells_read += len(cells)
            if cells_read > MAX_CELLS:
                raise InputError(str(path), _("more than {n} cells: split the file").format(
                    n=f"{MAX_CELLS:,}".replace(",", ".")))
            record = {}
            for i, c in enumerate(cells):
                key = header[i] if i < len(header) else f"(column {i + 1})"
                record[key] = c
            rows.append((rowno, record))
    except csv.Error as e:
        raise InputError(str(path), _("not a readable CSV at line {line}: {error}").format(
            line=reader.line_num, error=e)) from None
    return header, rows


def _read_json(path: Path, data: bytes) -> tuple[list[str], list]:
    text = _decode(path, data)
    _check_nesting(path, text)
    try:
        doc = json.loads(text, parse_float=_json_number, parse_int=_json_number, parse_constant=_json_constant)
    except json.JSONDecodeError as e:
        raise InputError(str(path), _("not valid JSON: {error} at line {line} column {column}").format(
            error=e.msg, line=e.lineno, column=e.colno)) from None
    except RecursionError:  # the pre-scan bounds nesting; this is only a second guard
        raise InputError(str(path), _("JSON nested more than {n} levels deep").format(n=MAX_JSON_DEPTH)) from None
    if isinstance(doc, dict) and isinstance(doc.get("units"), list):
        doc = doc["units"]
    if not isinstance(doc, list):
        raise InputError(str(path), _("JSON input must be a list of objects (or {{\"units\": [...]}})").format())
    rows = []
    headers: dict[str, Any] = {}  # every key of every object, in order of first appearance
    for i, obj in enumerate(doc, start=1):
        if not isinstance(obj, dict):
            raise InputError(str(path), _("item {n} is not an object").format(n=i))
        for k in obj:
            headers.setdefault(k, None)
        rows.append((i, dict(obj)))
    return list(headers), rows



def _json_number(text: str) -> Any:
    """A JSON number, exactly (int or Decimal), checked for its length and exponent before it is
    converted (int("9" * 10**6) is slow, Decimal("1e999999999") cannot be made an int): one beyond
    the limits is a BadValue that rejects its row."""
    problem = number_problem(text)
    if problem:
        return BadValue(text, problem)
    if any(c in text for c in ".eE"):
        return Decimal(text)
    return int(text)


def _json_constant(text: str) -> Any:
    return BadValue(text, _("not a number"))


_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _check_nesting(path: Path, text: str) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH, or holding more than MAX_JSON_CONTAINERS arrays
    and objects, naming the line and column, before it is parsed (json.loads would recurse)."""
    depth = containers = 0
    for m in _STRING_OR_BRACKET.finditer(text):
        c = m.group()
        if c in "[{":
            depth += 1
            containers += 1
            if depth > MAX_JSON_DEPTH or containers > MAX_JSON_CONTAINERS:
                line = text.count("\n", 0, m.start()) + 1
                col = m.start() - text.rfind("\n", 0, m.start())
                if depth > MAX_JSON_DEPTH:
                    text = _("JSON nested more than {n} levels deep (at line {line} column {column}): an input is "
                             "a list of objects, one per unit")
                    n = str(MAX_JSON_DEPTH)
                else:
                    text = _("JSON with more than {n} arrays and objects (at line {line} column {column}): an input "
                             "is a list of objects, one per unit")
                    n = f"{MAX_JSON_CONTAINERS:,}".replace(",", ".")
                raise InputError(str(path), text.format(n=n, line=line, column=col))
        elif c in "]}":
            depth -= 1
