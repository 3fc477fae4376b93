"""The condition language: tokenizer, parser, precedence, exact numbers, names, errors with offsets."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lanhmanh.engine.language import nodes, parser
from lanhmanh.engine.language.nodes import to_text
from lanhmanh.engine.language.parser import ExprSyntaxError, parse
from lanhmanh.engine.language.typecheck import Checker, Vocabulary
from lanhmanh.engine.language.visitor import Visitor


def shape(node) -> object:
    """The tree without source offsets, as nested tuples: easy to compare and to read in a failure."""
    if isinstance(node, nodes.Num):
        return node.value
    if isinstance(node, nodes.Bool):
        return node.value
    if isinstance(node, nodes.Name):
        return node.id
    if isinstance(node, nodes.Call):
        return ("call", node.fn, *[shape(a) for a in node.args])
    if isinstance(node, nodes.Neg):
        return ("neg", shape(node.operand))
    if isinstance(node, nodes.Not):
        return ("not", shape(node.operand))
    if isinstance(node, (nodes.Arith, nodes.Compare)):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, nodes.BoolOp):
        return (node.op, *[shape(a) for a in node.items])
    raise TypeError(node)


# ---- precedence -------------------------------------------------------------------------------

@pytest.mark.parametrize("src, tree", [
    ("a or b and c", ("or", "a", ("and", "b", "c"))),
    ("a and b or c", ("or", ("and", "a", "b"), "c")),
    ("a or b or c", ("or", "a", "b", "c")),
    ("a and b and c", ("and", "a", "b", "c")),
    ("(a or b) and c", ("and", ("or", "a", "b"), "c")),
    ("not a and b", ("and", ("not", "a"), "b")),
    ("not a or b", ("or", ("not", "a"), "b")),
    ("not (a or b)", ("not", ("or", "a", "b"))),
    ("not not a", ("not", ("not", "a"))),
    ("not x == 1", ("not", ("==", "x", 1))),
    ("x < 1 or y >= 2 and z != 3", ("or", ("<", "x", 1), ("and", (">=", "y", 2), ("!=", "z", 3)))),
    ("a + b * c", ("+", "a", ("*", "b", "c"))),
    ("a * b + c", ("+", ("*", "a", "b"), "c")),
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("a - (b - c)", ("-", "a", ("-", "b", "c"))),
    ("-a * b", ("*", ("neg", "a"), "b")),
    ("- -a", ("neg", ("neg", "a"))),
    ("a - -1", ("-", "a", ("neg", 1))),
    ("a + 1 >= b * 2", (">=", ("+", "a", 1), ("*", "b", 2))),
    ("a + 1 >= b * 2 and c", ("and", (">=", ("+", "a", 1), ("*", "b", 2)), "c")),
    ("x<=1", ("<=", "x", 1)),
    ("x>=-1", (">=", "x", ("neg", 1))),
    ("(x == 1) == (y == 2)", ("==", ("==", "x", 1), ("==", "y", 2))),
    ("on_route == true", ("==", "on_route", True)),
    ("false", False),
])
def test_precedence(src, tree):
    assert shape(parse(src)) == tree


def test_comparison_binds_looser_than_arithmetic_and_tighter_than_not():
    node = parse("not users_with_records * 200 >= population")
    assert isinstance(node, nodes.Not)
    assert isinstance(node.operand, nodes.Compare) and node.operand.op == ">="
    assert isinstance(node.operand.left, nodes.Arith) and node.operand.left.op == "*"


def test_calls_and_arguments():
    node = parse("at_least(2, or_higher(II.a), II.b, x >= 1 and y) and on_key_route")
    assert shape(node) == ("and",
                           ("call", "at_least", 2, ("call", "or_higher", "II.a"), "II.b",
                            ("and", (">=", "x", 1), "y")),
                           "on_key_route")
    assert shape(parse("all()")) == ("call", "all")
    assert shape(parse("share(type_1, type_2) >= 3%")) == (">=", ("call", "share", "type_1", "type_2"),
                                                           Fraction(3, 100))


def test_to_text_parenthesises_what_precedence_needs():
    assert to_text(parse("a or b and c")) == "a or (b and c)"
    assert to_text(parse("(a or b) and c")) == "(a or b) and c"
    assert to_text(parse("a - (b - c)")) == "a - (b - c)"
    assert to_text(parse("not (x < 1)")) == "not (x < 1)"
    assert to_text(parse("user_rate >= 0.5%")) == "user_rate >= 0.5%"


# ---- numbers: exact -----------------------------------------------------------------------------

@pytest.mark.parametrize("src, value", [
    ("0.5%", Fraction(1, 200)),
    ("0.05%", Fraction(1, 2000)),
    ("0.1%", Fraction(1, 1000)),
    ("0.2%", Fraction(1, 500)),
    ("100%", Fraction(1)),
    ("3%", Fraction(3, 100)),
    ("3_000", Fraction(3000)),
    ("1_000_000", Fraction(1000000)),
    ("750", Fraction(750)),
    ("124.99", Fraction(12499, 100)),
    ("0.1", Fraction(1, 10)),
    (".5", Fraction(1, 2)),
    ("0.3333333333333333333333", Fraction(3333333333333333333333, 10 ** 22)),
])
def test_numbers_are_exact(src, value):
    node = parse(src)
    assert isinstance(node, nodes.Num)
    assert node.value == value
    assert isinstance(node.value, Fraction)


def test_percent_is_never_a_float():
    # 0.1 + 0.2 != 0.3 in binary floating point; here it must be exact.
    a, b, c = (parse(s).value for s in ("0.1%", "0.2%", "0.3%"))
    assert a + b == c
    assert parse("0.5%").value == Fraction(1, 200)
    assert parse("0.5%").text == "0.5%"


@pytest.mark.parametrize("src", ["3__000", "3000_", "1.2.3", "1.", "3x", "1e5", "0.5%x", "12abc"])
def test_malformed_numbers(src):
    with pytest.raises(ExprSyntaxError) as info:
        parse(src)
    assert info.value.offset == 0
    assert "malformed number" in info.value.message


# ---- names ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("src", ["I.đ", "II.đ", "I.a", "DF.1", "tỷ_lệ", "điểm_liệt", "Đ.1", "_x", "a.b.c",
                                 "orange", "notes", "android", "true_x", "users_with_records"])
def test_names(src):
    node = parse(src)
    assert isinstance(node, nodes.Name)
    assert node.id == src


def test_vietnamese_names_in_a_condition():
    node = parse("at_least(2, I.a, I.đ) and not II.đ")
    assert [n.id for n in nodes.names_in(node)] == ["I.a", "I.đ", "II.đ"]
    assert shape(parse("II.đ == true")) == ("==", "II.đ", True)


def test_names_in_skips_function_names():
    assert [n.id for n in nodes.names_in(parse("given(x) and at_least(1, y, -z < 1)"))] == ["x", "y", "z"]


def test_offsets_of_nodes():
    src = "a >= 1 and I.đ"
    node = parse(src)
    assert node.items[0].pos == src.index(">=")  # a comparison is located at its operator
    assert node.items[0].left.pos == 0
    assert node.items[1].pos == src.index("I.đ")


# ---- errors with offsets --------------------------------------------------------------------------

@pytest.mark.parametrize("src, offset, words", [
    ("(a and b", 8, "expected ')'"),
    ("((a)", 4, "expected ')'"),
    ("a and b)", 7, "unexpected ')'"),
    (")", 0, "expected a value"),
    ("f(a, b", 6, "expected ')'"),
    ("a = 1", 2, "'=='"),
    ("x >= 1 and y = 2", 13, "'=='"),
    ("a => b", 2, "'=='"),
    ("a && b", 2, "and"),
    ("a || b", 2, "or"),
    ("!a", 0, "not"),
    ("a < b < c", 6, "chained"),
    ("1 <= x <= 5", 7, "chained"),
    ("a == b == c", 7, "chained"),
    ("", 0, "empty"),
    ("   ", 0, "empty"),
    ("a and", 5, "expected a value"),
    ("a >=", 4, "expected a value"),
    ("and b", 0, "keyword"),
    ("a $ b", 2, "unexpected character"),
    ("a b", 2, "unexpected 'b'"),
])
def test_syntax_errors_carry_offsets(src, offset, words):
    with pytest.raises(ExprSyntaxError) as info:
        parse(src)
    assert info.value.offset == offset, info.value.message
    assert words in info.value.message


# ---- property: rendering and parsing agree ------------------------------------------------------

_num_names = st.sampled_from(["population", "x", "users_with_records", "tỷ_lệ", "user_rate"])
_bool_names = st.sampled_from(["a", "on_route", "I.a", "II.đ", "DF.1"])
_num_texts = st.sampled_from(["0", "1", "12", "3_000", "0.5%", "0.05%", "124.99", "100%"])


def _num(text):
    return nodes.Num(parser.tokenize(text)[0].value, text, 0)


def _numbers(depth: int):
    leaf = st.one_of(_num_names.map(lambda n: nodes.Name(n, 0)), _num_texts.map(_num))
    if depth == 0:
        return leaf
    sub = _numbers(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from("+-*"), sub, sub).map(lambda t: nodes.Arith(t[0], t[1], t[2], 0)),
        sub.map(lambda c: nodes.Neg(c, 0)),
    )


def _conditions(depth: int):
    """Well-typed conditions, as a rule file can hold them."""
    leaf = st.one_of(_bool_names.map(lambda n: nodes.Name(n, 0)), st.booleans().map(lambda b: nodes.Bool(b, 0)),
                     st.tuples(st.sampled_from(parser.COMPARATORS), _numbers(1), _numbers(1)).map(
                         lambda t: nodes.Compare(t[0], t[1], t[2], 0)))
    if depth == 0:
        return leaf
    sub = _conditions(depth - 1)
    return st.one_of(
        leaf,
        st.tuples(st.sampled_from(["and", "or"]), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: nodes.BoolOp(t[0], tuple(t[1]), 0)),
        sub.map(lambda c: nodes.Not(c, 0)),
        st.tuples(st.sampled_from(["==", "!="]), sub, sub).map(lambda t: nodes.Compare(t[0], t[1], t[2], 0)),
        st.tuples(st.sampled_from(["all", "any"]), st.lists(sub, min_size=1, max_size=3)).map(
            lambda t: nodes.Call(t[0], tuple(t[1]), 0)),
        st.tuples(st.integers(1, 2), st.lists(sub, min_size=2, max_size=3)).map(
            lambda t: nodes.Call("at_least", (_num(str(t[0])),) + tuple(t[1]), 0)),
    )


@settings(max_examples=250, deadline=None)
@given(_conditions(3))
def test_to_text_parses_back_to_the_same_tree(node):
    """`to_text` renders the thresholds auditors read in the evidence: it must mean what the rule means."""
    text = to_text(node)
    again = parse(text)
    assert shape(again) == shape(node), text
    assert to_text(again) == text


def test_bug_to_text_drops_parentheses_around_not_in_a_comparison():
    """`(not a) == b` is rendered `not a == b`, which reads (and parses) as `not (a == b)`."""
    node = parse("(not on_route) == DF.1")
    assert shape(node) == ("==", ("not", "on_route"), "DF.1")
    text = to_text(node)
    assert shape(parse(text)) == shape(node), f"rendered as {text!r}"


# ---- the visitor and the type checker, on their own ------------------------------------------------

def test_a_visitor_dispatches_on_the_node_class_and_falls_back_to_the_children():
    class Names(Visitor[None]):
        def __init__(self) -> None:
            self.seen: list[str] = []

        def visit_Name(self, node: nodes.Name, prefix: str) -> None:
            self.seen.append(prefix + node.id)

    names = Names()
    names.visit(parse("at_least(1, a, not b) and c + 1 > d"), "=")
    assert names.seen == ["=a", "=b", "=c", "=d"]


def test_the_type_checker_needs_only_a_vocabulary():
    class Indicator:
        def __init__(self, numeric: bool, required: bool = True) -> None:
            self.numeric, self.required = numeric, required

    vocabulary = Vocabulary({"rate": Indicator(True), "route": Indicator(False, required=False)})
    checker = Checker(vocabulary)
    problems: list[tuple[int, str, str]] = []
    reads: dict[str, None] = {}

    def report(offset: int, message: str, severity: str) -> None:
        problems.append((offset, message, severity))

    assert checker.check_condition(parse("rate >= 0.5% and given(route)"), "...", report, reads=reads)
    assert problems == [] and list(reads) == ["rate", "route"]
    assert not checker.check_condition(parse("rate and rout"), "rate and rout", report)
    assert problems == [
        (0, "type mismatch: 'and' needs true/falses, `rate` is a number", "error"),
        (9, "unknown name 'rout'; did you mean 'route'?", "error"),
    ]
