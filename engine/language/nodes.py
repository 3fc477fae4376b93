"""The nodes of a parsed condition (the AST), and helpers that walk and print them.

Every node keeps `pos`, the offset of its first character in the source text (binary nodes keep
their operator's), so that errors can point at file:line:column. Trees come from
`lanhmanh.engine.language.parser.parse`; to act on each kind of node, subclass
`lanhmanh.engine.language.visitor.Visitor`.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Iterator, Union


@dataclass(frozen=True)
class Num:
    value: Fraction
    text: str
    pos: int


@dataclass(frozen=True)
class Bool:
    value: bool
    pos: int


@dataclass(frozen=True)
class Name:
    id: str
    pos: int


@dataclass(frozen=True)
class Call:
    fn: str
    args: tuple
    pos: int


@dataclass(frozen=True)
class Neg:
    operand: "Node"
    pos: int


@dataclass(frozen=True)
class Not:
    operand: "Node"
    pos: int


@dataclass(frozen=True)
class Arith:
    op: str  # + - * /
    left: "Node"
    right: "Node"
    pos: int


@dataclass(frozen=True)
class Compare:
    op: str
    left: "Node"
    right: "Node"
    pos: int


@dataclass(frozen=True)
class BoolOp:
    op: str  # and | or
    items: tuple
    pos: int


Node = Union[Num, Bool, Name, Call, Neg, Not, Arith, Compare, BoolOp]


def children(node: Node) -> tuple:
    """The direct sub-expressions of a node, left to right (a call's arguments, an operator's operands)."""
    if isinstance(node, Call):
        return node.args
    if isinstance(node, (Neg, Not)):
        return (node.operand,)
    if isinstance(node, (Arith, Compare)):
        return (node.left, node.right)
    if isinstance(node, BoolOp):
        return node.items
    return ()


def walk(node: Node) -> Iterator[Node]:
    """Every node of the tree, parents first, left to right."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed(children(current)))


def names_in(node: Node) -> Iterator[Name]:
    """Every Name node in the tree (function names excluded), left to right."""
    return (each for each in walk(node) if isinstance(each, Name))


def to_text(node: Node) -> str:
    """A canonical rendering of the expression (used in evidence and diffs)."""
    if isinstance(node, Num):
        return node.text
    if isinstance(node, Bool):
        return "true" if node.value else "false"
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Call):
        return f"{node.fn}({', '.join(to_text(a) for a in node.args)})"
    if isinstance(node, Neg):
        return f"-{_paren(node.operand)}"
    if isinstance(node, Not):
        return f"not {_paren(node.operand)}"
    if isinstance(node, (Arith, Compare)):
        return f"{_paren(node.left)} {node.op} {_paren(node.right)}"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(_paren(a) for a in node.items)
    raise TypeError(node)


def _paren(node: Node) -> str:
    text = to_text(node)
    if isinstance(node, (BoolOp, Compare, Arith, Not, Neg)):
        return f"({text})"
    return text
