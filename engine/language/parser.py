"""The tokenizer and parser of the condition language. Conditions are parsed, never `eval`-ed.

Grammar (docs/rule-language.md):

    expr    := or
    or      := and ('or' and)*
    and     := not ('and' not)*
    not     := 'not' not | compare
    compare := sum (CMP sum)?
    sum     := product (('+' | '-') product)*
    product := unary (('*' | '/') unary)*
    unary   := '-' unary | atom
    atom    := NUMBER ['%'] | 'true' | 'false' | NAME | NAME '(' args ')' | '(' expr ')'

`/` is parsed everywhere so that its misuse gets a precise error; the loader allows it only in
`derived`.

Limits (docs/rule-language.md, "Limits"): an expression of at most MAX_LENGTH characters, nested at
most MAX_NESTING levels (parentheses, function calls, `not`, unary `-`), a tree at most MAX_DEPTH
deep (a chain of operators counts one level per operator), numbers of at most MAX_DIGITS digits.
Past any of them the expression is refused with ExprSyntaxError at the offending offset, never
with a RecursionError.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

from lanhmanh.engine.language.nodes import (
    Arith,
    Bool,
    BoolOp,
    Call,
    Compare,
    Name,
    Neg,
    Node,
    Not,
    Num,
    children,
)
from lanhmanh.i18n import _

COMPARATORS = ("<=", ">=", "==", "!=", "<", ">")
MAX_LENGTH = 10_000  # characters in one expression
MAX_NESTING = 50  # parentheses, calls, `not`, unary `-`, one inside another
MAX_DEPTH = 100  # depth of the parsed tree (`a + b + c` is two levels)
MAX_DIGITS = 30  # digits of one number literal
KEYWORDS = {"and", "or", "not", "true", "false"}


class ExprSyntaxError(ValueError):
    def __init__(self, message: str, offset: int):
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass
class Token:
    kind: str  # num, name, op, end
    text: str
    pos: int
    value: Optional[Fraction] = None  # the number, for a num token


def _is_name_start(ch: str) -> bool:
    return ch.isalpha() or ch == "_"


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch in "_."


def tokenize(src: str) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        if ch.isspace():
            i += 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and src[i + 1].isdigit()):
            j = i
            while j < n and (src[j].isdigit() or src[j] in "._"):
                j += 1
            text = src[i:j]
            digits = text.replace("_", "")
            if digits.count(".") > 1 or digits.endswith(".") or "__" in text or text.endswith("_"):
                raise ExprSyntaxError(_("malformed number {text}").format(text=repr(_short(text))), i)
            if len(digits.replace(".", "")) > MAX_DIGITS:
                raise ExprSyntaxError(_("number {text} has more than {limit} digits").format(
                    text=_short(text), limit=MAX_DIGITS), i)
            value = Fraction(digits)
            if j < n and src[j] == "%":
                value /= 100
                j += 1
                text = src[i:j]
            if j < n and _is_name_start(src[j]):
                raise ExprSyntaxError(_("malformed number {text}").format(text=repr(_short(src[i:j + 1]))), i)
            tokens.append(Token("num", text, i, value))
            i = j
            continue
        if _is_name_start(ch):
            j = i + 1
            while j < n and _is_name_char(src[j]):
                j += 1
            text = src[i:j].rstrip(".")
            j = i + len(text)
            tokens.append(Token("name", text, i))
            i = j
            continue
        two = src[i:i + 2]
        if two in ("<=", ">=", "==", "!="):
            tokens.append(Token("op", two, i))
            i += 2
            continue
        if ch in "<>+-*/(),":
            tokens.append(Token("op", ch, i))
            i += 1
            continue
        if ch == "=":
            raise ExprSyntaxError(_("'=' is not an operator here: write '==' to compare"), i)
        if ch in "&|!":
            word = {"&": "and", "|": "or", "!": "not"}[ch]
            raise ExprSyntaxError(_("unexpected {char}: write '{word}'").format(char=repr(ch), word=word), i)
        raise ExprSyntaxError(_("unexpected character {char}").format(char=repr(ch)), i)
    tokens.append(Token("end", "", n))
    return tokens


def _short(text: str, keep: int = 24) -> str:
    """A long literal cut for a message: its first and last characters around '…'."""
    return text if len(text) <= 2 * keep else f"{text[:keep]}…{text[-keep:]}"


class _Parser:
    def __init__(self, src: str):
        self.src = src
        self.tokens = tokenize(src)
        self.i = 0
        self.nesting = 0

    def enter(self, pos: int) -> None:
        """One level deeper (a parenthesis, a call, `not`, unary `-`); refused past MAX_NESTING."""
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise ExprSyntaxError(_("expression nested deeper than {limit} levels").format(limit=MAX_NESTING), pos)

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def take(self) -> Token:
        t = self.tokens[self.i]
        self.i += 1
        return t

    def at(self, kind: str, text: str | None = None) -> bool:
        t = self.tok
        return t.kind == kind and (text is None or t.text == text)

    def expect(self, kind: str, text: str) -> Token:
        if not self.at(kind, text):
            found = self.tok.text or _("end of expression")
            message = _("expected {expected}, found {found}").format(expected=repr(text), found=repr(found))
            raise ExprSyntaxError(message, self.tok.pos)
        return self.take()

    def parse(self) -> Node:
        if self.at("end"):
            raise ExprSyntaxError(_("empty expression"), 0)
        node = self.or_()
        if not self.at("end"):
            raise ExprSyntaxError(_("unexpected {token}").format(token=repr(self.tok.text)), self.tok.pos)
        return node

    def or_(self) -> Node:
        first = self.and_()
        items = [first]
        while self.at("name", "or"):
            self.take()
            items.append(self.and_())
        return first if len(items) == 1 else BoolOp("or", tuple(items), first.pos)

    def and_(self) -> Node:
        first = self.not_()
        items = [first]
        while self.at("name", "and"):
            self.take()
            items.append(self.not_())
        return first if len(items) == 1 else BoolOp("and", tuple(items), first.pos)

    def not_(self) -> Node:
        if self.at("name", "not"):
            t = self.take()
            self.enter(t.pos)
            node = Not(self.not_(), t.pos)
            self.nesting -= 1
            return node
        return self.compare()

    def compare(self) -> Node:
        left = self.sum_()
        if self.tok.kind == "op" and self.tok.text in COMPARATORS:
            t = self.take()
            right = self.sum_()
            if self.tok.kind == "op" and self.tok.text in COMPARATORS:
                raise ExprSyntaxError(_("chained comparisons are not allowed: join them with 'and'"), self.tok.pos)
            return Compare(t.text, left, right, t.pos)
        return left

    def sum_(self) -> Node:
        node = self.product()
        while self.tok.kind == "op" and self.tok.text in "+-":
            t = self.take()
            node = Arith(t.text, node, self.product(), t.pos)
        return node

    def product(self) -> Node:
        node = self.unary()
        while self.tok.kind == "op" and self.tok.text in "*/":
            t = self.take()
            node = Arith(t.text, node, self.unary(), t.pos)
        return node

    def unary(self) -> Node:
        if self.at("op", "-"):
            t = self.take()
            self.enter(t.pos)
            node = Neg(self.unary(), t.pos)
            self.nesting -= 1
            return node
        return self.atom()

    def atom(self) -> Node:
        t = self.tok
        if t.kind == "num":
            self.take()
            assert t.value is not None
            return Num(t.value, t.text, t.pos)
        if t.kind == "name":
            self.take()
            if t.text in ("true", "false"):
                return Bool(t.text == "true", t.pos)
            if t.text in KEYWORDS:
                raise ExprSyntaxError(_("unexpected keyword {word}").format(word=repr(t.text)), t.pos)
            if self.at("op", "("):
                self.enter(self.take().pos)
                args = []
                if not self.at("op", ")"):
                    args.append(self.or_())
                    while self.at("op", ","):
                        self.take()
                        args.append(self.or_())
                self.expect("op", ")")
                self.nesting -= 1
                return Call(t.text, tuple(args), t.pos)
            return Name(t.text, t.pos)
        if self.at("op", "("):
            self.enter(self.take().pos)
            node = self.or_()
            self.expect("op", ")")
            self.nesting -= 1
            return node
        found = t.text or _("end of expression")
        raise ExprSyntaxError(_("expected a value, found {found}").format(found=repr(found)), t.pos)


def parse(src: str) -> Node:
    """Parse an expression; raises ExprSyntaxError with the offset of the problem."""
    if len(src) > MAX_LENGTH:
        raise ExprSyntaxError(_("expression longer than {limit} characters ({length})").format(
            limit=MAX_LENGTH, length=len(src)), MAX_LENGTH)
    node = _Parser(src).parse()
    deep = _too_deep(node)
    if deep is not None:
        raise ExprSyntaxError(_("expression nested deeper than {limit} levels "
                                "(a chain of operators counts one level per operator)").format(limit=MAX_DEPTH),
                              deep.pos)
    return node


def _too_deep(root: Node) -> Optional[Node]:
    """The first node below MAX_DEPTH levels of the tree, or None (walked without recursion)."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return node
        stack.extend((child, depth + 1) for child in reversed(children(node)))
    return None
