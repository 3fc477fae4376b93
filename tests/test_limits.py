"""Bounded everything on the input side (docs/limits.md): digits and exponents of numbers, JSON
nesting, the expanded size of a workbook's parts, cells per file. Past a limit: one bad cell
rejects its row (exit 1), one bad file its rows (exit 4 alone); never exit 9, a hang, a traceback
or unbounded memory."""
from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
import tracemalloc
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lmtest import XLM_TEST, xlm_row
from openpyxl import Workbook

from lanhmanh.engine.evaluation import validate
from lanhmanh.engine.evaluation.validate import CellError, Validator, parse_value
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.errors import InputError
from lanhmanh.scorecards.inputs import readers, xlsx_reader
from lanhmanh.scorecards.inputs.xlsx_reader import read_workbook

ROWS = [xlm_row(1), xlm_row(2), xlm_row(3)]
COLS = list(ROWS[0])


def score(run_cli, *inputs, json_out: str = "o.json"):
    return run_cli("score", *map(str, inputs), "--rules", str(XLM_TEST), "--unit-list", "none",
                   "--json", json_out, "--no-db")


def read_json(path: Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cell(v):
    return "có" if v is True else "không" if v is False else v


def book(path: Path) -> Path:
    """The rows as a workbook whose text is in a shared strings part (as Excel and XlsxWriter write
    it; openpyxl writes inline strings)."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path))
    ws = wb.add_worksheet("Dữ liệu")
    ws.write_row(0, 0, COLS)
    for i, r in enumerate(ROWS, start=1):
        ws.write_row(i, 0, [cell(r[c]) for c in COLS])
    wb.close()
    return path


def rewrite(path: Path, part: str, change) -> Path:
    """Rewrite one part of a workbook (bytes → bytes), as a hostile or careless tool would."""
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    parts[part] = change(parts.get(part, b""))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in parts.items():
            z.writestr(n, data)
    return path


def with_value(path: Path, ref: str, text: str) -> Path:
    """The cell `ref` of the first sheet saved as the number `text` (as written in the XML)."""
    return rewrite(path, "xl/worksheets/sheet1.xml", lambda x: re.sub(
        rf'(<c r="{ref}"[^>]*>)<v>[^<]*</v>'.encode(), rb"\g<1><v>" + text.encode() + b"</v>", x))


def knows():
    return Validator(load_pack(str(XLM_TEST))[0]).knows


# ---- numbers -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [
    ("1" * 31, "a number of more than 30 digits"), ("9" * 5000, "a number of more than 30 digits"),
    ("1e999", "a number out of range"), ("1e-999999999", "a number out of range"),
    ("0." + "0" * 40 + "1", "a number (of more than 30 digits|out of range)"),
])
def test_numbers_beyond_the_limits_are_a_cell_error(text, reason):
    pack = load_pack(str(XLM_TEST))[0]
    ind = pack.commune.indicators["communication_sessions"]
    with pytest.raises(CellError, match=reason):
        parse_value(ind, text)
    with pytest.raises(CellError, match=reason):
        parse_value(ind, Decimal(text))  # as a JSON reader or the library hands it over


NUMBERISH = st.one_of(
    st.text(alphabet="0123456789.,eE+- \u00a0", max_size=60),
    st.from_regex(r"\A[+-]?\d{1,80}(\.\d{0,80})?([eE][+-]?\d{1,12})?\Z"),
    st.text(max_size=30),
)


@given(NUMBERISH)
def test_any_cell_text_is_a_value_or_a_cell_error(text):
    """Whatever a cell holds, an integer or decimal indicator gives a value or a CellError: never
    another exception (exit 9) and never a long computation."""
    for ind in _indicators():
        try:
            value = parse_value(ind, text)
        except CellError:
            continue
        assert value is None or abs(value) <= validate.MAX_MAGNITUDE


@given(st.from_regex(r"\A-?(0|[1-9]\d{0,60})(\.\d{1,60})?([eE][+-]?\d{1,12})?\Z"))
def test_any_json_number_is_read_without_converting_huge_ones(text):
    value = readers._json_number(text)
    if isinstance(value, validate.BadValue):
        assert value.reason.startswith("a number")
    else:
        assert isinstance(value, (int, Decimal)) and len(text) <= 2 * validate.MAX_DIGITS + 8


@functools.lru_cache(maxsize=None)
def _indicators():
    """An integer indicator of the test pack, and the same as a decimal of 2 places."""
    from dataclasses import replace

    ind = load_pack(str(XLM_TEST))[0].commune.indicators["communication_sessions"]
    return ind, replace(ind, type="decimal", decimals=2)


def test_thirty_digits_are_read_and_then_judged_by_magnitude():
    ind = load_pack(str(XLM_TEST))[0].commune.indicators["communication_sessions"]
    with pytest.raises(CellError, match="implausibly large"):
        parse_value(ind, "1" * 30)
    assert parse_value(ind, "0" * 28 + "12") == 12


def test_a_huge_int_handed_over_by_the_library_is_rejected_and_shown_short():
    pack = load_pack(str(XLM_TEST))[0]
    v = Validator(pack)
    row = {**xlm_row(1), "communication_sessions": 10 ** 100_000}
    assert v.row("lib", 1, row) is None
    (r,) = v.rejected
    assert r.reason.startswith("implausibly large")
    assert r.as_dict()["value"] == "(a number of about 100000 digits)"
    assert "about 100000 digits" in r.line()


def test_a_number_of_thousands_of_digits_in_a_csv_rejects_its_row(run_cli, files, workdir):
    rows = [xlm_row(1, communication_sessions="1" * 5000), xlm_row(2), xlm_row(3, villages_total="1e999")]
    result = score(run_cli, files.csv("big.csv", rows))
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert [u["unit_code"] for u in doc["units"]] == ["00002"]
    rej = {r["unit_code"]: r for r in doc["rejected"]}
    assert rej["00001"]["reason"] == "a number of more than 30 digits"
    assert rej["00001"]["value"] == "1" * 30 + "…(5000 characters)"
    assert rej["00003"]["reason"].startswith("a number out of range")
    assert "1" * 100 not in result.output  # the value is shortened in messages too


@pytest.mark.parametrize("number", ["1e999999999", "9" * 100_000, "-1e-999999999", "1." + "0" * 50_000])
def test_huge_json_numbers_reject_their_row_without_hanging(run_cli, files, workdir, number):
    rows = [{**r, "communication_sessions": "@"} for r in ROWS]
    text = json.dumps(rows).replace('"@"', "12", 2).replace('"@"', number)
    result = score(run_cli, files.text("n.json", text))
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00002"]
    (r,) = doc["rejected"]
    assert r["unit_code"] == "00003" and r["column"] == "communication_sessions"
    assert r["reason"].startswith("a number")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_are_not_numbers(run_cli, files, workdir, constant):
    text = json.dumps(ROWS).replace('"communication_sessions": 12', f'"communication_sessions": {constant}', 1)
    result = score(run_cli, files.text("c.json", text))
    assert result.exit_code == 1, result.output
    (r,) = read_json(workdir / "o.json")["rejected"]
    assert (r["unit_code"], r["value"], r["reason"]) == ("00001", constant, "not a number")


@pytest.mark.parametrize("depth", [21, 100_000])
def test_json_nested_too_deeply_is_refused_naming_the_place(run_cli, files, workdir, depth):
    text = '[{"unit_code": "00001", "x": ' + "[" * depth + "]" * depth + "}]"
    result = score(run_cli, files.text("deep.json", text))
    assert result.exit_code == 4, result.output
    assert "JSON nested more than 20 levels deep (at line 1 column 48)" in result.output


def test_json_nested_within_the_limit_is_read(run_cli, files, workdir):
    rows = [{**ROWS[0], "ghi_chu": [[[["ok"]]]]}]
    result = score(run_cli, files.json("ok.json", {"units": rows}))
    assert result.exit_code == 0, result.output


def test_a_text_file_over_its_size_limit_is_refused(run_cli, files, workdir, monkeypatch):
    monkeypatch.setattr(readers, "MAX_TEXT_BYTES", 100)
    monkeypatch.setattr(readers, "MAX_JSON_BYTES", 100)
    good = files.csv("a.csv", ROWS[:1])
    result = score(run_cli, files.csv("big.csv", ROWS), files.json("big.json", ROWS))
    assert result.exit_code == 4, result.output
    assert "the limit for a CSV input" in result.output and "the limit for a JSON input" in result.output
    assert good.exists()


def test_cells_per_file_are_bounded(run_cli, files, workdir, monkeypatch):
    monkeypatch.setattr(readers, "MAX_CELLS", 40)
    monkeypatch.setattr(xlsx_reader, "MAX_CELLS", 40)
    result = score(run_cli, files.csv("a.csv", ROWS))
    assert result.exit_code == 4 and "more than 40 cells: split the file" in result.output
    result = score(run_cli, book(files.path("a.xlsx")))
    assert result.exit_code == 4 and "more than 40 cells with a value" in result.output


# ---- workbook cells ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, reason", [("1e999", "a number out of range"), ("9" * 5000, "more than 30 digits"),
                                          ("1e300", "a number out of range")])
def test_a_workbook_number_beyond_the_limits_rejects_its_row(run_cli, files, workdir, text, reason):
    path = with_value(book(files.path("n.xlsx")), "H3", text)
    result = score(run_cli, path)
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00003"]
    (r,) = doc["rejected"]
    assert (r["cell"], r["unit_code"]) == ("H3", "00002") and reason in r["reason"]
    assert r["value"] == validate.shorten(text)


@pytest.mark.parametrize("xml", ['<c r="H3" t="b"><v>x</v></c>', '<c r="H3" t="s"><v>9999</v></c>',
                                 '<c r="H3" t="d"><v>notadate</v></c>', '<c r="H3" t="n"><v>abc</v></c>',
                                 '<c r="H3" t="e"><v>#DIV/0!</v></c>'])
def test_a_damaged_cell_rejects_its_row_not_its_file(run_cli, files, workdir, xml):
    path = rewrite(book(files.path("d.xlsx")), "xl/worksheets/sheet1.xml",
                   lambda x: re.sub(rb'<c r="H3"[^>]*>.*?</c>', xml.encode(), x))
    result = score(run_cli, path)
    assert result.exit_code == 1, result.output
    doc = read_json(workdir / "o.json")
    assert sorted(u["unit_code"] for u in doc["units"]) == ["00001", "00003"]
    (r,) = doc["rejected"]
    assert (r["cell"], r["unit_code"]) == ("H3", "00002")


def test_a_formula_nested_deeply_rejects_its_row(run_cli, files, workdir):
    wb = Workbook()
    ws = wb.active
    ws.append(COLS)
    for r in ROWS:
        ws.append([cell(r[c]) for c in COLS])
    ws.cell(2, COLS.index("communication_sessions") + 1).value = "=" + "(" * 500 + "12" + ")" * 500
    wb.save(files.path("f.xlsx"))
    result = score(run_cli, files.root / "f.xlsx")
    assert result.exit_code == 1, result.output
    (r,) = read_json(workdir / "o.json")["rejected"]
    assert r["cell"] == "H2" and "never calculated" in r["reason"]


# ---- workbook parts ------------------------------------------------------------------------------------

def shared_strings_bomb(path: Path, size: int) -> Path:
    """A valid workbook whose shared strings part expands to `size` bytes (a few dozen kB zipped)."""
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>'
    return rewrite(book(path), "xl/sharedStrings.xml", lambda _: head + b"a" * size + b"</t></si></sst>")


def test_a_part_expanding_past_its_limit_is_refused_before_it_is_loaded(run_cli, files, workdir):
    path = shared_strings_bomb(files.path("bom.xlsx"), 40 * 2**20)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match=r"part xl/sharedStrings\.xml expands to 40 MB, over the limit of 32 MB"):
            read_workbook(path, knows())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20, peak  # the part was never expanded
    result = score(run_cli, path)
    assert result.exit_code == 4 and "sharedStrings.xml" in result.output


def test_sheet_parts_and_the_total_are_bounded(files, monkeypatch):
    path = book(files.path("s.xlsx"))
    monkeypatch.setattr(xlsx_reader, "MAX_SHEET_PART", 100)
    with pytest.raises(InputError, match=r"part xl/worksheets/sheet1\.xml expands to .* for a sheet"):
        read_workbook(path, knows())
    monkeypatch.setattr(xlsx_reader, "MAX_SHEET_PART", 2**30)
    monkeypatch.setattr(xlsx_reader, "MAX_EXPANDED", 1000)
    with pytest.raises(InputError, match=r"in all"):
        read_workbook(path, knows())


def test_a_part_lying_about_its_size_is_a_damaged_file(files):
    """The zip directory says how large each part expands; a part expanding beyond what it says
    fails its check as it is read (zipfile reads no more than the size declared)."""
    path = book(files.path("lie.xlsx"))
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    # the size fields of the part's local header and of its central directory entry: say 10 bytes
    for at in (m.start() for m in re.finditer(re.escape(name), bytes(data))):
        if data[at - 30:at - 26] == b"PK\x03\x04":
            data[at - 8:at - 4] = (10).to_bytes(4, "little")
        elif data[at - 46:at - 42] == b"PK\x01\x02":
            data[at - 22:at - 18] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(InputError, match="cannot be read as an Excel workbook"):
        read_workbook(path, knows())


@pytest.mark.slow
def test_reading_the_largest_workbook_allowed_stays_under_500_mb(files):
    """Shared strings just under their limit, as many tiny strings as fit (the worst case for memory):
    the peak resident memory of a process reading it stays under 500 MB."""
    n = (31 * 2**20) // 21
    body = b"".join(b"<si><t>%05x</t></si>" % (i % 0xFFFFF) for i in range(n))
    head = b'<?xml version="1.0"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    path = rewrite(book(files.path("max.xlsx")), "xl/sharedStrings.xml", lambda _: head + body + b"</sst>")
    code = ("import resource, sys\n"
            "from lanhmanh.engine.evaluation.validate import Validator\n"
            "from lanhmanh.engine.model.loader import load_pack\n"
            "from lanhmanh.scorecards.inputs.xlsx_reader import read_workbook\n"
            "from lanhmanh.errors import InputError\n"
            "try:\n"
            f"    read_workbook(sys.argv[1], Validator(load_pack({str(XLM_TEST)!r})[0]).knows)\n"
            "except InputError as e:  # its header's text is gone with the strings: no header row\n"
            "    assert 'no sheet has a header row' in e.message, e.message\n"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    peak_kb = int(out.stdout.split()[-1])
    assert peak_kb < 500 * 1024, (peak_kb, time.perf_counter() - t)
