"""lanhmanh end to end against a zen-engine pipeline, side by side in one run (a benchmark, not a test).

    pip install -e ".[bench]"            # zen-engine (GoRules' Rust engine), bench only
    python bench/side_by_side.py [-n 10000] [--repeat 3]

The same N generated QĐ 28/2025 communes (bench/generate.py, year 2025, official units first)
are written to one CSV. Each contender does the whole job a user asks for, from that file:

- zen: read the CSV, convert the figures, classify every commune with a zen decision (below,
  written out in full: the four aspects' bands, Điều 4's types and Điều 6's drug-free test, exact
  integer comparisons), write a JSON of {unit_code, class}. Class only: no evidence, no ranking,
  no validation, no province class.
- zen with evidence: the same, with a zen expression for each of the 16 criteria and, per
  commune, what lanhmanh's JSON says of each criterion: {id, met, inputs (a rate as "n/d"),
  threshold, cite}, the texts taken from the pack. Still no ranking, validation or province
  class. Every criterion's met or not is compared with lanhmanh's.
- lanhmanh durable / python: `lanhmanh score IN.csv --rules qd-28-2025 --json OUT.json --no-db
  --unit-list none --engine …` as a user runs it (a fresh process: start-up, pack load and
  compile, validation of every cell and cross-field check (most generated codes are not official
  units, hence no unit list), classification, every criterion's evidence, ranking, the province
  class, the JSON document).

Each is timed as wall time of a fresh process (best of --repeat), so start-up costs are in on
both sides, and as CPU time (user + system, best of --repeat), which another job on a shared
machine disturbs less. The repeats take turns (zen, zen with evidence, durable, python, zen, ...),
so a burst of load on a shared machine falls on all alike. Python code runs from compiled
bytecode, as an installed lanhmanh does (pip compiles it at install): PYTHONDONTWRITEBYTECODE is
lifted and the bytecode goes to a temporary PYTHONPYCACHEPREFIX, made by one untimed run of each
contender. The class of every commune, and whether each criterion is met, are compared between
zen and lanhmanh: a benchmark of two engines that disagree would measure nothing.
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

# The same job with the evidence lanhmanh writes for every criterion: a zen expression per
# criterion of QĐ 28 (its met or not), and the pipeline writing {id, met, inputs, threshold,
# cite} per criterion, the inputs as lanhmanh shows them (a rate as "n/d", an area as written).
# (id, zen expression, inputs read); rates and areas as in ZEN_EXPRESSIONS.
RATE_U = ("users_with_records", "population", "user_rate")
RATE_A = ("drug_arrests", "population", "arrest_rate")
PLANTS = ("drug_plants", "drug_plant_area_m2")
ZEN_CRITERIA = [
    ("DF.1", "resident_users_untreated == 0", ("resident_users_untreated",)),
    ("DF.2", "resident_drug_violators == 0 and wanted_drug_fugitives == 0",
     ("resident_drug_violators", "wanted_drug_fugitives")),
    ("DF.3", "harbouring_points == 0", ("harbouring_points",)),
    ("I.a", "$.uI", RATE_U), ("I.b", "$.pI", ("harbouring_points",)), ("I.c", "$.aI", RATE_A),
    ("I.d", "$.plI", PLANTS), ("I.đ", "$.nII >= 2 and on_key_route", ("on_key_route",)),
    ("II.a", "$.uII", RATE_U), ("II.b", "$.pII", ("harbouring_points",)), ("II.c", "$.aII", RATE_A),
    ("II.d", "$.plII", PLANTS),
    # or_higher(III.x): III.x or a higher level's; at_least(2, ...) of the three, and a key route
    ("II.đ", "((($.uII or not $.uII) ? 1 : 0) + (($.aII or drug_arrests * 2000 < population) ? 1 : 0) "
             "+ (($.plII or drug_plants < 500 or drug_plant_area_m2 < 125) ? 1 : 0)) >= 2 and on_key_route",
     ("on_key_route",)),
    ("III.a", "users_with_records * 1000 < population", RATE_U),
    ("III.b", "drug_arrests * 2000 < population", RATE_A),
    ("III.c", "drug_plants < 500 or drug_plant_area_m2 < 125", PLANTS),
]

# The two pipelines: the same reading of the CSV and the same zen call per commune; {PER_UNIT} is
# what each makes of the result. sys.argv: the CSV, the JSON written, the decision (and the
# criteria's texts for the one with evidence).
_PIPELINE = r'''
import csv, json, sys, zen
decision = zen.ZenEngine().create_decision(sys.argv[3])
static = json.loads(sys.argv[4]) if len(sys.argv) > 4 else []  # [(id, key, reads, threshold, cite)]
INTS = ("population", "users_with_records", "harbouring_points", "drug_arrests", "drug_plants",
        "resident_users_untreated", "resident_drug_violators", "wanted_drug_fugitives")
out = []
with open(sys.argv[1], encoding="utf-8-sig", newline="") as f:
    for row in csv.DictReader(f):
        ctx = {k: int(row[k]) for k in INTS}
        area = row["drug_plant_area_m2"] or "0"
        ctx["drug_plant_area_m2"] = float(area)
        ctx["on_key_route"] = row["on_key_route"].strip().lower() in ("có", "true", "1", "x", "yes")
        res = decision.evaluate(ctx)["result"]
{PER_UNIT}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False)
'''

ZEN_PIPELINE = _PIPELINE.replace("{PER_UNIT}", """\
        out.append({"unit_code": row["unit_code"], "class": res["class"]})""")

ZEN_EVIDENCE_PIPELINE = _PIPELINE.replace("{PER_UNIT}", """\
        shown = dict(ctx, drug_plant_area_m2=area,
                     user_rate=f"{ctx['users_with_records']}/{ctx['population']}",
                     arrest_rate=f"{ctx['drug_arrests']}/{ctx['population']}")
        criteria = [{"id": cid, "met": res[key], "inputs": {n: shown[n] for n in reads},
                     "threshold": threshold, "cite": cite} for cid, key, reads, threshold, cite in static]
        out.append({"unit_code": row["unit_code"], "class": res["class"], "criteria": criteria})""")


def zen_decision(evidence: bool = False) -> str:
    expressions = ZEN_EXPRESSIONS + ([(f"c{i}", e) for i, (_cid, e, _reads) in enumerate(ZEN_CRITERIA)]
                                     if evidence else [])
    node = {"id": "expr", "type": "expressionNode", "name": "qd28", "position": {"x": 0, "y": 0},
            "content": {"expressions": [{"id": k, "key": k, "value": v} for k, v in expressions]}}
    nodes = [{"id": "in", "type": "inputNode", "name": "in", "position": {"x": 0, "y": 0}}, node,
             {"id": "out", "type": "outputNode", "name": "out", "position": {"x": 0, "y": 0}}]
    edges = [{"id": "e1", "sourceId": "in", "targetId": "expr", "type": "edge"},
             {"id": "e2", "sourceId": "expr", "targetId": "out", "type": "edge"}]
    return json.dumps({"nodes": nodes, "edges": edges})


def evidence_static() -> str:
    """Each criterion's id, zen key, inputs, threshold and citation: the texts lanhmanh's pack gives
    (data the peer's pipeline is handed, as a council would copy them into its script)."""
    from lanhmanh.engine.evaluation.evidence import evidence_rows
    from lanhmanh.engine.model.loader import load_pack

    texts = {cid: (threshold, cite) for cid, _s, _m, threshold, cite, _n in
             evidence_rows(load_pack("qd-28-2025")[0].commune)}
    return json.dumps([(cid, f"c{i}", reads, *texts[cid]) for i, (cid, _e, reads) in enumerate(ZEN_CRITERIA)],
                      ensure_ascii=False)


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
            "zen-engine pipeline with evidence": [sys.executable, "-c", ZEN_EVIDENCE_PIPELINE, str(src),
                                                  str(tmpd / "zen-evidence.json"), zen_decision(evidence=True),
                                                  evidence_static()],
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
        zen_evidence = {u["unit_code"]: u for u in json.loads((tmpd / "zen-evidence.json").read_text("utf-8"))}
        for backend in ("durable", "python"):
            doc = json.loads((tmpd / f"{backend}.json").read_text(encoding="utf-8"))
            ours = {u["unit_code"]: u["class"] for u in doc["units"]}
            differ = [c for c in zen_classes if ours.get(c) != zen_classes[c]]
            if differ:
                sys.exit(f"{backend}: {len(differ)} communes classed differently from zen, e.g. {differ[:5]}")
            met = {u["unit_code"]: [(c["id"], c["met"]) for c in u["criteria"]] for u in doc["units"]}
            differ = [c for c, u in zen_evidence.items()
                      if u["class"] != ours.get(c) or [(x["id"], x["met"]) for x in u["criteria"]] != met.get(c)]
            if differ:
                sys.exit(f"{backend}: {len(differ)} communes whose criteria differ from zen's evidence, "
                         f"e.g. {differ[:5]}")
    zen_time = best["zen-engine pipeline (class only)"]
    zen_cpu = best_cpu["zen-engine pipeline (class only)"]
    ev_time = best["zen-engine pipeline with evidence"]
    ev_cpu = best_cpu["zen-engine pipeline with evidence"]
    print(f"{args.n} QĐ 28/2025 communes, end to end from one CSV, best of {args.repeat}, "
          f"{os.cpu_count()} CPU(s); every class, and every criterion met or not, identical between zen "
          f"and lanhmanh")
    print(f"{'':<36} {'':>8} {'':>9} {'vs zen (class only)':>23} {'vs zen with evidence':>23}")
    print(f"{'path':<36} {'seconds':>8} {'units/s':>9} {'wall':>7} {'CPU s':>7} {'CPU':>7} {'wall':>11} {'CPU':>11}")
    for name, secs in best.items():
        cpu = best_cpu[name]
        print(f"{name:<36} {secs:>8.2f} {args.n / secs:>9.0f} {zen_time / secs:>6.2f}x "
              f"{cpu:>7.2f} {zen_cpu / cpu:>6.2f}x {ev_time / secs:>10.2f}x {ev_cpu / cpu:>10.2f}x")

if __name__ == "__main__":
    main()
