"""`lanhmanh check` on small broken rule files: exit 3, one line per problem at file:LINE:COL.

Every expected position is computed from the text of the file the test writes (`at(text, needle)`),
so the tests say where a person must be sent, not where the loader happens to point today.
"""
from __future__ import annotations

import pytest
from lmtest import MINI_CLASSES, MINI_PACK_HEAD, TEST_PACKS

from lanhmanh.engine.language.problems import RuleFileError
from lanhmanh.engine.model.loader import load_pack
from lanhmanh.engine.model.versions import shipped_packs

HEAD = MINI_PACK_HEAD + """\
derived:
  rate: {label: Tỷ lệ, expr: users / population}
"""

CLASSES = MINI_CLASSES


def at(text: str, needle: str, nth: int = 1, shift: int = 0) -> tuple[int, int]:
    """1-based (line, column) of the nth occurrence of `needle` in `text`, moved right by `shift`."""
    i = -1
    for _ in range(nth):
        i = text.index(needle, i + 1)
    i += shift
    line = text.count("\n", 0, i) + 1
    col = i - (text.rfind("\n", 0, i) + 1) + 1
    return line, col


def problem_lines(output: str, path, severity: str = "error") -> list[str]:
    return [ln for ln in output.splitlines() if ln.startswith(f"{path}:") and f": {severity}: " in ln]


def assert_problem(result, path, line: int, col: int | None, *words: str, severity: str = "error"):
    """Some output line is `path:line:col: severity: ...` and holds every word."""
    lines = problem_lines(result.output, path, severity)
    where = f"{path}:{line}:" + (f"{col}:" if col is not None else "")
    hits = [ln for ln in lines if ln.startswith(where)]
    assert hits, f"expected a {severity} at {where} in:\n{result.output}"
    missing = [w for w in words if not any(w in h for h in hits)]
    assert not missing, f"{where}: message lacks {missing}:\n{chr(10).join(hits)}"


def check_fails(run_cli, files, name: str, text: str):
    path = files.rules(name, text)
    result = run_cli("check", str(path))
    assert result.exit_code == 3, result.output
    assert problem_lines(result.output, path), result.output
    return path, result


# ---- names ------------------------------------------------------------------------------------

def test_unknown_indicator_suggests_the_closest_name(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: populaton >= 100
""" + CLASSES
    path, result = check_fails(run_cli, files, "unknown.yaml", text)
    assert_problem(result, path, *at(text, "populaton"), "unknown name 'populaton'",
                   "did you mean 'population'?")


def test_unknown_indicator_in_a_rate(run_cli, files):
    text = HEAD.replace("expr: users / population", "expr: user / population") + """\
criteria:
  A: {title: A, when: rate >= 0.5%}
""" + CLASSES
    path, result = check_fails(run_cli, files, "rate.yaml", text)
    assert_problem(result, path, *at(text, "user /"), "unknown indicator 'user'", "did you mean 'users'?")


def test_unknown_function_suggests_the_closest(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: atleast(1, on_route, users > 2)
""" + CLASSES
    path, result = check_fails(run_cli, files, "fn.yaml", text)
    assert_problem(result, path, *at(text, "atleast"), "unknown function 'atleast'", "did you mean 'at_least'?")


# ---- types ------------------------------------------------------------------------------------

def test_number_compared_with_boolean(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: on_route >= 1
  B:
    title: B
    when: users == on_route
""" + CLASSES
    path, result = check_fails(run_cli, files, "types.yaml", text)
    assert_problem(result, path, *at(text, ">= 1"), "type mismatch")
    assert_problem(result, path, *at(text, "== on_route"), "type mismatch")


def test_number_used_as_a_condition(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: population
""" + CLASSES
    path, result = check_fails(run_cli, files, "numcond.yaml", text)
    assert_problem(result, path, *at(text, "when: population", shift=6), "a condition must be true or false")


def test_boolean_in_arithmetic_and_number_under_and(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: on_route + 1 > 2
  B:
    title: B
    when: users and on_route
""" + CLASSES
    path, result = check_fails(run_cli, files, "arith.yaml", text)
    assert_problem(result, path, *at(text, "on_route + 1"), "type mismatch", "'+'")
    assert_problem(result, path, *at(text, "users and"), "type mismatch", "'and'")


def test_total_outside_classes(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: total >= 5
""" + CLASSES
    path, result = check_fails(run_cli, files, "total.yaml", text)
    assert_problem(result, path, *at(text, "total >="), "only known in classes")


# ---- references -------------------------------------------------------------------------------

def test_reference_cycle_between_criteria(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: B and on_route
  B:
    title: B
    when: A or users > 1
""" + CLASSES
    path, result = check_fails(run_cli, files, "cycle.yaml", text)
    lines = [ln for ln in problem_lines(result.output, path) if "reference cycle" in ln]
    assert lines, result.output
    # the cycle is reported at one of the criteria in it, naming both
    allowed = {f"{path}:{at(text, '  A:')[0]}:3:", f"{path}:{at(text, '  B:')[0]}:3:"}
    assert any(ln.startswith(tuple(allowed)) for ln in lines), result.output
    assert any("A → B → A" in ln or "B → A → B" in ln for ln in lines), result.output


def test_longer_reference_cycle(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: C and on_route}
  B: {title: B, when: A}
  C: {title: C, when: not B}
""" + CLASSES
    path, result = check_fails(run_cli, files, "cycle3.yaml", text)
    assert "reference cycle" in result.output
    assert any(s in result.output for s in ("A → C → B → A", "B → A → C → B", "C → B → A → C")), result.output


def test_self_reference(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: A or on_route
""" + CLASSES
    path, result = check_fails(run_cli, files, "self.yaml", text)
    assert_problem(result, path, *at(text, "A or"), "refers to itself")


def test_duplicate_yaml_key(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: on_route
  A:
    title: A again
    when: users > 1
""" + CLASSES
    path, result = check_fails(run_cli, files, "dupkey.yaml", text)
    assert_problem(result, path, at(text, "  A:", nth=2)[0], None, "duplicate")


def test_criterion_named_like_an_indicator(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: on_route
  users:
    title: named like an indicator
    when: population > 1
""" + CLASSES
    path, result = check_fails(run_cli, files, "dupid.yaml", text)
    assert_problem(result, path, *at(text, "  users:\n    title", shift=2), "duplicate id 'users'", "indicator")


def test_duplicate_class_id(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: on_route}
classes:
  - {id: high, label: Cao, when: A}
  - {id: high, label: Cao nữa, when: users > 3}
  - {id: low, label: Thấp, residual: true}
"""
    path, result = check_fails(run_cli, files, "dupclass.yaml", text)
    assert_problem(result, path, at(text, "{id: high", nth=2)[0], None, "duplicate class id 'high'")


# ---- classes ----------------------------------------------------------------------------------

def test_residual_class_not_last(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: on_route}
classes:
  - {id: low, label: Thấp, residual: true}
  - {id: high, label: Cao, when: A}
"""
    path, result = check_fails(run_cli, files, "residual.yaml", text)
    assert_problem(result, path, at(text, "{id: high")[0], None, "'high' can never be reached", "'low'")


def test_two_classes_with_the_same_condition(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: on_route}
classes:
  - {id: high, label: Cao, when: A and users > 3}
  - {id: high2, label: Cao 2, when: A and users > 3}
  - {id: low, label: Thấp, residual: true}
"""
    path, result = check_fails(run_cli, files, "sameclass.yaml", text)
    assert_problem(result, path, *at(text, "A and users > 3}", nth=2), "'high2' can never be reached", "'high'")


def test_class_shadowed_by_a_looser_condition(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: on_route}
classes:
  - {id: high, label: Cao, when: A}
  - {id: higher, label: Cao hơn, when: A and users > 3}
  - {id: low, label: Thấp, residual: true}
"""
    path, result = check_fails(run_cli, files, "shadow.yaml", text)
    assert_problem(result, path, at(text, "{id: higher")[0], None, "'higher' can never be reached")


def test_class_after_an_always_true_class(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: on_route}
classes:
  - {id: all, label: Tất cả, when: "true"}
  - {id: high, label: Cao, when: A}
"""
    path, result = check_fails(run_cli, files, "always.yaml", text)
    assert_problem(result, path, at(text, "{id: high")[0], None, "'high' can never be reached")


# ---- official packs, division, syntax ------------------------------------------------------------

NOCITE = HEAD.replace("status: illustrative", "status: official") + """\
criteria:
  A:
    title: A
    cite: Điều 1
    when: on_route
  B:
    title: B
    when: users > 1
classes:
  - {id: high, label: Cao, when: A, cite: Điều 2}
  - {id: low, label: Thấp, residual: true, cite: Điều 3}
"""


def test_official_pack_criterion_without_cite(run_cli, files):
    text = NOCITE
    path, result = check_fails(run_cli, files, "nocite.yaml", text)
    lines = [ln for ln in problem_lines(result.output, path) if "no `cite`" in ln]
    assert len(lines) == 1 and "criterion 'B' has no `cite`" in lines[0], result.output
    first, last = at(text, "  B:")[0], at(text, "when: users > 1")[0]
    assert any(lines[0].startswith(f"{path}:{n}:") for n in range(first, last + 1)), result.output


def test_bug_missing_cite_reported_at_the_title_line_not_the_criterion(run_cli, files):
    """Every other problem about a whole criterion (duplicate id, cycle, `when` or `bands`) points at
    the line of its id; a missing `cite` points at the line below (`title:`)."""
    text = NOCITE
    path, result = check_fails(run_cli, files, "nocite.yaml", text)
    assert_problem(result, path, *at(text, "  B:", shift=2), "criterion 'B' has no `cite`")


def test_official_pack_class_without_cite(run_cli, files):
    text = HEAD.replace("status: illustrative", "status: official") + """\
criteria:
  A: {title: A, when: on_route, cite: Điều 1}
classes:
  - {id: high, label: Cao, when: A, cite: Điều 2}
  - {id: low, label: Thấp, residual: true}
"""
    path, result = check_fails(run_cli, files, "nocite2.yaml", text)
    assert_problem(result, path, at(text, "{id: low")[0], None, "class 'low' has no `cite`")


def test_illustrative_pack_needs_no_cite(run_cli, files):
    path = files.rules("ok.yaml", HEAD + "criteria:\n  A: {title: A, when: on_route}\n" + CLASSES)
    result = run_cli("check", str(path))
    assert result.exit_code == 0, result.output
    assert "ok: mini" in result.output


def test_division_inside_a_criterion(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: users / population >= 0.5%
""" + CLASSES
    path, result = check_fails(run_cli, files, "div.yaml", text)
    assert_problem(result, path, *at(text, "/ population >="), "division is only allowed in `derived`")


@pytest.mark.parametrize("when, needle, words", [
    ("users = 1", "= 1", "'=='"),
    ("users > 1 && on_route", "&&", "and"),
    ("(users > 1", "(users", "expected ')'"),
    ("1 < users < 5", "< 5", "chained"),
])
def test_syntax_errors_point_at_the_character(run_cli, files, when, needle, words):
    text = HEAD + f"criteria:\n  A:\n    title: A\n    when: {when}\n" + CLASSES
    path, result = check_fails(run_cli, files, "syntax.yaml", text)
    if needle == "(users":  # the parser reaches the end of the expression
        line, col = at(text, "(users")
        col += len(when)
    else:
        line, col = at(text, needle)
    assert_problem(result, path, line, col, words)


def test_syntax_error_in_a_quoted_expression(run_cli, files):
    text = HEAD + 'criteria:\n  A:\n    title: A\n    when: "on_route and users = 2"\n' + CLASSES
    path, result = check_fails(run_cli, files, "quoted.yaml", text)
    assert_problem(result, path, *at(text, "= 2"), "'=='")


def test_bug_folded_block_expression_error_reported_on_the_wrong_line(run_cli, files):
    """An expression written as a folded block (`when: >`) over several lines: the error must point
    at the line and column where the bad name stands, not at a column of the block's first line."""
    text = HEAD + """\
criteria:
  A:
    title: A
    when: >
      on_route and
      populaton > 3
""" + CLASSES
    path, result = check_fails(run_cli, files, "folded.yaml", text)
    assert_problem(result, path, *at(text, "populaton"), "unknown name 'populaton'")


def test_bug_literal_block_expression_error_column_ignores_indentation(run_cli, files):
    """In a literal block (`when: |`) the column must count the block's indentation."""
    text = HEAD + """\
criteria:
  A:
    title: A
    when: |
      on_route and
          populaton > 3
""" + CLASSES
    path, result = check_fails(run_cli, files, "literal.yaml", text)
    assert_problem(result, path, *at(text, "populaton"), "unknown name 'populaton'")


def test_every_problem_is_listed(run_cli, files):
    text = HEAD + """\
criteria:
  A: {title: A, when: populaton > 1}
  B: {title: B, when: on_route >= 1}
  C: {title: C, when: "atleast(1, on_route)"}
""" + CLASSES
    path, result = check_fails(run_cli, files, "many.yaml", text)
    assert_problem(result, path, *at(text, "populaton"), "unknown name")
    assert_problem(result, path, *at(text, ">= 1"), "type mismatch")
    assert_problem(result, path, at(text, "atleast")[0], None, "unknown function")


# ---- warnings alone pass --------------------------------------------------------------------

def test_unknown_key_is_a_warning_not_an_error(run_cli, files):
    text = HEAD + """\
criteria:
  A:
    title: A
    when: on_route
    pionts: 5
""" + CLASSES
    path = files.rules("warn.yaml", text)
    result = run_cli("check", str(path))
    assert result.exit_code == 0, result.output
    assert_problem(result, path, *at(text, "pionts"), "unknown key 'pionts'", "did you mean 'points'?",
                   severity="warning")
    assert not problem_lines(result.output, path, "error")
    assert "ok: mini" in result.output


def test_unknown_top_level_key_is_a_warning(run_cli, files):
    text = HEAD + "criteria:\n  A: {title: A, when: on_route}\n" + CLASSES + "casse: []\n"
    path = files.rules("warn2.yaml", text)
    result = run_cli("check", str(path))
    assert result.exit_code == 0, result.output
    assert_problem(result, path, *at(text, "casse"), "unknown key 'casse'", "did you mean",
                   severity="warning")


# ---- files that are not rule files ------------------------------------------------------------

def test_not_yaml(run_cli, files):
    text = HEAD + "criteria:\n  A: {title: A, when: on_route\n" + CLASSES
    path = files.rules("broken.yaml", text)
    result = run_cli("check", str(path))
    assert result.exit_code == 3, result.output
    assert problem_lines(result.output, path), result.output


def test_missing_rule_file(run_cli, files):
    result = run_cli("check", str(files.root / "nope.yaml"))
    assert result.exit_code == 3, result.output
    assert "nope.yaml" in result.output


def test_unknown_shipped_pack_name(run_cli):
    result = run_cli("check", "qd-28-2052")
    assert result.exit_code == 3, result.output
    assert "qd-28-2052" in result.output


def test_check_needs_a_file(run_cli):
    result = run_cli("check")
    assert result.exit_code == 2, result.output


def test_check_several_files_one_bad(run_cli, files):
    good = files.rules("good.yaml", HEAD + "criteria:\n  A: {title: A, when: on_route}\n" + CLASSES)
    bad_text = HEAD + "criteria:\n  A: {title: A, when: onroute}\n" + CLASSES
    bad = files.rules("bad.yaml", bad_text)
    result = run_cli("check", str(good), str(bad))
    assert result.exit_code == 3, result.output
    assert f"{good}: ok:" in result.output
    assert_problem(result, bad, *at(bad_text, "onroute}"), "did you mean 'on_route'?")


def test_load_pack_raises_with_every_problem(files):
    text = HEAD + "criteria:\n  A: {title: A, when: populaton > 1}\n" + CLASSES
    path = files.rules("api.yaml", text)
    with pytest.raises(RuleFileError) as info:
        load_pack(path)
    errors = [p for p in info.value.problems if p.severity == "error"]
    assert [(p.line, p.col) for p in errors] == [at(text, "populaton")]


# ---- the shipped packs (and the suite's own packs) are valid ----------------------------------

@pytest.mark.parametrize("path", shipped_packs(), ids=lambda p: p.stem)
def test_check_shipped_pack(run_cli, path):
    result = run_cli("check", str(path))
    assert result.exit_code == 0, result.output
    assert not problem_lines(result.output, path), result.output
    by_id = run_cli("check", path.stem)
    assert by_id.exit_code == 0, by_id.output


@pytest.mark.parametrize("path", sorted(TEST_PACKS.glob("*.yaml")), ids=lambda p: p.stem)
def test_check_suite_pack(run_cli, path):
    result = run_cli("check", str(path))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output, result.output


def test_bug_nfd_rule_file_with_vietnamese_names(run_cli, files):
    """A rule file saved in Unicode NFD (as some editors on macOS save) is the same text to a
    person. Input cells are normalised to NFC; the rule file is not, and a criterion id with a
    Vietnamese letter (`Tỷ.1`) stops the tokenizer at the combining mark ("unexpected character").
    Expected: the file checks like its NFC twin (exit 0)."""
    import unicodedata

    text = HEAD + """\
criteria:
  Tỷ.1: {title: Tỷ lệ cao, when: rate >= 0.5%}
classes:
  - {id: high, label: Cao, when: Tỷ.1}
  - {id: low, label: Thấp, residual: true}
"""
    nfc = files.rules("nfc.yaml", text)
    assert run_cli("check", str(nfc)).exit_code == 0
    nfd = files.rules("nfd.yaml", unicodedata.normalize("NFD", text))
    result = run_cli("check", str(nfd))
    assert result.exit_code == 0, result.output
