""""Chứng cứ": one row per unit and criterion: the values read, the threshold, met or not, the
points, the citation."""
from __future__ import annotations

from lanhmanh.engine.evaluation.evidence import criteria_evidence
from lanhmanh.scorecards.outputs.presentation import EVIDENCE, MET, NOT_MET, inputs_text, text_width
from lanhmanh.scorecards.outputs.scorecard.book import Book, also_evidence_notes


def evidence_sheet(bk: Book) -> None:
    """The evidence of every unit (the largest sheet: lookups hoisted out of the loop)."""
    ws = bk.sheet(EVIDENCE)
    f, level = bk.formats, bk.level
    heads = ["Mã đơn vị", "Tên đơn vị", "Tiêu chí", "Số liệu đã đọc", "Ngưỡng", "Kết quả"]
    heads += ["Điểm"] if bk.scored else []
    heads += ["Căn cứ", "Ghi chú"]
    c_cite = len(heads) - 2
    c_note = c_cite + 1
    notes_width = 10
    for c, heading in enumerate(heads):
        ws.write_string(0, c, heading, f.head)
    write_text, write_number = ws.write_string, ws.write_number
    f_text, f_center, f_met, f_not_met, f_int = f.text, f.center, f.met, f.not_met, f.int
    static = [(c.id, c.threshold, c.cite or "") for c in bk.criteria]
    scored = bk.scored
    row = 1
    longest = 10
    for r in bk.batch.units:
        code, name = r.unit.code, r.unit.name
        notes = also_evidence_notes(level, r) if r.also_meets is not None else {}
        for (cid, threshold, cite), ev in zip(static, criteria_evidence(level, r.unit.values, r.outcome)):
            write_text(row, 0, code, f_center)
            write_text(row, 1, name, f_text)
            write_text(row, 2, cid, f_center)
            text = inputs_text(ev["inputs"])
            longest = max(longest, len(text))
            write_text(row, 3, text, f_text)
            write_text(row, 4, threshold, f_text)
            if ev["met"]:
                write_text(row, 5, MET, f_met)
            else:
                write_text(row, 5, NOT_MET, f_not_met)
            if scored and ev["points"] is not None:
                write_number(row, 6, ev["points"], f_int)
            write_text(row, c_cite, cite, f_text)
            if cid in notes:  # the class the pack's order hid: on the rows of the criteria that reach it
                write_text(row, c_note, notes[cid], f_text)
                notes_width = 60
            row += 1
    ws.set_column(0, 0, 9)
    ws.set_column(1, 1, text_width([r.unit.name for r in bk.batch.units], 12, 32))
    ws.set_column(2, 2, 8)
    ws.set_column(3, 3, min(70, longest + 2))
    ws.set_column(4, 4, text_width([s[1] for s in static], 12, 60))
    ws.set_column(5, 5, 10)
    if scored:
        ws.set_column(6, 6, 6)
    ws.set_column(c_cite, c_cite, text_width([s[2] for s in static], 12, 50))
    ws.set_column(c_note, c_note, notes_width)
    ws.freeze_panes(1, 3)
    ws.autofilter(0, 0, max(row - 1, 1), c_note)
    bk.print_setup(ws, "Chứng cứ từng tiêu chí", landscape=True, title_rows=(0, 0))
