"""fast_rows.FastRowsWorksheet writes its rows as XlsxWriter writes the same cells one by one (the
evidence sheet's rows): the sheet XML, the shared strings and the styles are the same."""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from lanhmanh.scorecards.outputs.scorecard.fast_rows import FastRowsWorksheet

ROWS = [
    (30.0, [(0, "17329", "center"), (1, "Xã Anh Sơn & <Đô Lương>", "wrap"), (2, "DF.1", "center"),
            (5, "Đạt", "met"), (6, 10, "int"), (9, "", None)]),
    (15.0, [(0, "17330", "center"), (1, "Phường Hà Huy Tập", "wrap"), (3, "x=1; y=2", None), (6, 0, "int")]),
    (None, [(0, "17331", None), (4, "a\nb\tc \x01 _x0041_", None), (7, 2.5, None)]),
    (47.25, [(2, " leading and trailing ", "wrap"), (11, "ghi chú", "wrap")]),
    (12.0, [(0, "Ư" * 40000, None)]),  # longer than a cell holds: cut as XlsxWriter cuts it
]


def _write(path: Path, rows, fast: bool) -> None:
    wb = xlsxwriter.Workbook(str(path))
    fmts = {"center": wb.add_format({"align": "center"}), "wrap": wb.add_format({"text_wrap": True}),
            "met": wb.add_format({"bold": True, "font_color": "#006100"}), "int": wb.add_format({"num_format": "0"}),
            None: None}
    ws = wb.add_worksheet("Chứng cứ", worksheet_class=FastRowsWorksheet if fast else None)
    ws.write_string(0, 0, "Mã đơn vị", fmts["center"])
    ws.write_string(0, 1, "Tên đơn vị")
    ws.set_row(0, 30)
    for i, (height, cells) in enumerate(rows, start=1):
        if fast:
            ws.add_row(i, height, [(c, v, fmts[f]) for c, v, f in cells])
        else:
            for c, v, f in cells:
                if isinstance(v, str):
                    ws.write_string(i, c, v, fmts[f])
                else:
                    ws.write_number(i, c, v, fmts[f])
            if height is not None:
                ws.set_row(i, height)
    ws.autofilter(0, 0, len(rows), 11)
    wb.close()


def _parts(path: Path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n).decode("utf-8") for n in z.namelist()
                if n.endswith(("sheet1.xml", "sharedStrings.xml", "styles.xml"))}


def _same_xml(a: Path, b: Path) -> None:
    pa, pb = _parts(a), _parts(b)
    assert pa.keys() == pb.keys() and len(pa) == 3
    for name in pa:
        # XlsxWriter writes the optional spans="first:last" on its rows; fast rows leave it out
        assert re.sub(r' spans="[^"]*"', "", pa[name]) == re.sub(r' spans="[^"]*"', "", pb[name]), name


def test_fast_rows_are_the_cells_xlsxwriter_writes(tmp_path):
    _write(tmp_path / "slow.xlsx", ROWS, fast=False)
    _write(tmp_path / "fast.xlsx", ROWS, fast=True)
    _same_xml(tmp_path / "slow.xlsx", tmp_path / "fast.xlsx")
    ws = load_workbook(tmp_path / "fast.xlsx")["Chứng cứ"]
    assert ws["B2"].value == "Xã Anh Sơn & <Đô Lương>" and ws["G2"].value == 10 and ws["H4"].value == 2.5
    assert ws.row_dimensions[2].height == 30 and ws.row_dimensions[5].height == 47.25
    assert 0 < len(ws["A6"].value.encode("utf-16-le")) <= 2 * 32767


def test_rows_must_come_in_order_after_the_ordinary_ones(tmp_path):
    wb = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = wb.add_worksheet("a", worksheet_class=FastRowsWorksheet)
    ws.add_row(3, None, [(0, "x", None)])
    with pytest.raises(ValueError):
        ws.add_row(3, None, [(0, "y", None)])
    with pytest.raises(TypeError):
        ws.add_row(4, None, [(0, None, None)])  # type: ignore[list-item]
    ws.write_string(5, 0, "an ordinary cell after the fast rows")
    with pytest.raises(ValueError):
        wb.close()


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from([None, 15.0, 15.5, 30.0, 409.0]),
    st.dictionaries(st.integers(0, 15), st.one_of(
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20),
        st.integers(-10**6, 10**6)), min_size=1, max_size=6)), min_size=1, max_size=8))
def test_any_rows_are_written_the_same(tmp_path_factory, rows):
    d = tmp_path_factory.mktemp("rows")
    made = [(h, [(c, v, None) for c, v in sorted(cells.items())]) for h, cells in rows]
    _write(d / "slow.xlsx", made, fast=False)
    _write(d / "fast.xlsx", made, fast=True)
    _same_xml(d / "slow.xlsx", d / "fast.xlsx")


def test_shared_cells_read_back_as_the_same_cells(tmp_path):
    """A shared text (looked up once, written on many rows) is the cell a text of its own would be;
    the shared-strings part counts every reference."""
    def write(path: Path, shared: bool) -> None:
        wb = xlsxwriter.Workbook(str(path))
        wrap, bold = wb.add_format({"text_wrap": True}), wb.add_format({"bold": True})
        ws = wb.add_worksheet("Chứng cứ", worksheet_class=FastRowsWorksheet)
        ws.write_string(0, 0, "Mã đơn vị", bold)
        name = ws.shared("Xã Anh Sơn", wrap) if shared else "Xã Anh Sơn"
        met = ws.shared("Đạt", bold) if shared else "Đạt"
        for i in range(1, 6):
            ws.add_row(i, 30, [(0, "17329", None), (1, name, wrap), (2, met, bold), (3, i, None)])
        wb.close()

    write(tmp_path / "plain.xlsx", False)
    write(tmp_path / "shared.xlsx", True)
    sheets = [load_workbook(tmp_path / n)["Chứng cứ"] for n in ("plain.xlsx", "shared.xlsx")]
    for row in range(1, 7):
        for col in range(1, 5):
            a, b = (ws.cell(row, col) for ws in sheets)
            assert (a.value, a.font.b, a.alignment.wrap_text) == (b.value, b.font.b, b.alignment.wrap_text)
    counts = [re.search(r'<sst [^>]*count="(\d+)" uniqueCount="(\d+)"', _parts(tmp_path / n)["xl/sharedStrings.xml"])
              .groups() for n in ("plain.xlsx", "shared.xlsx")]
    assert counts[0] == counts[1] == ("16", "4")
