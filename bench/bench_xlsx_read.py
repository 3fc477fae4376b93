"""Reading submitted workbooks: how long `read_workbook` takes (a benchmark, not a test).

    python bench/bench_xlsx_read.py [-n 3321] [--repeat 3] [--empty 1000000] [--gap]

Writes, in a temporary folder, a workbook in the data-entry template's layout (merged title, note,
Vietnamese labels, indicator ids, data from row 5) with n generated xa-lanh-manh communes (24
columns: identity + 19 indicators; unit codes as text, booleans as có/không), and times
`read_workbook` on it (best of --repeat), then validation of the rows it read. Then the sheets
of `--empty` empty rows after the data: formatted rows (`<row s=".." customFormat="1"/>`, what
formatting whole rows in Excel writes) and rows of formatted empty cells. With --gap, also the
slow case the reader handles without losing data: a value far below such a gap.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

PACK = "xa-lanh-manh"


def write_template_like(path: Path, rows: list[dict], labels: dict[str, str]) -> None:
    import xlsxwriter

    cols = list(rows[0])
    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Dữ liệu")
    ws.merge_range(0, 0, 0, len(cols) - 1, "BIỂU MẪU NHẬP SỐ LIỆU XÃ, PHƯỜNG LÀNH MẠNH")
    ws.write(1, 0, "Nhập số liệu từ dòng 5; không sửa dòng 4 (mã cột).")
    ws.write_row(2, 0, [labels.get(c, c) for c in cols])
    ws.write_row(3, 0, cols)
    for i, r in enumerate(rows, start=4):
        for j, c in enumerate(cols):
            v = r[c]
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_string(i, j, "có" if v else "không")
            elif isinstance(v, str):
                ws.write_string(i, j, v)
            else:
                ws.write_number(i, j, float(v) if not isinstance(v, int) else v)
    wb.close()


def with_empty_rows(path: Path, n: int, cells: bool, value_after: bool) -> None:
    """A small identity sheet followed by n empty formatted rows (or rows of formatted empty cells),
    optionally with one more data row after them."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["unit_code", "unit_name", "unit_type", "province_code"])
    ws.append(["00001", "Xã Một", "xã", "01"])
    wb.save(path)
    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    if cells:
        empty = (f'<row r="{r}"><c r="A{r}" s="0"/><c r="B{r}" s="0"/><c r="C{r}" s="0"/></row>'
                 for r in range(3, n + 3))
    else:
        empty = (f'<row r="{r}" s="0" customFormat="1"/>' for r in range(3, n + 3))
    tail = (f'<row r="{n + 3}"><c r="A{n + 3}" t="inlineStr"><is><t>00002</t></is></c></row>'
            if value_after else "")
    parts[sheet] = parts[sheet].replace(b"</sheetData>", "".join(empty).encode() + tail.encode() + b"</sheetData>")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            z.writestr(name, data)


def timed(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=3321, help="communes in the province workbook (default: all 3,321)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--empty", type=int, default=1_000_000, help="empty rows in the formatted-rows sheets")
    ap.add_argument("--gap", action="store_true", help="also time a value below the empty rows (slow)")
    a = ap.parse_args()

    from generate import generate_rows

    from lanhmanh.engine.evaluation.validate import Validator
    from lanhmanh.engine.model.loader import load_pack
    from lanhmanh.scorecards.inputs.xlsx_reader import read_workbook

    pack, _ = load_pack(PACK)
    labels = {i: ind.label for i, ind in pack.commune.indicators.items()}
    knows = Validator(pack).knows
    with tempfile.TemporaryDirectory() as tmp:
        book = Path(tmp) / "province.xlsx"
        rows = list(generate_rows(a.n, PACK, seed=1))
        t = time.perf_counter()
        write_template_like(book, rows, labels)
        print(f"wrote {a.n} rows x {len(rows[0])} columns ({book.stat().st_size / 1e6:.1f} MB) "
              f"in {time.perf_counter() - t:.2f} s")
        secs, files = timed(lambda: read_workbook(book, knows), a.repeat)
        f = files[0]
        print(f"read_workbook: {secs:.2f} s for {len(f.rows)} rows x {len(f.headers)} columns "
              f"(header row {f.header_row}, sheet {f.sheet!r}), {len(f.rows) / secs:,.0f} rows/s, best of {a.repeat}")

        def validate():
            v = Validator(pack)
            cols = v.header_map(f.path, f.headers, f.sheet, f.header_cells())
            letters = {cols[h]: c for h, c in f.letters.items() if h in cols}
            ok = [v.row(f.path, n, {cols.get(k, k): x for k, x in rec.items()}, f.sheet, letters)
                  for n, rec in f.rows]
            return sum(u is not None for u in ok), len(v.rejected)

        vsecs, (ok, bad) = timed(validate, 1)
        print(f"validate the rows read: {vsecs:.2f} s ({ok} units, {bad} rejections)")

        cases = [("formatted rows after the data", False, False), ("formatted empty cells after the data", True, False)]
        if a.gap:
            cases += [("a value below the formatted rows", False, True),
                      ("a value below the formatted cells", True, True)]
        for what, cells, after in cases:
            p = Path(tmp) / "empty.xlsx"
            with_empty_rows(p, a.empty, cells, after)
            secs, files = timed(lambda: read_workbook(p, knows), 1)
            print(f"{a.empty:,} {what}: {secs:.2f} s, {len(files[0].rows)} data row(s) read "
                  f"(last: row {files[0].rows[-1][0]})")


if __name__ == "__main__":
    main()
