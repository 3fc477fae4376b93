"""`lanhmanh explain`: why one unit (or one province) got its class, for auditors.

Reads and scores the whole batch (so that ranks and the province roll-up are those of `score`),
then prints the unit's evidence as a table wrapped to the terminal (criterion, values read,
threshold, met, points, citation; interpretation notes numbered under the table), the class and
why every earlier class was not reached; `--format json` prints the same as one JSON document.
The logic is in `engine/analysis/explain.py`; this module finds the unit and lays out the text.
"""
from __future__ import annotations

import json
import shutil
import textwrap
import unicodedata
from typing import Optional

import click

from lanhmanh import api
from lanhmanh.commands.common import batch_options, print_warnings, reports_errors, status_label, warnings_printed
from lanhmanh.engine.analysis.explain import (
    code_suggestion,
    display_value,
    find_province,
    find_unit,
    province_document,
    typed_code,
    unit_document,
)
from lanhmanh.engine.evaluation.validate import shown
from lanhmanh.engine.model.pack import UNDETERMINED
from lanhmanh.errors import EXIT_OK, EXIT_REJECTED, EXIT_USAGE
from lanhmanh.i18n import _

MIN_WIDTH = 60  # narrower terminals get lines of this width rather than unreadable columns
DEFAULT_WIDTH = 100  # when the output is not a terminal and COLUMNS is not set
NARROWEST = 8  # a flexible column is never made narrower than this
CITE_COLUMN_WIDTH = 140  # narrower: each criterion's citation is printed under its title


@click.command()
@click.argument("unit_code")
@click.argument("inputs", nargs=-1, required=True)
@batch_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True,
              help="table: readable text wrapped to the terminal; json: one JSON document for scripts.")
@reports_errors
def explain(unit_code: str, inputs: tuple[str, ...], rules: str, engine: str, unit_list: str, fmt: str,
            year: Optional[int], force: bool, previous: Optional[str], crosswalk: Optional[str],
            db: Optional[str]) -> int:
    """Why UNIT_CODE got its class: its evidence for every criterion (values read, threshold, met,
    points, citation, interpretation note), the class reached, and why each earlier class was not.

    The whole batch in INPUT files (as for `score`, with the same options) is read and scored, so
    ranks and the province roll-up are those of `score`. UNIT_CODE is the unit's official code
    (leading zeros optional); for a pack with a province level (qd-28-2025) a 1-2 digit code such
    as 40 explains that province's roll-up. Exit 2 when the code is not in the inputs, 1 when its
    row was rejected."""
    with warnings_printed():  # --db is where `--previous history` is read: nothing is recorded
        pack, intake = api.prepare(inputs, rules, year=year, previous=previous, crosswalk=crosswalk,
                                   unit_list=unit_list, force=force, db=db)
        batch = api.score_intake(pack, intake, engine)
    digits = typed_code(unit_code)
    province = find_province(batch, digits) if digits is not None and len(digits) <= 2 else None
    if province is not None:
        return _explain_province(batch, province, fmt)
    found = find_unit(batch, digits) if digits is not None else None
    rejected = _rejections_of(batch, digits) if digits is not None else []
    if found is None:
        if digits is not None and rejected:
            _report_rejected(digits.zfill(5), rejected)
            return EXIT_REJECTED
        _report_unknown(unit_code, digits, batch)
        return EXIT_USAGE
    return _explain_unit(batch, found, rejected, fmt)


def _explain_unit(batch, found, rejected: list, fmt: str) -> int:
    u = found.unit
    doc = unit_document(batch, found)
    mine = _warnings_of(batch, u.path, u.row, u.sheet)
    doc["warnings"] = [w.as_dict() for w in mine]
    print_warnings(mine)
    if rejected:
        click.echo(_("note: another row with unit_code {code} was rejected:").format(code=u.code), err=True)
        _print_rejections(rejected)
    rows = lambda rs: {(r.path, r.sheet, r.row) for r in rs}  # noqa: E731
    others = len(rows(batch.rejected) - rows(rejected))
    if others:
        click.echo(_("note: {n} other row(s) of the inputs were rejected and are not ranked; "
                     "`lanhmanh score` lists them").format(n=others), err=True)
    _emit(doc, fmt, batch.pack.commune)
    return EXIT_OK


def _explain_province(batch, province, fmt: str) -> int:
    doc = province_document(batch, province)
    row = province.row
    mine = _warnings_of(batch, row.path, row.row, row.sheet) if row is not None else _warnings_of(batch)
    doc["warnings"] = [w.as_dict() for w in mine]
    print_warnings(mine)
    _emit(doc, fmt, batch.pack.province)
    return EXIT_OK


def _warnings_of(batch, path: Optional[str] = None, row: Optional[int] = None, sheet: Optional[str] = None) -> list:
    """The warnings about one input row, and those about no row in particular (a whole file)."""
    return [w for w in batch.warnings
            if w.row is None or (path is not None and (w.path, w.row, w.sheet) == (path, row, sheet))]


def _emit(doc: dict, fmt: str, level) -> None:
    if fmt == "json":
        click.echo(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join(render(doc, level, terminal_width())))


def terminal_width() -> int:
    cols = shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    return max(MIN_WIDTH, cols)


# ---------------------------------------------------------------------------------------------
# finding rejected rows and suggestions


def _rejections_of(batch, digits: str) -> list:
    """The rejections of every input row whose unit_code is `digits` (leading zeros optional)."""
    want = digits.zfill(5)
    return [r for r in batch.rejected if r.row is not None and r.unit_code == want]


def _print_rejections(rejected) -> None:
    for r in rejected:
        click.echo("  " + _("{where}, column {column}, value {value}: {reason}").format(
            where=r.where(), column=r.column or "-", value=shown(r.value), reason=r.reason), err=True)


def _report_rejected(code: str, rejected) -> None:
    click.echo(_("lanhmanh: unit {code} is in the inputs but its row was rejected, so it has no class:")
               .format(code=code), err=True)
    _print_rejections(rejected)
    click.echo(_("correct the row and run again"), err=True)


def _report_unknown(typed: str, digits: Optional[str], batch) -> None:
    units = [(r.unit.code, r.unit.name) for r in batch.units]
    if digits is not None:
        msg = _("lanhmanh: unit {code} is not among the {n} unit(s) scored from the inputs").format(
            code=digits.zfill(5), n=len(units))
    else:
        msg = _("lanhmanh: {typed} (not a unit code) is not among the {n} unit(s) scored from the inputs").format(
            typed=repr(typed.strip()), n=len(units))
    hint = code_suggestion(typed, units)
    if hint is not None:
        msg += "; " + _("did you mean {code} ({name})?").format(code=hint[0], name=hint[1])
    click.echo(msg, err=True)
    if batch.pack.province is not None and batch.provinces:
        codes = ", ".join(p.province_code for p in batch.provinces)
        click.echo("  " + _("a province of this batch is explained by its 2-digit code: {codes}").format(codes=codes),
                   err=True)
    unread = [r for r in batch.rejected if r.row is None]
    for r in unread:
        click.echo("  " + _("note: {where} could not be read: {reason}").format(where=r.where(), reason=r.reason),
                   err=True)


# ---------------------------------------------------------------------------------------------
# the text layout


def width_of(text: str) -> int:
    """Columns a line takes in a terminal: characters after NFC, combining marks not counted."""
    return sum(1 for ch in unicodedata.normalize("NFC", text) if not unicodedata.combining(ch))


def wrap(text: str, width: int, indent: str = "", hanging: str = "") -> list[str]:
    """Wrap one paragraph (NFC) to `width` columns; long words are broken rather than overflow."""
    text = unicodedata.normalize("NFC", text)
    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=hanging or indent,
                         break_long_words=True, break_on_hyphens=False) or [indent.rstrip()]


def column_widths(natural: list[int], minimum: list[int], flexible: list[bool], available: int) -> list[int]:
    """Widths that fit `available` columns: fixed columns take their natural width; flexible ones
    start at their minimum and share what is left in proportion to what each still lacks, none
    wider than it needs."""
    widths = [n if not f else min(m, n) for n, m, f in zip(natural, minimum, flexible)]
    # minimums that do not fit give way, widest first, down to NARROWEST columns each
    while sum(widths) > available:
        i = max((i for i, f in enumerate(flexible) if f), key=lambda i: widths[i], default=None)
        if i is None or widths[i] <= NARROWEST:
            break
        widths[i] -= 1
    while True:
        left = available - sum(widths)
        lacking = {i: natural[i] - widths[i] for i, f in enumerate(flexible) if f and widths[i] < natural[i]}
        if left <= 0 or not lacking:
            return widths
        total = sum(lacking.values())
        for i, need in lacking.items():
            room = available - sum(widths)
            if room <= 0:
                break
            widths[i] += min(need, room, max(1, left * need // total))


def table(headers: list[str], rows: list[list[list[str]]], width: int, flexible: list[bool],
          minimum: list[int]) -> list[str]:
    """A text table: each cell is a list of paragraphs, wrapped within its column; columns are
    separated by ' │ ', rows by a rule. Every line is at most `width` columns wide when the
    columns' minimums allow it."""
    sep = " │ "
    natural = []
    for j, h in enumerate(headers):
        longest = max([width_of(h)] + [width_of(p) for r in rows for p in r[j]])
        natural.append(longest)
    minimum = [max(m, width_of(h) if not f else m) for m, h, f in zip(minimum, headers, flexible)]
    widths = column_widths(natural, minimum, flexible, width - len(sep) * (len(headers) - 1))

    def lines_of(cells: list[list[str]]) -> list[str]:
        wrapped = [[line for p in cell for line in wrap(p, w)] for cell, w in zip(cells, widths)]
        height = max(len(c) for c in wrapped)
        out = []
        for i in range(height):
            parts = []
            for c, w in zip(wrapped, widths):
                text = c[i] if i < len(c) else ""
                parts.append(text + " " * (w - width_of(text)))
            out.append(sep.join(parts).rstrip())
        return out

    rule = "─┼─".join("─" * w for w in widths)
    out = lines_of([[h] for h in headers])
    out.append(rule.replace("─", "═").replace("┼", "╪"))
    for i, r in enumerate(rows):
        if i:
            out.append(rule)
        out.extend(lines_of(r))
    return out


def render(doc: dict, level, width: int) -> list[str]:
    """The explanation document as text lines at most `width` columns wide (where the table's
    minimums allow it): the header, the criteria table, the numbered notes, then why."""
    table_lines, notes = _criteria_table(doc, level, width)
    out = _header_lines(doc, level, width) + [""] + table_lines
    if notes:
        out += ["", _("Interpretation notes:")]
        for i, (cid, note) in enumerate(notes, start=1):
            out += wrap(f"[{i}] {cid}: " + " ".join(note.split()), width, hanging=" " * len(f"[{i}] "))
    return out + [""] + _why_lines(doc, width)


def _header_lines(doc: dict, level, width: int) -> list[str]:
    out: list[str] = []
    para = lambda text, hanging="": out.extend(wrap(text, width, "", hanging))  # noqa: E731
    pk = doc["pack"]
    if doc["level"] == "province":
        official = doc.get("official_units")
        counts = ", ".join(f"{k} {v}" for k, v in doc["class_counts"].items())
        if official is not None:
            para(_("Province {province}: roll-up of {n} commune-level unit(s) of the {official} in the official "
                   "unit list (per class: {counts})").format(province=doc["province_code"], n=doc["units"],
                                                             official=official, counts=counts))
        else:
            para(_("Province {province}: roll-up of {n} commune-level unit(s) (no official unit list: shares "
                   "over the units scored) (per class: {counts})").format(province=doc["province_code"],
                                                                          n=doc["units"], counts=counts))
    else:
        unit = dict(code=doc["unit_code"], name=doc["unit_name"], type=doc["unit_type"],
                    province=doc["province_code"], where=_where(doc["source"]))
        if doc.get("year"):
            para(_("Unit {code} {name} ({type}), province {province}, year {year} · from {where}")
                 .format(year=doc["year"], **unit))
        else:
            para(_("Unit {code} {name} ({type}), province {province} · from {where}").format(**unit))
    para(_("Pack: {id} {version} ({status}) · engine {engine}").format(
        id=pk["id"], version=pk["version"], status=status_label(pk["status"]), engine=doc["engine"]))
    para(_("Class: {label} ({cls})").format(label=doc["class_label"], cls=doc["class"]))
    also = doc.get("also_meets")
    if also:
        para(_("Also meets: {label} ({cls}): {condition}; {order}").format(
            label=also["label"], cls=also["class"], condition=also["condition"], order=also["order"]), hanging="  ")
    if doc.get("undetermined_reason"):
        para(_("Undetermined: {what}: {reason}").format(what=", ".join(doc["undetermined"]) or _("nothing"),
                                                        reason=doc["undetermined_reason"]), hanging="  ")
    if doc["max_total"] is not None:
        vetoes = [v for v in doc["veto_checks"] if v["applies"]]
        shown = ", ".join(f"{v['id']} ({v['title']})" for v in vetoes) or _("none")
        para(_("Total: {total} of {max_total} points · vetoes: {vetoes}").format(
            total=doc["total"], max_total=doc["max_total"], vetoes=shown))
    elif doc["vetoes"]:
        para(_("Vetoes: {vetoes}").format(vetoes=", ".join(doc["vetoes"])))
    if doc["level"] == "commune":
        para(_("Rank: {rank_province} of {units_in_province} in province {province} · "
               "{rank_national} of {units_in_batch} in the batch").format(
            rank_province=doc["rank_province"], units_in_province=doc["units_in_province"],
            province=doc["province_code"], rank_national=doc["rank_national"], units_in_batch=doc["units_in_batch"]))
    else:
        para(_("Values summed over the communes: {values}").format(values=", ".join(doc["summed"]) or _("none")),
             hanging="  ")
        given = ", ".join(f"{k} = {display_value(level, k, doc['values'].get(k))}"
                          for k in doc["supplied"] + doc["own"]) or _("none")
        if doc["province_row"]:
            para(_("Values supplied by the province row: {values} ({where})").format(
                values=given, where=_where(doc["province_row"])), hanging="  ")
        else:
            para(_("Values supplied by the province row: {values} (no province row in the inputs)").format(
                values=given), hanging="  ")
    return out


def _criteria_table(doc: dict, level, width: int) -> tuple[list[str], list[tuple[str, str]]]:
    """(the table's lines, the interpretation notes [(criterion id, note)] in their numbering)."""
    scored = doc["max_total"] is not None
    # below CITE_COLUMN_WIDTH columns the citation goes under the title rather than in its own column
    cite_column = width >= CITE_COLUMN_WIDTH
    headers = [_("ID"), _("Criterion"), _("Values read"), _("Threshold"), _("Met")] \
        + ([_("Points")] if scored else []) + ([_("Citation")] if cite_column else [])
    rows, notes = [], []
    for c in doc["criteria"]:
        title = c["title"]
        if c.get("note"):
            notes.append((c["id"], c["note"]))
            title += f" [{len(notes)}]"
        values = [f"{k} = {display_value(level, k, v)}" for k, v in c["inputs"].items()] or ["—"]
        criterion = [title] if cite_column or not c["cite"] else [title, f"({c['cite']})"]
        crit = level.criteria.get(c["id"])
        threshold = [f"{b.text} → {b.points}" for b in crit.bands] if crit is not None and crit.scored \
            else [c["threshold"]]
        met = "Chưa xác định" if c["met"] is None else "Đạt" if c["met"] else "Không đạt"
        row = [[c["id"]], criterion, values, threshold, [met]]
        if scored:
            row.append([f"{c['points']}/{c['max_points']}" if c["max_points"] is not None else "—"])
        if cite_column:
            row.append([c["cite"] or "—"])
        rows.append(row)
    # a value read stays on one line, a threshold's longest word whole, where the width allows it
    longest = lambda cells: max((width_of(w) for cell in cells for p in cell for w in p.split()), default=0)  # noqa: E731
    widest = lambda cells: max((width_of(p) for cell in cells for p in cell), default=0)  # noqa: E731
    flexible = [False, True, True, True, False] + ([False] if scored else []) + ([True] if cite_column else [])
    minimum = [0, 16, min(28, widest(r[2] for r in rows)), min(22, longest(r[3] for r in rows)), 0] \
        + ([0] if scored else []) + ([12] if cite_column else [])
    return table(headers, rows, width, flexible, minimum), notes


def _where(source: dict) -> str:
    """'file.xlsx, sheet 'Số liệu', row 8' from a {path, row, sheet?} entry."""
    if source.get("sheet") is not None:
        return _("{path}, sheet {sheet}, row {row}").format(path=source["path"], sheet=repr(source["sheet"]),
                                                            row=source["row"])
    return _("{path}, row {row}").format(path=source["path"], row=source["row"])


def _why_lines(doc: dict, width: int) -> list[str]:
    out: list[str] = []
    para = lambda text, indent="", hanging="": out.extend(wrap(text, width, indent, hanging))  # noqa: E731
    also = doc.get("also_meets")
    why = doc["why"]
    if doc["class"] == UNDETERMINED:
        para(_("The class is undetermined ({label}): {reason}").format(
            label=doc["class_label"], reason=doc.get("undetermined_reason") or ""))
    elif why is None:
        para(_("No class was reached: {label} ({cls}), ranked last. "
               "Every class, in the pack's order (first match wins):").format(label=doc["class_label"],
                                                                              cls=doc["class"]))
    else:
        cond = why["condition"] or _("residual class")
        para(_("Why {cls} ({label}): {condition}").format(cls=why["class"], label=why["label"], condition=cond),
             hanging="    ")
        para(why["explanation"], indent="  ")
        if also:
            para(_("Also {cls} ({label}): {condition}").format(cls=also["class"], label=also["label"],
                                                               condition=also["condition"]), hanging="    ")
            para(also["explanation"], indent="  ")
        if doc["why_not"]:
            out.append("")
            para(_("Why not an earlier class (the pack's classes are tried in order; the first that holds wins):"))
    for i, w in enumerate(doc["why_not"], start=1):
        para(f"{i}. {w['class']} ({w['label']}): {w['condition'] or _('residual class')}", indent="  ",
             hanging="     ")
        para(w["explanation"], indent="     ")
    applied = [v for v in doc["veto_checks"] if v["applies"]]
    if applied:
        out.append("")
        para(_("Vetoes applied:"))
        for v in applied:
            cite = f" [{v['cite']}]" if v.get("cite") else ""
            para(f"{v['id']} ({v['title']}){cite}: {v['explanation']}", indent="  ", hanging="     ")
    return out


__all__ = ["explain", "render", "table", "wrap", "width_of", "column_widths", "terminal_width"]
