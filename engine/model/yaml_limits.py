"""Bounds on a rule file's YAML, checked before anything walks its tree.

YAML anchors and aliases let a small file stand for an enormous tree (`&a [x, x]`, `&b [*a, *a]`,
… "billion laughs"); the parser shares the aliased collections, so loading is quick, but every
later step (the schema check, the variant merge) walks the tree as written out. The shipped packs
use aliases legitimately (a commune repeated in a case), so aliases are allowed and the written-out
tree is bounded instead. Limits (docs/rule-language.md, "Limits"):

- a rule file of at most MAX_FILE_BYTES bytes;
- at most MAX_TOKENS separators (commas, line breaks, brackets, `- `), counted before parsing,
  because the YAML parser reads about 20,000 of them a second;
- at most MAX_NODES values once every alias is written out (keys and values, each collection
  counted once per place it appears);
- collections nested at most MAX_NESTING deep, and no collection containing itself.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from ruamel.yaml.comments import CommentedMap, CommentedSeq

from lanhmanh.i18n import _

MAX_FILE_BYTES = 1024 * 1024
MAX_TOKENS = 50_000
MAX_NODES = 100_000
MAX_NESTING = 32


@dataclass(frozen=True)
class TooBig:
    """Why a rule file is refused, and where (1-based line and column; 0 when the whole file)."""

    line: int
    col: int
    message: str


def check_text(text: str) -> Optional[TooBig]:
    """A refusal for text too large to hand to the YAML parser, or None."""
    size = len(text.encode("utf-8"))
    if size > MAX_FILE_BYTES:
        return TooBig(0, 0, _("rule file is {size} bytes, more than the limit of {limit}").format(
            size=size, limit=MAX_FILE_BYTES))
    tokens = sum(text.count(mark) for mark in (",", "\n", "[", "{", "- "))
    if tokens > MAX_TOKENS:
        return TooBig(0, 0, _("rule file has {n} values or separators, more than the limit of {limit}").format(
            n=tokens, limit=MAX_TOKENS))
    return None


def check_tree(root: Any) -> Optional[TooBig]:
    """A refusal for a loaded tree that is too large once its aliases are written out, nested too
    deep, or containing itself; None when it is within the limits. Each collection is visited once,
    so this costs the size of the file, not of the written-out tree."""
    size: dict[int, int] = {}  # id(collection) → values it stands for, written out
    depth: dict[int, int] = {}
    refs: dict[int, int] = {}
    nodes: dict[int, Any] = {}
    open_: set[int] = set()
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            total, deepest = 1, 0
            for child in _children(node):
                if _is_collection(child):
                    total += size[id(child)]
                    deepest = max(deepest, depth[id(child)])
                else:
                    total += 1
            size[key], depth[key] = total, deepest + 1
            open_.discard(key)
            if depth[key] > MAX_NESTING:
                return TooBig(*_where(node), _nested())
            continue
        if key in open_:
            return TooBig(*_where(node), _("a YAML alias refers to a collection that contains it"))
        if key in size:
            continue
        open_.add(key)
        nodes[key] = node
        stack.append((node, True))
        for child in _children(node):
            if _is_collection(child):
                refs[id(child)] = refs.get(id(child), 0) + 1
                if id(child) in open_:
                    return TooBig(*_where(child), _("a YAML alias refers to a collection that contains it"))
                if len(open_) > MAX_NESTING:
                    return TooBig(*_where(child), _nested())
                stack.append((child, False))
    if not _is_collection(root) or size[id(root)] <= MAX_NODES:
        return None
    shared = [k for k, n in refs.items() if n > 1]
    if not shared:
        return TooBig(0, 0, _("rule file holds more than {limit} values").format(limit=MAX_NODES))
    worst = max(shared, key=lambda k: size[k] * refs[k])
    return TooBig(*_where(nodes[worst]),
                  _("YAML aliases write this file out to more than {limit} values: the collection "
                    "anchored here ({size} values) appears {times} times; write the "
                    "values out or use fewer aliases").format(limit=MAX_NODES, size=size[worst], times=refs[worst]))


def _nested() -> str:
    return _("collections nested more than {limit} deep").format(limit=MAX_NESTING)


def _is_collection(node: Any) -> bool:
    return isinstance(node, (CommentedMap, CommentedSeq, dict, list))


def _children(node: Any) -> list:
    if isinstance(node, dict):
        return [x for kv in node.items() for x in kv]
    if isinstance(node, list):
        return list(node)
    return []


def _where(node: Any) -> tuple[int, int]:
    try:
        return node.lc.line + 1, node.lc.col + 1
    except AttributeError:
        return 0, 0
