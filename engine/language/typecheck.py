"""Type checking of conditions: every name known, every operator given the kind of value it needs.

A value is a number (`"num"`) or true/false (`"bool"`); a condition must be true/false. The
checker knows nothing of rule files: the caller describes the names of one level in a
`Vocabulary` and passes a `report(offset, message, severity)` callback that places a problem at
an offset of the condition's text. Problems come in the order the tree is read, left to right;
`lanhmanh check` prints them in that order. The names and functions are described in
docs/rule-language.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Collection, Mapping, Optional, Protocol, Sequence

from lanhmanh.engine.language import nodes
from lanhmanh.engine.language.problems import did_you_mean
from lanhmanh.engine.language.visitor import Visitor
from lanhmanh.i18n import _

SPECIALS = {"total": "num", "vetoed": "bool"}  # known in classes only, once points are summed
FUNCTIONS = ("at_least", "all", "any", "given", "or_higher", "share")

Report = Callable[[int, str, str], None]  # (offset in the condition's text, message, "error" | "warning")


class IndicatorInfo(Protocol):
    """What the checker reads of an indicator."""

    @property
    def numeric(self) -> bool: ...

    @property
    def required(self) -> bool: ...


class CriterionInfo(Protocol):
    """What the checker reads of a criterion: `or_higher` needs both."""

    @property
    def tier(self) -> Optional[str]: ...

    @property
    def aspect(self) -> Optional[str]: ...


@dataclass
class Vocabulary:
    """The names a condition at one level may use. Criteria and vetoes are filled in as the
    caller checks them: a name is known from the moment it is assigned here."""

    indicators: Mapping[str, IndicatorInfo]
    derived: Collection[str] = ()  # rates: numbers
    criteria: Mapping[str, CriterionInfo] = field(default_factory=dict)  # true/false
    vetoes: Collection[str] = ()  # true/false
    commune_booleans: Collection[str] = ()  # province level: commune booleans, which cannot be summed
    commune_classes: Optional[Sequence[str]] = None  # province level: the classes share() counts


class Checker:
    """Checks the conditions of one level and collects the `share(...)` terms they use."""

    def __init__(self, vocabulary: Vocabulary):
        self.vocabulary = vocabulary
        self.shares: dict[str, tuple[str, ...]] = {}  # canonical text of a share() call → its class ids

    def check_condition(self, node: nodes.Node, text: str, report: Report, owner: Optional[str] = None,
                        reads: Optional[dict[str, None]] = None, in_class: bool = False,
                        indicators_only: bool = False) -> bool:
        """True when `node` (parsed from `text`) is a well-typed condition; errors go to `report`.

        `owner` is the criterion or veto the condition belongs to (it may not read itself);
        `reads` receives, in order, the indicators, derived values and shares it reads;
        `in_class` allows `total` and `vetoed`; `indicators_only` (constraints) hides criteria
        and vetoes."""
        check = _Condition(self, text, report, owner, {} if reads is None else reads, in_class, indicators_only)
        kind = check.visit(node)
        if kind is not None and kind != "bool":
            check.fail(start(node), _("`{text}` is a number; a condition must be true or false (add a comparison)")
                       .format(text=text))
        return not check.failed


class _Condition(Visitor[Optional[str]]):
    """One condition being checked: each `visit_*` returns the node's type, or None when unknown
    (an error has then been reported, and no further error is piled on it)."""

    def __init__(self, checker: Checker, text: str, report: Report, owner: Optional[str],
                 reads: dict[str, None], in_class: bool, indicators_only: bool):
        self.checker, self.vocabulary = checker, checker.vocabulary
        self.text, self.report, self.owner, self.reads = text, report, owner, reads
        self.in_class, self.indicators_only = in_class, indicators_only
        self.failed = False

    def fail(self, offset: int, message: str) -> None:
        self.failed = True
        self.report(offset, message, "error")

    def known_names(self) -> list[str]:
        """The names this condition may use, for 'did you mean'."""
        names = list(self.vocabulary.indicators) + list(self.vocabulary.derived)
        if not self.indicators_only:
            names += list(self.vocabulary.criteria) + list(self.vocabulary.vetoes)
        if self.in_class:
            names += list(SPECIALS)
        return names

    def expect(self, node: nodes.Node, want: str, what: str) -> Optional[str]:
        """The type of `node`, with an error when it is not `want` (`what` names the operator)."""
        kind = self.visit(node)
        if kind is not None and kind != want:
            if want == "num":
                message = _("type mismatch: {what} needs numbers, `{text}` is a true/false")
            else:
                message = _("type mismatch: {what} needs true/falses, `{text}` is a number")
            self.fail(node.pos, message.format(what=what, text=nodes.to_text(node)))
        return kind

    def generic_visit(self, node: nodes.Node, *args: Any) -> Optional[str]:
        raise TypeError(node)

    def visit_Num(self, node: nodes.Num) -> str:
        return "num"

    def visit_Bool(self, node: nodes.Bool) -> str:
        return "bool"

    def visit_Name(self, node: nodes.Name) -> Optional[str]:
        name, vocabulary = node.id, self.vocabulary
        if name in vocabulary.indicators:
            self.reads[name] = None
            return "num" if vocabulary.indicators[name].numeric else "bool"
        if name in vocabulary.derived:
            self.reads[name] = None
            return "num"
        if not self.indicators_only and name in vocabulary.criteria:
            if name == self.owner:
                self.fail(node.pos, _("{name} refers to itself").format(name=repr(name)))
            return "bool"
        if not self.indicators_only and name in vocabulary.vetoes:
            return "bool"
        if name in SPECIALS:
            if not self.in_class:
                self.fail(node.pos, _("{name} is only known in classes (after points are summed)")
                          .format(name=repr(name)))
                return None
            return SPECIALS[name]
        if name in vocabulary.commune_booleans:
            self.fail(node.pos, _("{name} is a commune boolean; at province level add a province indicator")
                      .format(name=repr(name)))
            return None
        self.fail(node.pos, _("unknown name {name}").format(name=repr(name))
                  + did_you_mean(name, self.known_names()))
        return None

    def visit_Neg(self, node: nodes.Neg) -> Optional[str]:
        return self.expect(node.operand, "num", "'-'")

    def visit_Not(self, node: nodes.Not) -> Optional[str]:
        return self.expect(node.operand, "bool", "'not'")

    def visit_BoolOp(self, node: nodes.BoolOp) -> str:
        for item in node.items:
            self.expect(item, "bool", f"'{node.op}'")
        return "bool"

    def visit_Arith(self, node: nodes.Arith) -> Optional[str]:
        if node.op == "/":
            self.fail(node.pos, _("division is only allowed in `derived` (declare the rate there, "
                                  "with its zero_denominator policy)"))
            return None
        self.expect(node.left, "num", f"'{node.op}'")
        self.expect(node.right, "num", f"'{node.op}'")
        return "num"

    def visit_Compare(self, node: nodes.Compare) -> str:
        left, right = self.visit(node.left), self.visit(node.right)
        if left is None or right is None:
            return "bool"
        if left != right:
            message = (_("type mismatch: cannot compare a number with a true/false") if left == "num" else
                       _("type mismatch: cannot compare a true/false with a number"))
            self.fail(node.pos, message)
        elif left == "bool" and node.op not in ("==", "!="):
            self.fail(node.pos, _("'{op}' needs numbers; true/false compare only with == or !=").format(op=node.op))
        return "bool"

    def visit_Call(self, node: nodes.Call) -> Optional[str]:
        if node.fn not in FUNCTIONS:
            self.fail(node.pos, _("unknown function {name}").format(name=repr(node.fn))
                      + did_you_mean(node.fn, FUNCTIONS))
            return None
        check_call: Callable[[nodes.Call], Optional[str]] = getattr(self, "call_" + node.fn)
        return check_call(node)

    def call_at_least(self, node: nodes.Call) -> str:
        args = node.args
        if len(args) < 2 or not isinstance(args[0], nodes.Num) or args[0].value.denominator != 1:
            self.fail(node.pos, _("at_least(k, A, B, ...) needs a whole number k and at least one condition"))
            return "bool"
        k, conditions = int(args[0].value), len(args) - 1
        if k > conditions:
            self.fail(args[0].pos, _("at_least({k}, ...) of {n} conditions can never hold").format(k=k, n=conditions))
        elif k < 1:
            self.fail(args[0].pos, _("at_least({k}, ...) always holds").format(k=k))
        for arg in args[1:]:
            self.expect(arg, "bool", "at_least")
        return "bool"

    def call_all(self, node: nodes.Call) -> str:
        if not node.args:
            self.fail(node.pos, _("{function}() needs at least one condition").format(function=node.fn))
        for arg in node.args:
            self.expect(arg, "bool", node.fn)
        return "bool"

    call_any = call_all

    def call_given(self, node: nodes.Call) -> str:
        args = node.args
        if len(args) != 1 or not isinstance(args[0], nodes.Name) or args[0].id not in self.vocabulary.indicators:
            self.fail(node.pos, _("given(x) takes one indicator name"))
            return "bool"
        name = args[0].id
        self.reads[name] = None
        if self.vocabulary.indicators[name].required:
            self.report(node.pos, _("given({name}) is always true: the indicator is required").format(name=name),
                        "warning")
        return "bool"

    def call_or_higher(self, node: nodes.Call) -> str:
        args = node.args
        if len(args) != 1 or not isinstance(args[0], nodes.Name) or args[0].id not in self.vocabulary.criteria:
            self.fail(node.pos, _("or_higher(C) takes one criterion id"))
            return "bool"
        name = args[0].id
        criterion = self.vocabulary.criteria[name]
        if criterion.tier is None or criterion.aspect is None:
            self.fail(args[0].pos, _("or_higher({name}) needs criterion {quoted} to have a `tier` and an `aspect`")
                      .format(name=name, quoted=repr(name)))
        if name == self.owner:
            self.fail(args[0].pos, _("{name} refers to itself").format(name=repr(self.owner)))
        return "bool"

    def call_share(self, node: nodes.Call) -> Optional[str]:
        classes = self.vocabulary.commune_classes
        if classes is None:
            self.fail(node.pos, _("share(...) is only known at province level"))
            return None
        for arg in node.args:
            if not isinstance(arg, nodes.Name) or arg.id not in classes:
                got = arg.id if isinstance(arg, nodes.Name) else nodes.to_text(arg)
                self.fail(arg.pos, _("share() takes commune class ids; {name} is not one").format(name=repr(got))
                          + did_you_mean(got, classes))
        if not node.args:
            self.fail(node.pos, _("share() needs at least one class id"))
        key = nodes.to_text(node)
        self.checker.shares[key] = tuple(arg.id for arg in node.args if isinstance(arg, nodes.Name))
        self.reads[key] = None
        return "num"


def start(node: nodes.Node) -> int:
    """Offset of the leftmost character of an expression (binary nodes keep their operator's)."""
    while isinstance(node, (nodes.Arith, nodes.Compare)):
        node = node.left
    if isinstance(node, nodes.BoolOp):
        return start(node.items[0])
    return node.pos

