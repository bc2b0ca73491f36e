"""Reading the module facts the loader needs out of the same pass that checks the policy.

This module owns :class:`ModuleReader`, the part of the inspector that reads the top-level
statements (imports, assignments, the decorators of top-level functions) and the names the walk
collected, and turns them into a :class:`~openhcs_plugins.validation.facts.ModuleFacts`: whether a
memory-type decorator is used other than on a top-level ``def`` (so importing the module may
make functions), the names top-level imports bind, and the line of each top-level assignment.
It imports only the standard library, :mod:`.facts`, :mod:`.policy` (the decorator table) and
:mod:`.walk`.
"""

from __future__ import annotations

import ast
from types import MappingProxyType
from typing import Any

from openhcs_plugins.validation.facts import ModuleFacts
from openhcs_plugins.validation.policy import DECORATOR_MODULES, MEMORY_DECORATOR_NAMES
from openhcs_plugins.validation.walk import subtree

__all__ = ["ModuleReader"]

_DECORATOR_MODULES = frozenset(DECORATOR_MODULES)
_DECORATOR_NAMES = frozenset({*MEMORY_DECORATOR_NAMES, "memory_types"})


class ModuleReader:
    """Top-level statements noted during the walk, read as module facts (an inspector part)."""

    def _top_statements(self: Any) -> tuple[set[str], dict[str, int], list[Any], list[Any]]:
        """Names bound by top-level imports, the first line of each top-level assignment, the
        top-level import statements and the decorators of top-level functions.

        The top level is the module's statement list (the walk saw every statement already);
        only assignment targets are looked into, a few nodes each.
        """
        imported: set[str] = set()
        lines: dict[str, int] = {}
        import_nodes: list[Any] = []
        decorators: list[Any] = []
        for stmt in self.tree.body:
            cls = stmt.__class__
            if cls is ast.Import:
                import_nodes.append(stmt)
                imported.update((a.asname or a.name).split(".")[0] for a in stmt.names)
            elif cls is ast.ImportFrom:
                import_nodes.append(stmt)
                imported.update(a.asname or a.name for a in stmt.names)
            elif cls is ast.FunctionDef or cls is ast.AsyncFunctionDef:
                decorators.extend(stmt.decorator_list)
            elif cls is ast.Assign or cls is ast.AnnAssign or cls is ast.AugAssign:
                for node in subtree(stmt.targets if cls is ast.Assign else [stmt.target]):
                    if node.__class__ is ast.Name:
                        lines.setdefault(node.id, stmt.lineno)
        return imported, lines, import_nodes, decorators

    def module_facts(self: Any) -> ModuleFacts:
        """The facts, read after the first walk (before string annotations add their names)."""
        imported, lines, import_nodes, decorators = self._top_statements()
        return ModuleFacts(
            makes_functions_at_import=self._makes_functions_at_import(import_nodes, decorators),
            imported_names=frozenset(imported),
            binding_lines=MappingProxyType(lines),
            decorated_functions=frozenset(
                stmt.name
                for stmt in self.tree.body
                if (stmt.__class__ is ast.FunctionDef or stmt.__class__ is ast.AsyncFunctionDef)
                and stmt.decorator_list
            ),
        )

    def _makes_functions_at_import(
        self: Any, import_nodes: list[Any], decorators: list[Any]
    ) -> bool:
        """True when a memory-type decorator is used other than on a top-level ``def``.

        That is how a factory (``def make_filter(size): @numpy def f(image): ...``) or a
        ``numpy(f)`` call makes decorated functions the static reader cannot see. Only names
        bound by top-level imports count (``from openhcs_plugins.memory import numpy``,
        ``import openhcs_plugins.memory as m`` with ``m.numpy``).
        """
        decorator_names: set[str] = set()
        module_aliases: set[str] = set()
        for node in import_nodes:
            if node.__class__ is ast.ImportFrom and node.module in _DECORATOR_MODULES:
                for alias in node.names:
                    if alias.name in _DECORATOR_NAMES:
                        decorator_names.add(alias.asname or alias.name)
                    elif f"{node.module}.{alias.name}" in _DECORATOR_MODULES:
                        module_aliases.add(alias.asname or alias.name)
            elif node.__class__ is ast.Import:
                for alias in node.names:
                    if alias.name in _DECORATOR_MODULES and alias.asname:
                        module_aliases.add(alias.asname)
        if not decorator_names and not module_aliases:
            return False
        # the Name nodes (read) that use a decorator: bare, or at the root of a chain
        uses = [node for node in self.bare_names if node.id in decorator_names]
        for root, attrs, _node in self.chains:
            if root.id in decorator_names or (
                root.id in module_aliases and attrs[-1] in _DECORATOR_NAMES
            ):
                uses.append(root)
        if not uses:
            return False
        allowed = {id(root) for root in map(_root, decorators) if root is not None}
        outside = [node for node in uses if id(node) not in allowed]
        if not outside:
            return False
        # a use inside a top-level decorator's arguments: look there (a few nodes) to be sure
        inside = {id(node) for node in subtree(decorators)}
        return any(id(node) not in inside for node in outside)


def _root(decorator: Any) -> ast.Name | None:
    """The name a decorator's target (``@name``, ``@a.b``, ``@name(...)``) starts at."""
    target = decorator.func if decorator.__class__ is ast.Call else decorator
    while target.__class__ is ast.Attribute:
        target = target.value
    return target if target.__class__ is ast.Name else None
