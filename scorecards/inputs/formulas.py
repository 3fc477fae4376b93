"""Simple formulas of a submitted workbook, calculated exactly when the file's own results cannot
be trusted (xlsx_reader decides when).

    calculate("=B7*2+SUM(C7:E7)", row=7, value_of) -> int | Decimal   or raises NotSimple

What is calculated: numbers, + - * / and parentheses, unary minus, and SUM of cells or of a range
on the formula's own row; a cell referred to is read through `value_of(column)` (a blank is 0, as
Excel takes it). Anything else (another row or sheet, a function other than SUM, text, a
comparison) raises NotSimple: the cell is then rejected, never guessed. Arithmetic is exact
(Fraction); a result that is not a terminating decimal is rounded to 28 significant digits, as
a spreadsheet shows it, and the validator judges its decimal places."""
from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from typing import Any, Callable, Union

from lanhmanh.i18n import _


def column_index_from_string(letters: str) -> int:
    """'A' → 1, 'Z' → 26, 'AA' → 27: a column's number from its letters (upper case). openpyxl has
    the same function, but importing openpyxl (and numpy with it) costs a third of a second that a
    run on CSV files does not need."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


MAX_FORMULA_CHARS = 1000  # a longer formula is not calculated (the cell is rejected)
MAX_FORMULA_DEPTH = 50  # parentheses (and cells referring to cells) nested deeper: not calculated

Number = Union[int, Decimal]


class NotSimple(ValueError):
    """A formula lanhmanh does not calculate; the message says why."""


_TOKEN = re.compile(r"\s*(?:(?P<num>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"
                    r"|(?P<range>\$?[A-Za-z]{1,3}\$?\d+:\$?[A-Za-z]{1,3}\$?\d+)"
                    r"|(?P<ref>\$?[A-Za-z]{1,3}\$?\d+)"
                    r"|(?P<sum>SUM\s*\()"
                    r"|(?P<op>[-+*/(),]))", re.IGNORECASE)
_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


def calculate(formula: str, row: int, value_of: Callable[[int], Any]) -> Number:
    """The value of `formula` (with its "="), on Excel row `row`. Raises NotSimple."""
    text = formula[1:] if formula.startswith("=") else formula
    if len(text) > MAX_FORMULA_CHARS:
        raise NotSimple(_("a formula too long to be calculated"))
    tokens = _tokens(text)
    parser = _Parser(tokens, row, value_of)
    value = parser.expr(0)
    if parser.i != len(tokens):
        raise NotSimple(_("a formula lanhmanh does not calculate"))
    return as_number(value)


def as_number(f: Fraction) -> Number:
    if abs(f) > 10 ** 30 or (f and abs(f) < Fraction(1, 10 ** 30)):
        raise NotSimple(_("a result out of range (beyond 10^±30)"))
    if f.denominator == 1:
        return int(f.numerator)
    d = f.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:  # a terminating decimal: exact
        return Decimal(f.numerator) / Decimal(f.denominator)
    return Decimal(f.numerator) / Decimal(f.denominator)  # 28 significant digits, as a spreadsheet


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    i = 0
    while i < len(text):
        if text[i:].strip() == "":
            break
        m = _TOKEN.match(text, i)
        if m is None or m.end() == i:
            raise NotSimple(_("a formula lanhmanh does not calculate"))
        kind = m.lastgroup or ""
        out.append((kind, m.group(kind).strip()))
        i = m.end()
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], row: int, value_of: Callable[[int], Any]):
        self.tokens, self.i, self.row, self.value_of = tokens, 0, row, value_of

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.i] if self.i < len(self.tokens) else ("", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        if not tok[0]:
            raise NotSimple(_("an incomplete formula"))
        self.i += 1
        return tok

    def expr(self, depth: int) -> Fraction:
        if depth > MAX_FORMULA_DEPTH:
            raise NotSimple(_("a formula nested too deeply to be calculated"))
        value = self.term(depth)
        while self.peek()[1] in ("+", "-") and self.peek()[0] == "op":
            op = self.take()[1]
            rhs = self.term(depth)
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self, depth: int) -> Fraction:
        value = self.factor(depth)
        while self.peek()[1] in ("*", "/") and self.peek()[0] == "op":
            op = self.take()[1]
            rhs = self.factor(depth)
            if op == "*":
                value *= rhs
            elif rhs == 0:
                raise NotSimple(_("the formula divides by zero (#DIV/0!)"))
            else:
                value /= rhs
        return value

    def factor(self, depth: int) -> Fraction:
        kind, text = self.take()
        if kind == "op" and text in ("+", "-"):
            if depth > MAX_FORMULA_DEPTH:
                raise NotSimple(_("a formula nested too deeply to be calculated"))
            v = self.factor(depth + 1)
            return -v if text == "-" else v
        if kind == "num":
            if len(text) > 40:
                raise NotSimple(_("a number too long in the formula"))
            d = Decimal(text)
            if abs(d.adjusted()) > 30:
                raise NotSimple(_("a number out of range in the formula"))
            return Fraction(d)
        if kind == "ref":
            return self.cell(text)
        if kind == "op" and text == "(":
            v = self.expr(depth + 1)
            if self.take()[1] != ")":
                raise NotSimple(_("unbalanced parentheses"))
            return v
        if kind == "sum":
            total = Fraction(0)
            while True:
                k, t = self.take()
                if k == "range":
                    total += sum((self.cell(c, in_sum=True) for c in self.span(t)), Fraction(0))
                elif k == "ref":
                    total += self.cell(t, in_sum=True)
                elif k == "num":
                    total += Fraction(Decimal(t)) if len(t) <= 40 and abs(Decimal(t).adjusted()) <= 30 else \
                        _raise(_("a number out of range in the formula"))
                else:
                    raise NotSimple(_("a SUM lanhmanh does not calculate"))
                sep = self.take()[1]
                if sep == ")":
                    return total
                if sep != ",":
                    raise NotSimple(_("a SUM lanhmanh does not calculate"))
        raise NotSimple(_("a formula lanhmanh does not calculate"))

    def span(self, text: str) -> list[str]:
        a, b = text.split(":")
        (ca, ra), (cb, rb) = _CELL.fullmatch(a).groups(), _CELL.fullmatch(b).groups()  # type: ignore[union-attr]
        if int(ra) != self.row or int(rb) != self.row:
            raise NotSimple(_("a formula reading another row"))
        lo, hi = sorted((column_index_from_string(ca.upper()), column_index_from_string(cb.upper())))
        if hi - lo > 1000:
            raise NotSimple(_("a SUM over too many cells"))
        return [f"#{c}" for c in range(lo, hi + 1)]

    def cell(self, ref: str, in_sum: bool = False) -> Fraction:
        if ref.startswith("#"):
            col = int(ref[1:])
        else:
            m = _CELL.fullmatch(ref)
            if m is None or int(m.group(2)) != self.row:
                raise NotSimple(_("a formula reading another row"))
            col = column_index_from_string(m.group(1).upper())
        v = self.value_of(col)
        if v is None or (isinstance(v, str) and not v.strip()):
            return Fraction(0)
        if isinstance(v, bool) or not isinstance(v, (int, Decimal)):
            if in_sum and isinstance(v, str) and not isinstance(v, bool):
                raise NotSimple(_("a formula summing text"))
            raise NotSimple(_("a formula reading a cell that is not a number"))
        return Fraction(v)


def _raise(message: str) -> Fraction:
    raise NotSimple(message)
