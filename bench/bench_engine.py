"""Engine throughput: N generated communes through a pack on each backend (a benchmark, not a test).

    python bench/bench_engine.py [-n 10000] [--pack qd-28-2025] [--engine both]

Prints pack load/compile time, units/s with full evidence (evaluation + evidence records for every
criterion), and peak memory (ru_maxrss) measured in a child process per backend and batch size,
so that the figures do not leak into each other.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))


def run_one(pack_id: str, engine: str, n: int) -> dict:
    import resource
    import warnings

    from generate import generate_rows

    from lanhmanh.engine.evidence import criteria_evidence
    from lanhmanh.engine.loader import load_pack
    from lanhmanh.engine.scoring import make_backend, rank, UnitResult
    from lanhmanh.engine.validate import Validator

    t0 = time.perf_counter()
    pack, _ = load_pack(pack_id)
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = make_backend(engine, pack.commune)
    t2 = time.perf_counter()
    v = Validator(pack)
    rows = list(generate_rows(n, pack_id, seed=1))
    t3 = time.perf_counter()
    units = [u for i, r in enumerate(rows) if (u := v.row("bench", i + 2, {k: x for k, x in r.items()})) is not None]
    t4 = time.perf_counter()
    results = []
    evidence_rows = 0
    for u in units:
        out = backend.evaluate(u.values)
        evidence_rows += len(criteria_evidence(pack.commune, u.values, out))
        results.append(UnitResult(u, out))
    t5 = time.perf_counter()
    rank(pack.commune, results)
    t6 = time.perf_counter()
    return {
        "pack": pack_id, "engine": backend.name, "n": len(units), "rejected": len(v.rejected),
        "load_s": round(t1 - t0, 4), "compile_s": round(t2 - t1, 4),
        "validate_units_per_s": round(len(units) / (t4 - t3)),
        "evaluate_with_evidence_units_per_s": round(len(units) / (t5 - t4)),
        "evidence_rows": evidence_rows, "rank_s": round(t6 - t5, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--pack", default="qd-28-2025")
    ap.add_argument("--engine", default="both", choices=["both", "durable", "python"])
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.pack, a.engine, a.n)))
        return
    engines = ["durable", "python"] if a.engine == "both" else [a.engine]
    sizes = sorted({max(1000, a.n // 10), a.n // 2, a.n} - {0})
    print(f"{'pack':<14} {'engine':<8} {'units':>6} {'load s':>7} {'compile s':>9} {'units/s (eval+evidence)':>24} "
          f"{'validate/s':>10} {'peak MB':>8}")
    for eng in engines:
        for n in sizes:
            out = subprocess.run([sys.executable, __file__, "--child", "-n", str(n), "--pack", a.pack,
                                  "--engine", eng], capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{r['pack']:<14} {r['engine']:<8} {r['n']:>6} {r['load_s']:>7} {r['compile_s']:>9} "
                  f"{r['evaluate_with_evidence_units_per_s']:>24} {r['validate_units_per_s']:>10} {r['peak_rss_mb']:>8}")


if __name__ == "__main__":
    main()
