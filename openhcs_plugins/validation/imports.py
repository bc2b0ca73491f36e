"""Imports: the allowlist check of import statements and of what imported names reach.

This module owns the handlers of ``import`` and ``from ... import``, the allowlist check of an
imported path, and the checks after the walk that need every import of the module: attribute
chains and bare names that start at an imported module, and assignments into imported modules
or their objects. It imports only the standard library, :mod:`.findings`, :mod:`.index` and
:mod:`.text`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.validation.index import ALLOWED, DENIED, PARENT
from openhcs_plugins.validation.text import norm, snippet_of

__all__ = ["ImportRules"]


class ImportRules:
    """Import statements and the use of imported names (a part of the inspector)."""

    def _record_import(self, name: str, path: str, node: ast.AST) -> None:
        if name in self.policy.denied_builtins or name.startswith("__") or not name.isascii():
            self._check_name(node, name, binding=True)
        self.imports.setdefault(name, {}).setdefault(path, node.lineno)  # type: ignore[attr-defined]

    def _import(self, node: ast.Import, depth: int, push: Any) -> bool:
        for alias in node.names:
            module = norm(alias.name)
            self._check_module(module, module, node)
            if alias.asname is not None:
                self._record_import(alias.asname, module, node)
            else:
                first = module.split(".", 1)[0]
                self._record_import(first, first, node)
        return True

    def _import_from(self, node: ast.ImportFrom, depth: int, push: Any) -> bool:
        module = norm(node.module or "")
        if node.level:
            self.add(
                "import-not-allowed",
                f"Relative import 'from {'.' * node.level}{module} import ...' is not allowed: a "
                "function file is not part of a package.",
                node,
                "Import by absolute module name, or put shared helpers in the same file.",
            )
            return True
        if self.index.path_status(module) not in (ALLOWED, PARENT):
            self._check_module(module, module, node)
            return True
        for alias in node.names:
            name = norm(alias.name)
            if name == "*":
                self.add(
                    "import-not-allowed",
                    f"'from {module} import *' is not allowed: it can bind names the check "
                    "cannot see.",
                    node,
                    f"Import the names you use: 'from {module} import name1, name2', or "
                    f"'import {module}'.",
                )
                continue
            if module != "__future__" and self._check_attribute(
                name, node, f"(imported from '{module}') "
            ):
                continue
            path = f"{module}.{name}"
            if self._check_module(path, module, node):
                self._record_import(alias.asname or name, path, node)
        return True

    def _check_module(self, path: str, shown: str, node: ast.AST) -> bool:
        """Allowlist check of an imported path; True when it is allowed."""
        policy = self.policy
        status = self.index.path_status(path)
        if status == ALLOWED or status == PARENT:
            return True
        top = path.split(".", 1)[0]
        if policy.is_blocked(path):
            self.add(
                "import-not-allowed",
                f"Dangerous import detected: '{shown}'. Module '{top}' is not allowed in custom "
                "functions.",
                node,
                "Custom functions work on the image they are given: use numpy, scipy.ndimage "
                "or skimage; files, processes and the network are not available.",
            )
        elif status == DENIED:
            reason, hint = policy.excluded_reason(path)
            self.add(
                "import-not-allowed",
                f"Import not allowed: '{path}' is excluded from the allowlist ({reason}).",
                node,
                hint,
            )
        else:
            self.add(
                "import-not-allowed",
                f"Import not allowed: '{path}'. Module '{top}' is not on the allowlist for "
                "custom functions.",
                node,
                "Allowed are numpy, scipy.ndimage/signal/fft/linalg/stats/..., skimage "
                "processing modules, math, functools, itertools, dataclasses, typing, enum, "
                "collections and the array frameworks; a trusted module can be added in "
                "settings (policy.allow_modules).",
            )
        return False

    def _check_chains(self) -> None:
        imports = self.imports
        index = self.index
        for root, attrs, node in self.chains:
            paths = imports.get(root.id)
            if not paths:
                continue
            suffix = ".".join(reversed(attrs))
            for base in paths:
                full = f"{base}.{suffix}"
                status = index.path_status(full)
                if status != ALLOWED:
                    self._path_finding(full, status, node)
                    break
                if index.has_exclusions_below(full):
                    self._module_value_finding(full, node)
                    break

    def _module_value_finding(self, path: str, node: ast.AST) -> None:
        self.add(
            "import-not-allowed",
            f"'{path}' may only be used through its attributes ('{path}.name'), not as a value: "
            "passed on or renamed, it would lead to its excluded parts past the check.",
            node,
            f"Write '{path}.name' where you use it, or import what you need "
            f"('from {path} import name').",
        )

    def _check_bare_names(self) -> None:
        imports = self.imports
        single_type_calls = self.single_type_calls
        for node in self.bare_names:
            if node.id == "type" and id(node) not in single_type_calls:
                self.add(
                    "denied-builtin",
                    "'type' may only be called with one argument here: type(name, bases, "
                    "namespace) builds a class whose namespace can define any dunder.",
                    node,
                    "Write type(obj) to get an object's class.",
                )
            paths = imports.get(node.id)
            if not paths:
                continue
            for path in paths:
                status = self.index.path_status(path)
                if status != ALLOWED:
                    self._path_finding(path, status, node)
                    break
                if path == "functools.wraps" and id(node) not in self.plain_wraps:
                    self._wraps_finding(node)
                    break
                if id(node) not in self.decorator_refs and self.index.has_exclusions_below(path):
                    self._module_value_finding(path, node)
                    break

    def _path_finding(self, path: str, status: str, node: ast.AST) -> None:
        if status == PARENT:
            self.add(
                "import-not-allowed",
                f"'{path}' may only be used to reach its allowed submodules, not on its own.",
                node,
                f"Import the submodule you need, e.g. 'from {path} import ndimage'.",
            )
        elif status == DENIED:
            reason, hint = self.policy.excluded_reason(path)
            self.add(
                "import-not-allowed",
                f"'{path}' is excluded from the allowlist ({reason}).",
                node,
                hint,
            )
        else:
            self.add(
                "import-not-allowed",
                f"'{path}' is not on the allowlist for custom functions.",
                node,
                "Use an allowed submodule (see docs/validation.md), or add it in settings "
                "(policy.allow_modules) if you trust it.",
            )

    def _check_stores(self) -> None:
        if not self.stores and not self.mutations:
            return
        tainted = self._tainted_names()
        self._check_mutations(tainted)
        for node in self.stores:
            root: Any = node
            while root.__class__ in (ast.Attribute, ast.Subscript):
                root = root.value
            if root.__class__ is ast.Name:
                if root.id not in tainted:
                    continue
                reason = f"'{root.id}' is an imported module or one of its objects"
                if root.id in self.stored:
                    reason += " (if it is a local variable here, give it another name)"
            elif root.__class__ is ast.Call:
                reason = "the object returned by a call cannot be told apart from a module"
            else:
                continue
            self.add(
                "module-assignment",
                f"Assignment to '{snippet_of(node)}' is not allowed: {reason}, and changing it "
                "changes it for the host and every other function.",
                node,
                "Assign to a local name instead (e.g. 'my_norm = ...') and call that.",
            )
