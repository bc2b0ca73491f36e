"""String annotations: text that ``typing.get_type_hints`` would evaluate, checked as code.

This module owns the check of string annotations and of strings inside generics
(``Alias = List["..."]``): each is parsed and walked like the rest of the file, so a string
cannot smuggle an expression past the policy. It imports only the standard library,
:mod:`.findings` and :mod:`.walk`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.validation.findings import TooComplex
from openhcs_plugins.validation.walk import push_children, subtree

__all__ = ["AnnotationRules"]


_LITERAL_PATHS = frozenset({"typing.Literal", "typing_extensions.Literal"})


_TYPING_MODULES = frozenset({"typing", "typing_extensions", "collections"})


_BUILTIN_GENERICS = frozenset(
    f"builtins.{name}" for name in ("list", "dict", "tuple", "set", "frozenset", "type")
)


_ANNOTATED_PATHS = frozenset({"typing.Annotated", "typing_extensions.Annotated"})


class AnnotationRules:
    """String annotations and forward references (a part of the inspector)."""

    def _check_annotation_strings(self) -> None:
        """Strings in annotations run when a host calls ``typing.get_type_hints`` (a string that
        evaluates to a string is evaluated again), and so do strings inside generics
        (``Alias = List["..."]``, used in an annotation): parse and check them like code."""
        queue = list(self.annotations)
        while queue:
            roots: list[tuple[ast.AST, int]] = []
            todo = queue
            queue = []
            while todo:
                node = todo.pop()
                cls = node.__class__
                if cls is ast.Constant:
                    if isinstance(node.value, str):
                        parsed = self._parse_annotation(node, strict=True)
                        if parsed is not None:
                            roots.append((parsed, 1))
                            queue.append(parsed)
                    continue
                if cls is ast.Subscript:
                    target = self.resolve(node.value, True)
                    if target in _LITERAL_PATHS:
                        continue
                    if target in _ANNOTATED_PATHS and isinstance(node.slice, ast.Tuple):
                        todo.append(node.value)
                        if node.slice.elts:
                            todo.append(node.slice.elts[0])
                        continue
                push_children(node, todo)
            if roots:
                self.run(roots)
        self._check_string_subscripts()

    def _check_string_subscripts(self) -> None:
        if not self.string_subscripts:
            return
        module_level = {
            id(node) for node in subtree(self.type_values) if node.__class__ is ast.Subscript
        }
        index = 0
        while index < len(self.string_subscripts):
            node = self.string_subscripts[index]
            index += 1
            path = self.resolve(node.value, False) or self.resolve(node.value, True)
            if path in _LITERAL_PATHS:
                continue
            typed = path is not None and (
                path.split(".", 1)[0] in _TYPING_MODULES or path in _BUILTIN_GENERICS
            )
            if not typed and id(node) not in module_level:
                continue  # d["key"] in a function body: an ordinary lookup
            elements = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if path in _ANNOTATED_PATHS:
                elements = elements[:1]
            roots: list[tuple[ast.AST, int]] = []
            for element in elements:
                for constant in _strings_in(element):
                    parsed = self._parse_annotation(constant, strict=typed)
                    if parsed is not None:
                        roots.append((parsed, 1))
            if roots:
                self.run(roots)

    def _parse_annotation(self, node: ast.Constant, strict: bool) -> ast.AST | None:
        """Parse a string that typing may evaluate; with ``strict``, one that does not parse is
        a finding (it is an annotation), otherwise it is left alone (eval would fail on it)."""
        if id(node) in self._parsed_strings:
            return None
        self._parsed_strings.add(id(node))
        text = node.value.strip()
        try:
            parsed = ast.parse(text, mode="eval")
        except (RecursionError, MemoryError):
            raise TooComplex(
                "A string annotation is too complex to validate safely.", node.lineno
            ) from None
        except (SyntaxError, ValueError):
            if not strict:
                return None
            self.add(
                "annotation",
                f"String annotation {node.value[:40]!r} is not a valid expression; hosts evaluate "
                "string annotations.",
                node,
                "Write the annotation as an expression, or drop it.",
            )
            return None
        for sub in ast.walk(parsed):
            if hasattr(sub, "lineno"):
                sub.lineno = node.lineno  # type: ignore[attr-defined]
        self.definition_time.append((parsed.body, True, "A string annotation"))
        return parsed.body


def _strings_in(node: Any) -> list[ast.Constant]:
    cls = node.__class__
    if cls is ast.Constant:
        return [node] if isinstance(node.value, str) else []
    if cls is ast.Tuple or cls is ast.List:
        return [c for element in node.elts for c in _strings_in(element)]
    return []
