"""Reading a scorecard workbook back and holding it against a re-derived batch (`lanhmanh verify`):
`open_scorecard(path)` opens it (NotAScorecard for anything else), `compare(card, batch)` returns a
`Report` of every difference, named by sheet and cell. What is compared and what is forgiven:
docs/scorecard.md, "`verify`"."""
from __future__ import annotations

import re
import unicodedata
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Optional

import openpyxl  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]

from lanhmanh.engine.evaluation.evidence import criteria_evidence
from lanhmanh.engine.evaluation.scoring import BatchResult
from lanhmanh.i18n import N_, _
from lanhmanh.scorecards.outputs.digest import DIGEST_FORMAT, results_digest
from lanhmanh.scorecards.outputs.presentation import (
    DASH,
    EVIDENCE,
    INFO,
    INFO_DIGEST_LABEL,
    MET,
    NOTE_LABEL,
    PROVINCES,
    SUMMARY,
    batch_year,
    class_order,
    excel_text,
    inputs_text,
    met_text,
    province_name,
    quote_sheet,
)
from lanhmanh.scorecards.outputs.scorecard.book import (
    HEADINGS,
    also_evidence_notes,
    class_cell_text,
    province_note,
    result_text,
)
from lanhmanh.scorecards.outputs.scorecard.heading import RECIPIENTS
from lanhmanh.scorecards.outputs.scorecard.provinces import OFFICIAL_UNITS, PROVINCE_NOTE
from lanhmanh.scorecards.outputs.scorecard.workbook import UNIT_SHEETS_MAX

DIGEST_PROPERTY = "lanhmanh.results_digest"
INPUTS_LABEL = "Tệp số liệu đầu vào"
INFO_ITEMS = {"pack_id": "Bộ tiêu chí (mã)", "pack_version": "Phiên bản", "pack_sha256": "SHA-256 của tệp tiêu chí",
              "engine": "Bộ máy suy luận (engine)", "units": "Số đơn vị được xếp loại",
              "provinces": "Số tỉnh, thành phố", "rejected": "Số lỗi dữ liệu bị loại", "warnings": "Số cảnh báo"}
HEADING_ROWS = 12  # a heading row is looked for in a sheet's first rows (a notes line may come first)

# the subjects of the messages ("{what} is 3 in the workbook, 5 re-derived"), translated where said
SUMMARY_WORDS = {"rank_province": N_("rank in the province of {who}"), "rank_national": N_("national rank of {who}"),
                 "code": N_("code of {who}"), "name": N_("name of {who}"), "type": N_("unit type of {who}"),
                 "province_code": N_("province code of {who}"), "province": N_("province of {who}"),
                 "class": N_("class of {who}"), "class_id": N_("class id of {who}"), "total": N_("total of {who}"),
                 "vetoes": N_("vetoes of {who}")}
POINTS_OF = N_("points of {who} for criterion {id}")
RESULT_OF = N_("result of {who} for criterion {id}")
EVIDENCE_WORDS = {"name": N_("name of {who} for criterion {id}"),
                  "values": N_("values read of {who} for criterion {id}"),
                  "threshold": N_("threshold of {who} for criterion {id}"), "met": RESULT_OF, "points": POINTS_OF,
                  "cite": N_("citation of {who} for criterion {id}"), "note": N_("note of {who} for criterion {id}")}
PACK_DIFFERS = {"pack_id": N_("pack id is {found} in the workbook, {expected} given"),
                "pack_version": N_("pack version is {found} in the workbook, {expected} given"),
                "pack_sha256": N_("pack sha256 is {found} in the workbook, {expected} given")}


class NotAScorecard(Exception):
    """The file opens (or not) but is not a scorecard written by lanhmanh."""


class UnreadableSheet(NotAScorecard):
    """A sheet of the scorecard cannot be read (a damaged file)."""


@dataclass(frozen=True)
class Difference:
    where: str  # "Tổng hợp!J7", or a sheet name, or "" for the file as a whole
    message: str
    unit: Optional[str] = None  # the unit code the difference is about, if one

    def __str__(self) -> str:
        return f"{where_shown(self.where)}: {self.message}" if self.where else self.message


def where_shown(where: str) -> str:
    """A difference's place as printed: "sheet 17329" and "document property NAME" (kept so in
    `where`, which the verify command sorts by) in the language in force."""
    if where.startswith("sheet "):
        return _("sheet {name}").format(name=where[len("sheet "):])
    if where.startswith("document property "):
        return _("document property {name}").format(name=where[len("document property "):])
    return where


@dataclass
class Report:
    differences: list[Difference] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # what was compared, for the "intact" line
    info: list[str] = field(default_factory=list)  # what an auditor should know, not differences
    uncached: int = 0  # formula cells without a cached value (checked by their text)
    names: dict[str, str] = field(default_factory=dict)  # unit code → name, for the units named

    @property
    def intact(self) -> bool:
        return not self.differences

    def units_differing(self) -> list[str]:
        """The codes of the units with a difference, in order of their first difference."""
        return list(dict.fromkeys(d.unit for d in self.differences if d.unit))


# ---- reading the workbook -----------------------------------------------------------------------

class Grid:
    """One sheet's non-empty cells (1-based row, column): the value shown (a formula's cached
    value) and, for formula cells, the formula text."""

    def __init__(self, name: str, cells: dict, formulas: dict):
        self.name = name
        self.cells = cells
        self.formulas = formulas
        self.max_row = max((r for r, _col in [*cells, *formulas]), default=0)
        self._rows: Optional[dict[int, list[tuple[int, Any]]]] = None

    def value(self, r: int, c: int) -> Any:
        return self.cells.get((r, c))

    def text(self, r: int, c: int) -> str:
        return shown_text(self.cells.get((r, c)))

    def formula(self, r: int, c: int) -> Optional[str]:
        return self.formulas.get((r, c))

    def ref(self, r: int, c: int) -> str:
        return f"{self.name}!{get_column_letter(c)}{r}"

    def row_empty(self, r: int, cols: Iterable[int]) -> bool:
        return all(self.text(r, c) == "" and self.formula(r, c) is None for c in cols)

    def headings(self, r: int) -> dict[str, int]:
        """Heading text → column, the first occurrence in row r."""
        if self._rows is None:
            self._rows = defaultdict(list)
            for (row, c), v in sorted(self.cells.items()):
                self._rows[row].append((c, v))
        out: dict[str, int] = {}
        for c, v in self._rows.get(r, []):
            if isinstance(v, str):
                out.setdefault(shown_text(v).strip(), c)
        return out

    def heading_row(self, *needles: str) -> Optional[int]:
        """The first row (among the first HEADING_ROWS) that holds every needle as a cell."""
        for r in range(1, HEADING_ROWS + 1):
            if set(needles) <= set(self.headings(r)):
                return r
        return None

    def table_end(self, hr: int) -> int:
        """The last row of the table under heading row `hr`: the rows from the notes printed under
        it or from "Nơi nhận:" on are the document's foot (signatures), not the table."""
        for r in range(hr + 1, self.max_row + 1):
            first = self.text(r, 1).strip()
            if first == RECIPIENTS or first.startswith(f"{NOTE_LABEL}:"):
                return r - 1
        return self.max_row

    def label_rows(self, col: int = 1) -> dict[str, list[int]]:
        """Text in column `col` → the rows holding it (labels of a key/value sheet)."""
        out: dict[str, list[int]] = defaultdict(list)
        for (r, c), v in sorted(self.cells.items()):
            if c == col and isinstance(v, str):
                out[shown_text(v).strip()].append(r)
        return out


class Scorecard:
    """A scorecard workbook opened for reading: its sheets (read on first use), its document
    properties. Use as a context manager, or call close()."""

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            self._formulas = openpyxl.load_workbook(self.path, read_only=True)
            self._values = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, TypeError, OSError) as e:
            raise NotAScorecard(_("it cannot be opened as an Excel workbook (.xlsx): {error}").format(error=e)) \
                from None
        except Exception as e:  # openpyxl's InvalidFileException and whatever a damaged file raises
            raise NotAScorecard(_("it cannot be opened as an Excel workbook (.xlsx): {error}").format(
                error=f"{type(e).__name__}: {e}")) from None
        self.sheetnames = list(self._formulas.sheetnames)
        self._grids: dict[str, Grid] = {}
        try:
            self.properties = {p.name: p.value for p in self._formulas.custom_doc_props.props}
        except Exception:  # noqa: BLE001 (a workbook without readable custom properties has none)
            self.properties = {}

    def __enter__(self) -> "Scorecard":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for wb in (getattr(self, "_formulas", None), getattr(self, "_values", None)):
            if wb is not None:
                wb.close()

    def sheet(self, name: str) -> Optional[Grid]:
        if name not in self.sheetnames:
            return None
        if name not in self._grids:
            try:
                self._grids[name] = _read_sheet(name, self._formulas[name], self._values[name])
            except Exception as e:  # noqa: BLE001 (whatever a damaged sheet's XML raises)
                raise UnreadableSheet(_("its sheet {sheet} cannot be read: {error}").format(
                    sheet=repr(name), error=f"{type(e).__name__}: {e}")) from None
        return self._grids[name]


def _read_sheet(name: str, ws_formulas, ws_values) -> Grid:
    cells: dict = {}
    formulas: dict = {}
    for ws in (ws_formulas, ws_values):
        ws.reset_dimensions()  # read every row, whatever dimension the file declares
    for row in ws_formulas.iter_rows():
        for c in row:
            v = c.value
            if v is None or not hasattr(c, "row"):
                continue
            if c.data_type == "f":
                formulas[(c.row, c.column)] = getattr(v, "text", None) or str(v)
            else:
                cells[(c.row, c.column)] = v
    if formulas:
        for row in ws_values.iter_rows():
            for c in row:
                if c.value is not None and hasattr(c, "row") and (c.row, c.column) in formulas:
                    cells[(c.row, c.column)] = c.value
    return Grid(name, cells, formulas)


def open_scorecard(path: Path) -> Scorecard:
    """Open a scorecard; NotAScorecard (with the reason) for anything else, FileNotFoundError for
    a missing file."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(str(path))
    if path.is_dir():
        raise NotAScorecard(_("it is a folder, not a workbook"))
    card = Scorecard(path)
    try:
        info = card.sheet(INFO)
        if info is None:
            raise NotAScorecard(_("it has no sheet {sheet}: it is not a scorecard written by `lanhmanh score --out`")
                                .format(sheet=repr(INFO)))
        if INFO_DIGEST_LABEL not in info.label_rows() and DIGEST_PROPERTY not in card.properties:
            raise NotAScorecard(_("its sheet {sheet} records no results digest ({label}) and the file has no "
                                  "{property} property: it is not a scorecard written by `lanhmanh score --out`")
                                .format(sheet=repr(INFO), label=repr(INFO_DIGEST_LABEL), property=DIGEST_PROPERTY))
    except BaseException:
        card.close()
        raise
    return card


# ---- cell values as shown -----------------------------------------------------------------------

def shown_text(v: Any) -> str:
    """A cell as text: empty for an empty cell, NFC, a whole number without '.0'."""
    if v is None:
        return ""
    if isinstance(v, str):
        return unicodedata.normalize("NFC", v)
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def shown_int(v: Any) -> Optional[int]:
    """A cell as a whole number, or None when it holds anything else (text, a fraction, nothing)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return None


def show(v: Any) -> str:
    """A value for a message: numbers plain, text quoted, nothing as (empty)."""
    if v is None or v == "":
        return _("(empty)")
    if isinstance(v, str):
        return repr(unicodedata.normalize("NFC", v))
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def formula_key(f: str) -> str:
    """A formula without its '=', '$' and spaces, upper case: how two spellings are compared."""
    return re.sub(r"[\s$]", "", f.lstrip("=")).upper()


def _are(what: str) -> bool:
    """Whether a subject such as 'points of 17329 Xã Anh Sơn for criterion C2' takes 'are' (English;
    a translated subject takes the 'is' message, translated the same)."""
    return what.split(" ", 1)[0] in ("points", "values", "ranks", "vetoes")


def _said(is_message: str, are_message: str, what: str, **values: Any) -> str:
    """One of two messages about `what` ("{what} is ...", "{what} are ..."), translated and filled."""
    return _(are_message if _are(what) else is_message).format(what=what, **values)


def _short(sha: str) -> str:
    return f"{sha[:12]}…" if len(sha) > 12 else sha


# ---- the comparison -----------------------------------------------------------------------------

def compare(card: Scorecard, batch: BatchResult) -> Report:
    """Every difference between the scorecard and the re-derived batch (batch.inputs: the files
    given), and what was checked."""
    return Comparison(card, batch).run()


class Comparison:
    """One comparison of a scorecard with a re-derived batch: each check_* method adds its
    differences to the report, in the order they are printed."""

    def __init__(self, card: Scorecard, batch: BatchResult):
        self.card = card
        self.batch = batch
        self.pack = batch.pack
        self.level = batch.pack.commune
        self.criteria = list(self.level.criteria.values())
        self.report = Report()
        self.summary_cols: Optional[dict[str, int]] = None  # located by check_summary, used by Tỉnh
        self.summary_heading_row = 0
        self.inputs_match = False  # every input recorded was given, and nothing else
        self.report.names.update((r.unit.code, r.unit.name) for r in batch.units)

    # -- plumbing --

    def diff(self, where: str, message: str, unit: Optional[str] = None) -> None:
        self.report.differences.append(Difference(where, message, unit))

    def checked(self, what: str) -> None:
        self.report.checked.append(what)

    def text_cell(self, g: Grid, r: int, c: int, expected: str, what: str, unit: Optional[str] = None) -> None:
        v = g.value(r, c)
        if shown_text(v) != unicodedata.normalize("NFC", expected):
            self.diff(g.ref(r, c), _said(N_("{what} is {found} in the workbook, {expected} re-derived"),
                                         N_("{what} are {found} in the workbook, {expected} re-derived"),
                                         what, found=show(v), expected=show(expected)), unit)

    def int_cell(self, g: Grid, r: int, c: int, expected: Optional[int], what: str,
                 unit: Optional[str] = None) -> None:
        v = g.value(r, c)
        same = (shown_text(v) == "") if expected is None else (shown_int(v) == expected)
        if not same or g.formula(r, c) is not None:
            found = show(v)
            if g.formula(r, c) is not None:
                found = _("{value} (a formula, {formula})").format(value=found, formula=g.formula(r, c))
            self.diff(g.ref(r, c), _said(N_("{what} is {found} in the workbook, {expected} re-derived"),
                                         N_("{what} are {found} in the workbook, {expected} re-derived"),
                                         what, found=found, expected=show(expected)), unit)

    def formula_cell(self, g: Grid, r: int, c: int, formula: str, expected: int, what: str,
                     unit: Optional[str] = None) -> None:
        """A cell that must hold `formula` and show `expected` (when it carries a cached value)."""
        f, v = g.formula(r, c), g.value(r, c)
        shown = shown_int(v)
        if f is None:
            if shown_text(v) == "":
                message = _said(N_("{what} is empty in the workbook, {expected} re-derived: the formula {formula} "
                                   "was deleted"),
                                N_("{what} are empty in the workbook, {expected} re-derived: the formula {formula} "
                                   "was deleted"), what, expected=expected, formula=formula)
            elif shown != expected:
                message = _said(N_("{what} is {found} in the workbook, {expected} re-derived, typed over the formula "
                                   "{formula}"),
                                N_("{what} are {found} in the workbook, {expected} re-derived, typed over the "
                                   "formula {formula}"), what, found=show(v), expected=expected, formula=formula)
            else:
                message = _said(N_("{what} is {found} as re-derived, but typed over the formula {formula}"),
                                N_("{what} are {found} as re-derived, but typed over the formula {formula}"),
                                what, found=show(v), formula=formula)
            self.diff(g.ref(r, c), message, unit)
        elif formula_key(f) != formula_key(formula):
            if v is None or shown == expected:
                message = _("{what}: the formula is {found} in the workbook, not {formula}").format(
                    what=what, found=f, formula=formula)
            else:
                message = _("{what}: the formula is {found} in the workbook, not {formula}; it shows {value}, "
                            "{expected} re-derived").format(what=what, found=f, formula=formula, value=show(v),
                                                            expected=expected)
            self.diff(g.ref(r, c), message, unit)
        elif v is None:
            self.report.uncached += 1
        elif shown != expected:
            self.diff(g.ref(r, c), _said(N_("{what} is {found} in the workbook, {expected} re-derived"),
                                         N_("{what} are {found} in the workbook, {expected} re-derived"),
                                         what, found=show(v), expected=expected), unit)

    # -- the checks, in the order they are reported --

    def run(self) -> Report:
        same_pack = self.check_info()
        if not same_pack:
            self.report.info.append(_("the results were not compared cell by cell: the workbook was made with "
                                      "another pack"))
            return self.report
        self.check_summary()
        self.check_provinces()
        self.check_evidence()
        self.check_unit_sheets()
        self.check_digest()
        return self.report

    # ---- Thông tin --------------------------------------------------------------------------------

    def info_grid(self) -> Grid:
        g = self.card.sheet(INFO)
        assert g is not None  # open_scorecard refused a workbook without it
        return g

    def info_cell(self, label: str) -> Optional[tuple[int, int]]:
        rows = self.info_grid().label_rows().get(label)
        return (rows[0], 2) if rows else None

    def check_info(self) -> bool:
        """Inputs, pack and counts; False when the workbook was made with another pack."""
        g = self.info_grid()
        same = self.check_pack(g)
        self.check_inputs(g)
        b = self.batch
        if not same:
            return False
        for key, n in (("units", len(b.units)), ("provinces", len(b.provinces)),
                       ("rejected", len(b.rejected)), ("warnings", len(b.warnings))):
            at = self.info_cell(INFO_ITEMS[key])
            if at is None:
                self.diff(INFO, _("the row {label} is missing").format(label=repr(INFO_ITEMS[key])))
                continue
            v = g.value(*at)
            if shown_int(v) != n:
                message = N_("{label} ({key}) is {found} in the workbook, {expected} re-derived")
                first = None
                recorded = shown_int(v)
                if key == "rejected" and b.rejected and recorded is not None and recorded < n:
                    first = b.rejected[0]
                    message = (N_("{label} ({key}) is {found} in the workbook, {expected} re-derived (first: "
                                  "{where}: {reason}; the inputs are the same: was `score` given another "
                                  "--unit-list?)") if self.inputs_match else
                               N_("{label} ({key}) is {found} in the workbook, {expected} re-derived (first: "
                                  "{where}: {reason})"))
                self.diff(g.ref(*at), _(message).format(
                    label=INFO_ITEMS[key], key=key, found=show(v), expected=n,
                    where=first.where() if first else "", reason=first.reason if first else ""))
        at = self.info_cell(INFO_ITEMS["engine"])
        if at is not None and g.text(*at) not in ("", b.engine):
            self.report.info.append(_("the scorecard was made with engine {recorded}, re-derived with "
                                      "{engine} (the backends give identical results)").format(
                recorded=g.text(*at), engine=b.engine))
        self.check_notes(g)
        return same

    def check_notes(self, g: Grid) -> None:
        """The batch's notes (e.g. a pack applied outside its period with --force): the "Lưu ý" rows
        of Thông tin, and the line above the summary's headings."""
        want = [unicodedata.normalize("NFC", n) for n in self.batch.notes]
        rows = g.label_rows().get(NOTE_LABEL, [])
        have = [g.text(r, 2) for r in rows]
        for r, note in zip(rows, have):
            if note not in want:
                self.diff(g.ref(r, 2), _("note {note} is in the workbook, not among the re-derived notes")
                          .format(note=show(note)))
        for note in want:
            if note not in have:
                self.diff(INFO, _("the note {note} is missing from the {label} rows").format(
                    note=show(note), label=repr(NOTE_LABEL)))
        for note in have:
            self.report.info.append(_("the scorecard records a note: {note}").format(note=note))
        summary = self.card.sheet(SUMMARY)
        if summary is None:
            return
        line = summary.text(1, 1)
        expected = f"{NOTE_LABEL}: " + "; ".join(want) if want else ""
        if want and line != expected:
            self.diff(summary.ref(1, 1), _("the notes line is {found} in the workbook, {expected} re-derived")
                      .format(found=show(line), expected=show(expected)))
        elif not want and line.startswith(f"{NOTE_LABEL}:"):
            self.diff(summary.ref(1, 1), _("the notes line {found} is in the workbook, but the re-derived "
                                           "results carry no notes").format(found=show(line)))

    def recorded_inputs(self, g: Grid) -> list[tuple[int, str, str, Any, str]]:
        """(row, path, sha256, rows, sheet) of every input listed under 'Tệp số liệu đầu vào'."""
        top = g.label_rows().get(INPUTS_LABEL)
        if not top:
            return []
        heads = g.headings(top[0] + 1)
        c_path, c_sha = heads.get("Tệp", 1), heads.get("SHA-256", 2)
        c_rows, c_sheet = heads.get("Số dòng", 3), heads.get("Trang tính", 4)
        out = []
        r = top[0] + 2
        while r <= g.max_row and not g.row_empty(r, (c_path, c_sha)):
            out.append((r, g.text(r, c_path), g.text(r, c_sha).lower(), g.value(r, c_rows), g.text(r, c_sheet)))
            r += 1
        return out

    def check_inputs(self, g: Grid) -> None:
        self.checked(_("{n} input file(s) by sha256").format(n=len(self.batch.inputs)))
        recorded = self.recorded_inputs(g)
        if not g.label_rows().get(INPUTS_LABEL):
            self.diff(INFO, _("the table {label} of the input files is missing").format(label=repr(INPUTS_LABEL)))
            return
        given = self.batch.inputs
        rec_by_sha: dict[str, list] = defaultdict(list)
        for rec in recorded:
            rec_by_sha[rec[2]].append(rec)
        giv_by_sha: dict[str, list] = defaultdict(list)
        for source in given:
            giv_by_sha[str(source.get("sha256", "")).lower()].append(source)
        missing = [recs[0] for sha, recs in rec_by_sha.items() if sha not in giv_by_sha]
        extra = [inps[0] for sha, inps in giv_by_sha.items() if sha not in rec_by_sha]
        self.inputs_match = not missing and not extra
        for rec, inp in _pair_changed(missing, extra):
            row, path, sha = rec[0], rec[1], rec[2]
            if inp is not None:
                same_name = Path(str(inp["path"])).name == Path(path).name
                message = (N_("input {path}: the file given, {given}, is not the one recorded: its sha256 is "
                              "{sha}, the workbook records {recorded} (the file was changed after the scorecard "
                              "was made)") if same_name else
                           N_("input {path}: the file given, {given}, is not the one recorded: its sha256 is "
                              "{sha}, the workbook records {recorded}"))
                self.diff(g.ref(row, 2), _(message).format(path=path, given=inp["path"],
                                                           sha=_short(inp["sha256"]), recorded=_short(sha)))
            else:
                self.diff(g.ref(row, 2), _("input {path} (sha256 {sha}) recorded in the workbook is not "
                                           "among the files given").format(path=path, sha=_short(sha)))
        paired = {id(inp) for _rec, inp in _pair_changed(missing, extra) if inp is not None}
        for inp in extra:
            if id(inp) not in paired:
                self.diff(INFO, _("input {path} (sha256 {sha}) was given but is not among the inputs recorded "
                                  "in the workbook").format(path=inp["path"], sha=_short(inp["sha256"])))
        for sha, recs in rec_by_sha.items():  # the same files: the same rows read (sheet by sheet)
            inps = giv_by_sha.get(sha)
            if not inps:
                continue
            want = sorted((str(i.get("sheet") or ""), int(i.get("rows", 0))) for i in inps)
            have = sorted((sheet, shown_int(rows)) for _r, _p, _s, rows, sheet in recs)
            if want != have:
                self.diff(g.ref(recs[0][0], 3), _("input {path}: rows read per sheet are {found} in the "
                                                  "workbook, {expected} re-derived").format(
                    path=recs[0][1], found=have, expected=want))

    def check_pack(self, g: Grid) -> bool:
        p = self.pack
        same_id = True
        for key, want in (("pack_id", p.id), ("pack_version", p.version), ("pack_sha256", p.sha256)):
            label = INFO_ITEMS[key]
            at = self.info_cell(label)
            have = g.text(*at) if at else None
            if at is None:
                self.diff(INFO, _("the row {label} is missing").format(label=repr(label)))
            elif have != want:
                self.diff(g.ref(*at), _(PACK_DIFFERS[key]).format(found=show(have), expected=show(want)))
            prop = self.card.properties.get(f"lanhmanh.{key}")
            if prop is not None and shown_text(prop) != want:
                self.diff(f"document property lanhmanh.{key}",
                          _("is {found}, {expected} given").format(found=show(prop), expected=show(want)))
            if key == "pack_id" and ((at is not None and have != want) or (prop is not None and prop != want)):
                same_id = False
        self.checked(_("pack {id} {version} (id, version, sha256)").format(id=p.id, version=p.version))
        return same_id

    def check_digest(self) -> None:
        g = self.info_grid()
        want = results_digest(self.batch)
        at = self.info_cell(INFO_DIGEST_LABEL)
        if at is None:
            self.diff(INFO, _("the row {label} (results digest) is missing").format(label=repr(INFO_DIGEST_LABEL)))
        elif g.text(*at).lower() != want:
            self.diff(g.ref(*at), _("results digest is {found} in the workbook, {expected} re-derived").format(
                found=show(g.text(*at)), expected=repr(want)))
        prop = self.card.properties.get(DIGEST_PROPERTY)
        if prop is None:
            self.diff(f"document property {DIGEST_PROPERTY}", _("is missing"))
        elif shown_text(prop).lower() != want:
            self.diff(f"document property {DIGEST_PROPERTY}",
                      _("is {found}, {expected} re-derived").format(found=show(prop), expected=repr(want)))
        fmt = self.card.properties.get("lanhmanh.digest_format")
        if fmt is not None and fmt != DIGEST_FORMAT:
            self.diff("document property lanhmanh.digest_format",
                      _("is {found}: this lanhmanh computes {format}").format(found=show(fmt), format=DIGEST_FORMAT))
        self.checked(_("results digest (cell and document property)"))

    # ---- Tổng hợp ---------------------------------------------------------------------------------

    def summary_keys(self) -> list[str]:
        keys = ["rank_province", "rank_national", "code", "name", "type", "province_code", "province",
                "class", "class_id"]
        if self.level.scored:
            keys.append("total")
        if self.level.vetoes:
            keys.append("vetoes")
        return keys

    def check_summary(self) -> None:
        g = self.card.sheet(SUMMARY)
        if g is None:
            self.diff(SUMMARY, _("the sheet is missing"))
            return
        hr = g.heading_row(HEADINGS["code"], HEADINGS["class"])
        if hr is None:
            self.diff(SUMMARY, _("no heading row with {code} and {class_} in the first {n} rows").format(
                code=repr(HEADINGS["code"]), class_=repr(HEADINGS["class"]), n=HEADING_ROWS))
            return
        heads = g.headings(hr)
        cols: dict[str, int] = {}
        for key in self.summary_keys():
            if HEADINGS[key] in heads:
                cols[key] = heads[HEADINGS[key]]
            else:
                self.diff(SUMMARY, _("column {label} is missing from the headings (row {row})").format(
                    label=repr(HEADINGS[key]), row=hr))
        crit_cols: dict[str, int] = {}
        for c in self.criteria:
            if c.id in heads:
                crit_cols[c.id] = heads[c.id]
            else:
                self.diff(SUMMARY, _("the column of criterion {id} is missing from the headings (row {row})")
                          .format(id=c.id, row=hr))
        if "code" not in cols:
            return
        self.summary_cols, self.summary_heading_row = cols, hr
        rows = self.unit_rows(g, hr, cols["code"], [*cols.values(), *crit_cols.values()])
        for r in self.batch.units:
            if r.unit.code not in rows:
                self.diff(SUMMARY, _("unit {code} {name} is missing (re-derived: {result})").format(
                    code=r.unit.code, name=r.unit.name, result=self.result_words(r)), r.unit.code)
        for r in self.batch.units:
            for row in rows.get(r.unit.code, []):
                self.summary_row(g, row, r, cols, crit_cols)
        what = N_("{n} unit rows of {sheet} (ranks, identity, class, total and its formula, vetoes, {k} criteria)") \
            if self.level.scored else N_("{n} unit rows of {sheet} (ranks, identity, class, {k} criteria)")
        self.checked(_(what).format(n=len(self.batch.units), sheet=SUMMARY, k=len(self.criteria)))

    def unit_rows(self, g: Grid, hr: int, c_code: int, cols: list[int]) -> dict[str, list[int]]:
        """Unit code → its rows below the headings; rows added, given twice or without a code are
        reported here."""
        known = {r.unit.code: r.unit for r in self.batch.units}
        rows: dict[str, list[int]] = defaultdict(list)
        for row in range(hr + 1, g.table_end(hr) + 1):
            code = g.text(row, c_code).strip()
            if not code:
                if not g.row_empty(row, cols):
                    self.diff(g.ref(row, c_code), _("row {row} has results but no unit code").format(row=row))
                continue
            rows[code].append(row)
        for code, at in rows.items():
            if code not in known:
                name = self.name_in_row(g, at[0])
                self.report.names.setdefault(code, name.strip())
                self.diff(g.ref(at[0], c_code), _("unit {unit} is in the workbook but not in the re-derived "
                                                  "results").format(unit=f"{code}{name}"), code)
            if len(at) > 1:
                self.diff(g.ref(at[1], c_code), _("unit {code} appears {n} times (rows {rows})").format(
                    code=code, n=len(at), rows=", ".join(map(str, at))), code)
        return rows

    def name_in_row(self, g: Grid, row: int) -> str:
        c = (self.summary_cols or {}).get("name")
        return f" {g.text(row, c)}" if c else ""

    def result_words(self, r) -> str:
        out = r.outcome
        if out.total is None:
            return _("rank {rank}, {label}").format(rank=r.rank_national, label=self.level.class_label(out.class_id))
        return _("rank {rank}, {label}, total {total}").format(
            rank=r.rank_national, label=self.level.class_label(out.class_id), total=out.total)

    def summary_row(self, g: Grid, row: int, r, cols: dict[str, int], crit_cols: dict[str, int]) -> None:
        u, out = r.unit, r.outcome
        who = f"{u.code} {u.name}"
        code = u.code
        want_text = {"code": u.code, "name": u.name, "type": u.type, "province_code": u.province_code,
                     "province": province_name(u.province_code, batch_year(self.batch)),
                     "class": class_cell_text(self.level, out.class_id, r.also_meets),
                     "class_id": out.class_id, "vetoes": ", ".join(out.vetoes)}
        for key, c in cols.items():
            what = _(SUMMARY_WORDS[key]).format(who=who)
            if key in ("rank_province", "rank_national"):
                self.int_cell(g, row, c, getattr(r, key), what, code)
            elif key == "total":
                if crit_cols and len(crit_cols) == len(self.criteria):
                    a = get_column_letter(crit_cols[self.criteria[0].id])
                    b = get_column_letter(crit_cols[self.criteria[-1].id])
                    self.formula_cell(g, row, c, f"=SUM({a}{row}:{b}{row})", out.total, what, code)
                else:  # a criterion column is gone (already reported): the value alone
                    self.int_cell(g, row, c, out.total, what, code)
            elif key != "code":
                self.text_cell(g, row, c, want_text[key], what, code)
        for crit, (met, pts, _band) in zip(self.criteria, out.outcomes):
            crit_col = crit_cols.get(crit.id)
            if crit_col is None:
                continue
            if crit.scored:
                self.int_cell(g, row, crit_col, pts, _(POINTS_OF).format(who=who, id=crit.id), code)
            else:
                self.text_cell(g, row, crit_col, MET if met else DASH, _(RESULT_OF).format(who=who, id=crit.id),
                               code)

    # ---- Tỉnh -------------------------------------------------------------------------------------

    def summary_range(self, key: str) -> Optional[str]:
        if self.summary_cols is None or key not in self.summary_cols:
            return None
        c = get_column_letter(self.summary_cols[key])
        first = self.summary_heading_row + 1
        last = first + max(len(self.batch.units), 1) - 1
        return f"{quote_sheet(SUMMARY)}!${c}${first}:${c}${last}"

    def check_provinces(self) -> None:
        b = self.batch
        if not b.units:
            return
        g = self.card.sheet(PROVINCES)
        if g is None:
            self.diff(PROVINCES, _("the sheet is missing"))
            return
        hr = g.heading_row("Mã tỉnh", "Số đơn vị")
        if hr is None:
            self.diff(PROVINCES, _("no heading row with 'Mã tỉnh' and 'Số đơn vị'"))
            return
        heads = g.headings(hr)
        c_code = heads["Mã tỉnh"]
        classes = class_order(self.level, b)
        counts = {"Số đơn vị": None, **{self.level.class_label(cid): cid for cid in classes}}
        for label in counts:
            if label not in heads:
                self.diff(PROVINCES, _("column {label} is missing from the headings (row {row})").format(
                    label=repr(label), row=hr))
        rows: dict[str, int] = {}
        total_row = None
        for row in range(hr + 1, g.table_end(hr) + 1):
            code = g.text(row, c_code).strip()
            if code:
                rows.setdefault(code, row)
            elif "Tổng cộng" in (g.text(row, c) for c in range(1, c_code + 3)):
                total_row = row
        r_prov, r_class = self.summary_range("province_code"), self.summary_range("class_id")
        letter_a = get_column_letter(c_code)
        for p in b.provinces:
            prov_row = rows.get(p.province_code)
            if prov_row is None:
                self.diff(PROVINCES, _("province {code} is missing").format(code=p.province_code))
                continue
            for label, cid in counts.items():
                c = heads.get(label)
                if c is None:
                    continue
                n = p.n_units if cid is None else p.class_counts.get(cid, 0)
                what = (_("number of units of province {code}") if cid is None else
                        _("number of units of province {code} classed {label}")).format(
                    code=p.province_code, label=label)
                if r_prov is None or r_class is None:
                    self.int_cell(g, prov_row, c, n, what)
                elif cid is None:
                    self.formula_cell(g, prov_row, c, f"=COUNTIF({r_prov},${letter_a}{prov_row})", n, what)
                else:
                    formula = f"=COUNTIFS({r_prov},${letter_a}{prov_row},{r_class},{excel_text(cid)})"
                    self.formula_cell(g, prov_row, c, formula, n, what)
            self.province_level(g, prov_row, heads, p)
        for code in rows:
            if code not in {p.province_code for p in b.provinces}:
                self.diff(g.ref(rows[code], c_code), _("province {code} is in the workbook but not in the "
                                                       "re-derived results").format(code=code))
        if total_row is None:
            self.diff(PROVINCES, _("the row 'Tổng cộng' is missing"))
        else:
            for label, cid in counts.items():
                c = heads.get(label)
                if c is None:
                    continue
                letter = get_column_letter(c)
                n = len(b.units) if cid is None else sum(p.class_counts.get(cid, 0) for p in b.provinces)
                self.formula_cell(g, total_row, c, f"=SUM({letter}{hr + 1}:{letter}{total_row - 1})", n,
                                  _("total number of units") if cid is None else
                                  _("total number of units classed {label}").format(label=label))
        self.checked(_("{sheet} (units per province and class, formulas and values)").format(sheet=PROVINCES))

    def province_level(self, g: Grid, row: int, heads: dict[str, int], p) -> None:
        plevel = self.pack.province
        if plevel is None or p.outcome is None:
            return
        c = heads.get("Xếp loại tỉnh")
        if c is None:
            self.diff(PROVINCES, _("column 'Xếp loại tỉnh' is missing"))
        else:
            self.text_cell(g, row, c, class_cell_text(plevel, p.outcome.class_id, p.also_meets),
                           _("class of province {code}").format(code=p.province_code))
        for crit, (met, _pts, _band) in zip(plevel.criteria.values(), p.outcome.outcomes):
            c = heads.get(crit.id)
            if c is not None:
                self.text_cell(g, row, c, result_text(met),
                               _("result of province {code} for criterion {id}").format(code=p.province_code,
                                                                                        id=crit.id))
            else:
                self.diff(PROVINCES, _("the column of province criterion {id} is missing").format(id=crit.id))
        c = heads.get(OFFICIAL_UNITS)
        official = _("communes of province {code} in the official list").format(code=p.province_code)
        if c is None:
            self.diff(PROVINCES, _("column {label} is missing").format(label=repr(OFFICIAL_UNITS)))
        elif p.n_official is not None:
            self.int_cell(g, row, c, p.n_official, official)
        else:
            self.text_cell(g, row, c, DASH, official)
        c = heads.get(PROVINCE_NOTE)
        if c is not None:
            self.text_cell(g, row, c, province_note(plevel, p),
                           _("note on province {code}").format(code=p.province_code))

    # ---- Chứng cứ ---------------------------------------------------------------------------------

    def check_evidence(self) -> None:
        g = self.card.sheet(EVIDENCE)
        if g is None:
            self.diff(EVIDENCE, _("the sheet is missing"))
            return
        hr = g.heading_row("Mã đơn vị", "Tiêu chí", "Kết quả")
        if hr is None:
            self.diff(EVIDENCE, _("no heading row with 'Mã đơn vị', 'Tiêu chí' and 'Kết quả'"))
            return
        heads = g.headings(hr)
        fields = {"name": "Tên đơn vị", "values": "Số liệu đã đọc", "threshold": "Ngưỡng", "met": "Kết quả",
                  "cite": "Căn cứ"}
        if self.level.scored:
            fields["points"] = "Điểm"
        cols = {}
        for key, label in fields.items():
            if label in heads:
                cols[key] = heads[label]
            else:
                self.diff(EVIDENCE, _("column {label} is missing from the headings (row {row})").format(
                    label=repr(label), row=hr))
        c_code, c_crit = heads["Mã đơn vị"], heads["Tiêu chí"]
        rows: dict[tuple[str, str], list[int]] = defaultdict(list)
        for row in range(hr + 1, g.max_row + 1):
            code, cid = g.text(row, c_code).strip(), g.text(row, c_crit).strip()
            if code or cid:
                rows[(code, cid)].append(row)
        if "Ghi chú" in heads:
            cols["note"] = heads["Ghi chú"]
        expected_keys = set()
        n = 0
        for r in self.batch.units:
            u = r.unit
            missing = []
            notes = also_evidence_notes(self.level, r)
            for c, ev in zip(self.criteria, criteria_evidence(self.level, u.values, r.outcome)):
                expected_keys.add((u.code, c.id))
                at = rows.get((u.code, c.id))
                if not at:
                    missing.append(c.id)
                    continue
                n += 1
                want = {"name": u.name, "values": inputs_text(ev["inputs"]), "threshold": c.threshold,
                        "met": met_text(ev["met"]), "cite": c.cite or "", "note": notes.get(c.id, "")}
                for key, col in cols.items():
                    what = _(EVIDENCE_WORDS[key]).format(who=f"{u.code} {u.name}", id=c.id)
                    if key == "points":
                        self.int_cell(g, at[0], col, ev["points"], what, u.code)
                    else:
                        self.text_cell(g, at[0], col, want[key], what, u.code)
                if len(at) > 1:
                    self.diff(g.ref(at[1], c_code), _("the row of {who} for criterion {id} appears {n} times")
                              .format(who=f"{u.code} {u.name}", id=c.id, n=len(at)), u.code)
            if missing:
                message = _("the rows of {who} for every criterion are missing") \
                    if len(missing) == len(self.criteria) else _("the rows of {who} for criteria {ids} are missing")
                self.diff(EVIDENCE, message.format(who=f"{u.code} {u.name}", ids=", ".join(missing)), u.code)
        extra: dict[str, list[int]] = defaultdict(list)
        for row_key, at in rows.items():
            if row_key not in expected_keys:
                extra[row_key[0]].append(at[0])
        for code, at in extra.items():
            self.diff(g.ref(at[0], c_code), _("{n} row(s) of unit {code} are not in the re-derived evidence")
                      .format(n=len(at), code=code or _("(no code)")), code or None)
        self.checked(_("{n} evidence rows of {sheet}").format(n=n, sheet=EVIDENCE))

    # ---- one sheet per unit -----------------------------------------------------------------------

    def check_unit_sheets(self) -> None:
        units = self.batch.units
        if len(units) > UNIT_SHEETS_MAX:
            return
        n = 0
        for r in units:
            g = self.card.sheet(r.unit.code)
            if g is None:
                self.diff(f"sheet {r.unit.code}", _("the scorecard sheet of {who} is missing").format(
                    who=f"{r.unit.code} {r.unit.name}"), r.unit.code)
                continue
            self.unit_sheet(g, r)
            n += 1
        known = {r.unit.code for r in units}
        for name in self.card.sheetnames:
            if name.isdigit() and name not in known:
                self.diff(f"sheet {name}", _("a unit scorecard sheet for a unit not in the re-derived results"), name)
        if units:
            what = N_("{n} unit sheets (criteria, total and its formula, class, vetoes, ranks)") \
                if self.level.scored else N_("{n} unit sheets (criteria, class, ranks)")
            self.checked(_(what).format(n=n))

    def unit_sheet(self, g: Grid, r) -> None:
        u, out = r.unit, r.outcome
        who = f"{u.code} {u.name}"
        code = u.code
        labels = g.label_rows()

        def at(label: str) -> Optional[int]:
            rows = labels.get(label)
            if not rows:
                self.diff(g.name, _("the row {label} is missing").format(label=repr(label)), code)
                return None
            return rows[0]

        for label, want, what in (("Mã đơn vị", u.code, "code"), ("Tên đơn vị", u.name, "name")):
            row = at(label)
            if row is not None:
                self.text_cell(g, row, 3, want, _(SUMMARY_WORDS[what]).format(who=who), code)
        hr = at("Tiêu chí")
        crit_rows: dict[str, int] = {}
        if hr is not None:
            heads = g.headings(hr)
            c_values, c_met, c_pts = heads.get("Số liệu đã đọc"), heads.get("Kết quả"), heads.get("Điểm")
            ids = {c.id for c in self.criteria}
            for row in range(hr + 1, g.max_row + 1):
                cid = g.text(row, 1).strip()
                if cid in ids:
                    crit_rows.setdefault(cid, row)
            for c, ev in zip(self.criteria, criteria_evidence(self.level, u.values, out)):
                row = crit_rows.get(c.id)
                if row is None:
                    self.diff(g.name, _("the row of criterion {id} is missing").format(id=c.id), code)
                    continue
                if c_values:
                    self.text_cell(g, row, c_values, inputs_text(ev["inputs"]).replace("; ", "\n"),
                                   _(EVIDENCE_WORDS["values"]).format(who=who, id=c.id), code)
                if c_met:
                    self.text_cell(g, row, c_met, met_text(ev["met"]), _(RESULT_OF).format(who=who, id=c.id), code)
                if c_pts and self.level.scored:
                    self.int_cell(g, row, c_pts, ev["points"] if c.scored else None,
                                  _(POINTS_OF).format(who=who, id=c.id), code)
            if self.level.scored:
                row = at("Tổng điểm")
                if row is not None and c_pts and len(crit_rows) == len(self.criteria):
                    letter = get_column_letter(c_pts)
                    first, last = min(crit_rows.values()), max(crit_rows.values())
                    self.formula_cell(g, row, c_pts, f"=SUM({letter}{first}:{letter}{last})", out.total,
                                      _(SUMMARY_WORDS["total"]).format(who=who), code)
        row = at("Xếp loại")
        if row is not None:
            self.text_cell(g, row, 3, class_cell_text(self.level, out.class_id, r.also_meets),
                           _(SUMMARY_WORDS["class"]).format(who=who), code)
        if self.level.vetoes:
            row = at("Điểm liệt")
            if row is not None:
                want = "; ".join(f"{v} – {self.level.vetoes[v].title}" if v in self.level.vetoes else v
                                 for v in out.vetoes) or "Không có"
                self.text_cell(g, row, 3, want, _(SUMMARY_WORDS["vetoes"]).format(who=who), code)
        row = at("Thứ hạng")
        if row is not None:
            self.text_cell(g, row, 3, f"{r.rank_province} trong tỉnh, {r.rank_national} trong toàn bộ danh sách",
                           _("ranks of {who}").format(who=who), code)


def _pair_changed(missing: list, extra: list) -> list[tuple[tuple, Optional[dict]]]:
    """Recorded inputs not given, each paired with the given file that replaced it: the one with
    the same file name, else the only one left when one of each is left."""
    pairs: list[tuple[tuple, Optional[dict]]] = []
    left = list(extra)
    unpaired = []
    for rec in missing:
        same = [i for i in left if Path(str(i["path"])).name == Path(rec[1]).name]
        if same:
            pairs.append((rec, same[0]))
            left.remove(same[0])
        else:
            unpaired.append(rec)
    if len(unpaired) == 1 and len(left) == 1:
        pairs.append((unpaired[0], left[0]))
        unpaired = []
    pairs += [(rec, None) for rec in unpaired]
    return pairs


__all__ = ["Difference", "NotAScorecard", "Report", "Scorecard", "UnreadableSheet", "compare", "open_scorecard"]
