"""Decorators: which decorators a definition may carry, and which one is its memory type.

This module owns the decorator rules (the memory-type decorators recognised by what they
resolve to, the small allowlist, ``@x.setter``), the messages for a memory-type decorator that
is shadowed, not imported or misplaced (on a class, nested, ``async``, twice), and
:data:`NO_FUNCTIONS_MESSAGE`. It imports only the standard library, :mod:`.findings`,
:mod:`.policy` (the decorator table) and :mod:`.text`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.validation.policy import (
    DECORATOR_LIST,
    DECORATOR_PATHS,
    MEMORY_DECORATOR_NAMES,
)
from openhcs_plugins.validation.text import snippet_of

__all__ = ["NO_FUNCTIONS_MESSAGE", "DecoratorRules"]


NO_FUNCTIONS_MESSAGE = (
    "No valid functions found with memory type decorators. "
    f"Functions must be decorated with one of: {DECORATOR_LIST}"
)


class DecoratorRules:
    """Decorators of every definition (a part of the inspector)."""

    def _check_decorators(self, node: Any, scope: str) -> tuple[ast.expr, str] | None:
        """Check every decorator; return the memory decorator (expr, kind) if there is one."""
        module_scope = scope in ("top", "module")
        memory: list[tuple[ast.expr, str]] = []
        name = node.name
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            path = self.resolve(target, module_scope)
            kind = DECORATOR_PATHS.get(path) if path is not None else None
            if kind is not None:
                memory.append((decorator, kind))
                continue
            if (
                scope != "nested"
                and id(node) not in self.runtime_defs
                and isinstance(decorator, ast.Call)
            ):
                for argument in (*decorator.args, *decorator.keywords):
                    self.definition_time.append(
                        (argument, module_scope, f"An argument of the decorator of '{name}'")
                    )
            if path is not None and path in self.policy.allowed_decorators:
                continue
            if (
                isinstance(target, ast.Attribute)
                and target.attr in ("setter", "getter", "deleter")
                and isinstance(target.value, ast.Name)
            ):
                continue
            if (
                path == "functools.partial"
                and isinstance(decorator, ast.Call)
                and decorator.args
                and self.resolve(decorator.args[0], module_scope) in self.policy.allowed_decorators
            ):
                continue
            spelled = (
                target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            )
            if (
                spelled in MEMORY_DECORATOR_NAMES
                or spelled == "memory_types"
                or (
                    isinstance(target, ast.Name)
                    and any(
                        b.path in DECORATOR_PATHS for b in self.module_bindings.get(target.id, ())
                    )
                )
            ):
                self._unresolved_memory_decorator(node, decorator, target, spelled, module_scope)
            else:
                self.add(
                    "decorator-not-allowed",
                    f"Decorator '@{snippet_of(decorator)}' on '{name}' is not allowed: "
                    "decorators run code when the function is defined.",
                    decorator,
                    f"Use only the memory-type decorators ({DECORATOR_LIST}) and "
                    "functools.wraps/lru_cache/cache, dataclasses.dataclass, staticmethod, "
                    "classmethod, property, typing.overload; a trusted decorator can be added "
                    "in settings.",
                )
        if not memory:
            return None
        self.memory_decorated += 1
        if isinstance(node, ast.ClassDef):
            self.add(
                "decorator",
                f"Memory-type decorator on class '{name}': only functions can be registered.",
                node,
                "Decorate a function whose first parameter is 'image'.",
                name,
            )
            return None
        if scope != "top":
            where = {
                "class": "a class",
                "module": "an if/try block",
                "nested": "another function",
            }[scope]
            self.add(
                "decorator",
                f"Function '{name}' has a memory-type decorator but is defined inside {where}; "
                "hosts only find functions defined at the top level of the file.",
                node,
                "Move the function to the top level of the file (no indentation).",
                name,
            )
            return None
        if isinstance(node, ast.AsyncFunctionDef):
            self.add(
                "decorator",
                f"Function '{name}' is 'async def'; hosts call functions synchronously.",
                node,
                "Use a plain 'def'.",
                name,
            )
            return None
        if len(memory) > 1:
            self.add(
                "decorator",
                f"Function '{name}' has {len(memory)} memory-type decorators; it can declare only "
                "one memory type.",
                memory[1][0],
                'Keep one decorator; declare a different output with output_type="...".',
                name,
            )
            return None
        return memory[0]

    def _unresolved_memory_decorator(
        self, node: Any, decorator: ast.expr, target: Any, spelled: str, module_scope: bool
    ) -> None:
        name = node.name
        shown = snippet_of(target)
        import_line = f"from openhcs_plugins.memory import {spelled}"
        if isinstance(target, ast.Name):
            bindings = self.module_bindings.get(target.id, [])
            decorator_lines = [b.line for b in bindings if b.path in DECORATOR_PATHS]
            others = [b for b in bindings if b.path not in DECORATOR_PATHS]
            if decorator_lines and others:
                other = others[-1]
                what = {
                    "import": f"'import {other.path}'",
                    "def": "a 'def'",
                    "class": "a 'class'",
                    "assign": "an assignment",
                }.get(other.kind, other.kind)
                message = (
                    f"Decorator '@{shown}' on '{name}' is not a memory-type decorator: "
                    f"'{target.id}' is imported as the decorator on line {decorator_lines[0]}, "
                    f"but line {other.line} rebinds it ({what}) and shadows the decorator."
                )
                hint = (
                    f"Do not reuse the name '{target.id}': import the array library under "
                    f"another name (e.g. 'import {spelled} as {_ALIAS.get(spelled, 'lib')}') or "
                    f"the decorator as '{spelled}_func' "
                    f"('from openhcs_plugins.memory import {spelled} as {spelled}_func')."
                )
            elif others:
                other = others[-1]
                message = (
                    f"Decorator '@{shown}' on '{name}' is not a memory-type decorator: "
                    f"'{target.id}' is bound on line {other.line}"
                    + (f" to '{other.path}'" if other.path else "")
                    + "."
                )
                hint = f"Import the decorator: '{import_line}'."
            elif target.id in self.global_names:
                message = (
                    f"Decorator '@{shown}' on '{name}' is not a memory-type decorator: "
                    f"'{target.id}' is declared global in a function, which can rebind it."
                )
                hint = "Do not declare the decorator's name global."
            else:
                message = f"Decorator '@{shown}' on '{name}' is not imported."
                hint = f"Add '{import_line}' at the top of the file."
        else:
            message = (
                f"Decorator '@{shown}' on '{name}' does not resolve to a memory-type decorator."
            )
            hint = (
                "Import the decorator module by its name: 'import openhcs_plugins.memory as "
                f"memory' and '@memory.{spelled}', or '{import_line}'."
            )
        self.add("decorator", message, decorator, hint, name)


_ALIAS = {
    "numpy": "np",
    "torch": "th",
    "cupy": "cp",
    "jax": "jx",
    "tensorflow": "tf",
    "pyclesperanto": "cle",
}
