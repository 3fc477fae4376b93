"""Scorecard workbook speed: N generated communes scored, then `write_scorecard` timed (a benchmark,
not a test).

    python bench/bench_scorecard.py [N] [--pack qd-28-2025|xa-lanh-manh|both] [--engine python|durable]

N defaults to 3,321, the whole country (the official units of vietnam-provinces, in its order,
from bench/generate.py). Prints, per pack, the time to generate+validate, to score and rank, and
to write the workbook (with its cells per sheet and the file size). The target on a 2-core
machine is under 10 s for the whole country with full evidence.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def scored_batch(pack_id: str, n: int, engine: str):
    """(batch, seconds to generate+validate, seconds to score) for n generated units."""
    from generate import generate_rows

    from lanhmanh.engine.evaluation.scoring import score_units
    from lanhmanh.engine.evaluation.validate import Validator
    from lanhmanh.engine.model import versions
    from lanhmanh.engine.model.loader import load_pack

    # the version in force for the generated rows' year (2025), as `score` takes it: the newest
    # version of xa-lanh-manh (2026.1) asks for columns the 2025 rows do not have
    pack, _ = load_pack(str(versions.for_year(versions.versions_of(pack_id), 2025).path))
    t0 = time.perf_counter()
    v = Validator(pack)
    units = [u for i, r in enumerate(generate_rows(n, pack_id, seed=1))
             if (u := v.row("bench.csv", i + 2, r)) is not None]
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        batch = score_units(pack, units, engine, v.rejected, v.warnings)
    t2 = time.perf_counter()
    batch.inputs = [{"path": "bench.csv", "sha256": "0" * 64, "rows": n}]
    return batch, t1 - t0, t2 - t1


def cells(path: Path) -> dict[str, int]:
    """Cells per sheet of a written workbook (counted from the sheet XML, cheaply)."""
    import re
    import zipfile

    out = {}
    with zipfile.ZipFile(path) as z:
        names = re.findall(r'<sheet name="([^"]*)"', z.read("xl/workbook.xml").decode())
        for i, name in enumerate(names, start=1):
            out[name] = z.read(f"xl/worksheets/sheet{i}.xml").count(b"<c ")
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=3321)
    ap.add_argument("--pack", default="both", choices=["both", "qd-28-2025", "xa-lanh-manh"])
    ap.add_argument("--engine", default="python", choices=["python", "durable"])
    a = ap.parse_args()
    from lanhmanh.scorecards.outputs.scorecard.workbook import write_scorecard

    packs = ["qd-28-2025", "xa-lanh-manh"] if a.pack == "both" else [a.pack]
    for pack_id in packs:
        batch, t_gen, t_score = scored_batch(pack_id, a.n, a.engine)
        with tempfile.TemporaryDirectory() as d:
            out = Path(d) / "scorecard.xlsx"
            t0 = time.perf_counter()
            write_scorecard(batch, out)
            t1 = time.perf_counter()
            per_sheet = cells(out)
            size = out.stat().st_size
        big = sorted(per_sheet.items(), key=lambda kv: -kv[1])[:4]
        print(f"{pack_id}: {len(batch.units)} units, {len(batch.provinces)} provinces, "
              f"{len(batch.pack.commune.criteria)} criteria; generate+validate {t_gen:.2f} s, "
              f"score+rank ({batch.engine}) {t_score:.2f} s")
        print(f"  write_scorecard {t1 - t0:.2f} s: {len(per_sheet)} sheets, {sum(per_sheet.values()):,} cells, "
              f"{size / 1e6:.1f} MB; largest: " + ", ".join(f"{k} {v:,}" for k, v in big))


if __name__ == "__main__":
    main()
