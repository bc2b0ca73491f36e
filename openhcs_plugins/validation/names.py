"""Names: which names are bound where, what a name resolves to, and the rules on names.

This module owns :class:`Binding`, the rules on names used or bound (denied builtins, dunder
names), the handlers of the nodes that bind names (arguments, ``global``, ``except ... as``,
match captures, assignments that alias a module), and resolution after the walk (the dotted
path a name or attribute chain stands for). It imports only the standard library,
:mod:`.findings` and :mod:`.text`.
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

from openhcs_plugins.validation.text import norm

__all__ = ["Binding", "NameRules"]


class Binding(NamedTuple):
    kind: str  # "import", "def", "class", "assign", "global"
    path: str | None
    line: int


class NameRules:
    """Name bindings, aliases and resolution (a part of the inspector)."""

    def _check_name(self, node: Any, ident: str, binding: bool | None = None) -> None:
        """Denied builtins and dunders, used or bound (``node`` may be a line number)."""
        ident = norm(ident)
        policy = self.policy
        if binding is None:
            binding = not isinstance(getattr(node, "ctx", None), ast.Load)
        dunder = ident.startswith("__") and ident.endswith("__") and len(ident) > 4
        if dunder and ident in (
            policy.storable_dunder_names if binding else policy.allowed_dunder_names
        ):
            return
        if ident in policy.denied_builtins:
            if binding:
                self.add(
                    "denied-builtin",
                    f"Name '{ident}' is a builtin that custom functions may not use, not even "
                    "as a variable name.",
                    node,
                    f"Rename it (for example '{ident.strip('_')}_value').",
                )
            else:
                self.add(
                    "denied-builtin",
                    f"Builtin '{ident}' is not allowed in custom functions.",
                    node,
                    _BUILTIN_HINTS.get(ident, _DEFAULT_BUILTIN_HINT),
                )
        elif dunder and binding and ident in policy.allowed_dunder_names:
            self.add(
                "dunder-name",
                f"Assigning '{ident}' is not allowed: it changes how the host sees the module "
                "and its functions.",
                node,
                "Leave it as Python sets it.",
            )
        elif dunder:
            self.add(
                "dunder-name",
                f"Name '{ident}' is not allowed in custom functions: dunder names reach "
                "interpreter internals.",
                node,
                "Use an ordinary name; of the dunder names only "
                + ", ".join(sorted(policy.allowed_dunder_names))
                + " are allowed.",
            )

    def _bind(self, name: str, node: Any) -> None:
        """A name bound by something other than an import (def, class, argument, handler)."""
        if name in self.policy.denied_builtins or name.startswith("__") or not name.isascii():
            self._check_name(node, name, binding=True)
        self.stored.add(name)

    def _module_binding(self, name: str, kind: str, path: str | None, line: int) -> None:
        self.module_bindings.setdefault(name, []).append(Binding(kind, path, line))

    def _arg(self, node: ast.arg, depth: int, push: Any) -> bool:
        self._bind(node.arg, node)
        if node.annotation is not None:
            push(node.annotation)
        return True

    def _except_handler(self, node: ast.ExceptHandler, depth: int, push: Any) -> bool:
        if node.name is not None:
            self._bind(node.name, node)
        return False

    def _match_name(self, node: Any, depth: int, push: Any) -> bool:
        if node.name is not None:
            self._bind(node.name, node)
        return False

    def _match_mapping(self, node: ast.MatchMapping, depth: int, push: Any) -> bool:
        if node.rest is not None:
            self._bind(node.rest, node)
        return False

    def _match_class(self, node: ast.MatchClass, depth: int, push: Any) -> bool:
        # ``case object(__globals__=g)`` reads an attribute without an Attribute node.
        for attr in node.kwd_attrs:
            name = norm(attr)
            if name in ("format", "format_map", "wraps"):
                # ``case str(format=f)`` hands out str.format without a literal to check
                self.add(
                    "denied-attribute",
                    f"Attribute '{name}' in a class pattern is not allowed: it hands out a "
                    "function that reads any attribute (or copies another function's globals).",
                    node,
                    "Match on values, not on methods; call the method on a literal instead.",
                )
                continue
            self._check_attribute(name, node, "in a class pattern ")
        return False

    def _global(self, node: ast.Global, depth: int, push: Any) -> bool:
        for name in node.names:
            self._bind(name, node)
            self.global_names.setdefault(name, node.lineno)
        return True

    def _nonlocal(self, node: ast.Nonlocal, depth: int, push: Any) -> bool:
        for name in node.names:
            self._bind(name, node)
        return True

    @staticmethod
    def _root_name(expr: Any) -> str | None:
        while expr.__class__ is ast.Attribute:
            expr = expr.value
        return expr.id if expr.__class__ is ast.Name else None

    def _alias_targets(self, targets: list[Any], value: Any) -> None:
        root = self._root_name(value)
        if root is None:
            return
        for target in targets:
            if target.__class__ is ast.Name:
                self.aliases.append((target.id, root))

    def _assign(self, node: ast.Assign, depth: int, push: Any) -> bool:
        value = node.value
        if value.__class__ is ast.Name or value.__class__ is ast.Attribute:
            self._alias_targets(node.targets, value)
        return False

    def _ann_assign(self, node: ast.AnnAssign, depth: int, push: Any) -> bool:
        self.annotations.append(node.annotation)
        value = node.value
        if value is not None and value.__class__ in (ast.Name, ast.Attribute):
            self._alias_targets([node.target], value)
        return False

    def _named_expr(self, node: ast.NamedExpr, depth: int, push: Any) -> bool:
        if node.value.__class__ in (ast.Name, ast.Attribute):
            self._alias_targets([node.target], node.value)
        return False

    def _for(self, node: ast.For, depth: int, push: Any) -> bool:
        it = node.iter
        if it.__class__ in (ast.Tuple, ast.List, ast.Set):
            for element in it.elts:
                self._alias_targets([node.target], element)
        return False

    def resolve_name(self, name: str, module_scope: bool) -> str | None:
        """The dotted path a name stands for, ``builtins.NAME`` when unbound, None if unclear."""
        if name in self.global_names:
            return None
        bindings = self.module_bindings.get(name, ())
        if module_scope:
            if not bindings:
                return f"builtins.{name}"
            paths = {b.path for b in bindings}
            if len(paths) != 1 or any(b.kind != "import" for b in bindings):
                return None
            return paths.pop()
        if any(b.kind != "import" for b in bindings):
            return None
        if name in self.stored:
            return None
        paths = set(self.imports.get(name, ())) | {b.path for b in bindings}
        if not paths:
            return f"builtins.{name}"
        return paths.pop() if len(paths) == 1 else None

    def resolve(self, expr: Any, module_scope: bool) -> str | None:
        attrs = []
        while expr.__class__ is ast.Attribute:
            attrs.append(expr.attr)
            expr = expr.value
        if expr.__class__ is not ast.Name:
            return None
        base = self.resolve_name(expr.id, module_scope)
        if base is None:
            return None
        return ".".join([base, *reversed(attrs)]) if attrs else base

    def _tainted_names(self) -> set[str]:
        """The imported names and every name an alias chain leads to from them.

        A graph search over the alias edges (root -> target), linear in the number of aliases
        in whatever order they were written: a fixed-point loop over the list is quadratic on
        a chain written backwards (``a0 = a1`` ... ``aN = np``).
        """
        edges: dict[str, list[str]] = {}
        for target, root in self.aliases:
            edges.setdefault(root, []).append(target)
        tainted = set(self.imports)
        stack = [name for name in tainted if name in edges]
        budget = self.budget
        steps = 0
        while stack:
            for target in edges.get(stack.pop(), ()):
                if target not in tainted:
                    tainted.add(target)
                    stack.append(target)
            steps += 1
            if budget is not None and steps % 4096 == 0:
                budget.check(None)
        return tainted


_DEFAULT_BUILTIN_HINT = "It is not available in a processing function."


_BUILTIN_HINTS = {
    "eval": "Write the expression directly.",
    "exec": "Write the code directly.",
    "compile": "Write the code directly.",
    "open": "Images are passed in and returned; read and write files outside the function.",
    "__import__": "Use an import statement with an allowed module.",
    "getattr": "Access attributes directly (obj.name), or use a dict for dynamic lookups.",
    "setattr": "Assign directly (obj.name = value) on your own objects.",
    "delattr": "Delete directly on your own objects.",
    "globals": "Pass values as parameters or use module-level constants.",
    "locals": "Use the variables directly.",
    "vars": "Use the attributes directly, or dataclasses.asdict() for dataclasses.",
    "dir": "Use the attributes you know by name.",
    "input": "Make it a parameter of the function.",
    "help": "Read the documentation outside the function.",
    "breakpoint": "Debug outside the function.",
    "memoryview": "Use numpy views (image[...], np.frombuffer on your own bytes).",
    "exit": "Raise an exception or return.",
    "quit": "Raise an exception or return.",
}
