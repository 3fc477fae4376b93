"""National batch speed: the whole pre-reform list (10,051 communes of 63 provinces, year 2024)
through xa-lanh-manh, from CSV to the per-province workbooks, the national summary, the JSON and
the history database (a benchmark, not a test).

    python bench/bench_national.py [--synthetic N] [--provinces 63] [--engine durable|python]
                                   [--workers 1] [--keep DIR]

The figures come from bench/generate.py (valid, every class occurring); the identities are the
official units of the list in force before the July 2025 reform (shipped in data/), so the
batch is checked against that list, as `score` checks a 2024 batch. With --synthetic N, N rows get
synthetic codes (00001…) dealt out over the 63 provinces and are read with `--unit-list none`.

First the phases of `lanhmanh score --out-dir DIR --json FILE --db FILE`, timed one by one in this
process: read and validate, score and rank, write the province workbooks and the summary, write
the JSON, record the run in the history database. Then the same command run as a user runs it
(a subprocess: start-up included), its wall time and peak resident set. Target on a 2-core
machine: under 30 s in all and under 1 GB.
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

# the 63 provinces and centrally-run cities before 1 July 2025 (codes of the General Statistics Office)
PRE_REFORM_PROVINCES = (
    "01", "02", "04", "06", "08", "10", "11", "12", "14", "15", "17", "19", "20", "22", "24", "25", "26",
    "27", "30", "31", "33", "34", "35", "36", "37", "38", "40", "42", "44", "45", "46", "48", "49", "51",
    "52", "54", "56", "58", "60", "62", "64", "66", "67", "68", "70", "72", "74", "75", "77", "79", "80",
    "82", "83", "84", "86", "87", "89", "91", "92", "93", "94", "95", "96")
assert len(PRE_REFORM_PROVINCES) == 63


def official_rows(seed: int = 1):
    """Generated xa-lanh-manh figures for every unit of the pre-reform list, year 2024."""
    from generate import XLM, generate_rows

    from lanhmanh.engine.model.admin_units import pre_reform

    units = sorted(pre_reform().units.values(), key=lambda u: u.code)
    for u, row in zip(units, generate_rows(len(units), XLM, seed=seed)):
        row.update(unit_code=u.code, unit_name=u.name, unit_type=u.type, province_code=u.province_code,
                   year=2024)
        yield row


def national_rows(n: int, provinces: int, seed: int = 1):
    """n generated xa-lanh-manh rows, with synthetic codes dealt out over the first `provinces`."""
    from generate import XLM, generate_rows

    codes = PRE_REFORM_PROVINCES[:provinces]
    for i, row in enumerate(generate_rows(n, XLM, seed=seed)):
        row["unit_code"] = f"{i + 1:05d}"
        row["unit_name"] = f"Xã Tổng hợp {i + 1}"
        row["unit_type"] = "xã"
        row["province_code"] = codes[i % len(codes)]
        yield row


def cli_run(root: Path, csv_path: Path, unit_list: str, engine: str) -> None:
    """The same batch through the command a user types, timed from outside (start-up included)."""
    import subprocess

    cmd = [sys.executable, "-m", "lanhmanh.cli", "score", str(csv_path), "--rules", "xa-lanh-manh",
           "--unit-list", unit_list, "--engine", engine, "--out-dir", str(root / "cli-out"),
           "--json", str(root / "cli.json"), "--db", str(root / "cli-history.sqlite")]
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    peak = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    print(f"  `lanhmanh score ... --out-dir --json --db` as a user runs it: {wall:.2f} s wall, "
          f"peak {peak:.0f} MB (largest child process) ({status})")


def peak_mb() -> tuple[float, float]:
    """Peak resident set of this process and of the largest writer process (Linux: kilobytes)."""
    return (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--synthetic", type=int, metavar="N",
                    help="N rows with synthetic codes instead of the 10,051 official pre-reform units")
    ap.add_argument("--provinces", type=int, default=63)
    ap.add_argument("--engine", default="durable", choices=("durable", "python"))
    ap.add_argument("--workers", type=int, default=1, help="processes writing the province workbooks")
    ap.add_argument("--no-unit-sheets", action="store_true",
                    help="measure without the per-unit scorecard sheets (UNIT_SHEETS_MAX set to 0)")
    ap.add_argument("--keep", help="write into this folder (kept) instead of a temporary one")
    args = ap.parse_args(argv)

    from generate import write_csv

    if args.no_unit_sheets:
        from lanhmanh.scorecards.outputs.scorecard import workbook as scorecard

        scorecard.UNIT_SHEETS_MAX = 0  # inherited by the writer processes (fork)

    from lanhmanh.api import prepare, score_intake
    from lanhmanh.scorecards.outputs.json_out import result_dict, write_json_atomic
    from lanhmanh.scorecards.outputs.national import write_national

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-national-"))
    root.mkdir(parents=True, exist_ok=True)
    csv_path = root / "lo-toan-quoc.csv"
    t0 = time.perf_counter()
    rows = national_rows(args.synthetic, args.provinces) if args.synthetic else official_rows()
    unit_list = "none" if args.synthetic else "official"
    write_csv(rows, csv_path)
    timings = [("generate the CSV (not counted)", time.perf_counter() - t0)]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = time.perf_counter()
        pack, intake = prepare([str(csv_path)], "xa-lanh-manh", unit_list=unit_list)
        timings.append(("read and validate", time.perf_counter() - t))
        t = time.perf_counter()
        batch = score_intake(pack, intake, args.engine)
        timings.append(("score and rank", time.perf_counter() - t))
    t = time.perf_counter()
    nat = write_national(batch, root / "out", workers=args.workers)
    timings.append((f"write {len(nat.lines)} province workbooks + summary", time.perf_counter() - t))
    t = time.perf_counter()
    write_json_atomic(str(root / "r.json"), result_dict(batch))
    timings.append(("write the JSON", time.perf_counter() - t))
    t = time.perf_counter()
    from lanhmanh.engine.batch.history import record_run

    record_run(root / "history.sqlite", batch)
    timings.append(("record the run in the history database", time.perf_counter() - t))
    total = time.perf_counter() - start

    sizes = [ln.n_units for ln in nat.lines]
    out_bytes = sum(p.stat().st_size for p in (root / "out").iterdir())
    print(f"{len(batch.units)} units over {len(nat.lines)} provinces ({min(sizes)}–{max(sizes)} per province), "
          f"{len(batch.rejected)} rejected, engine {batch.engine}, {args.workers} writer process(es)"
          + (", no per-unit sheets" if args.no_unit_sheets else ""))
    for what, secs in timings:
        print(f"  {what:<45} {secs:7.2f} s")
    print(f"  {'total (CSV → workbooks + JSON)':<45} {total:7.2f} s   (target < 30 s)")
    own, child = peak_mb()
    print(f"  peak memory (max RSS)                         {own:7.0f} MB  (target < 1024 MB)"
          + (f", writer processes {child:.0f} MB each at most" if args.workers > 1 else ""))
    print(f"  output: {out_bytes / 1e6:.1f} MB of workbooks, JSON {(root / 'r.json').stat().st_size / 1e6:.1f} MB"
          f" in {root}")
    cli_run(root, csv_path, unit_list, args.engine)
    if not args.keep:
        import shutil

        shutil.rmtree(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
