"""Bounded rule files: expressions nested hundreds deep, numbers of thousands of digits, YAML
aliases that expand exponentially ("billion laughs"), files too large. Each ends in exit 3 with
file:line:col (or the file), quickly: never exit 9, a traceback or a hang."""
from __future__ import annotations

import time

import pytest

from lanhmanh.engine.language import parser
from lanhmanh.engine.model import yaml_limits
from lanhmanh.engine.model.loader import load_pack

HEAD = """\
pack: {id: lim, title: Giới hạn, version: "1", status: illustrative, effective_from: 2025-01-01}
indicators:
  a: {label: A, type: integer, min: 0}
  b: {label: B, type: integer, min: 0}
"""
TAIL = """\
classes:
  - {id: x, label: X, when: K1}
  - {id: y, label: Y, residual: true}
"""


def at(text: str, needle: str) -> tuple[int, int]:
    i = text.index(needle)
    return text.count("\n", 0, i) + 1, i - (text.rfind("\n", 0, i) + 1) + 1


def check(run_cli, files, text: str, name: str = "lim.yaml"):
    path = files.rules(name, text)
    started = time.monotonic()
    result = run_cli("check", str(path))
    return path, result, time.monotonic() - started


def errors(result, path) -> list[str]:
    return [ln for ln in result.output.splitlines() if ln.startswith(f"{path}:") and ": error: " in ln]


# ---- expressions ----------------------------------------------------------------------------------

def test_parentheses_nested_three_hundred_deep_are_refused_at_the_level_past_the_limit(run_cli, files):
    cond = "(" * 300 + "a >= 1" + ")" * 300
    text = HEAD + f'criteria:\n  K1: {{title: K1, when: "{cond}"}}\n' + TAIL
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    line, col = at(text, cond)
    col += parser.MAX_NESTING  # the first parenthesis past the limit
    assert any(ln.startswith(f"{path}:{line}:{col}: error:") and
               f"nested deeper than {parser.MAX_NESTING} levels" in ln for ln in errors(result, path)), result.output


@pytest.mark.parametrize("cond, why", [
    ("not " * 200 + "a >= 1", "nested deeper"),
    ("a >= " + "-" * 200 + "1", "nested deeper"),
    ("at_least(1, " * 80 + "a >= 1" + ")" * 80, "nested deeper"),
    (" + ".join(["a"] * 300) + " >= 1", f"nested deeper than {parser.MAX_DEPTH} levels"),
    ("a >= 1 and " * 2000 + "a >= 1", f"longer than {parser.MAX_LENGTH} characters"),
])
def test_other_deep_or_long_expressions_are_refused(run_cli, files, cond, why):
    text = HEAD + f'criteria:\n  K1:\n    title: K1\n    when: "{cond}"\n' + TAIL
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    line, _ = at(text, cond)
    assert any(ln.startswith(f"{path}:{line}:") and why in ln for ln in errors(result, path)), result.output


def test_nesting_up_to_the_limit_is_accepted():
    assert parser.parse("(" * parser.MAX_NESTING + "a >= 1" + ")" * parser.MAX_NESTING)
    assert parser.parse(" + ".join(["a"] * (parser.MAX_DEPTH - 1)) + " >= 1")
    assert parser.parse("a >= " + "9" * parser.MAX_DIGITS)


def test_a_literal_of_thousands_of_digits_is_refused_at_the_number(run_cli, files):
    number = "7" * 5000
    text = HEAD + f"criteria:\n  K1:\n    title: K1\n    when: a >= {number}\n" + TAIL
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    line, col = at(text, number)
    hits = [ln for ln in errors(result, path) if ln.startswith(f"{path}:{line}:{col}:")]
    assert hits and f"more than {parser.MAX_DIGITS} digits" in hits[0], result.output
    assert len(hits[0]) < 400, "the message cuts the literal short"


@pytest.mark.parametrize("literal", ["1" * 31, "0." + "0" * 40 + "1", "1_000_" * 8 + "1"])
def test_digits_past_the_limit_whatever_their_form(literal):
    with pytest.raises(parser.ExprSyntaxError, match="digits"):
        parser.parse(f"a >= {literal}")


# ---- YAML -----------------------------------------------------------------------------------------

LAUGHS = HEAD + """\
criteria:
  K1: {title: K1, when: a >= 1}
""" + TAIL + """\
cases:
  - name: lol
    given: &l0 {a: 1, b: 2, n: [x, x, x, x, x, x, x, x, x]}
    expect: {class: x}
  - name: lol1
    given: &l1 {a: 1, n: [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]}
    expect: {class: x}
  - name: lol2
    given: &l2 {a: 1, n: [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]}
    expect: {class: x}
  - name: lol3
    given: &l3 {a: 1, n: [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]}
    expect: {class: x}
  - name: lol4
    given: &l4 {a: 1, n: [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]}
    expect: {class: x}
  - name: lol5
    given: &l5 {a: 1, n: [*l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4, *l4]}
    expect: {class: x}
  - name: lol6
    given: &l6 {a: 1, n: [*l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5, *l5]}
    expect: {class: x}
  - name: lol7
    given: &l7 {a: 1, n: [*l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6, *l6]}
    expect: {class: x}
  - name: lol8
    given: {a: 1, n: [*l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7, *l7]}
    expect: {class: x}
"""


def test_billion_laughs_is_refused_quickly_at_an_anchor(run_cli, files):
    path, result, seconds = check(run_cli, files, LAUGHS)
    assert result.exit_code == 3, result.output
    hits = errors(result, path)
    assert len(hits) == 1 and f"more than {yaml_limits.MAX_NODES} values" in hits[0], result.output
    # placed at one of the anchored collections that are repeated
    anchors = {at(LAUGHS, f"&l{k} ") for k in range(8)}
    assert any(hits[0].startswith(f"{path}:{line}:{col}:") for line, col in anchors), hits[0]
    assert seconds < 30  # it used to never return


def test_aliases_that_stay_small_are_accepted(run_cli, files):
    """The shipped packs repeat a commune through aliases: aliases are allowed within the limit."""
    text = HEAD + "criteria:\n  K1: {title: K1, when: a >= 1}\n" + TAIL + "cases:\n" + \
        "  - {name: c0, given: &g {a: 1, b: 2}, expect: &e {class: x}}\n" + \
        "".join(f"  - {{name: c{k}, given: *g, expect: *e}}\n" for k in range(1, 200))
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 0, result.output
    assert len(load_pack(path)[0].cases) == 200


def test_shipped_pack_with_aliases_loads():
    pack, _ = load_pack("qd-28-2025-literal")
    assert any(c.level == "province" and len(c.given["communes"]) > 50 for c in pack.cases)


def test_collections_nested_too_deep(run_cli, files):
    deep = "[" * 40 + "1" + "]" * 40
    text = HEAD + f"criteria:\n  K1: {{title: K1, when: a >= 1, note: {deep}}}\n" + TAIL
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    assert any(f"nested more than {yaml_limits.MAX_NESTING} deep" in ln for ln in errors(result, path)), result.output


def test_collections_nested_thousands_deep(run_cli, files):
    text = "pack: " + "[" * 3000 + "]" * 3000 + "\n"
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    assert "nested too deep" in result.output


def test_rule_file_too_large(run_cli, files):
    text = HEAD + "# " + "x" * (yaml_limits.MAX_FILE_BYTES + 10) + "\n"
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    assert any(f"more than the limit of {yaml_limits.MAX_FILE_BYTES}" in ln for ln in errors(result, path))


def test_rule_file_with_too_many_values_is_refused_before_parsing(run_cli, files):
    text = HEAD + "notes: [" + ", ".join(["1"] * (yaml_limits.MAX_TOKENS + 1)) + "]\n"
    path, result, seconds = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    assert any(f"more than the limit of {yaml_limits.MAX_TOKENS}" in ln for ln in errors(result, path))
    assert seconds < 10


def test_shipped_packs_are_well_within_the_limits():
    from lanhmanh.engine.model.loader import RULES_DIR

    for path in sorted(RULES_DIR.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        assert yaml_limits.check_text(text) is None
        assert len(text.encode()) * 10 < yaml_limits.MAX_FILE_BYTES


@pytest.mark.parametrize("bound", ["1e999", ".nan", "-.inf", "1" * 31, "1e-40"])
def test_an_indicator_bound_must_be_finite_and_of_bounded_digits(run_cli, files, bound):
    """`min: .nan` used to end `score` in exit 9; `min: 1e999` rejected every row as "below the
    minimum Infinity"."""
    text = HEAD.replace("a: {label: A, type: integer, min: 0}", f"a: {{label: A, type: integer, min: {bound}}}") + \
        "criteria:\n  K1: {title: K1, when: a >= 1}\n" + TAIL
    path, result, _ = check(run_cli, files, text)
    assert result.exit_code == 3, result.output
    line, col = at(text, bound)
    assert any(ln.startswith(f"{path}:{line}:{col}:") and "finite number" in ln
               for ln in errors(result, path)), result.output
