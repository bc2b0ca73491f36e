"""The policy rules on attributes and values that the walk applies node by node.

This module owns the attribute rules (underscore names, the deny list, ``str.format`` fields
that read attributes, ``functools.wraps`` outside ``@wraps(func)``), and the rules on
``type(name, bases, ns)``, dunder dict keys and keywords, and string subscripts noted for the
annotation check. It imports only the standard library, :mod:`.findings` and :mod:`.text`.
"""

from __future__ import annotations

import _string
import ast
from typing import Any

from openhcs_plugins.validation.index import ALLOWED as _ALLOWED

__all__ = ["AttributeRules"]


class AttributeRules:
    """Attribute and value rules of the policy (a part of the inspector)."""

    def _check_attribute(
        self, attr: str, node: Any, where: str = "", chain: bool = False, following: str = ""
    ) -> bool:
        """Underscore and deny-list rules for one attribute name; True when it is refused.

        ``chain``: ``node`` is an attribute of an attribute chain. A denied spelling there
        that the file itself defines as an attribute of its own values (``self.save_mask``)
        is decided after the walk, when the file's own attributes are known
        (:meth:`_check_spelled`)."""
        policy = self.policy
        if attr[:1] == "_":
            if (
                attr in policy.allowed_dunder_attributes
                or attr in policy.allowed_private_attributes
            ):
                return False
            self.add(
                "underscore-attribute",
                f"Attribute '{attr}' {where}is not allowed: names starting with '_' are private "
                "or interpreter internals.",
                node,
                _UNDERSCORE_HINTS.get(
                    attr,
                    "Use the public API; of the dunder attributes only "
                    + ", ".join(sorted(policy.allowed_dunder_attributes))
                    + " may be read.",
                ),
            )
            return True
        if policy.attribute_denied(attr):
            if chain and policy.ownable_attribute(attr):
                self.spelled.append((node, following))
                return False
            self._denied_attribute(attr, node, where)
            return True
        return False

    def _denied_attribute(self, attr: str, node: Any, where: str = "") -> None:
        self.add(
            "denied-attribute",
            f"Attribute '{attr}' {where}is not allowed in custom functions: it reaches "
            "files, processes, native code or interpreter internals.",
            node,
            _attribute_hint(attr),
        )

    def _check_spelled(self) -> None:
        """The deferred spellings: an attribute the file defines on its own values (stored as
        ``value.name = ...``, bound in one of its classes, or a field of its namedtuples),
        read from a value that is not an imported module or object, is the user's own name,
        not a route into a library; any other is refused as the walk would have."""
        if not self.spelled:
            return
        own = self._own_attributes()
        imported = self.imports
        for node, following in self.spelled:
            inner = [node.attr]
            root = node.value
            while root.__class__ is ast.Attribute:
                inner.append(root.attr)
                root = root.value
            if root.__class__ is not ast.Name or root.id in self.policy.denied_builtins:
                self._denied_attribute(node.attr, node)
                continue
            paths = imported.get(root.id)
            if paths:
                # a module's name on the way to an allowed module of the allowlist
                # (np.lib.stride_tricks.sliding_window_view); the chain check judges the rest
                dotted = ".".join(reversed(inner))
                allowed = self.policy.allowed_modules
                if following and all(
                    f"{base}.{dotted}.{following}" in allowed
                    and self.index.path_status(f"{base}.{dotted}.{following}") == _ALLOWED
                    for base in paths
                ):
                    continue
            elif node.attr in own:
                continue  # the user's own attribute on the user's own value
            self._denied_attribute(node.attr, node)

    def _check_format_names(self) -> None:
        """``TEMPLATE.format(...)`` is ``.format`` on a string literal when every binding of
        ``TEMPLATE`` in the file is the assignment of a literal (fields checked like a literal
        receiver); anything else gets the finding a non-literal receiver gets."""
        if not self.format_names:
            return
        literals = _string_bindings(self.tree, {n.value.id for n in self.format_names})
        for node in self.format_names:
            value = literals.get(node.value.id)
            if value is None:
                self.add(
                    "format-attribute",
                    f"'.{node.attr}' on a value that is not a string literal is not allowed: "
                    "its replacement fields can read any attribute.",
                    node,
                    "Use an f-string, or call .format on a string constant that is assigned "
                    "once and never rebound.",
                )
            else:
                self._check_format(
                    ast.Attribute(
                        value=value, attr=node.attr, lineno=node.lineno, col_offset=node.col_offset
                    )
                )

    def _own_attributes(self) -> set[str]:
        own = {n.attr for n in self.stores if n.__class__ is ast.Attribute}
        for statement in self.tree.body:
            if statement.__class__ is ast.ClassDef:
                for item in statement.body:
                    cls = item.__class__
                    if cls in (ast.FunctionDef, ast.AsyncFunctionDef):
                        own.add(item.name)
                    elif cls is ast.AnnAssign and item.target.__class__ is ast.Name:
                        own.add(item.target.id)
                    elif cls is ast.Assign:
                        own.update(t.id for t in item.targets if t.__class__ is ast.Name)
            elif statement.__class__ is ast.Assign and statement.value.__class__ is ast.Call:
                own.update(_namedtuple_fields(statement.value))
        return own

    def _attribute(self, node: ast.Attribute, depth: int, push: Any) -> bool:
        attrs: list[str] = []
        cur: Any = node
        policy = self.policy
        # attribute name -> needs a closer look (underscore, denied, format); cached per policy
        watched = self.index.watched_attributes
        while cur.__class__ is ast.Attribute:
            attr = cur.attr
            watch = watched.get(attr)
            if watch is None:
                watch = watched[attr] = (
                    attr[0] == "_" or attr in _WATCHED_ATTRIBUTES or policy.attribute_denied(attr)
                )
            if watch:
                if attr == "format" or attr == "format_map":
                    self._check_format(cur)
                elif attr == "wraps":
                    if id(cur) not in self.plain_wraps:
                        self._wraps_finding(cur)
                else:
                    self._check_attribute(
                        attr, cur, following=attrs[-1] if attrs else "", chain=True
                    )
            attrs.append(attr)
            cur = cur.value
        if depth + len(attrs) > policy.max_depth:
            self._too_deep(node)
        if cur.__class__ is ast.Name:
            ident = cur.id
            if ident[0] == "_" or ident in policy.denied_builtins:
                self._check_name(cur, ident, binding=False)
            self.chains.append((cur, attrs, node))
        elif len(attrs) == 1:
            push(cur)
        else:
            self._defer(cur, depth + len(attrs))
        if node.ctx.__class__ is not ast.Load:
            if attrs[0][:2] == "__":
                self.add(
                    "underscore-attribute",
                    f"Writing the attribute '{attrs[0]}' is not allowed: it changes how the host "
                    "sees an object (a function's name decides its file name).",
                    node,
                    "Leave dunder attributes as Python sets them.",
                )
            self.stores.append(node)
        return True

    def _subscript(self, node: ast.Subscript, depth: int, push: Any) -> bool:
        if node.ctx.__class__ is not ast.Load:
            self.stores.append(node)
        elif _has_string(node.slice):
            # ``List["..."]``: typing turns the string into a ForwardRef that
            # ``typing.get_type_hints`` evaluates.
            self.string_subscripts.append(node)
        return False

    def _type_call(self, node: ast.Call) -> None:
        """``type(obj)`` is fine; ``type(name, bases, namespace)`` builds a class from a dict,
        which can carry any dunder (``__array_interface__`` hands numpy raw memory)."""
        func = node.func
        if func.__class__ is ast.Name:
            if (
                len(node.args) == 1
                and not node.keywords
                and not isinstance(node.args[0], ast.Starred)
            ):
                self.single_type_calls.add(id(func))
                return
            self.single_type_calls.add(id(func))  # reported here, not again as a bare name
        self.add(
            "denied-builtin",
            "Creating a class with type(name, bases, namespace) is not allowed: the namespace "
            "can define any dunder attribute.",
            node,
            "Use a class statement; type(obj) with one argument is fine.",
        )

    def _dict(self, node: ast.Dict, depth: int, push: Any) -> bool:
        for key in node.keys:
            if key.__class__ is ast.Constant and _is_dunder(key.value):
                self.add(
                    "dunder-name",
                    f"Dict key {key.value!r} is not allowed: a dict can become a class namespace, "
                    "and dunder keys define how the interpreter and numpy treat objects.",
                    key,
                    "Use an ordinary key.",
                )
        return False

    def _keyword(self, node: ast.keyword, depth: int, push: Any) -> bool:
        if node.arg is not None and node.arg[0] == "_" and _is_dunder(node.arg):
            self.add(
                "dunder-name",
                f"Keyword argument '{node.arg}' is not allowed: dunder names define how the "
                "interpreter and numpy treat objects.",
                node.value,
                "Use an ordinary keyword.",
            )
        return False

    def _note_plain_wraps(self, node: Any) -> None:
        """``@functools.wraps(func)`` on a ``def``: the one form of ``wraps`` that is allowed.

        Anywhere else ``wraps`` is an attribute copier driven by the caller: with ``assigned=``
        it reads any attribute by a string (``__globals__``), and on an object whose class
        defines ``__getattr__`` its ``__dict__`` update hands over a module's namespace.
        """
        for decorator in node.decorator_list:
            target = decorator.func if decorator.__class__ is ast.Call else decorator
            self.decorator_refs.add(id(target))
            if (
                decorator.__class__ is ast.Call
                and len(decorator.args) == 1
                and decorator.args[0].__class__ is not ast.Starred
                and not decorator.keywords
            ):
                self.plain_wraps.add(id(decorator.func))

    def _wraps_finding(self, node: Any) -> None:
        self.add(
            "denied-attribute",
            "'wraps' may only be used as '@functools.wraps(func)' on a 'def': otherwise it copies "
            "attributes named by strings (a getattr) onto an object of your choosing.",
            node,
            "Write '@functools.wraps(func)' directly above the inner 'def' of your decorator.",
        )

    def _check_format(self, node: ast.Attribute) -> None:
        """``"{0.__globals__}".format(f)`` reads attributes without an Attribute node."""
        receiver = node.value
        if receiver.__class__ is ast.Name and node.attr == "format":
            # TEMPLATE.format(...): decided after the walk (_check_format_names)
            self.format_names.append(node)
            return
        if not (isinstance(receiver, ast.Constant) and isinstance(receiver.value, str)):
            self.add(
                "format-attribute",
                f"'.{node.attr}' on a value that is not a string literal is not allowed: its "
                "replacement fields can read any attribute.",
                node,
                "Use an f-string, or call .format on the string literal itself.",
            )
            return
        try:
            fields = _format_fields(receiver.value)
        except ValueError:
            self.add(
                "format-attribute",
                f"The format string {receiver.value[:40]!r} is malformed.",
                node,
                "Use an f-string.",
            )
            return
        for field_name in fields:
            self.add(
                "format-attribute",
                f"The format string field '{{{field_name}}}' reads an attribute through a "
                "replacement field.",
                node,
                "Use an f-string with a plain expression, e.g. f'{image.shape}'.",
            )
            return


def _string_bindings(tree: ast.Module, names: set[str]) -> dict[str, ast.Constant]:
    """For each of ``names`` bound only by plain assignments of one string literal (anywhere in
    the file), that literal. A targeted read of the file's bindings of these names, done only
    when ``.format`` is called on a name (rare)."""
    found: dict[str, ast.Constant] = {}
    spoiled: set[str] = set()
    for node in ast.walk(tree):
        cls = node.__class__
        if cls is ast.Assign:
            for target in node.targets:
                if target.__class__ is ast.Name and len(node.targets) == 1:
                    if target.id not in names:
                        continue
                    value = node.value
                    literal = value.__class__ is ast.Constant and isinstance(value.value, str)
                    if literal and target.id not in found:
                        found[target.id] = value
                    else:
                        spoiled.add(target.id)
                else:  # unpacking or chained assignment: not a plain literal binding
                    spoiled.update(
                        n.id for n in ast.walk(target) if n.__class__ is ast.Name and n.id in names
                    )
        elif cls in (ast.AugAssign, ast.AnnAssign):
            spoiled.update(
                n.id for n in ast.walk(node.target) if n.__class__ is ast.Name and n.id in names
            )
        else:
            spoiled.update(_bound_names(node) & names)
    return {name: value for name, value in found.items() if name not in spoiled}


def _bound_names(node: ast.AST) -> set[str]:
    """Names a node binds other than by assignment (defs, parameters, imports, globals,
    exception and match names, comprehension and for targets, with ... as)."""
    cls = node.__class__
    if cls in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
        return {node.name}
    if cls is ast.arg:
        return {node.arg}
    if cls in (ast.Import, ast.ImportFrom):
        return {(a.asname or a.name).partition(".")[0] for a in node.names}
    if cls in (ast.Global, ast.Nonlocal):
        return set(node.names)
    if cls is ast.ExceptHandler and node.name:
        return {node.name}
    if cls in (ast.MatchAs, ast.MatchStar) and node.name:
        return {node.name}
    if cls is ast.MatchMapping and node.rest:
        return {node.rest}
    if cls in (ast.For, ast.AsyncFor, ast.comprehension, ast.withitem, ast.NamedExpr):
        target = getattr(node, "target", None) or getattr(node, "optional_vars", None)
        if target is not None:
            return {n.id for n in ast.walk(target) if n.__class__ is ast.Name}
    if cls is ast.Delete:
        return {n.id for t in node.targets for n in ast.walk(t) if n.__class__ is ast.Name}
    return set()


def _namedtuple_fields(call: ast.Call) -> list[str]:
    """The field names of ``namedtuple("N", "a b")`` / ``namedtuple("N", ["a", "b"])``."""
    func = call.func
    name = func.attr if func.__class__ is ast.Attribute else getattr(func, "id", "")
    if name != "namedtuple" or len(call.args) < 2:
        return []
    spec = call.args[1]
    if spec.__class__ is ast.Constant and isinstance(spec.value, str):
        return spec.value.replace(",", " ").split()
    if spec.__class__ in (ast.List, ast.Tuple):
        return [
            e.value for e in spec.elts if e.__class__ is ast.Constant and isinstance(e.value, str)
        ]
    return []


def _is_dunder(value: object) -> bool:
    return isinstance(value, str) and len(value) > 4 and value[:2] == "__" and value[-2:] == "__"


def _has_string(node: Any) -> bool:
    """A string constant directly in a subscript's slice (or one tuple/list level down)."""
    cls = node.__class__
    if cls is ast.Constant:
        return isinstance(node.value, str)
    if cls is ast.Tuple or cls is ast.List:
        return any(_has_string(element) for element in node.elts)
    return False


#: Attribute names handled specially in the chain loop.
_WATCHED_ATTRIBUTES = frozenset({"format", "format_map", "wraps"})


_UNDERSCORE_HINTS = {
    "__class__": "Use type(obj) instead of obj.__class__.",
    "__dict__": "Use dataclasses.asdict() or the attributes by name.",
    "__globals__": "Pass what you need as a parameter.",
    "__builtins__": "Use the builtins directly.",
}


def _attribute_hint(attr: str) -> str:
    if attr.startswith(("load", "save", "dump")) or attr in (
        "fromfile",
        "tofile",
        "memmap",
        "genfromtxt",
        "fromregex",
        "open",
        "DataSource",
        "open_memmap",
        "from_file",
        "to_file",
    ):
        return (
            "Images are passed in and returned; return measurements as metadata "
            "((image, {...})) instead of writing files."
        )
    if attr == "lib":
        return "Import the submodule directly: 'from numpy.lib.stride_tricks import ...'."
    if attr in ("getattr", "setattr", "delattr", "attrgetter", "methodcaller"):
        return "Access attributes directly (obj.name)."
    return "Use the processing functions of numpy, scipy or your framework instead."


def _format_fields(text: str) -> list[str]:
    """Replacement fields of a format string that read an attribute (``{0.attr}``)."""
    found: list[str] = []
    todo = [text]
    while todo:
        current = todo.pop()
        for _literal, field_name, spec, _conversion in _string.formatter_parser(current):
            if field_name:
                _first, rest = _string.formatter_field_name_split(field_name)
                if any(is_attribute for is_attribute, _key in rest):
                    found.append(field_name)
            if spec and "{" in spec:
                todo.append(spec)
    return found
