"""Reading a rule file's YAML quickly: libyaml parses, ruamel.yaml's round-trip constructor builds.

ruamel.yaml's round-trip loader (what loader.py uses: quotes kept, line and column of every key,
value and item) spends nearly all its time in its pure-Python scanner and parser. Here libyaml,
through PyYAML's C parser, reads the events, and this module composes them into ruamel's own node
tree (the tags resolved by ruamel's YAML 1.2 resolver, so `yes`, `on`, `0o17` mean what they mean
to ruamel), which ruamel's round-trip constructor turns into the same `CommentedMap`,
`CommentedSeq` and scalar objects, with the same positions, as `YAML(typ="rt").load` gives.

Only the regular subset is taken; anything else raises `Declined` and the caller loads the text
with ruamel.yaml as before, so its errors and their positions are ruamel's: a file that is not one
document, `%` directives, explicit tags, merge keys `<<`, keys that are collections, an anchor
defined twice, tabs or unusual line breaks, a block scalar with an indentation indicator, duplicate
keys, an empty value (`key:` alone: ruamel places it by rules of its own), collections nested more
than MAX_DEPTH deep, anything libyaml rejects, and PyYAML without its C extension. Comments are
not kept (nothing reads them: ruamel keeps them only to write a file back).
"""
from __future__ import annotations

import re
from typing import Any, Optional

from ruamel.yaml import YAML
from ruamel.yaml.error import StreamMark
from ruamel.yaml.nodes import MappingNode, ScalarNode, SequenceNode

try:  # PyYAML's C extension (libyaml); without it every file takes the ruamel.yaml path
    import yaml as _pyyaml
    from yaml import events as _ev

    _CLoader: Any = getattr(_pyyaml, "CBaseLoader", None)
except ImportError:  # pragma: no cover - PyYAML is a dependency
    _CLoader = None

ENABLED = True  # False: every file is loaded by ruamel.yaml alone
# deeper than any rule file may be (yaml_limits allows 32), far from where ruamel.yaml's recursion
# runs out: the depth at which that happens, and the error the loader then reports, stay ruamel's
MAX_DEPTH = 64

_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp")}
# tabs, line breaks YAML 1.2 does not know (Python's splitlines does), BEL (ruamel's fold marker),
# a BOM inside the text: the two parsers may differ on them
_IRREGULAR = re.compile("[\t\x0b\x0c\x1c-\x1e\x85\u2028\u2029\a\ufeff]")
_THE_END = "\n\0\r"


class Declined(Exception):
    """The fast path does not take this text (the message says why); load it with ruamel.yaml."""


def available() -> bool:
    return ENABLED and _CLoader is not None


def load(text: str) -> Any:
    """The tree `YAML(typ="rt")` with preserve_quotes and no duplicate keys gives for `text`, or
    Declined."""
    if not available():
        raise Declined("PyYAML's C parser is not available" if _CLoader is None else "turned off")
    bad = _IRREGULAR.search(text)
    if bad is not None:
        raise Declined(f"character {bad.group()!r} at offset {bad.start()}")
    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.allow_duplicate_keys = False
    root = _compose(text, _Tags(rt.resolver))
    try:
        return rt.constructor.construct_document(root)
    except Exception as e:  # duplicate keys, a bad timestamp: ruamel reports them in its words
        raise Declined(f"constructing: {type(e).__name__}: {e}") from None


def _mark(m: Any) -> StreamMark:
    return StreamMark(None, m.index, m.line, m.column)


class _Tags:
    """ruamel's resolver, asked once per distinct scalar (it depends on the text and the quoting)."""

    def __init__(self, resolver: Any):
        self.resolver = resolver
        self.known: dict[tuple, tuple[Any, bool]] = {}

    def scalar(self, value: str, implicit: tuple) -> tuple[Any, bool]:
        """The tag, and whether it is one the fast path builds (not a merge key, `=`, ...)."""
        key = (value, implicit)
        hit = self.known.get(key)
        if hit is None:
            tag = self.resolver.resolve(ScalarNode, value, implicit)
            hit = self.known[key] = (tag, str(tag) in _TAGS)
        return hit


def _compose(text: str, tags: _Tags) -> Any:
    """ruamel's node tree for `text`, from libyaml's events."""
    parser = _CLoader(text)
    anchors: dict[str, Any] = {}
    stack: list[Any] = []  # open collection nodes
    keys: list[Optional[Any]] = []  # per open mapping: its key node waiting for a value
    root: Any = None
    documents = 0
    try:
        while True:
            event = parser.get_event()
            if event is None:
                break
            cls = type(event)
            if cls is _ev.ScalarEvent or cls is _ev.AliasEvent:
                if cls is _ev.AliasEvent:
                    node = anchors.get(event.anchor)
                    if node is None:
                        raise Declined(f"undefined alias {event.anchor!r}")
                    if stack and isinstance(stack[-1], MappingNode) and keys[-1] is None:
                        raise Declined("an alias as a key")
                else:
                    node = _scalar(text, event, tags, stack)
                    _anchor(anchors, event.anchor, node)
                if not stack:
                    raise Declined("the document is a single scalar")
                _add(stack, keys, node)
            elif cls is _ev.MappingStartEvent or cls is _ev.SequenceStartEvent:
                if event.tag is not None:
                    raise Declined(f"explicit tag {event.tag!r}")
                kind = MappingNode if cls is _ev.MappingStartEvent else SequenceNode
                tag = tags.resolver.resolve(kind, None, event.implicit)
                node = kind(tag, [], _mark(event.start_mark), None, flow_style=event.flow_style,
                            anchor=event.anchor)
                _anchor(anchors, event.anchor, node)
                if stack:
                    _add(stack, keys, node)
                else:
                    root = node
                stack.append(node)
                keys.append(None)
                if len(stack) > MAX_DEPTH:
                    raise Declined(f"collections nested more than {MAX_DEPTH} deep")
            elif cls is _ev.MappingEndEvent or cls is _ev.SequenceEndEvent:
                node = stack.pop()
                keys.pop()
                node.end_mark = _mark(event.end_mark)
            elif cls is _ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise Declined("more than one document")
                if event.version is not None or event.tags:
                    raise Declined("a % directive")
    except Declined:
        raise
    except Exception as e:  # libyaml's error: ruamel reports it with its own wording
        raise Declined(f"libyaml: {type(e).__name__}: {e}") from None
    finally:
        parser.dispose()
    if root is None:
        raise Declined("no collection at the top")
    return root


def _anchor(anchors: dict[str, Any], name: Optional[str], node: Any) -> None:
    if name is None:
        return
    if name in anchors:  # ruamel warns and takes the later one
        raise Declined(f"anchor {name!r} defined twice")
    anchors[name] = node


def _add(stack: list[Any], keys: list[Optional[Any]], node: Any) -> None:
    parent = stack[-1]
    if isinstance(parent, SequenceNode):
        parent.value.append(node)
    elif keys[-1] is None:
        if not isinstance(node, ScalarNode):
            raise Declined("a key that is a collection")
        keys[-1] = node
    else:
        parent.value.append((keys[-1], node))
        keys[-1] = None


def _scalar(text: str, event: Any, tags: _Tags, stack: list[Any]) -> ScalarNode:
    if event.tag is not None:
        raise Declined(f"explicit tag {event.tag!r}")
    value, style = event.value, event.style or None  # PyYAML says '' for plain, ruamel None
    if value == "" and style is None:  # ruamel places an empty value by rules of its own
        raise Declined(f"an empty value at line {event.start_mark.line + 1}")
    tag, built = tags.scalar(value, event.implicit)
    if not built:  # a merge key `<<`, the value key `=`
        raise Declined(f"a scalar resolved to {tag}")
    if style in ("|", ">"):
        parent = stack[-1] if stack else None
        if parent is None or parent.flow_style:
            raise Declined("a block scalar outside a block collection")
        mark = event.start_mark
        i = mark.index  # at the anchor, if any, then the indicator
        if event.anchor is not None and text.startswith("&" + event.anchor, i):
            i += 1 + len(event.anchor)
            while text.startswith(" ", i):
                i += 1
        scanned = _block_scalar(text, i, style, parent.start_mark.column + 1)
        if scanned is None or scanned.replace("\a", "") != value:
            raise Declined(f"block scalar at line {mark.line + 1}")
        value = scanned
    return ScalarNode(tag, value, _mark(event.start_mark), _mark(event.end_mark), style=style,
                      anchor=event.anchor)


def _block_scalar(text: str, i: int, style: str, min_indent: int) -> Optional[str]:
    """The value ruamel's round-trip scanner gives the block scalar whose indicator is text[i]:
    its scan_block_scalar step by step, with the BEL it puts where a `>` scalar folds a line
    (its constructor turns those into `fold_pos`). None for what this does not follow (an
    indentation indicator, a more indented leading blank line)."""
    n = len(text)

    def peek(k: int) -> str:
        return text[k] if k < n else "\0"

    def line_break(k: int) -> tuple[int, str]:
        if peek(k) == "\r" and peek(k + 1) == "\n":
            return k + 2, "\n"
        if peek(k) in "\r\n":
            return k + 1, "\n"
        return k, ""

    if peek(i) != style or min_indent < 1:
        return None
    folded = style == ">"
    i += 1
    chomping: Optional[bool] = None
    if peek(i) in "+-":
        chomping = peek(i) == "+"
        i += 1
    if peek(i) not in "\0 \r\n":
        return None  # an indentation indicator, or ruamel's error
    while peek(i) == " ":
        i += 1
    if peek(i) == "#":
        while peek(i) not in _THE_END:
            i += 1
    if peek(i) not in _THE_END:
        return None
    i, _ = line_break(i)
    col = 0
    # the indentation: the deepest of the leading blank lines and the first text line
    breaks: list[str] = []
    first_indent, max_indent = -1, 0
    while peek(i) in " \r\n":
        if peek(i) != " ":
            if first_indent < 0:
                first_indent = col
            i, br = line_break(i)
            breaks.append(br)
            col = 0
        else:
            i += 1
            col += 1
            max_indent = max(max_indent, col)
    if first_indent > 0 and max_indent > first_indent:
        return None  # ruamel's error
    indent = max(min_indent, max_indent)
    chunks: list[str] = []
    br = ""
    while col == indent and peek(i) != "\0":
        chunks.extend(breaks)
        leading_non_space = peek(i) not in " \t"
        j = i
        while peek(j) not in _THE_END:
            j += 1
        chunks.append(text[i:j])
        col += j - i
        i, br = line_break(j)
        if br:
            col = 0
        breaks = []
        while col < indent and peek(i) == " ":
            i += 1
            col += 1
        while peek(i) in "\r\n":
            i, b = line_break(i)
            breaks.append(b)
            col = 0
            while col < indent and peek(i) == " ":
                i += 1
                col += 1
        if col == indent and peek(i) != "\0":
            if folded and br == "\n":
                chunks.append("\a")
            if folded and br == "\n" and leading_non_space and peek(i) not in " \t":
                if not breaks:
                    chunks.append(" ")
            else:
                chunks.append(br)
        else:
            break
    if chomping is None or chomping is True:
        chunks.append(br)
    if chomping is True:
        chunks.extend(breaks)
    return "".join(chunks)
