"""lanhmanh end to end against a zen-engine pipeline, side by side in one run (a benchmark, not a test).

    pip install -e ".[bench]"            # zen-engine (GoRules' Rust engine), bench only
    python bench/side_by_side.py [-n 10000] [--repeat 3]

The same N generated QĐ 28/2025 communes (bench/generate.py, year 2025, official units first)
are written to one CSV. Each contender does the whole job a user asks for, from that file:

- zen: read the CSV, convert the figures, classify every commune with a zen decision (below,
  written out in full: the four aspects' bands, Điều 4's types and Điều 6's drug-free test, exact
  integer comparisons), write a JSON of {unit_code, class}. Class only: no evidence, no ranking,
  no validation, no province class.
- lanhmanh durable / python: `lanhmanh score IN.csv --rules qd-28-2025 --json OUT.json --no-db
  --unit-list none --engine …` as a user runs it (a fresh process: start-up, pack load and
  compile, validation of every cell and cross-field check (most generated codes are not official
  units, hence no unit list), classification, every criterion's evidence, ranking, the province
  class, the JSON document).

Each is timed as wall time of a fresh process (best of --repeat), so start-up costs are in on
both sides, and as CPU time (user + system, best of --repeat), which another job on a shared
machine disturbs less. The repeats take turns (zen, durable, python, zen, ...), so a burst of load
on a shared machine falls on all three alike. Python code runs from compiled bytecode, as an
installed lanhmanh does (pip compiles it at install): PYTHONDONTWRITEBYTECODE is lifted and the
bytecode goes to a temporary PYTHONPYCACHEPREFIX, made by one untimed run of each contender. The classes of every commune are compared between zen and lanhmanh: a benchmark of
two engines that disagree would measure nothing.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# The zen decision: one expression node; `$.x` reads an expression computed above it. Rates are
# compared as integers (users * 200 >= population is "at least 0.5 %"), so no rounding decides.
ZEN_EXPRESSIONS = [
    ("uI", "users_with_records * 200 >= population"),
    ("uII", "users_with_records * 1000 >= population"),
    ("pI", "harbouring_points >= 2"),
    ("pII", "harbouring_points >= 1"),
    ("aI", "drug_arrests * 1000 >= population"),
    ("aII", "drug_arrests * 2000 >= population"),
    ("plI", "drug_plants >= 3000 or drug_plant_area_m2 >= 750"),
    ("plII", "drug_plants >= 500 or drug_plant_area_m2 >= 125"),
    ("nI", "($.uI ? 1 : 0) + ($.pI ? 1 : 0) + ($.aI ? 1 : 0) + ($.plI ? 1 : 0)"),
    ("nII", "($.uII ? 1 : 0) + ($.pII ? 1 : 0) + ($.aII ? 1 : 0) + ($.plII ? 1 : 0)"),
    ("free", "resident_users_untreated == 0 and resident_drug_violators == 0 and wanted_drug_fugitives == 0 "
             "and harbouring_points == 0"),
    ("type1", "$.nI + (($.nII >= 2 and on_key_route) ? 1 : 0) >= 3"),
    ("type2", "$.nII + (on_key_route ? 1 : 0) >= 3"),
    ("class", "$.free ? 'drug_free' : ($.type1 ? 'type_1' : ($.type2 ? 'type_2' : 'type_3'))"),
]

ZEN_PIPELINE = r'''
import csv, json, sys, zen
decision = zen.ZenEngine().create_decision(sys.argv[3])
INTS = ("population", "users_with_records", "harbouring_points", "drug_arrests", "drug_plants",
        "resident_users_untreated", "resident_drug_violators", "wanted_drug_fugitives")
out = []
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    for row in csv.DictReader(f):
        ctx = {k: int(row[k]) for k in INTS}
        ctx["drug_plant_area_m2"] = float(row["drug_plant_area_m2"] or 0)
        ctx["on_key_route"] = row["on_key_route"].strip().lower() in ("có", "true", "1", "x", "yes")
        res = decision.evaluate(ctx)["result"]
        out.append({"unit_code": row["unit_code"], "class": res["class"]})
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
'''


def zen_decision() -> str:
    node = {"id": "expr", "type": "expressionNode", "name": "qd28", "position": {"x": 0, "y": 0},
            "content": {"expressions": [{"id": k, "key": k, "value": v} for k, v in ZEN_EXPRESSIONS]}}
    nodes = [{"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}}, node,
             {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}]
    edges = [{"id": "e1", "sourceId": "in", "targetId": "expr", "type": "edge"},
             {"id": "e2", "sourceId": "expr", "targetId": "out", "type": "edge"}]
    return json.dumps({"nodes": nodes, "edges": edges})


def write_input(n: int, path: Path) -> None:
    from generate import generate_rows
    rows = list(generate_rows(n, "qd-28-2025", seed=1))
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if v is None else "true" if v is True else "false" if v is False else v)
                        for k, v in r.items()})


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds: user + system) of one fresh process. On a shared machine the
    CPU time is the steadier figure: another job's load stretches the wall time, not it."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 1):
        sys.exit(f"{' '.join(cmd[:4])}… failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=10000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    try:
        import zen  # noqa: F401
    except ImportError:
        sys.exit('zen-engine is not installed: pip install -e ".[bench]"')
    lanhmanh = Path(sys.executable).with_name("lanhmanh")
    with tempfile.TemporaryDirectory() as tmp:
        tmpd = Path(tmp)
        env = {**os.environ, "LANHMANH_HISTORY": str(tmpd / "history.sqlite"),
               "PYTHONPYCACHEPREFIX": str(tmpd / "bytecode")}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        src = tmpd / "in.csv"
        write_input(args.n, src)
        runs = {
            "zen-engine pipeline (class only)": [sys.executable, "-c", ZEN_PIPELINE, str(src),
                                                 str(tmpd / "zen.json"), zen_decision()],
            "lanhmanh score --engine durable": [str(lanhmanh), "score", str(src), "--rules", "qd-28-2025",
                                                "--json", str(tmpd / "durable.json"), "--no-db", "--unit-list", "none",
                                                "--engine", "durable"],
            "lanhmanh score --engine python": [str(lanhmanh), "score", str(src), "--rules", "qd-28-2025",
                                               "--json", str(tmpd / "python.json"), "--no-db", "--unit-list", "none",
                                               "--engine", "python"],
        }
        for cmd in runs.values():  # untimed: compiles the bytecode
            timed(cmd, env)
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in runs}
        for _ in range(args.repeat):  # in turns: load on the machine falls on all alike
            for name, cmd in runs.items():
                times[name].append(timed(cmd, env))
        best = {name: min(wall for wall, _ in t) for name, t in times.items()}
        best_cpu = {name: min(cpu for _, cpu in t) for name, t in times.items()}
        zen_classes = {u["unit_code"]: u["class"] for u in json.loads((tmpd / "zen.json").read_text())}
        for backend in ("durable", "python"):
            doc = json.loads((tmpd / f"{backend}.json").read_text(encoding="utf-8"))
            ours = {u["unit_code"]: u["class"] for u in doc["units"]}
            differ = [c for c in zen_classes if ours.get(c) != zen_classes[c]]
            if differ:
                sys.exit(f"{backend}: {len(differ)} communes classed differently from zen, e.g. {differ[:5]}")
    zen_time = best["zen-engine pipeline (class only)"]
    zen_cpu = best_cpu["zen-engine pipeline (class only)"]
    print(f"{args.n} QĐ 28/2025 communes, end to end from one CSV, best of {args.repeat}, "
          f"{os.cpu_count()} CPU(s); every class identical between zen and lanhmanh")
    print(f"{'path':<36} {'seconds':>8} {'units/s':>9} {'vs zen':>7} {'CPU s':>7} {'vs zen':>7}")
    for name, secs in best.items():
        cpu = best_cpu[name]
        print(f"{name:<36} {secs:>8.2f} {args.n / secs:>9.0f} {zen_time / secs:>6.2f}x "
              f"{cpu:>7.2f} {zen_cpu / cpu:>6.2f}x")


if __name__ == "__main__":
    main()
