"""How long `lanhmanh check --completeness` takes on each pack (a benchmark, not a test).

    python bench/bench_completeness.py [PACK...] [--budget N]

Prints, per pack and level, the candidates searched, the size of the space of the groups'
representatives, whether the search was exhaustive, and the wall time (pack loading excluded).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    from lanhmanh.engine.analysis.completeness import DEFAULT_BUDGET, check_completeness
    from lanhmanh.engine.model.loader import load_pack

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packs", nargs="*", default=["qd-28-2025", "qd-28-2025-literal", "xa-lanh-manh"])
    ap.add_argument("--budget", type=int, default=DEFAULT_BUDGET)
    args = ap.parse_args()
    for ref in args.packs:
        pack, _ = load_pack(ref)
        t0 = time.perf_counter()
        result = check_completeness(pack, args.budget)
        total = time.perf_counter() - t0
        for lv in result.levels:
            verdict = "falls through" if lv.counterexample else "complete"
            print(f"{pack.id:22} {lv.level:8} {lv.searched:>8} of {lv.search.product_size:>8} searched  "
                  f"exhaustive={lv.exhaustive!s:5} {verdict:13} unreached={lv.unreached or '-'}  "
                  f"{lv.seconds:6.2f} s")
        print(f"{pack.id:22} total {total:.2f} s")


if __name__ == "__main__":
    main()
