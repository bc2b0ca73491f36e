"""The single iterative walk over the syntax tree, and the facts it collects.

This module owns the shape of the tree (which fields of a node hold children), the level-order
walk with its own stack (so a 700-deep attribute chain is a "too complex" finding, not a
``RecursionError``; depth and size limits are enforced here), and :class:`Walk`, the state the
pass fills in (imports, bindings, attribute chains, stores, definitions) for the checks that
run afterwards. The node handlers live in the rule modules; the assembled pass
(:mod:`.inspector`) gives the walk its dispatch table. It imports only the standard library,
:mod:`.findings` and :mod:`.index`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar

from openhcs_plugins.validation.budget import Budget
from openhcs_plugins.validation.calls import CALL_NAMES
from openhcs_plugins.validation.findings import Finding, TooComplex
from openhcs_plugins.validation.index import index_of
from openhcs_plugins.validation.names import Binding
from openhcs_plugins.validation.policy import (
    ImportPolicy,
)

__all__ = ["CHILD_FIELDS", "DEF_NODES", "FUNCTION_NODES", "Walk"]


def _all_node_classes() -> list[type]:
    out: list[type] = []
    todo = [ast.AST]
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


#: Fields that never hold a child node (names, operators, contexts, flags).
_SCALAR_FIELDS = frozenset(
    """ctx op ops id attr name names module level arg kind conversion is_async type_comment
    simple tag rest kwd_attrs type_ignores n s lineno""".split()
)


def _child_fields() -> dict[type, tuple[str, ...]]:
    table: dict[type, tuple[str, ...]] = {type(None): ()}
    for cls in _all_node_classes():
        fields = tuple(f for f in getattr(cls, "_fields", ()) if f not in _SCALAR_FIELDS)
        if cls is ast.Constant or issubclass(cls, ast.Constant) or cls is ast.MatchSingleton:
            fields = ()
        table[cls] = fields
    return table


CHILD_FIELDS = _child_fields()


#: Nodes walked between two looks at the time budget within one level.
_CHUNK = 8192


def _checked(level: list[Any], budget: Budget) -> Iterator[Any]:
    """The nodes of a wide level, asking ``budget`` every :data:`_CHUNK` nodes."""
    for start in range(0, len(level), _CHUNK):
        if start:
            budget.check(getattr(level[start], "lineno", None))
        yield from level[start : start + _CHUNK]


def push_children(node: Any, todo: list[Any]) -> None:
    """Put the child nodes of ``node`` on ``todo`` (an iterative walk's stack)."""
    for field_name in CHILD_FIELDS.get(node.__class__, ()):
        value = getattr(node, field_name, None)
        if value.__class__ is list:
            todo.extend(value)
        elif value is not None:
            todo.append(value)


def subtree(roots: Iterable[Any]) -> Iterator[Any]:
    """Every node under ``roots``, the roots included, depth first and without recursion."""
    todo = list(roots)
    while todo:
        node = todo.pop()
        yield node
        push_children(node, todo)


DEF_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)


class Walk:
    """Collects facts in one pass; the rule parts (mixed into the inspector) check them."""

    #: node class -> (handler or None, child fields); set by the assembled inspector.
    TABLE: ClassVar[dict[type, tuple[Any, tuple[str, ...]]]] = {}

    def __init__(self, tree: ast.Module, policy: ImportPolicy) -> None:
        self.tree = tree
        self.policy = policy
        #: the time budget; inspect_tree sets the validation's own (None: no deadline).
        self.budget: Budget | None = None
        self.index = index_of(policy)
        self.findings: list[Finding] = []
        #: name -> {dotted path: first line} for every import binding, in any scope.
        self.imports: dict[str, dict[str, int]] = {}
        #: names bound by anything other than an import, in any scope.
        self.stored: set[str] = set()
        #: name -> bindings at module scope (what a top-level decorator resolves against).
        self.module_bindings: dict[str, list[Binding]] = {}
        self.global_names: dict[str, int] = {}
        #: Name nodes read on their own (not as the base of an attribute chain).
        self.bare_names: list[ast.Name] = []
        #: (root Name, attribute names innermost first, outermost Attribute node).
        self.chains: list[tuple[ast.Name, list[str], ast.Attribute]] = []
        #: attribute/subscript targets that are written or deleted.
        self.stores: list[ast.expr] = []
        #: calls of a container method that changes its receiver (calls.py).
        self.mutations: list[ast.Call] = []
        #: attribute nodes whose denied spelling may be the file's own name (rules.py).
        self.spelled: list[tuple[ast.Attribute, str]] = []
        #: ``NAME.format`` nodes, decided once the file's bindings are known (rules.py).
        self.format_names: list[ast.Attribute] = []
        #: (bound name, Name whose value it takes) for alias tracking.
        self.aliases: list[tuple[str, str]] = []
        #: every function or class definition with its scope.
        self.defs: list[tuple[ast.AST, str]] = []
        #: id(def node) -> "top" | "module" | "class"; nested definitions are absent.
        self.scope: dict[int, str] = {}
        #: (expression, module_scope, description) evaluated when the file is loaded.
        self.definition_time: list[tuple[ast.expr, bool, str]] = []
        self.annotations: list[ast.expr] = []
        #: ``X["..."]`` subscripts (string forward references in generics).
        self.string_subscripts: list[ast.Subscript] = []
        #: module- and class-level values (aliases such as ``Alias = List["..."]``).
        self.type_values: list[ast.expr] = []
        self.single_type_calls: set[int] = set()
        #: definitions inside classes that are made at run time (in a function body).
        self.runtime_defs: set[int] = set()
        self._parsed_strings: set[int] = set()
        #: ``wraps`` references that are ``@functools.wraps(func)`` on a ``def``.
        self.plain_wraps: set[int] = set()
        #: names used as decorators (checked against the decorator lists, not as values).
        self.decorator_refs: set[int] = set()
        self.memory_decorated = 0
        self.nodes = 0
        self._levels: dict[int, list[Any]] = {}

    def add(self, rule: str, message: str, node: Any, hint: str, function: str = "") -> None:
        line = node if isinstance(node, int) else getattr(node, "lineno", 0)
        self.findings.append(Finding(rule, message, line, hint, function))

    def run(self, roots: list[tuple[ast.AST, int]]) -> None:
        """Walk from ``roots`` (node, depth), one depth level at a time.

        Level order gives every node's depth without storing it per node; an attribute chain
        (walked whole by its handler) puts its root ``len(chain)`` levels further down.
        """
        levels = self._levels = {}
        for node, depth in roots:
            levels.setdefault(depth, []).append(node)
        depth = min(levels)
        table = self.TABLE
        policy = self.policy
        max_depth = policy.max_depth
        max_nodes = policy.max_nodes
        name_cls = ast.Name
        constant_cls = ast.Constant
        call_cls = ast.Call
        attribute_cls = ast.Attribute
        call_names = CALL_NAMES
        load_cls = ast.Load
        list_cls = list
        denied_builtins = policy.denied_builtins
        bare = self.bare_names.append
        stored = self.stored.add
        count = self.nodes
        while levels:
            level = levels.pop(depth, None)
            if level is None:
                depth += 1
                continue
            if depth > max_depth:
                self._too_deep(level[0])
            count += len(level)
            if count > max_nodes:
                raise TooComplex(
                    f"Code is too large to validate: more than {max_nodes} syntax-tree nodes.",
                    getattr(level[0], "lineno", 1),
                )
            below = levels.setdefault(depth + 1, [])
            push = below.append
            extend = below.extend
            budget = self.budget
            if budget is not None:
                budget.check(getattr(level[0], "lineno", None))
                if len(level) > _CHUNK:  # a wide level: ask again every _CHUNK nodes
                    level = _checked(level, budget)
            for node in level:
                cls = node.__class__
                if cls is name_cls:
                    ident = node.id
                    if ident[0] == "_" or ident in denied_builtins:
                        self._check_name(node, ident)
                    if node.ctx.__class__ is load_cls:
                        bare(node)
                    else:
                        stored(ident)
                    continue
                if cls is constant_cls:
                    continue
                if cls is call_cls:
                    func = node.func
                    if func.__class__ is attribute_cls:
                        if func.attr in call_names:
                            self._call(node, func.attr)
                    elif func.__class__ is name_cls:
                        if func.id == "type":
                            self._type_call(node)
                        elif func.id in call_names:
                            self._call(node, func.id)
                    elif func.__class__ is call_cls and len(node.args) >= 3:
                        self._type_call(node)
                handler, fields = table[cls]
                if handler is not None and handler(self, node, depth, push):
                    continue
                for field_name in fields:
                    value = getattr(node, field_name)
                    if value.__class__ is list_cls:
                        extend(value)
                    elif value is not None:
                        push(value)
            if not below:
                del levels[depth + 1]
            depth += 1
        self.nodes = count

    def _defer(self, node: ast.AST, depth: int) -> None:
        """Visit ``node`` at ``depth`` (more than one level below the current one)."""
        if depth > self.policy.max_depth:
            self._too_deep(node)
        self._levels.setdefault(depth, []).append(node)

    def _too_deep(self, node: ast.AST) -> None:
        raise TooComplex(
            f"Code is too complex to validate safely: expressions or blocks nest deeper than "
            f"{self.policy.max_depth} levels.",
            getattr(node, "lineno", 1),
        )
