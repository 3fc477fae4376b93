"""One way to act on each kind of expression node: subclass `Visitor`.

    class Names(Visitor[set]):
        def visit_Name(self, node: nodes.Name) -> set:
            return {node.id}

        def generic_visit(self, node: nodes.Node) -> set:
            return set().union(*(self.visit(child) for child in nodes.children(node)))

`visit(node)` calls the method named `visit_` + the node's class name — `visit_Num`,
`visit_Bool`, `visit_Name`, `visit_Call`, `visit_Neg`, `visit_Not`, `visit_Arith`,
`visit_Compare`, `visit_BoolOp` — with the node, and returns what it returns. A class without
such a method goes to `generic_visit(node)`, which by default visits every child
(`nodes.children`, left to right) and returns None; override it to fold the children's results
or to refuse unexpected nodes. A `visit_X` method that wants to go on into the children calls
`self.generic_visit(node)` or `self.visit(child)` itself. Extra arguments to `visit` are passed
through to the method (e.g. a scope or an environment).
"""
from __future__ import annotations

from typing import Any, Generic, TypeVar

from lanhmanh.engine.language import nodes

Result = TypeVar("Result")


class Visitor(Generic[Result]):
    """Dispatches on the node's class to `visit_<ClassName>`, else to `generic_visit`."""

    def visit(self, node: nodes.Node, *args: Any) -> Result:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            return self.generic_visit(node, *args)
        return method(node, *args)

    def generic_visit(self, node: nodes.Node, *args: Any) -> Result:
        for child in nodes.children(node):
            self.visit(child, *args)
        return None  # type: ignore[return-value]
