"""Rules on a few calls by their shape: what the name of the called function tells.

This module owns the call rules that a dotted path cannot decide, because the same function is
harmless in one form and a route into the host in another:

- a container method that changes its receiver (``np.typecodes.update(...)``,
  ``np.sctypeDict.pop(...)``) on an object of an imported module changes it for the host and
  every other function; on the file's own values it is ordinary code (decided with the stores,
  once the file's aliases are known);
- ``np.ndarray(shape, dtype, buffer)`` (and ``recarray``'s ``buf``, ``chararray``'s ``buffer``)
  lays an array over raw bytes, which with ``dtype=object`` forges object references;
- the Enum functional API with ``module=``/``qualname=`` names another module as the enum's
  home, and member names starting with ``_`` become class attributes (``__array_interface__``);
- a class attribute named with ``_`` in a class with bases overrides the base's internals
  (``scipy.stats.rv_continuous._parse_arg_template`` is code the base ``exec``s).

It imports only the standard library and :mod:`.text`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.validation.text import snippet_of

__all__ = ["CALL_NAMES", "CallRules"]

#: Methods that change the container they are called on. ``append``, ``insert``, ``add``,
#: ``sort`` and ``reverse`` are left out: numpy has module functions of those names.
MUTATORS = frozenset(
    "update setdefault pop popitem clear extend remove discard __setitem__ __delitem__".split()
)
#: Array constructors that take a buffer: name -> (buffer keywords, positional arguments
#: from which one is the buffer).
_BUFFER_CONSTRUCTORS = {
    "ndarray": (("buffer",), 3),
    "recarray": (("buf",), 3),
    "chararray": (("buffer",), 4),
}
_ENUM_CLASSES = frozenset({"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag"})

#: The called names (an attribute or a bare name) the walk hands to :meth:`CallRules._call`.
CALL_NAMES = MUTATORS | frozenset(_BUFFER_CONSTRUCTORS) | _ENUM_CLASSES


class CallRules:
    """The call-shape rules (a part of the inspector)."""

    def _call(self, node: ast.Call, name: str) -> None:
        if name in MUTATORS:
            if node.func.__class__ is ast.Attribute:
                self.mutations.append(node)
            return
        if name in _BUFFER_CONSTRUCTORS:
            self._buffer_call(node, name)
        else:
            self._enum_call(node, name)

    def _buffer_call(self, node: ast.Call, name: str) -> None:
        keywords, position = _BUFFER_CONSTRUCTORS[name]
        if len(node.args) >= position or any(k.arg in keywords for k in node.keywords):
            self.add(
                "array-buffer",
                f"'{name}(...)' over a buffer is not allowed: an array laid over raw bytes "
                "(with dtype=object) forges references to any object in the process.",
                node,
                "Make the array with np.zeros/np.empty/np.asarray and copy the values in.",
            )

    def _enum_call(self, node: ast.Call, name: str) -> None:
        for keyword in node.keywords:
            if keyword.arg in ("module", "qualname"):
                self.add(
                    "enum-functional",
                    f"'{name}(..., {keyword.arg}=...)' is not allowed: it names another module "
                    "as the enum's home, where pickling and the host look it up.",
                    keyword.value,
                    "Leave module= and qualname= out; the enum belongs to this file.",
                )
        names = node.args[1] if len(node.args) >= 2 else None
        if names is None:
            names = next((k.value for k in node.keywords if k.arg == "names"), None)
        for member in _member_names(names):
            if member.startswith("_"):
                self.add(
                    "enum-functional",
                    f"Enum member name {member!r} is not allowed: a name starting with '_' "
                    "becomes a class attribute, not a member (a dunder defines how the "
                    "interpreter and numpy treat the class).",
                    names,
                    "Use member names without a leading underscore.",
                )

    def _note_class_privates(self, node: ast.ClassDef) -> None:
        """Class attributes named ``_x`` in a class with bases (decided in ``_check_mutations``)."""
        if not any(not (base.__class__ is ast.Name and base.id == "object") for base in node.bases):
            return
        for stmt in node.body:
            if stmt.__class__ is ast.Assign:
                targets = stmt.targets
            elif stmt.__class__ is ast.AnnAssign and stmt.value is not None:
                targets = [stmt.target]
            else:
                continue
            for target in targets:
                for element in ast.walk(target):
                    if (
                        element.__class__ is ast.Name
                        and element.id.startswith("_")
                        and not (element.id.startswith("__") and element.id.endswith("__"))
                    ):
                        self.add(
                            "class-private",
                            f"Class attribute '{element.id}' of class '{node.name}' is not "
                            "allowed: a name starting with '_' in a subclass overrides its base "
                            "class's internals (scipy's distributions exec one of them).",
                            element,
                            "Name class attributes without a leading underscore; override the "
                            "documented methods (def _pdf(self, x) is fine).",
                        )

    def _check_mutations(self, tainted: set[str]) -> None:
        """Container methods called on an imported module's objects."""
        for node in self.mutations:
            receiver: Any = node.func.value
            chain = 0
            while receiver.__class__ in (ast.Attribute, ast.Subscript):
                receiver = receiver.value
                chain += 1
            if receiver.__class__ is not ast.Name or receiver.id not in tainted:
                continue
            if chain == 0 and self._top_module(receiver.id):
                continue  # a function of the module itself, were there one of that name
            self.add(
                "module-assignment",
                f"'{snippet_of(node.func)}(...)' is not allowed: '{receiver.id}' is an imported "
                "module or one of its objects, and changing it changes it for the host and "
                "every other function.",
                node,
                "Copy it first (my_table = dict(np.typecodes)) and change the copy.",
            )

    def _top_module(self, name: str) -> bool:
        """``name`` is bound only by ``import M`` of a top-level module (``import numpy``)."""
        paths = self.imports.get(name)
        return bool(paths) and all("." not in path for path in paths)


def _member_names(names: Any) -> list[str]:
    """The member names of an Enum functional call's ``names`` argument, where literal."""
    if names is None:
        return []
    if names.__class__ is ast.Constant and isinstance(names.value, str):
        return names.value.replace(",", " ").split()
    found = []
    if names.__class__ in (ast.List, ast.Tuple, ast.Set):
        for element in names.elts:
            if element.__class__ in (ast.Tuple, ast.List) and element.elts:
                element = element.elts[0]
            if element.__class__ is ast.Constant and isinstance(element.value, str):
                found.append(element.value)
    return found
