"""Helpers shared by the test modules: input rows for the two pack families, pack locations."""
from __future__ import annotations

import importlib.util
import os
import shutil
from functools import cache
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
TEST_PACKS = TESTS / "packs"
QD28_TEST = TEST_PACKS / "qd28-test.yaml"  # qd-28-2025 as the legal text states it, owned by the tests
XLM_TEST = TEST_PACKS / "xlm-test.yaml"  # xa-lanh-manh as the legal text states it, owned by the tests

QD28_INDICATORS = ("population", "users_with_records", "harbouring_points", "drug_arrests", "drug_plants",
                   "drug_plant_area_m2", "on_key_route", "resident_users_untreated",
                   "resident_drug_violators", "wanted_drug_fugitives")
XLM_INDICATORS = ("has_annual_plan", "tasks_assigned", "communication_sessions", "villages_total",
                  "villages_reached", "villages_healthy", "businesses_conditional", "businesses_inspected",
                  "violations_detected", "violations_handled", "new_drug_addicts", "new_drug_addicts_prev",
                  "addicts_total", "addicts_managed", "harbouring_points", "prostitution_hotspots",
                  "sex_workers_known", "sex_workers_supported", "venues_prostitution_violations")


def shipped_pack(ref: "Path | str") -> Path:
    """A pack file: a path is returned as is; a shipped pack id gives lanhmanh/rules/ID.yaml. A
    shipped pack that is missing fails the test: it is part of the package, never optional."""
    if isinstance(ref, Path):
        return ref
    from lanhmanh.engine.model.loader import RULES_DIR

    p = RULES_DIR / f"{ref}.yaml"
    if not p.is_file():
        pytest.fail(f"shipped pack {ref!r} is missing: no {p}", pytrace=False)
    return p


# The former name, still imported by some test modules: it no longer skips, it fails like shipped_pack.
shipped_or_skip = shipped_pack


def identity(code: int | str = 1, name: str | None = None, unit_type: str = "xã", province: str = "01",
             year: int | None = 2025) -> dict:
    code = f"{int(code):05d}" if isinstance(code, int) else code
    row = {"unit_code": code, "unit_name": name or f"Xã {code}", "unit_type": unit_type,
           "province_code": province}
    if year is not None:
        row["year"] = year
    return row


def qd28_values(**over) -> dict:
    """A drug-free commune of 10,000 people; keyword arguments override indicators."""
    v = {"population": 10000, "users_with_records": 0, "harbouring_points": 0, "drug_arrests": 0,
         "drug_plants": 0, "drug_plant_area_m2": "0", "on_key_route": False, "resident_users_untreated": 0,
         "resident_drug_violators": 0, "wanted_drug_fugitives": 0}
    v.update(over)
    return v


def xlm_values(**over) -> dict:
    """A commune that earns all 100 points; keyword arguments override indicators."""
    v = {"has_annual_plan": True, "tasks_assigned": True, "communication_sessions": 12, "villages_total": 10,
         "villages_reached": 10, "villages_healthy": 10, "businesses_conditional": 4,
         "businesses_inspected": 4, "violations_detected": 0, "violations_handled": 0, "new_drug_addicts": 0,
         "new_drug_addicts_prev": None, "addicts_total": 0, "addicts_managed": 0, "harbouring_points": 0,
         "prostitution_hotspots": 0, "sex_workers_known": 0, "sex_workers_supported": 0,
         "venues_prostitution_violations": 0}
    v.update(over)
    return v


def qd28_row(code: int | str = 1, province: str = "01", name: str | None = None, **over) -> dict:
    return {**identity(code, name=name, province=province), **qd28_values(**over)}


def xlm_row(code: int | str = 1, province: str = "01", name: str | None = None, **over) -> dict:
    return {**identity(code, name=name, province=province), **xlm_values(**over)}


class Readable:
    """A parametrize value that names its own test id, verbatim (Vietnamese letters kept: the
    conftest hook `pytest_make_parametrize_id` returns `test_id` without ASCII escaping)."""

    test_id: str = ""


def pack_for_year(ref: "Path | str", year: "int | None" = 2025):
    """A pack as `score` takes it for batch `year`: a pack id in the version in force for that year
    (xa-lanh-manh: 2025.1 for 2025, 2026.1 from 2026); a file as it is; year None: the newest."""
    from lanhmanh.engine.model import versions
    from lanhmanh.engine.model.loader import load_pack

    found = versions.versions_of(ref) if isinstance(ref, str) and year is not None else []
    chosen = versions.for_year(found, year) if found and year is not None else None
    return load_pack(chosen.path if chosen is not None else ref)[0]


def scored_batch(pack_id: str, rows: list[dict]):
    """A BatchResult of `rows` (dicts of raw values, as a CSV gives them) scored with a shipped
    pack on the Python backend, recorded as read from one input "t.csv". A pack id is taken in the
    version in force for the rows' year, as `score` takes it (xa-lanh-manh: 2025.1 for 2025)."""
    import warnings

    from lanhmanh.engine.evaluation.scoring import score_units
    from lanhmanh.engine.evaluation.validate import Validator

    year = next((int(r["year"]) for r in rows if r.get("year") not in (None, "")), None)
    pack = pack_for_year(pack_id, year)
    v = Validator(pack)
    units = [u for i, r in enumerate(rows) if (u := v.row("t.csv", i + 2, r)) is not None]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = score_units(pack, units, "python", v.rejected, v.warnings)
    batch.inputs = [{"path": "t.csv", "sha256": "0" * 64, "rows": len(rows)}]
    return batch


def need_tool(*names: str) -> str:
    """The path of the first of `names` on PATH (LibreOffice's soffice, poppler's pdftotext…) for a
    test that prints through it. Missing: the test is skipped on a developer's machine, and fails
    where CI is set (.ci/run installs them)."""
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("CI"):
        pytest.fail(f"{' or '.join(names)} is not installed, and CI is set (.ci/run installs it)")
    pytest.skip(f"{' or '.join(names)} is not installed")


# a small rule pack's head (pack, three indicators) and classes, for tests that write rule files
MINI_PACK_HEAD = """\
pack:
  id: mini
  title: Mini
  version: "1"
  status: illustrative
  effective_from: 2025-01-01
indicators:
  population: {label: Dân số, type: integer, min: 1}
  users: {label: Người dùng, type: integer, min: 0}
  on_route: {label: Trên tuyến, type: boolean}
"""

MINI_CLASSES = """\
classes:
  - {id: high, label: Cao, when: A}
  - {id: low, label: Thấp, residual: true}
"""


def csv_as_year(src: "Path", dst: "Path", year: int) -> "Path":
    """The rows of the CSV `src`, with every row's year set to `year`, written to `dst` (the user's
    own file: other bytes than the sample's)."""
    import csv

    with open(src, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    i = rows[0].index("year")
    with open(dst, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([rows[0]] + [r[:i] + [str(year)] + r[i + 1:] for r in rows[1:]])
    return dst


@cache
def bench_generate():
    """bench/generate.py as a module: generate_rows(n, pack_id, seed), write_csv, the oracles."""
    spec = importlib.util.spec_from_file_location("lanhmanh_bench_generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def as_text(v) -> str:
    """A generated value as a CSV cell gives it ("có"/"không" for booleans, "" for blank)."""
    if v is True:
        return "có"
    if v is False:
        return "không"
    return "" if v is None else str(v)


def generated_rows(n: int, pack_id: str = "qd-28-2025", seed: int = 1) -> list[dict]:
    """n generated rows of a pack family (bench/generate.py), as text cells."""
    return [{k: as_text(v) for k, v in r.items()} for r in bench_generate().generate_rows(n, pack_id, seed=seed)]


def rows_validated(monkeypatch) -> list[int]:
    """The row numbers Validator.row is called with from now on, in this process (a forked copy
    counts in its own memory): how tests see which rows were validated here, and how often."""
    from lanhmanh.engine.evaluation.validate import Validator

    counted: list[int] = []
    real = Validator.row

    def row(self, path, rowno, record, sheet=None, letters=None):
        counted.append(rowno)
        return real(self, path, rowno, record, sheet, letters)

    monkeypatch.setattr(Validator, "row", row)
    return counted
