"""Reading submissions: CSV, JSON and Excel files (or folders of them) → rows keyed by headers.

A file that cannot be read at all raises InputError (exit 4); a bad cell is the validator's
business and only rejects its row.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from lanhmanh.scorecards.inputs.base import InputError, InputFile
from lanhmanh.scorecards.inputs.xlsx_reader import read_workbook

SUPPORTED = (".csv", ".json", ".xlsx", ".xlsm", ".xls")


def expand(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            # "~$name.xlsx" is Excel's lock file for an open workbook, not a submission
            found = sorted(q for q in p.iterdir() if q.suffix.lower() in SUPPORTED and q.is_file()
                           and not q.name.startswith("~$"))
            if not found:
                raise InputError(str(p), f"folder holds no {', '.join(SUPPORTED)} file")
            out.extend(found)
        elif not p.exists():
            raise InputError(str(p), "no such file or folder")
        else:
            out.append(p)
    return out


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
        raise InputError(str(path), f"unsupported file type {suffix or '(none)'}: use .xlsx, .csv or .json")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(str(path), f"cannot read: {e.strerror or e}") from None
    digest = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise InputError(str(path), "the file is empty")
    if suffix == ".csv":
        headers, rows = _read_csv(path, data)
    else:
        headers, rows = _read_json(path, data)
    if not rows:
        raise InputError(str(path), "the file has a header but no data rows")
    return InputFile(str(path), digest, rows, headers)


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1258")
    except UnicodeDecodeError:
        raise InputError(str(path), "not UTF-8 text: save the CSV as 'CSV UTF-8'") from None


def _read_csv(path: Path, data: bytes) -> tuple[list[str], list]:
    text = _decode(path, data)
    first = text.splitlines()[0] if text.splitlines() else ""
    delim = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(str(path), "the file is empty") from None
    except csv.Error as e:
        raise InputError(str(path), f"not a readable CSV: {e}") from None
    header = [h.strip() for h in header]
    if not any(header):
        raise InputError(str(path), "the first row (the header) is empty")
    rows = []
    try:
        for cells in reader:
            rowno = reader.line_num
            if not any(c.strip() for c in cells):
                continue
            record = {}
            for i, c in enumerate(cells):
                key = header[i] if i < len(header) else f"(column {i + 1})"
                record[key] = c
            rows.append((rowno, record))
    except csv.Error as e:
        raise InputError(str(path), f"not a readable CSV at line {reader.line_num}: {e}") from None
    return header, rows


def _read_json(path: Path, data: bytes) -> tuple[list[str], list]:
    try:
        doc = json.loads(_decode(path, data), parse_float=Decimal)
    except json.JSONDecodeError as e:
        raise InputError(str(path), f"not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if isinstance(doc, dict) and isinstance(doc.get("units"), list):
        doc = doc["units"]
    if not isinstance(doc, list):
        raise InputError(str(path), "JSON input must be a list of objects (or {\"units\": [...]})")
    rows = []
    headers: dict[str, Any] = {}  # every key of every object, in order of first appearance
    for i, obj in enumerate(doc, start=1):
        if not isinstance(obj, dict):
            raise InputError(str(path), f"item {i} is not an object")
        for k in obj:
            headers.setdefault(k, None)
        rows.append((i, dict(obj)))
    return list(headers), rows

