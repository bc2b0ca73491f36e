"""Reading user code without running it: one iterative pass over the syntax tree.

:func:`inspect_tree` applies an :class:`~openhcs_plugins._policy.ImportPolicy` to a parsed module
and reads what a listing needs (the decorated functions, their memory types, contract,
parameters and docstring). It never executes, imports or recurses: the traversal keeps its own
stack, so a 700-deep attribute chain is a "too complex" finding, not a ``RecursionError``.

The pass collects facts (imports, bindings, attribute chains, stores, definitions) while it
walks; the checks that need the whole module (what a name resolves to, whether a chain starts
at an imported module) run on those facts afterwards, without walking the tree again.
"""

from __future__ import annotations

import _string
import ast
import unicodedata
from typing import Any, NamedTuple

from openhcs_plugins._memtypes import AVAILABLE_MEMORY_TYPES
from openhcs_plugins._policy import (
    ALLOWED,
    DECORATOR_PATHS,
    DENIED,
    MEMORY_DECORATOR_NAMES,
    PARENT,
    ImportPolicy,
)
from openhcs_plugins.candidate import ParameterInfo, StaticFunction

__all__ = ["POLICY_RULES", "Finding", "Inspection", "TooComplex", "inspect_tree"]

#: Processing contracts (kept in step with ``openhcs_plugins.memory.CONTRACTS``).
CONTRACTS: tuple[str, ...] = ("FLEXIBLE", "PURE_3D", "PURE_2D", "VOLUMETRIC_TO_SLICE")
#: Parameters the decorator injects (``openhcs_plugins.memory.INJECTED_PARAMETERS``).
INJECTED_PARAMETERS = frozenset({"slice_by_slice"})

#: Rules whose findings are warnings, not errors, at the ``trusted`` level. The others
#: (syntax, encoding, too-complex, decorator, first-parameter, duplicate-function) describe code
#: that cannot work as a function at any level.
POLICY_RULES = frozenset(
    {
        "import-not-allowed",
        "underscore-attribute",
        "denied-attribute",
        "denied-builtin",
        "dunder-name",
        "format-attribute",
        "module-assignment",
        "module-statement",
        "class-statement",
        "class-hook",
        "decorator-not-allowed",
        "annotation",
    }
)

_DECORATOR_LIST = ", ".join(f"@{name}" for name in MEMORY_DECORATOR_NAMES)
NO_FUNCTIONS_MESSAGE = (
    "No valid functions found with memory type decorators. "
    f"Functions must be decorated with one of: {_DECORATOR_LIST}"
)
_IMAGE = "(3D array: C, Y, X)"

_MEMORY_TYPES = frozenset(AVAILABLE_MEMORY_TYPES)


class Finding(NamedTuple):
    """One problem, before it becomes a ``ValidationError`` (which adds file and snippet)."""

    rule: str
    message: str
    line: int
    hint: str
    #: the function the finding belongs to, when it is not the line's enclosing function.
    function: str = ""


class TooComplex(Exception):
    """Raised inside the pass when a size or depth limit is exceeded."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Inspection(NamedTuple):
    findings: list[Finding]
    functions: list[StaticFunction]
    #: (first line, last line, name) of each top-level function, for attributing findings.
    ranges: list[tuple[int, int, str]]
    #: how many definitions carry a memory-type decorator (valid or not).
    memory_decorated: int = 0


# -- the shape of the syntax tree ----------------------------------------------------------------


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


_CHILD_FIELDS = _child_fields()

_DEF_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)

#: Expressions allowed at definition time besides calls to allowlisted constructors.
_DEFINITION_TIME_NODES = frozenset(
    {
        ast.Constant,
        ast.Name,
        ast.Attribute,
        ast.Subscript,
        ast.Slice,
        ast.Tuple,
        ast.List,
        ast.Set,
        ast.Dict,
        ast.UnaryOp,
        ast.BinOp,
        ast.BoolOp,
        ast.Compare,
        ast.IfExp,
        ast.JoinedStr,
        ast.FormattedValue,
        ast.Starred,
        ast.ListComp,
        ast.SetComp,
        ast.DictComp,
        ast.GeneratorExp,
        ast.comprehension,
        ast.keyword,
        type(None),
    }
)


def _snippet_of(node: ast.AST) -> str:
    try:
        text = ast.unparse(node)
    except Exception:
        text = type(node).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def _norm(name: str) -> str:
    """NFKC, as the parser does for identifiers (strings reach us un-normalised)."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    strings = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(strings) == 1


class _Binding(NamedTuple):
    kind: str  # "import", "def", "class", "assign", "global"
    path: str | None
    line: int


class _Inspector:
    """Collects facts in one pass, then checks them against the policy."""

    def __init__(self, tree: ast.Module, policy: ImportPolicy) -> None:
        self.tree = tree
        self.policy = policy
        self.findings: list[Finding] = []
        #: name -> {dotted path: first line} for every import binding, in any scope.
        self.imports: dict[str, dict[str, int]] = {}
        #: names bound by anything other than an import, in any scope.
        self.stored: set[str] = set()
        #: name -> bindings at module scope (what a top-level decorator resolves against).
        self.module_bindings: dict[str, list[_Binding]] = {}
        self.global_names: dict[str, int] = {}
        #: Name nodes read on their own (not as the base of an attribute chain).
        self.bare_names: list[ast.Name] = []
        #: (root Name, attribute names innermost first, outermost Attribute node).
        self.chains: list[tuple[ast.Name, list[str], ast.Attribute]] = []
        #: attribute/subscript targets that are written or deleted.
        self.stores: list[ast.expr] = []
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

    # -- reporting ---------------------------------------------------------------------------
    def add(self, rule: str, message: str, node: Any, hint: str, function: str = "") -> None:
        line = node if isinstance(node, int) else getattr(node, "lineno", 0)
        self.findings.append(Finding(rule, message, line, hint, function))

    # -- the pass ----------------------------------------------------------------------------
    def run(self, roots: list[tuple[ast.AST, int]]) -> None:
        """Walk from ``roots`` (node, depth), one depth level at a time.

        Level order gives every node's depth without storing it per node; an attribute chain
        (walked whole by its handler) puts its root ``len(chain)`` levels further down.
        """
        levels = self._levels = {}
        for node, depth in roots:
            levels.setdefault(depth, []).append(node)
        depth = min(levels)
        table = _TABLE
        policy = self.policy
        max_depth = policy.max_depth
        max_nodes = policy.max_nodes
        name_cls = ast.Name
        constant_cls = ast.Constant
        call_cls = ast.Call
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
                    if func.__class__ is name_cls:
                        if func.id == "type":
                            self._type_call(node)
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

    # -- names -------------------------------------------------------------------------------
    def _check_name(self, node: Any, ident: str, binding: bool | None = None) -> None:
        """Denied builtins and dunders, used or bound (``node`` may be a line number)."""
        ident = _norm(ident)
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
            self._check_attribute(_norm(attr), node, "in a class pattern ")
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

    # -- aliases of modules (for module-assignment) ------------------------------------------
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

    # -- attributes --------------------------------------------------------------------------
    def _check_attribute(self, attr: str, node: Any, where: str = "") -> bool:
        """Underscore and deny-list rules for one attribute name; True when it is refused."""
        policy = self.policy
        if attr[:1] == "_":
            if attr in policy.allowed_dunder_attributes:
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
            self.add(
                "denied-attribute",
                f"Attribute '{attr}' {where}is not allowed in custom functions: it reaches "
                "files, processes, native code or interpreter internals.",
                node,
                _attribute_hint(attr),
            )
            return True
        return False

    def _attribute(self, node: ast.Attribute, depth: int, push: Any) -> bool:
        attrs: list[str] = []
        cur: Any = node
        policy = self.policy
        # attribute name -> needs a closer look (underscore, denied, format); cached per policy
        watched = policy._watched_attributes
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
                    self._check_attribute(attr, cur)
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

    # -- imports -----------------------------------------------------------------------------
    def _record_import(self, name: str, path: str, node: ast.AST) -> None:
        if name in self.policy.denied_builtins or name.startswith("__") or not name.isascii():
            self._check_name(node, name, binding=True)
        self.imports.setdefault(name, {}).setdefault(path, node.lineno)  # type: ignore[attr-defined]

    def _import(self, node: ast.Import, depth: int, push: Any) -> bool:
        for alias in node.names:
            module = _norm(alias.name)
            self._check_module(module, module, node)
            if alias.asname is not None:
                self._record_import(alias.asname, module, node)
            else:
                first = module.split(".", 1)[0]
                self._record_import(first, first, node)
        return True

    def _import_from(self, node: ast.ImportFrom, depth: int, push: Any) -> bool:
        module = _norm(node.module or "")
        if node.level:
            self.add(
                "import-not-allowed",
                f"Relative import 'from {'.' * node.level}{module} import ...' is not allowed: a "
                "function file is not part of a package.",
                node,
                "Import by absolute module name, or put shared helpers in the same file.",
            )
            return True
        if self.policy.path_status(module) not in (ALLOWED, PARENT):
            self._check_module(module, module, node)
            return True
        for alias in node.names:
            name = _norm(alias.name)
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
        status = policy.path_status(path)
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
            self.add(
                "import-not-allowed",
                f"Import not allowed: '{path}' is excluded from the allowlist (it reaches files, "
                "processes, native code or the network).",
                node,
                "Use the processing functions of the package instead; data comes in as the image "
                "argument and goes out as the return value.",
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

    # -- definitions -------------------------------------------------------------------------
    def _module(self, node: ast.Module, depth: int, push: Any) -> bool:
        self._scan_module(node.body)
        return False

    def _function(self, node: Any, depth: int, push: Any) -> bool:
        scope = self.scope.get(id(node), "nested")
        self.defs.append((node, scope))
        self._note_plain_wraps(node)
        name = node.name
        if name.startswith("__") and name.endswith("__") and len(name) > 4:
            if scope != "class":
                self.add(
                    "dunder-name",
                    f"Function name '{name}' is not allowed outside a class: module-level dunder "
                    "functions change how the host reads the module.",
                    node,
                    "Give the function an ordinary name.",
                )
            elif name not in self.policy.allowed_class_dunders:
                self.add(
                    "class-hook",
                    f"Method '{name}' is not allowed: it runs when a class is created, an object "
                    "is dropped or pickled, or lets numpy read raw memory; not when the function "
                    "is called.",
                    node,
                    "Do the work in __init__ or in an ordinary method; the allowed dunder methods "
                    "are construction, repr, container, comparison and arithmetic ones.",
                )
        elif name in self.policy.denied_builtins or not name.isascii():
            self._check_name(node, name, binding=True)
        self.stored.add(name)
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        for arg, default in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
        ):
            if default.__class__ in (ast.Name, ast.Attribute):
                self._alias_targets([ast.Name(arg.arg)], default)
        for arg in (*positional, *args.kwonlyargs, args.vararg, args.kwarg):
            if arg is not None and arg.annotation is not None:
                self.annotations.append(arg.annotation)
        if node.returns is not None:
            self.annotations.append(node.returns)
        if scope != "nested" and id(node) not in self.runtime_defs:
            what = f"'{name}'"
            for default in (*args.defaults, *args.kw_defaults):
                if default is not None:
                    self.definition_time.append((default, scope != "class", f"A default of {what}"))
            for arg in (*positional, *args.kwonlyargs, args.vararg, args.kwarg):
                if arg is not None and arg.annotation is not None:
                    self.definition_time.append(
                        (arg.annotation, scope != "class", f"An annotation of {what}")
                    )
            if node.returns is not None:
                self.definition_time.append(
                    (node.returns, scope != "class", f"The return annotation of {what}")
                )
        return False

    def _class(self, node: ast.ClassDef, depth: int, push: Any) -> bool:
        scope = self.scope.get(id(node), "nested")
        self.defs.append((node, scope))
        for decorator in node.decorator_list:
            target = decorator.func if decorator.__class__ is ast.Call else decorator
            self.decorator_refs.add(id(target))
        name = node.name
        if name.startswith("__") or name in self.policy.denied_builtins or not name.isascii():
            self._check_name(node, name, binding=True)
        self.stored.add(name)
        for keyword in node.keywords:
            what = "a metaclass" if keyword.arg == "metaclass" else f"'{keyword.arg}='"
            self.add(
                "class-hook",
                f"Class '{name}' sets {what}: class keywords run code (a metaclass, "
                "__init_subclass__) when the class is created.",
                keyword.value,
                "Define an ordinary class (a dataclass or Enum if you need one).",
            )
        # a class made inside a function runs its body when the function runs, not at load time
        runtime = scope == "nested" or id(node) in self.runtime_defs
        if not runtime:
            for base in node.bases:
                self.definition_time.append((base, scope != "class", f"A base class of '{name}'"))
        self._scan_class_body(node, runtime)
        return False

    def _scan_class_body(self, node: ast.ClassDef, runtime: bool) -> None:
        name = node.name
        definition_time = self.definition_time
        if runtime:
            definition_time = []  # the body's values are checked like any code, not as load-time
        for stmt in node.body:
            cls = stmt.__class__
            if cls in _DEF_NODES:
                self.scope[id(stmt)] = "class"
                if runtime:
                    self.runtime_defs.add(id(stmt))
            elif cls is ast.Expr and isinstance(stmt.value, ast.Constant):
                continue
            elif cls is ast.Pass:
                continue
            elif cls is ast.Assign:
                for target in stmt.targets:
                    self._definition_target(target, f"class '{name}'")
                definition_time.append((stmt.value, False, f"A class attribute of '{name}'"))
                self.type_values.append(stmt.value)
            elif cls is ast.AnnAssign:
                self._definition_target(stmt.target, f"class '{name}'")
                definition_time.append((stmt.annotation, False, f"A class annotation of '{name}'"))
                if stmt.value is not None:
                    definition_time.append((stmt.value, False, f"A class attribute of '{name}'"))
                    self.type_values.append(stmt.value)
            else:
                self.add(
                    "class-statement",
                    f"A '{_statement_word(stmt)}' statement in the body of class '{name}' runs "
                    "when the class is created.",
                    stmt,
                    "Class bodies may hold a docstring, methods and attribute assignments; move "
                    "other code into a method.",
                )

    def _definition_target(self, target: Any, where: str) -> None:
        cls = target.__class__
        if cls is ast.Name:
            return
        if cls in (ast.Tuple, ast.List):
            for element in target.elts:
                self._definition_target(element, where)
            return
        if cls is ast.Starred:
            self._definition_target(target.value, where)
            return
        self.add(
            "module-statement" if where == "module level" else "class-statement",
            f"Assignment to '{_snippet_of(target)}' at {where} changes another object when the "
            "file is loaded.",
            target,
            "Assign to a plain name.",
        )

    def _module_binding(self, name: str, kind: str, path: str | None, line: int) -> None:
        self.module_bindings.setdefault(name, []).append(_Binding(kind, path, line))

    def _scan_module(self, body: list[ast.stmt]) -> None:
        """Module-level statement rules, module-scope bindings and definition scopes."""
        todo: list[tuple[ast.stmt, bool, bool]] = [(s, True, False) for s in reversed(body)]
        while todo:
            stmt, top, in_main = todo.pop()
            cls = stmt.__class__
            if cls is ast.Import:
                for alias in stmt.names:
                    module = _norm(alias.name)
                    name = alias.asname or module.split(".", 1)[0]
                    path = module if alias.asname else name
                    self._module_binding(name, "import", path, stmt.lineno)
            elif cls is ast.ImportFrom:
                module = _norm(stmt.module or "")
                for alias in stmt.names:
                    name = _norm(alias.name)
                    if stmt.level:
                        self._module_binding(alias.asname or name, "assign", None, stmt.lineno)
                    elif name != "*":
                        self._module_binding(
                            alias.asname or name, "import", f"{module}.{name}", stmt.lineno
                        )
            elif cls in _DEF_NODES:
                kind = "class" if cls is ast.ClassDef else "def"
                self._module_binding(stmt.name, kind, None, stmt.lineno)  # type: ignore[attr-defined]
                self.scope[id(stmt)] = "top" if top else "module"
            elif in_main:
                self._bind_stores(stmt, shallow=True)
                for child in _statement_children(stmt):
                    todo.append((child, False, True))
            elif cls is ast.Expr:
                if not isinstance(stmt.value, ast.Constant):
                    self._module_statement(stmt, "an expression statement")
            elif cls is ast.Assign:
                for target in stmt.targets:
                    self._definition_target(target, "module level")
                self._bind_stores(stmt)
                self.definition_time.append((stmt.value, True, "A module-level assignment"))
                self.type_values.append(stmt.value)
            elif cls is ast.AnnAssign:
                self._definition_target(stmt.target, "module level")
                self._bind_stores(stmt)
                self.definition_time.append((stmt.annotation, True, "A module-level annotation"))
                if stmt.value is not None:
                    self.definition_time.append((stmt.value, True, "A module-level assignment"))
                    self.type_values.append(stmt.value)
            elif cls is ast.AugAssign:
                self._definition_target(stmt.target, "module level")
                self._bind_stores(stmt)
                self.definition_time.append((stmt.value, True, "A module-level assignment"))
            elif cls is ast.If:
                if _is_main_guard(stmt.test):
                    for child in reversed(stmt.body):
                        todo.append((child, False, True))
                else:
                    self.definition_time.append((stmt.test, True, "A module-level condition"))
                    for child in reversed(stmt.body):
                        todo.append((child, False, False))
                for child in reversed(stmt.orelse):
                    todo.append((child, False, False))
            elif cls is ast.Try or cls.__name__ == "TryStar":
                for handler in stmt.handlers:  # type: ignore[attr-defined]
                    if handler.type is not None:
                        self.definition_time.append(
                            (handler.type, True, "A module-level exception type")
                        )
                    if handler.name is not None:
                        self._module_binding(handler.name, "assign", None, handler.lineno)
                    for child in reversed(handler.body):
                        todo.append((child, False, False))
                for part in (stmt.finalbody, stmt.orelse, stmt.body):  # type: ignore[attr-defined]
                    for child in reversed(part):
                        todo.append((child, False, False))
            elif cls is ast.Pass:
                continue
            elif cls is ast.Raise:
                for expr in (stmt.exc, stmt.cause):
                    if expr is not None:
                        self.definition_time.append((expr, True, "A module-level raise"))
            else:
                self._bind_stores(stmt)
                self._module_statement(stmt, f"a '{_statement_word(stmt)}' statement")

    def _module_statement(self, stmt: ast.stmt, what: str) -> None:
        self.add(
            "module-statement",
            f"Module-level code is not allowed here: {what} runs when the file is loaded "
            "(listing and registering load files).",
            stmt,
            "Move it into a function, or under 'if __name__ == \"__main__\":' for a demo.",
        )

    def _bind_stores(self, stmt: ast.stmt, shallow: bool = False) -> None:
        """Module-scope names bound inside a statement (not inside nested functions); with
        ``shallow``, not inside the statement's own blocks either (they are scanned apart)."""
        todo: list[Any] = [stmt]
        if shallow:
            todo = [
                getattr(stmt, f)
                for f in _CHILD_FIELDS.get(stmt.__class__, ())
                if f not in ("body", "orelse", "finalbody", "handlers", "cases")
            ]
            todo = [v for v in todo if v is not None]
            todo = [x for v in todo for x in (v if isinstance(v, list) else [v])]
        while todo:
            node = todo.pop()
            cls = node.__class__
            if cls is ast.Name:
                if node.ctx.__class__ is not ast.Load:
                    self._module_binding(node.id, "assign", None, node.lineno)
                continue
            if cls in (ast.Import, ast.ImportFrom):
                for alias in node.names:
                    name = alias.asname or _norm(alias.name).split(".", 1)[0]
                    self._module_binding(name, "assign", None, node.lineno)
                continue
            if cls in _DEF_NODES:
                self._module_binding(node.name, "assign", None, node.lineno)
                continue
            if cls is ast.Lambda:
                continue
            if cls in (ast.ExceptHandler, ast.MatchAs, ast.MatchStar) and node.name:
                self._module_binding(node.name, "assign", None, node.lineno)
            for field_name in _CHILD_FIELDS.get(cls, ()):
                value = getattr(node, field_name, None)
                if value.__class__ is list:
                    todo.extend(value)
                elif value is not None:
                    todo.append(value)

    # -- after the pass: resolution -----------------------------------------------------------
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

    # -- after the pass: checks ----------------------------------------------------------------
    def check_collected(self) -> None:
        """The checks that need the whole module's imports and bindings."""
        self._check_annotation_strings()
        self._check_chains()
        self._check_bare_names()
        self._check_stores()

    def _check_chains(self) -> None:
        imports = self.imports
        policy = self.policy
        for root, attrs, node in self.chains:
            paths = imports.get(root.id)
            if not paths:
                continue
            suffix = ".".join(reversed(attrs))
            for base in paths:
                full = f"{base}.{suffix}"
                status = policy.path_status(full)
                if status != ALLOWED:
                    self._path_finding(full, status, node)
                    break
                if policy.has_exclusions_below(full):
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
                status = self.policy.path_status(path)
                if status != ALLOWED:
                    self._path_finding(path, status, node)
                    break
                if path == "functools.wraps" and id(node) not in self.plain_wraps:
                    self._wraps_finding(node)
                    break
                if id(node) not in self.decorator_refs and self.policy.has_exclusions_below(path):
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
            self.add(
                "import-not-allowed",
                f"'{path}' is excluded from the allowlist (it reaches files, processes, native "
                "code or the network).",
                node,
                "Use the processing functions of the package; data comes in as the image "
                "argument and goes out as the return value.",
            )
        else:
            self.add(
                "import-not-allowed",
                f"'{path}' is not on the allowlist for custom functions.",
                node,
                "Use an allowed submodule (see docs/validation.md), or add it in settings "
                "(policy.allow_modules) if you trust it.",
            )

    def _tainted_names(self) -> set[str]:
        tainted = set(self.imports)
        changed = True
        while changed:
            changed = False
            for target, root in self.aliases:
                if root in tainted and target not in tainted:
                    tainted.add(target)
                    changed = True
        return tainted

    def _check_stores(self) -> None:
        if not self.stores:
            return
        tainted = self._tainted_names()
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
                f"Assignment to '{_snippet_of(node)}' is not allowed: {reason}, and changing it "
                "changes it for the host and every other function.",
                node,
                "Assign to a local name instead (e.g. 'my_norm = ...') and call that.",
            )

    def check_definition_time(self) -> None:
        """Code that runs when the file is loaded may only build constants."""
        policy = self.policy
        local_classes = {
            name
            for name, bindings in self.module_bindings.items()
            if len(bindings) == 1 and bindings[0].kind == "class"
        }
        for expr, module_scope, what in self.definition_time:
            todo = [expr]
            while todo:
                node = todo.pop()
                cls = node.__class__
                if cls is ast.Call:
                    func = node.func
                    path = self.resolve(func, module_scope)
                    allowed = (path is not None and policy.definition_time_call_allowed(path)) or (
                        func.__class__ is ast.Name and func.id in local_classes
                    )
                    if not allowed:
                        self.add(
                            "module-statement",
                            f"{what} calls '{_snippet_of(func)}' when the file is loaded.",
                            node,
                            "Only constructors of constants run at definition time (numbers, "
                            "tuples, np.array, TypeVar, field, ...); compute it inside the "
                            "function instead.",
                        )
                    if func.__class__ is not ast.Name and func.__class__ is not ast.Attribute:
                        todo.append(func)
                    todo.extend(node.args)
                    todo.extend(node.keywords)
                    continue
                if cls is ast.Lambda:
                    todo.extend(node.args.defaults)
                    todo.extend(d for d in node.args.kw_defaults if d is not None)
                    continue
                if cls not in _DEFINITION_TIME_NODES:
                    self.add(
                        "module-statement",
                        f"{what} contains a '{cls.__name__}' expression, which runs code when "
                        "the file is loaded.",
                        node,
                        "Keep definition-time values to constants; compute inside the function.",
                    )
                    continue
                for field_name in _CHILD_FIELDS[cls]:
                    value = getattr(node, field_name)
                    if value.__class__ is list:
                        todo.extend(value)
                    elif value is not None:
                        todo.append(value)

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
                for field_name in _CHILD_FIELDS.get(cls, ()):
                    value = getattr(node, field_name)
                    if value.__class__ is list:
                        todo.extend(value)
                    elif value is not None:
                        todo.append(value)
            if roots:
                self.run(roots)
        self._check_string_subscripts()

    def _check_string_subscripts(self) -> None:
        if not self.string_subscripts:
            return
        module_level: set[int] = set()
        todo: list[Any] = list(self.type_values)
        while todo:
            node = todo.pop()
            if node.__class__ is ast.Subscript:
                module_level.add(id(node))
            for field_name in _CHILD_FIELDS.get(node.__class__, ()):
                value = getattr(node, field_name)
                if value.__class__ is list:
                    todo.extend(value)
                elif value is not None:
                    todo.append(value)
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

    # -- after the pass: decorators and functions -----------------------------------------------
    def functions(self) -> tuple[list[StaticFunction], list[tuple[int, int, str]]]:
        found: list[StaticFunction] = []
        ranges: list[tuple[int, int, str]] = []
        for node, scope in self.defs:
            if isinstance(node, _FUNCTION_NODES) and scope == "top":
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                ranges.append((start, node.end_lineno or node.lineno, node.name))
            memory = self._check_decorators(node, scope)
            if memory is None:
                continue
            function = self._static_function(node, scope, memory)
            if function is not None:
                found.append(function)
        names: dict[str, int] = {}
        for function in found:
            bindings = self.module_bindings.get(function.name, ())
            if function.name in names or len(bindings) > 1:
                lines = ", ".join(str(b.line) for b in bindings)
                self.add(
                    "duplicate-function",
                    f"Function '{function.name}' is bound more than once (lines {lines}); only "
                    "the last binding would be registered.",
                    function.line,
                    "Give each function its own name and do not reassign it.",
                    function.name,
                )
            names[function.name] = function.line
        ranges.sort()
        found.sort(key=lambda function: function.line)
        return found, ranges

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
                    f"Decorator '@{_snippet_of(decorator)}' on '{name}' is not allowed: "
                    "decorators run code when the function is defined.",
                    decorator,
                    f"Use only the memory-type decorators ({_DECORATOR_LIST}) and "
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
        shown = _snippet_of(target)
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

    def _static_function(
        self, node: ast.FunctionDef, scope: str, memory: tuple[ast.expr, str]
    ) -> StaticFunction | None:
        name = node.name
        spec = self._memory_spec(memory[0], memory[1], name)
        args = node.args
        positional = [*args.posonlyargs, *args.args]
        signature_ok = True
        if not positional:
            self.add(
                "first-parameter",
                f"Function '{name}' has no parameters. First parameter must be 'image' {_IMAGE}.",
                node,
                f"Write 'def {name}(image, ...)'.",
                name,
            )
            signature_ok = False
        elif positional[0].arg != "image":
            self.add(
                "first-parameter",
                f"Function '{name}' first parameter is '{positional[0].arg}', but must be "
                f"'image' {_IMAGE}.",
                positional[0],
                f"Rename the first parameter to 'image': 'def {name}(image, ...)'.",
                name,
            )
            signature_ok = False
        if spec is None:
            return None
        # A function with a wrong first parameter is still listed (with its error), so a host
        # can refuse that function alone.
        del signature_ok
        input_type, output_type, contract = spec
        return StaticFunction(
            name=name,
            line=node.lineno,
            input_memory_type=input_type,
            output_memory_type=output_type,
            contract=contract,
            parameters=_parameters(args),
            doc=ast.get_docstring(node) or "",
        )

    def _memory_spec(
        self, decorator: ast.expr, kind: str, name: str
    ) -> tuple[str, str, str] | None:
        shown = f"@{_snippet_of(decorator)}"
        ok = True

        def bad(message: str, where: ast.AST, hint: str) -> None:
            nonlocal ok
            ok = False
            self.add("decorator", f"Decorator '{shown}' on '{name}': {message}", where, hint, name)

        types_hint = "one of: " + ", ".join(AVAILABLE_MEMORY_TYPES)
        if not isinstance(decorator, ast.Call):
            if kind == "memory_types":
                bad(
                    "memory_types needs the memory types as arguments.",
                    decorator,
                    'Write \'@memory_types("torch", "numpy")\'.',
                )
                return None
            return kind, kind, "FLEXIBLE"
        values: dict[str, ast.expr] = {}
        if kind == "memory_types":
            if len(decorator.args) > 2:
                bad("memory_types takes at most two positional arguments.", decorator, types_hint)
            for key, arg in zip(("input_type", "output_type"), decorator.args, strict=False):
                values[key] = arg
        elif decorator.args:
            bad(
                "arguments must be given by keyword.",
                decorator.args[0],
                f'Write \'@{kind}(output_type="numpy", contract="PURE_2D")\'.',
            )
        allowed_keywords = {"input_type", "output_type", "contract"}
        if kind != "memory_types":
            allowed_keywords.add("oom_recovery")
        for keyword in decorator.keywords:
            if keyword.arg is None:
                bad(
                    "'**' arguments cannot be read without running the code.",
                    keyword.value,
                    'Write each argument as keyword="literal".',
                )
            elif keyword.arg not in allowed_keywords:
                bad(
                    f"unknown argument '{keyword.arg}'.",
                    keyword.value,
                    "Arguments are " + ", ".join(sorted(allowed_keywords)) + ".",
                )
            elif keyword.arg in values:
                bad(f"'{keyword.arg}' is given twice.", keyword.value, "Give it once.")
            else:
                values[keyword.arg] = keyword.value
        for arg in decorator.args:
            if isinstance(arg, ast.Starred):
                bad("'*' arguments cannot be read without running the code.", arg, types_hint)

        def literal(key: str, choices: frozenset[str] | tuple[str, ...], hint: str) -> str | None:
            expr = values.get(key)
            if expr is None:
                return None
            if isinstance(expr, ast.Constant) and expr.value is None and key != "input_type":
                return None
            if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
                value = expr.value.upper() if key == "contract" else expr.value
                if value in choices:
                    return value
                bad(f"{key} {expr.value!r} is not valid; use {hint}.", expr, f"Use {hint}.")
                return None
            bad(
                f"{key} must be a literal string, not '{_snippet_of(expr)}' (it is read without "
                "running the code).",
                expr,
                f"Use {hint}.",
            )
            return None

        input_type = literal("input_type", _MEMORY_TYPES, types_hint)
        output_type = literal("output_type", _MEMORY_TYPES, types_hint)
        contract = literal("contract", CONTRACTS, "one of: " + ", ".join(CONTRACTS))
        recovery = values.get("oom_recovery")
        if recovery is not None and not (
            isinstance(recovery, ast.Constant) and isinstance(recovery.value, bool)
        ):
            bad("oom_recovery must be True or False.", recovery, "Write oom_recovery=True.")
        if kind == "memory_types" and "input_type" not in values:
            bad("memory_types needs an input type.", decorator, types_hint)
        if not ok:
            return None
        if input_type is None:
            input_type = kind
        if input_type == "memory_types":  # pragma: no cover - guarded by the check above
            return None
        return input_type, output_type or input_type, contract or "FLEXIBLE"


#: node class -> (handler or None, child fields): one dict lookup per visited node.
_HANDLERS: dict[type, Any] = {
    ast.Attribute: _Inspector._attribute,
    ast.Import: _Inspector._import,
    ast.ImportFrom: _Inspector._import_from,
    ast.FunctionDef: _Inspector._function,
    ast.AsyncFunctionDef: _Inspector._function,
    ast.ClassDef: _Inspector._class,
    ast.arg: _Inspector._arg,
    ast.Subscript: _Inspector._subscript,
    ast.Dict: _Inspector._dict,
    ast.keyword: _Inspector._keyword,
    ast.ExceptHandler: _Inspector._except_handler,
    ast.MatchClass: _Inspector._match_class,
    ast.MatchAs: _Inspector._match_name,
    ast.MatchStar: _Inspector._match_name,
    ast.MatchMapping: _Inspector._match_mapping,
    ast.Global: _Inspector._global,
    ast.Nonlocal: _Inspector._nonlocal,
    ast.Assign: _Inspector._assign,
    ast.AnnAssign: _Inspector._ann_assign,
    ast.NamedExpr: _Inspector._named_expr,
    ast.For: _Inspector._for,
    ast.Module: _Inspector._module,
}
_TABLE: dict[type, tuple[Any, tuple[str, ...]]] = {
    cls: (_HANDLERS.get(cls), fields) for cls, fields in _CHILD_FIELDS.items()
}


# -- helpers ----------------------------------------------------------------------------------

_LITERAL_PATHS = frozenset({"typing.Literal", "typing_extensions.Literal"})
_TYPING_MODULES = frozenset({"typing", "typing_extensions", "collections"})
_BUILTIN_GENERICS = frozenset(
    f"builtins.{name}" for name in ("list", "dict", "tuple", "set", "frozenset", "type")
)


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


def _strings_in(node: Any) -> list[ast.Constant]:
    cls = node.__class__
    if cls is ast.Constant:
        return [node] if isinstance(node.value, str) else []
    if cls is ast.Tuple or cls is ast.List:
        return [c for element in node.elts for c in _strings_in(element)]
    return []


_ANNOTATED_PATHS = frozenset({"typing.Annotated", "typing_extensions.Annotated"})

#: Attribute names handled specially in the chain loop.
_WATCHED_ATTRIBUTES = frozenset({"format", "format_map", "wraps"})

_ALIAS = {
    "numpy": "np",
    "torch": "th",
    "cupy": "cp",
    "jax": "jx",
    "tensorflow": "tf",
    "pyclesperanto": "cle",
}

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


def _statement_word(stmt: ast.AST) -> str:
    return {
        "AsyncFor": "async for",
        "AsyncWith": "async with",
        "AugAssign": "augmented assignment",
        "AnnAssign": "annotated assignment",
        "Expr": "expression",
        "TryStar": "try",
        "TypeAlias": "type",
    }.get(type(stmt).__name__, type(stmt).__name__.lower())


def _statement_children(stmt: ast.stmt) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for field_name in ("body", "orelse", "finalbody"):
        out.extend(getattr(stmt, field_name, None) or ())
    for handler in getattr(stmt, "handlers", None) or ():
        out.extend(handler.body)
    for case in getattr(stmt, "cases", None) or ():
        out.extend(case.body)
    return out[::-1]


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


def _simple_source(expr: Any, budget: int = 8) -> str | None:
    """``ast.unparse`` of the common small annotations and defaults (names, dotted names,
    literals, ``X[Y, Z]``, ``A | B``), written directly; None for anything else."""
    cls = expr.__class__
    if cls is ast.Name:
        return expr.id
    if cls is ast.Constant:
        value = expr.value
        kind = value.__class__
        if kind is int or kind is bool or value is None:
            return repr(value)
        if kind is float and value - value == 0:  # finite: repr is what unparse writes
            return repr(value)
        if kind is str and value.isascii() and value.replace("_", "").isalnum():
            return repr(value)
        return None
    if budget <= 0:
        return None
    if cls is ast.Attribute:
        base = _simple_source(expr.value, budget - 1)
        return None if base is None else f"{base}.{expr.attr}"
    if cls is ast.Subscript:
        base = _simple_source(expr.value, budget - 1)
        if base is None:
            return None
        index = expr.slice
        if index.__class__ is ast.Tuple:
            if not index.elts:
                return None
            parts = [_simple_source(e, budget - 1) for e in index.elts]
            if None in parts:
                return None
            return f"{base}[{', '.join(parts)}]"  # type: ignore[arg-type]
        inner = _simple_source(index, budget - 1)
        return None if inner is None else f"{base}[{inner}]"
    if cls is ast.List:
        parts = [_simple_source(e, budget - 1) for e in expr.elts]
        return None if None in parts else f"[{', '.join(parts)}]"  # type: ignore[arg-type]
    if cls is ast.BinOp and expr.op.__class__ is ast.BitOr:
        right = expr.right
        if right.__class__ is ast.BinOp:
            return None
        left = expr.left
        if left.__class__ is ast.BinOp and left.op.__class__ is not ast.BitOr:
            return None
        a = _simple_source(left, budget - 1)
        b = _simple_source(right, budget - 1)
        return None if a is None or b is None else f"{a} | {b}"
    return None


def _source(expr: ast.expr | None) -> str | None:
    """Source text of a default or annotation, as ``ast.unparse`` writes it."""
    if expr is None:
        return None
    text = _simple_source(expr)
    return ast.unparse(expr) if text is None else text


def _parameters(args: ast.arguments) -> tuple[ParameterInfo, ...]:
    out: list[ParameterInfo] = []
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults.extend(args.defaults)
    n_posonly = len(args.posonlyargs)
    for index, (arg, default) in enumerate(zip(positional, defaults, strict=True)):
        kind = "POSITIONAL_ONLY" if index < n_posonly else "POSITIONAL_OR_KEYWORD"
        if arg.arg not in INJECTED_PARAMETERS:
            out.append(ParameterInfo(arg.arg, kind, _source(default), _source(arg.annotation)))
    if args.vararg is not None:
        out.append(
            ParameterInfo(args.vararg.arg, "VAR_POSITIONAL", None, _source(args.vararg.annotation))
        )
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        if arg.arg not in INJECTED_PARAMETERS:
            out.append(
                ParameterInfo(arg.arg, "KEYWORD_ONLY", _source(default), _source(arg.annotation))
            )
    if args.kwarg is not None:
        out.append(
            ParameterInfo(args.kwarg.arg, "VAR_KEYWORD", None, _source(args.kwarg.annotation))
        )
    return tuple(out)


def inspect_tree(tree: ast.Module, policy: ImportPolicy) -> Inspection:
    """Apply ``policy`` to ``tree`` and read its decorated functions.

    Raises :class:`TooComplex` when a limit is exceeded; the caller turns that (and any other
    exception) into a rejection.
    """
    if len(policy._watched_attributes) > 50_000:  # bounded across many files with odd names
        policy._watched_attributes.clear()
    inspector = _Inspector(tree, policy)
    inspector.run([(tree, 0)])
    inspector.check_collected()
    functions, ranges = inspector.functions()
    inspector.check_definition_time()
    return Inspection(inspector.findings, functions, ranges, inspector.memory_decorated)
