""""Chứng cứ": one row per unit and criterion: the result and points, the values as people read
them, the threshold in words, the document it rests on, a note.

The exact machine text (`users_with_records=55; …`, `user_rate >= 0.5%`, the criterion's own
citation, the note naming the class id) stays in hidden columns that neither print nor show:
`verify` and audits read them. Their headings and places (D, E; the last two) are fixed."""
from __future__ import annotations

from functools import lru_cache

from lanhmanh.engine.analysis.wording import Wording
from lanhmanh.engine.evaluation.evidence import criteria_evidence
from lanhmanh.engine.model.pack import Pack
from lanhmanh.scorecards.outputs.presentation import (
    BOXED,
    EVIDENCE,
    MET,
    NOT_MET,
    house_format,
    inputs_text,
    reading_text,
)
from lanhmanh.scorecards.outputs.scorecard.book import Book, also_evidence_notes
from lanhmanh.scorecards.outputs.scorecard.fast_rows import FastRowsWorksheet
from lanhmanh.scorecards.outputs.scorecard.unit_form import col_points, row_height, text_lines

# printed columns and their widths (LibreOffice prints the sheet fitted to the width of A4 landscape)
WIDTHS = {"code": 7, "name": 16, "criterion": 6.5, "met": 9.5, "points": 5.5, "values": 24, "threshold": 24,
          "basis": 28, "note": 9}
NOTE_WIDE = 24


def pack_basis(pack: Pack) -> str:
    """The documents a criterion without its own citation rests on: the pack's sources, each by
    its name ("Nghị quyết liên tịch số 01/2008/NQLT-…")."""
    docs = [str(s.get("document", "")).split(" (")[0].strip() for s in pack.sources.values()]
    return "; ".join(d for d in docs if d)


@lru_cache(maxsize=65536)
def _lines(text: str, width: float) -> int:
    return text_lines(text, col_points(width))


def evidence_sheet(bk: Book) -> None:
    """The evidence of every unit (the largest sheet: lookups hoisted out of the loop)."""
    ws = bk.sheet(EVIDENCE, FastRowsWorksheet)
    f, level, pack = bk.formats, bk.level, bk.pack
    wrap = house_format(bk.wb, text_wrap=True, **BOXED)
    scored = bk.scored
    notes_seen = any(r.also_meets is not None for r in bk.batch.units)
    widths = dict(WIDTHS, note=NOTE_WIDE if notes_seen else WIDTHS["note"])
    # A..F: fixed places (D, E hidden: the exact values read and the expression)
    heads = ["Mã đơn vị", "Tên đơn vị", "Tiêu chí", "Số liệu đã đọc", "Ngưỡng", "Kết quả"]
    keys = ["code", "name", "criterion", None, None, "met"]
    if scored:
        heads.append("Điểm")
        keys.append("points")
    heads += ["Số liệu", "Ngưỡng đạt", "Văn bản căn cứ", "Lưu ý"]
    keys += ["values", "threshold", "basis", "note"]
    c_values, c_threshold, c_basis, c_note = (keys.index(k) for k in ("values", "threshold", "basis", "note"))
    c_cite, c_machine_note = len(heads), len(heads) + 1  # hidden, after the printed columns
    heads += ["Căn cứ", "Ghi chú"]
    for c, heading in enumerate(heads):
        ws.write_string(0, c, heading, f.head)
    ws.set_row(0, row_height(2))
    wording = Wording(pack, level)
    fallback = pack_basis(pack)
    static = []
    for crit in bk.criteria:  # what does not change from unit to unit
        reads = [(n, wording.label(n) + ": ") for n in crit.reads]
        if not wording.needs_labels(list(crit.reads)):
            reads = [(n, "") for n, _ in reads]
        words, basis = wording.criterion(crit), crit.cite or fallback
        static.append((crit.id, ws.shared(crit.id, f.center), ws.shared(crit.threshold, f.text),
                       ws.shared(crit.cite or "", f.text), words, ws.shared(words, wrap), basis,
                       ws.shared(basis, wrap), reads))
    add_row = ws.add_row  # rows of text made at once (fast_rows): the sheet's half a million cells
    f_text, f_center, f_met, f_not_met, f_int = f.text, f.center, f.met, f.not_met, f.int
    w_name, w_values, w_threshold = widths["name"], widths["values"], widths["threshold"]
    w_basis, w_note = widths["basis"], widths["note"]
    met_cell, not_met_cell = ws.shared(MET, f_met), ws.shared(NOT_MET, f_not_met)
    row = 1
    for r in bk.batch.units:
        code, name = r.unit.code, r.unit.name
        code_cell, name_cell = ws.shared(code, f_center), ws.shared(name, wrap)
        notes = also_evidence_notes(level, r) if r.also_meets is not None else {}
        name_lines = _lines(name, w_name)
        read: dict[str, str] = {}  # a value as people read it, once per unit (criteria share values)
        for (cid, cid_cell, expression, cite, words, words_cell, basis, basis_cell, reads), ev in zip(
                static, criteria_evidence(level, r.unit.values, r.outcome)):
            inputs = ev["inputs"]
            shown = []
            for n, label in reads:
                if n in inputs:
                    if n not in read:
                        read[n] = reading_text(level, n, inputs[n])
                    shown.append(label + read[n])
            values = "\n".join(shown)
            met = ev["met"]
            cells = [(0, code_cell, None), (1, name_cell, None), (2, cid_cell, None), (3, inputs_text(inputs), f_text),
                     (4, expression, None), (5, met_cell if met else not_met_cell, None)]
            if scored and ev["points"] is not None:
                cells.append((6, ev["points"], f_int))
            cells += [(c_values, values, wrap), (c_threshold, words_cell, None), (c_basis, basis_cell, None)]
            lines = max(name_lines, _lines(values, w_values), _lines(words, w_threshold), _lines(basis, w_basis))
            note = notes.get(cid)
            if note is not None:  # the class the pack's order hid: on the rows of the criteria that reach it
                printed = note.replace(f" ({r.also_meets})", "")
                cells += [(c_note, printed, wrap), (c_cite, cite, None), (c_machine_note, note, f_text)]
                lines = max(lines, _lines(printed, w_note))
            else:
                cells.append((c_cite, cite, None))
            add_row(row, row_height(lines), cells)
            row += 1
    for c, key in enumerate(keys):
        if key is None:
            ws.set_column(c, c, 20, None, {"hidden": True})
        else:
            ws.set_column(c, c, widths[key])
    ws.set_column(c_cite, c_machine_note, 30, None, {"hidden": True})
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(row - 1, 1), c_machine_note)
    bk.print_setup(ws, "Chứng cứ từng tiêu chí", landscape=True, title_rows=(0, 0))
    ws.print_area(0, 0, max(row - 1, 1), c_note)
