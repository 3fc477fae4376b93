"""Reading Excel workbooks (.xlsx, .xlsm) submitted to `lanhmanh score`.

    read_workbook(path, is_known) -> [InputFile, ...]   one per sheet that has a header row

A sheet's header row is found, not assumed (the row naming most of the pack's columns, the later
on a tie); every row keeps its Excel row number and every column its letter, so a rejection names
its cell ("H7"). Values pass through faithfully for the validator to judge. A workbook that cannot
be read at all raises InputError with what to do about it. Details (values, speed):
docs/scorecard.md, "Reading workbooks"."""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
import unicodedata
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Generator, Iterator, Optional

from lanhmanh.engine.evaluation.validate import BadValue, number_problem
from lanhmanh.i18n import N_, _
from lanhmanh.scorecards.inputs.base import InputError, InputFile
from lanhmanh.scorecards.inputs.formulas import MAX_FORMULA_DEPTH, NotSimple, calculate

HEADER_SCAN_ROWS = 50  # the header row is looked for among this many non-blank rows of a sheet
OLE2_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")  # a compound file: an .xls, or an encrypted .xlsx
SAVE_AS = N_("open it in Excel and Save As .xlsx (File → Save As → Excel Workbook)")  # said through _()

Cells = dict[int, Any]  # column number (1-based) → value, non-empty cells only

# limits, checked on the zip's directory before anything is expanded (docs/limits.md)
MAX_WORKBOOK_BYTES = 256 * 2**20  # the .xlsx file itself
MAX_SHEET_PART = 256 * 2**20  # one worksheet's XML, expanded (read as a stream)
MAX_OTHER_PART = 32 * 2**20  # any other part expanded (shared strings, styles: held in memory)
MAX_EXPANDED = 1024 * 2**20  # all parts together, expanded
MAX_PARTS = 10_000  # parts in the package
MAX_CELLS = 2_000_000  # cells with a value read from one workbook
_SHEET_PART = re.compile(r"^xl/worksheets/[^/]+\.xml$", re.IGNORECASE)


def read_workbook(path: Path, is_known: Callable[[str], bool]) -> list[InputFile]:
    """One InputFile per sheet whose header row names the pack's columns and that has data rows."""
    where = str(path)
    try:
        if Path(path).stat().st_size > MAX_WORKBOOK_BYTES:
            raise InputError(where, _("the workbook is larger than {mb} MB, the limit: split it (one workbook "
                                      "per province)").format(mb=MAX_WORKBOOK_BYTES // 2**20))
        data = Path(path).read_bytes()
    except OSError as e:
        raise InputError(where, _("cannot read: {error}").format(error=e.strerror or e)) from None
    _check_kind(path, data)
    trusted = _check_parts(where, data)
    if made_by_lanhmanh(io.BytesIO(data)):
        raise InputError(where, _("a scorecard or summary made by lanhmanh, not a submission: give the "
                                  "submitted workbooks (or CSV/JSON files) instead"))
    digest = hashlib.sha256(data).hexdigest()
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    with warnings.catch_warnings():  # openpyxl warns about features it drops; irrelevant to reading
        warnings.simplefilter("ignore")
        try:
            wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        except Exception as e:  # noqa: BLE001 - any failure to open is a damaged file, never a traceback
            raise InputError(where, _damaged(e)) from None
        try:
            return _read_sheets(where, digest, wb, is_known, trusted)
        except InputError:
            raise
        except Exception as e:  # noqa: BLE001 - malformed sheet XML, bad shared-string index, ...
            raise InputError(where, _damaged(e)) from None
        finally:
            wb.close()


def _check_kind(path: Path, data: bytes) -> None:
    """Refuse what is not an .xlsx by its bytes, with what to do about it."""
    where = str(path)
    if not data:
        raise InputError(where, _("the file is empty"))
    if data[:8] == OLE2_MAGIC:
        if _ole_has_stream(data, "EncryptionInfo"):
            raise InputError(where, _("the workbook is password-protected (encrypted), so it cannot be read: "
                                      "open it in Excel, remove the password (File → Info → Protect Workbook → "
                                      "Encrypt with Password, clear it), save, and run again"))
        raise InputError(where, _("an old Excel 97-2003 workbook (.xls), which cannot be read: {save_as}").format(
            save_as=_(SAVE_AS)))
    if not zipfile.is_zipfile(io.BytesIO(data)):
        if Path(path).suffix.lower() == ".xls":
            raise InputError(where, _("not an Excel workbook that can be read (an old or non-standard .xls, "
                                      "perhaps a web page or XML saved as .xls): {save_as}").format(
                                          save_as=_(SAVE_AS)))
        raise InputError(where, _("not an Excel workbook (not an .xlsx zip package): the file is damaged or of "
                                  "another kind; {save_as}").format(save_as=_(SAVE_AS)))


def _ole_has_stream(data: bytes, name: str) -> bool:
    """Whether a compound file (OLE2) holds a stream called `name`: an encrypted .xlsx is a
    compound file with an "EncryptionInfo" stream; an .xls has a "Workbook" stream instead."""
    import olefile  # type: ignore[import-untyped]

    try:
        with olefile.OleFileIO(io.BytesIO(data)) as ole:
            return ole.exists(name)
    except (OSError, ValueError, IndexError):  # a damaged compound file: not an encrypted workbook we know
        return False


def _damaged(e: Exception) -> str:
    detail = str(e).strip().splitlines()[0][:200] if str(e).strip() else ""
    return _("cannot be read as an Excel workbook ({error}): the file is damaged or not an .xlsx; "
             "{save_as}").format(error=type(e).__name__ + (": " + detail if detail else ""), save_as=_(SAVE_AS))


def _read_sheets(where: str, digest: str, wb, is_known, trusted: bool = True) -> list[InputFile]:
    files: list[InputFile] = []
    looked: list[str] = []
    empty: list[tuple[str, int]] = []  # sheets with a header row and no data
    budget = [MAX_CELLS]  # cells left to read, over every sheet
    for ws in wb.worksheets:
        title = _nfc(ws.title)
        looked.append(title)
        table = _read_sheet(wb, ws, is_known, _Reading(where, trusted, budget))
        if table is None:
            continue
        header_row, headers, letters, rows = table
        if not rows:
            empty.append((title, header_row))
            continue
        files.append(InputFile(where, digest, rows, headers, sheet=title, letters=letters,
                               header_row=header_row))
    if files:
        return files
    if empty:
        which = ", ".join(_("sheet {sheet} (header in row {row})").format(sheet=repr(t), row=r) for t, r in empty)
        raise InputError(where, _("the workbook has a header row but no data rows: {sheets}").format(sheets=which))
    if not looked:
        raise InputError(where, _("the workbook has no worksheets"))
    raise InputError(where, _("no sheet has a header row naming the pack's columns (looked at {sheets}, first "
                              "{n} non-blank rows of each): put the indicator ids or their Vietnamese labels, "
                              "with unit_code / Mã đơn vị, in one row above the data").format(
                                  sheets=", ".join(map(repr, looked)), n=HEADER_SCAN_ROWS))


def _read_sheet(wb, ws, is_known, reading: Optional["_Reading"] = None
                ) -> Optional[tuple[int, list[str], dict[str, str], list]]:
    """(header row, headers, letters, rows) of a sheet, or None when it has no header row."""
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    last = _last_row_with_value(ws)
    if last == 0:
        return None
    rows = _rows(wb, ws, last, reading or _Reading("", True, [MAX_CELLS]))
    head: list[tuple[int, Cells]] = []
    for r in rows:
        head.append(r)
        if len(head) == HEADER_SCAN_ROWS:
            break

    def known(cells: Cells) -> int:
        return sum(1 for v in cells.values() if (t := _header_text(v)) and is_known(t))

    counts = [known(cells) for _rowno, cells in head]
    best = max(range(len(head)), key=lambda i: (counts[i], i), default=None)
    if best is None or counts[best] < 2:
        rows.close()
        return None
    header_row, hcells = head[best]
    width = max(hcells)
    names = {col: _header_text(hcells.get(col)) for col in range(1, width + 1)}
    headers = [h for h in names.values() if h]
    letters = {h: get_column_letter(col) for col, h in names.items() if h}

    data: list[tuple[int, dict[str, Any]]] = []
    leading = True
    for rowno, cells in _chain(head[best + 1:], rows):
        if leading and known(cells) >= 2:  # a second header row (labels under ids, ids under labels)
            continue
        leading = False
        record: dict[str, Any] = dict.fromkeys(headers)
        for col, value in cells.items():
            name = names.get(col)
            if name:
                record[name] = value
            elif not _blank(value):
                record[f"(column {col})"] = value
        data.append((rowno, record))
    return header_row, headers, letters, data


def _chain(first: list, rest: Iterator) -> Iterator:
    yield from first
    yield from rest


class _Reading:
    """What reading a workbook's rows needs: its name (messages), whether its cached formula
    results are trusted, and the cells left to read (shared by its sheets)."""

    def __init__(self, where: str, trusted: bool, budget: list[int]):
        self.where, self.trusted, self.budget = where, trusted, budget


def _rows(wb, ws, last: int, reading: _Reading) -> Generator[tuple[int, Cells], None, None]:
    """(Excel row number, non-empty cells) of each non-blank row, up to the `last`-th row element.
    openpyxl's own sheet parser (what read-only iteration uses), driven directly: it gives each row
    its number from the file, pads nothing, and needs no <dimension> (which may be wrong). Its cell
    parser is wrapped to keep each formula (see _formula_cell)."""
    from openpyxl.worksheet._reader import WorkSheetParser  # type: ignore[import-untyped]

    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        plain = parser.parse_cell
        parser.parse_cell = lambda element: _parse_cell(parser, plain, element)
        for n, (rowno, cells) in enumerate(parser.parse(), start=1):
            parser.row_dimensions.clear()  # kept per formatted row otherwise: memory
            reading.budget[0] -= len(cells)
            if reading.budget[0] < 0:
                raise InputError(reading.where, _("more than {n} cells with a value: split the workbook").format(
                    n=f"{MAX_CELLS:,}".replace(",", ".")))
            values = _row_values(rowno, cells, reading.trusted)
            if not all(_blank(v) for v in values.values()):
                yield rowno, values
            if n >= last:
                break


def _parse_cell(parser, plain, element) -> dict:
    """openpyxl's cell parser, plus: a number beyond the limits (its text as written) is a
    BadValue, never converted; a formula cell keeps its formula and whether a result was saved."""
    from openpyxl.worksheet._reader import FORMULA_TAG, VALUE_TAG  # type: ignore[import-untyped]

    if element.get("t", "n") == "n":
        text = element.findtext(VALUE_TAG, None)
        if text and (len(text) > 15 or "e" in text or "E" in text) and (problem := number_problem(text.strip())):
            cell = plain(_without_value(element))
            cell["value"] = BadValue(text.strip(), problem)
            return cell
    try:
        cell = plain(element)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError):  # <v>x</v> in a boolean cell, a
        text = element.findtext(VALUE_TAG, None) or ""                  # shared string that is not there
        cell = plain(_without_value(element))
        cell["value"] = BadValue(text, _("a cell that cannot be read (of type {type} holding {text})").format(
            type=repr(element.get("t", "n")), text=repr(text[:20])))
        return cell
    if element.find(FORMULA_TAG) is not None:
        cell["formula"] = parser.parse_formula(element)
        cell["cached"] = bool(element.findtext(VALUE_TAG, None))
    return cell


def _without_value(element):
    from openpyxl.worksheet._reader import VALUE_TAG  # type: ignore[import-untyped]

    copy = element.makeelement(element.tag, dict(element.attrib))
    copy.extend(e for e in element if e.tag != VALUE_TAG)
    return copy


def _row_values(rowno: int, cells: list[dict], trusted: bool) -> Cells:
    """A row's values. A formula's saved result is taken only when the workbook is `trusted` (saved
    by a spreadsheet that calculated it) and a result was saved; otherwise a simple formula is
    calculated exactly (formulas.calculate) and any other is a BadValue naming the cell."""
    from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

    values: Cells = {}
    pending: dict[int, Any] = {}
    for c in cells:
        if "formula" in c and not (trusted and c["cached"]):
            pending[c["column"]] = c["formula"]
        elif c["value"] is not None:
            values[c["column"]] = _value(c["value"])
    if not pending:
        return values
    done: dict[int, Any] = {}

    def value_of(col: int, depth: int = 0) -> Any:
        if col in done:
            return done[col]
        if col not in pending:
            return values.get(col)
        formula = pending[col]
        coord = f"{get_column_letter(col)}{rowno}"
        done[col] = None  # a cycle reads a blank; Excel would refuse it, and so does the depth
        if not isinstance(formula, str) or depth > MAX_FORMULA_DEPTH:
            result: Any = BadValue(str(getattr(formula, "text", formula)), _uncalculated(coord, str(formula)))
        else:
            try:
                result = calculate(formula, rowno, lambda c: value_of(c, depth + 1))
            except NotSimple as e:
                result = BadValue(formula, _uncalculated(coord, formula, str(e)))
        done[col] = result
        return result

    for col in pending:
        values[col] = value_of(col)
    return values


def _uncalculated(coord: str, formula: str, why: str = "") -> str:
    return _("cell {cell} holds a formula that was never calculated ({formula}): open the file in Excel or "
             "LibreOffice and save it again").format(cell=coord, formula=formula + (": " + why if why else ""))


def _check_parts(where: str, data: bytes) -> bool:
    """Refuse a workbook whose parts, expanded, exceed the limits, before anything is expanded (the
    zip's directory gives each part's size; a part that expands beyond the size it declares fails
    its check as it is read). Returns whether its formulas' saved results can be trusted: not when
    the workbook asks to be recalculated when opened (`fullCalcOnLoad`, as XlsxWriter and openpyxl
    write it: their saved results are placeholders)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            if len(infos) > MAX_PARTS:
                raise InputError(where, _("the workbook has more than {n} parts: {save_as}").format(
                    n=f"{MAX_PARTS:,}".replace(",", "."), save_as=_(SAVE_AS)))
            total = 0
            for info in infos:
                sheet = bool(_SHEET_PART.match(info.filename))
                limit = MAX_SHEET_PART if sheet else MAX_OTHER_PART
                total += info.file_size
                if info.file_size > limit or total > MAX_EXPANDED:
                    size = f"{info.file_size / 2**20:,.0f}"
                    if sheet:
                        text = _("the workbook's part {part} expands to {size} MB, over the limit of {limit} MB for a "
                                 "sheet (and {total} MB in all): it is not a workbook lanhmanh can read safely; "
                                 "save the data in a new workbook")
                    else:
                        text = _("the workbook's part {part} expands to {size} MB, over the limit of {limit} MB for "
                                 "such a part (and {total} MB in all): it is not a workbook lanhmanh can read "
                                 "safely; save the data in a new workbook")
                    raise InputError(where, text.format(part=info.filename, size=size, limit=limit // 2**20,
                                                        total=MAX_EXPANDED // 2**20))
            try:
                book = z.read("xl/workbook.xml") if "xl/workbook.xml" in z.namelist() else b""
            except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
                book = b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as e:
        raise InputError(where, _damaged(e)) from None
    return _FULL_CALC.search(book) is None


_FULL_CALC = re.compile(rb"<(?:[^\s<>/:!?]+:)?calcPr\b[^>]*\bfullCalcOnLoad\s*=\s*[\"'](?:1|true)[\"']")


def made_by_lanhmanh(source) -> bool:
    """Whether an .xlsx (a path or a file object) is a scorecard or national summary that lanhmanh
    wrote: its custom properties lanhmanh.pack_id / lanhmanh.results_digest (a scorecard, and a
    national summary since it carries them), or the title and comment of a national summary written
    before. A data-entry template (filled in, a submission) is not."""
    if isinstance(source, Path) and source.suffix.lower() not in (".xlsx", ".xlsm"):
        return False
    try:
        with zipfile.ZipFile(source) as z:
            names = set(z.namelist())
            custom = _small_part(z, "docProps/custom.xml") if "docProps/custom.xml" in names else b""
            core = _small_part(z, "docProps/core.xml") if "docProps/core.xml" in names else b""
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return False
    if b'name="lanhmanh.results_digest"' in custom or b'name="lanhmanh.pack_id"' in custom:
        return True
    return "Tạo bởi lanhmanh".encode() in core and "Tổng hợp toàn quốc".encode() in core


def _small_part(z: zipfile.ZipFile, name: str) -> bytes:
    info = z.getinfo(name)
    return z.read(name) if info.file_size <= 2**20 else b""


# a row element and a cell value (<v> or an inline string <is>), with any namespace prefix
_ROW_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?row[\s>/]")
_VALUE_TAG = re.compile(rb"<(?:[^\s<>/:!?]+:)?(?:v|is|f)[\s>/]")


def _last_row_with_value(ws, chunk: int = 1 << 20) -> int:
    """The ordinal of the last row element that holds a cell value (0: none), by a scan of the raw
    sheet XML. It can only overcount (a comment, an empty <v></v>): the parse then reads further."""
    rows = last = 0
    carry = b""
    with ws._get_source() as src:
        while True:
            data = src.read(chunk)
            buf = carry + data
            carry = b""
            if data:  # the last tag may be cut by the chunk boundary: keep it for the next round
                cut = max(buf.rfind(b"<"), 0)
                buf, carry = buf[:cut], buf[cut:]
            value = None
            for value in _VALUE_TAG.finditer(buf):
                pass
            if value is not None:
                last = rows + len(_ROW_TAG.findall(buf, 0, value.start()))
            rows += len(_ROW_TAG.findall(buf))
            if not data:
                return last


def _value(v: Any) -> Any:
    """A cell value as the validator wants it: exact numbers, NFC text, ISO dates."""
    if isinstance(v, BadValue):
        return v
    if isinstance(v, str):
        return _nfc(v)
    if isinstance(v, float):  # an integral number is an int whatever the format (0.0 is 0, as in a CSV)
        if v != v or v in (float("inf"), float("-inf")):
            return BadValue(repr(v), _("not a number"))
        return int(v) if v.is_integer() and abs(v) < 2**53 else Decimal(repr(v))
    if isinstance(v, dt.datetime):
        return v.date().isoformat() if v.time() == dt.time(0) else v.isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        return str(v)
    return v  # int, bool


def _header_text(v: Any) -> str:
    return "" if v is None else _nfc(str(v)).strip()


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, str) and not v.strip())


def _nfc(s: str) -> str:
    return unicodedata.normalize("NFC", s)
