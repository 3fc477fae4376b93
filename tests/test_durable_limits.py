"""The durable backend within the limits of durable_rules' C engine.

durable_rules 2.0.28 walks the matching tests of one fact on a stack of 64 entries (error 303 past
it: a pack of 65 ordinary criteria all met), holds at most 4,096 rules per ruleset and is slow to
register thousands (error 106, minutes for 1,000 criteria), and 255 properties per fact. The
backend splits each layer into rulesets of at most RULES_PER_RULESET rules, sends each ruleset only
the fields it reads, and compiles `at_least` over conditions as a sum of auxiliary 0/1 results.
What it still cannot take, `check` reports (exit 3, naming the rule) and `score` scores with the
python backend, with a warning. Results are the same with both backends.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import warnings

import durable_rules_engine
import pytest
from lmtest import identity

from lanhmanh.engine.evaluation import durable_backend
from lanhmanh.engine.evaluation.durable_backend import RULES_PER_RULESET, DurableBackend
from lanhmanh.engine.evaluation.python_backend import PythonBackend
from lanhmanh.engine.evaluation.scoring import make_backend
from lanhmanh.engine.model.loader import load_pack


def ordinary_pack(n: int, at_least: tuple[int, int] | None = None, class_at_least: int = 0) -> str:
    """n criteria of the shape of QĐ 28's (a rate against a threshold and a count), one point each."""
    lines = ['pack: {id: gen, title: Sinh, version: "1", status: illustrative, effective_from: 2025-01-01}',
             "indicators:", "  population: {label: Dân số, type: integer, min: 1}"]
    width = min(n, 120)
    lines += [f"  x{i}: {{label: X{i}, type: integer, min: 0}}" for i in range(width)]
    lines.append("derived:")
    lines += [f"  r{i}: {{label: R{i}, expr: x{i} / population, zero_denominator: reject}}" for i in range(width)]
    lines.append("criteria:")
    for i in range(n):
        lines.append(f'  C{i}: {{title: Tiêu chí {i}, when: "r{i % width} >= {i % 7}% and x{i % width} >= {i % 5}", '
                     "points: 1}")
    if at_least:
        k, m = at_least
        args = ", ".join(f"x{j % width} >= {j}" for j in range(m))
        lines.append(f'  AL: {{title: Ít nhất, when: "at_least({k}, {args})", points: 2}}')
    lines.append("classes:")
    if class_at_least:
        args = ", ".join(f"total + x{j % width} >= {j}" for j in range(class_at_least))
        lines.append(f'  - {{id: top, label: Đầu, when: "at_least({class_at_least // 2}, {args})"}}')
    lines.append(f'  - {{id: good, label: Tốt, when: "total >= {n // 2}"}}')
    lines.append("  - {id: rest, label: Còn lại, residual: true}")
    return "\n".join(lines) + "\n"


def values(pack, rnd: random.Random, high: bool = False) -> dict:
    out = {k: (rnd.randint(5, 40) if high else rnd.randint(0, 8)) for k in pack.commune.indicators}
    out["population"] = rnd.randint(1, 60) if not high else rnd.randint(100, 200)
    return out


def both(pack):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback: the durable backend itself must take the pack
        du = make_backend("durable", pack.commune)
    assert du.name == "durable"
    return PythonBackend(pack.commune), du


STACK = """
import json, sys
import durable_rules_engine
from lanhmanh.engine.evaluation.durable_backend import MARK, host
n = int(sys.argv[1])
rules = {f"r{i}": {"all": [{"m": {"$and": [MARK, {"$gte": {f"f{i}": 0}}]}}], "run": "noop"} for i in range(n)}
handle = host().handle(f"stack-{n}", rules)
fact = json.dumps({"_t": 1, "sid": "s", **{f"f{i}": 1 for i in range(n)}})
try:
    print("code", durable_rules_engine.assert_fact(handle, fact)[0])
except durable_rules_engine.error as e:
    print("error", e)
"""


@pytest.mark.slow
def test_durable_rules_stack_of_64_is_real():
    """The limit behind error 303, reproduced on durable_rules itself (in a process of its own:
    the engine is left in a state nothing else should touch): 65 rules whose tests all match one
    fact overflow its stack; 64 do not."""
    def run(n: int) -> str:
        done = subprocess.run([sys.executable, "-c", STACK, str(n)], capture_output=True, text=True, timeout=120)
        return done.stdout.strip()

    assert run(64) == "code 0"
    assert run(65) == "error Could not assert fact, error code: 303"


@pytest.mark.parametrize("n", [65, 130])
def test_many_ordinary_criteria_all_met(files, n):
    """Was: "Could not assert fact, error code: 303" as soon as 65 criteria held for a unit."""
    pack = load_pack(files.rules("many.yaml", ordinary_pack(n)))[0]
    py, du = both(pack)
    assert all(len(rules) <= RULES_PER_RULESET + 1 for rules in du.backend.definitions.values())
    rnd = random.Random(n)
    for high in (True, False):
        for _ in range(15):
            v = values(pack, rnd, high)
            assert du.evaluate(v) == py.evaluate(v), v
    met = du.evaluate({**{k: 40 for k in pack.commune.indicators}, "population": 100})
    assert sum(m for m, _, _ in met.outcomes) == n and met.class_id == "good"


def test_at_least_8_of_16_comparisons(files):
    """Was: "Could not create ruleset, error code: 106": written out, at_least(8, 16 conditions) is
    12,870 rules (and its negation as many), past 4,096 rules per ruleset."""
    pack = load_pack(files.rules("al.yaml", ordinary_pack(4, at_least=(8, 16))))[0]
    py, du = both(pack)
    assert sum(len(rules) for rules in du.backend.definitions.values()) < 100
    rnd = random.Random(8)
    for _ in range(60):
        v = {k: rnd.randint(0, 20) for k in pack.commune.indicators}
        v["population"] = rnd.randint(1, 50)
        assert du.evaluate(v) == py.evaluate(v), v
    # x0..x3 each carry four of the sixteen thresholds (j, j + 4, j + 8, j + 12): every count met
    boundary = {k: 0 for k in pack.commune.indicators} | {"population": 10}
    for x in range(0, 16):
        v = boundary | {f"x{i}": x for i in range(4)}
        assert du.evaluate(v) == py.evaluate(v), v


@pytest.mark.slow
def test_a_thousand_criteria_scored_through_the_cli(run_cli, files):
    """Was: minutes to register the rulesets. A pack of 1,000 criteria, ten communes, scored with
    the default (durable) engine; the same JSON as the python backend."""
    rules = files.rules("k.yaml", ordinary_pack(1000))
    pack = load_pack(rules)[0]
    rnd = random.Random(1000)
    rows = [{**identity(i + 1), **values(pack, rnd, high=i % 2 == 0)} for i in range(10)]
    data = files.csv("k.csv", rows)
    out = {}
    for engine in ("durable", "python"):
        result = run_cli("score", data, "--rules", rules, "--unit-list", "none", "--engine", engine,
                         "--json", f"{engine}.json")
        assert result.exit_code == 0, result.output
        assert "python backend" not in result.output
        out[engine] = json.loads(open(f"{engine}.json", encoding="utf-8").read())
    assert out["durable"]["engine"]["name"] == "durable"
    out["durable"].pop("engine"), out["python"].pop("engine")
    assert out["durable"] == out["python"]


CLASS_TEXT = ordinary_pack(3, class_at_least=20)


def test_check_names_what_the_durable_engine_cannot_take(run_cli, files):
    """at_least over conditions that read `total` is written out in the class rule: 10 of 20 is
    184,756 combinations. `check` says so at the class, exit 3."""
    path = files.rules("cls.yaml", CLASS_TEXT)
    result = run_cli("check", path)
    assert result.exit_code == 3, result.output
    line = CLASS_TEXT[:CLASS_TEXT.index("{id: top")].count("\n") + 1
    col = CLASS_TEXT.split("\n")[line - 1].index("id: top") + 1
    hits = [ln for ln in result.output.splitlines() if ln.startswith(f"{path}:{line}:{col}: error:")]
    assert hits and "durable engine cannot take class 'top'" in hits[0] and "python backend" in hits[0], \
        result.output


def test_score_falls_back_to_python_with_a_warning_and_the_same_results(run_cli, files):
    rules = files.rules("cls.yaml", CLASS_TEXT)
    pack = load_pack(rules)[0]
    rnd = random.Random(3)
    data = files.csv("c.csv", [{**identity(i + 1), **values(pack, rnd, i % 2 == 0)} for i in range(8)])
    result = run_cli("score", data, "--rules", rules, "--unit-list", "none", "--json", "d.json")
    assert result.exit_code == 0, result.output
    assert "durable engine cannot take the commune level" in result.output
    assert "class 'top'" in result.output
    result = run_cli("score", data, "--rules", rules, "--unit-list", "none", "--engine", "python", "--json", "p.json")
    assert result.exit_code == 0, result.output
    d, p = (json.loads(open(n, encoding="utf-8").read()) for n in ("d.json", "p.json"))
    assert d["engine"]["name"] == "python"
    d.pop("engine"), p.pop("engine")
    assert d == p


def test_an_error_code_while_scoring_switches_to_python_for_the_rest(run_cli, files, monkeypatch):
    """Any other error code of durable_rules on a unit (here 303, forced): the unit and the rest of
    the batch are scored by the python backend, one warning, results unchanged."""
    rules = files.rules("many.yaml", ordinary_pack(10))
    pack = load_pack(rules)[0]
    rnd = random.Random(10)
    data = files.csv("m.csv", [{**identity(i + 1), **values(pack, rnd, i % 2 == 0)} for i in range(6)])
    result = run_cli("score", data, "--rules", rules, "--unit-list", "none", "--engine", "python", "--json", "p.json")
    assert result.exit_code == 0, result.output
    calls = {"n": 0}
    real = durable_rules_engine.assert_fact

    def failing(handle, payload):
        calls["n"] += 1
        if calls["n"] == 3:
            raise durable_rules_engine.error("Could not assert fact, error code: 303")
        return real(handle, payload)

    monkeypatch.setattr(durable_backend.durable_rules_engine, "assert_fact", failing)
    result = run_cli("score", data, "--rules", rules, "--unit-list", "none", "--json", "d.json")
    assert result.exit_code == 0, result.output
    assert result.output.count("durable engine failed on a unit") == 1, result.output
    assert "error code: 303" in result.output
    d, p = (json.loads(open(n, encoding="utf-8").read()) for n in ("d.json", "p.json"))
    assert d["engine"]["name"] == "python"
    d.pop("engine"), p.pop("engine")
    assert d == p


def test_durable_backend_sends_each_ruleset_only_what_it_reads(files):
    """A fact holds at most 255 properties: a pack of 300 indicators is split so that no ruleset
    reads more than FIELDS_PER_FACT of them."""
    text = ordinary_pack(2).replace("indicators:\n", "indicators:\n" + "".join(
        f"  w{i}: {{label: W{i}, type: integer, min: 0}}\n" for i in range(300)))
    text = text.replace("criteria:\n", "criteria:\n" + "".join(
        f'  W{i}: {{title: W{i}, when: "w{i} >= 1", points: 1}}\n' for i in range(300)))
    pack = load_pack(files.rules("wide.yaml", text))[0]
    py, du = both(pack)
    backend = du.backend
    assert isinstance(backend, DurableBackend)
    for handles, *_ in backend.stages:
        for _, read in handles:
            assert len(read) <= durable_backend.FIELDS_PER_FACT
    v = {k: 1 for k in pack.commune.indicators}
    assert du.evaluate(v) == py.evaluate(v)
