"""Engine throughput: N generated communes through a pack on each backend (a benchmark, not a test).

    python bench/bench_engine.py [-n 10000] [--pack qd-28-2025] [--engine both]

Prints pack load/compile time, units/s with full evidence, and peak memory (ru_maxrss), each
measured in a child process per backend, mode and batch size, so the figures do not leak into
each other.
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


def run_one(pack_id: str, engine: str, n: int, keep: bool) -> dict:
    """One measurement in a fresh process. keep=False streams units through the engine and
    drops them (the engine's own memory); keep=True keeps every result and ranks the batch."""
    import resource
    import warnings

    from generate import generate_rows

    from lanhmanh.engine.evaluation.evidence import criteria_evidence
    from lanhmanh.engine.evaluation.scoring import UnitResult, make_backend, rank
    from lanhmanh.engine.evaluation.validate import Validator
    from lanhmanh.engine.model import versions
    from lanhmanh.engine.model.loader import load_pack

    t0 = time.perf_counter()
    # the version in force for the generated rows' year (2025), as `score` takes it
    pack, _ = load_pack(str(versions.for_year(versions.versions_of(pack_id), 2025).path))
    t1 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        backend = make_backend(engine, pack.commune)
    t2 = time.perf_counter()
    v = Validator(pack)
    if not keep:  # generate, validate, evaluate, build evidence, drop: memory must stay flat
        evidence_rows = count = 0
        for i, r in enumerate(generate_rows(n, pack_id, seed=1)):
            u = v.row("bench", i + 2, r)
            evidence_rows += len(criteria_evidence(pack.commune, u.values, backend.evaluate(u.values)))
            count += 1
        t5 = time.perf_counter()
        return {"pack": pack_id, "engine": backend.name, "n": count, "keep": keep,
                "load_s": round(t1 - t0, 3), "compile_s": round(t2 - t1, 3), "eval_per_s": None,
                "eval_evidence_per_s": round(count / (t5 - t2)), "evidence_rows": evidence_rows,
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    units = [u for i, r in enumerate(generate_rows(n, pack_id, seed=1))
             if (u := v.row("bench", i + 2, r)) is not None]
    t3 = time.perf_counter()
    outs = [backend.evaluate(u.values) for u in units]
    t4 = time.perf_counter()
    evidence_rows = sum(len(criteria_evidence(pack.commune, u.values, o)) for u, o in zip(units, outs))
    t5 = time.perf_counter()
    rank(pack.commune, [UnitResult(u, o) for u, o in zip(units, outs)])
    t6 = time.perf_counter()
    return {
        "pack": pack_id, "engine": backend.name, "n": len(units), "keep": keep,
        "load_s": round(t1 - t0, 3), "compile_s": round(t2 - t1, 3),
        "validate_per_s": round(len(units) / (t3 - t2)),
        "eval_per_s": round(len(units) / (t4 - t3)),
        "eval_evidence_per_s": round(len(units) / (t5 - t3)),
        "evidence_rows": evidence_rows, "rank_s": round(t6 - t5, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--pack", default="qd-28-2025")
    ap.add_argument("--engine", default="both", choices=["both", "durable", "python"])
    ap.add_argument("--child", choices=["keep", "stream"], help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(run_one(a.pack, a.engine, a.n, a.child == "keep")))
        return
    engines = ["durable", "python"] if a.engine == "both" else [a.engine]
    sizes = sorted({max(1000, a.n // 10), a.n // 2, a.n} - {0})
    print(f"{'pack':<19} {'engine':<8} {'mode':<6} {'units':>6} {'load s':>6} {'compile s':>9} "
          f"{'eval/s':>7} {'eval+evidence/s':>15} {'peak MB':>7}")
    for eng in engines:
        for mode in ("stream", "keep"):
            for n in sizes:
                out = subprocess.run([sys.executable, __file__, "--child", mode, "-n", str(n), "--pack", a.pack,
                                      "--engine", eng], capture_output=True, text=True, check=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(f"{r['pack']:<19} {r['engine']:<8} {mode:<6} {r['n']:>6} {r['load_s']:>6} {r['compile_s']:>9} "
                      f"{r['eval_per_s'] or '':>7} {r['eval_evidence_per_s']:>15} {r['peak_rss_mb']:>7}")
    print("eval/s: backend.evaluate (class, total, vetoes, met/points/band of every criterion);"
          " eval+evidence/s: also the JSON-ready evidence dicts (values read, threshold, cite, note)."
          " stream: generate+validate+evaluate+evidence per unit, nothing kept (memory must stay flat);"
          " keep: every result kept and ranked (the score path).")


if __name__ == "__main__":
    main()
