"""Statements: what may run when the file is loaded, at module level and in class bodies.

This module owns the module-level statement rules (only imports, definitions, constant
assignments and a ``__main__`` guard), the class-body rules, the module-scope bindings and the
scope of every definition, and the definition-time check (defaults, annotations, decorator
arguments, base classes and module-level values may only build constants). It imports only the
standard library, :mod:`.findings`, :mod:`.text` and :mod:`.walk`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.validation.text import norm, snippet_of
from openhcs_plugins.validation.walk import CHILD_FIELDS, DEF_NODES, push_children

__all__ = ["StatementRules"]


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


def _is_main_guard(test: ast.expr) -> bool:
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    if not isinstance(test.ops[0], ast.Eq):
        return False
    sides = (test.left, test.comparators[0])
    names = [s for s in sides if isinstance(s, ast.Name) and s.id == "__name__"]
    strings = [s for s in sides if isinstance(s, ast.Constant) and s.value == "__main__"]
    return len(names) == 1 and len(strings) == 1


class StatementRules:
    """Module-level and class-body statements (a part of the inspector)."""

    def _module(self, node: ast.Module, depth: int, push: Any) -> bool:
        self._scan_module(node.body)
        return False

    def _scan_module(self, body: list[ast.stmt]) -> None:
        """Module-level statement rules, module-scope bindings and definition scopes."""
        todo: list[tuple[ast.stmt, bool, bool]] = [(s, True, False) for s in reversed(body)]
        while todo:
            stmt, top, in_main = todo.pop()
            cls = stmt.__class__
            if cls is ast.Import:
                for alias in stmt.names:
                    module = norm(alias.name)
                    name = alias.asname or module.split(".", 1)[0]
                    path = module if alias.asname else name
                    self._module_binding(name, "import", path, stmt.lineno)
            elif cls is ast.ImportFrom:
                module = norm(stmt.module or "")
                for alias in stmt.names:
                    name = norm(alias.name)
                    if stmt.level:
                        self._module_binding(alias.asname or name, "assign", None, stmt.lineno)
                    elif name != "*":
                        self._module_binding(
                            alias.asname or name, "import", f"{module}.{name}", stmt.lineno
                        )
            elif cls in DEF_NODES:
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
                for f in CHILD_FIELDS.get(stmt.__class__, ())
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
                    name = alias.asname or norm(alias.name).split(".", 1)[0]
                    self._module_binding(name, "assign", None, node.lineno)
                continue
            if cls in DEF_NODES:
                self._module_binding(node.name, "assign", None, node.lineno)
                continue
            if cls is ast.Lambda:
                continue
            if cls in (ast.ExceptHandler, ast.MatchAs, ast.MatchStar) and node.name:
                self._module_binding(node.name, "assign", None, node.lineno)
            push_children(node, todo)

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
        self._note_class_privates(node)
        return False

    def _scan_class_body(self, node: ast.ClassDef, runtime: bool) -> None:
        name = node.name
        definition_time = self.definition_time
        if runtime:
            definition_time = []  # the body's values are checked like any code, not as load-time
        for stmt in node.body:
            cls = stmt.__class__
            if cls in DEF_NODES:
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
            f"Assignment to '{snippet_of(target)}' at {where} changes another object when the "
            "file is loaded.",
            target,
            "Assign to a plain name.",
        )

    def check_definition_time(self) -> None:
        """Code that runs when the file is loaded may only build constants."""
        policy = self.policy
        local_classes = {
            name
            for name, bindings in self.module_bindings.items()
            if len(bindings) == 1 and bindings[0].kind == "class"
        }
        # names the file computed itself at module level (KERNEL = np.outer(...)): a method of
        # such a value (KERNEL.sum()) computes on it, as the call that made it was allowed to
        own_values = {
            name
            for name, bindings in self.module_bindings.items()
            if bindings and all(b.kind == "assign" for b in bindings)
        }
        for expr, module_scope, what in self.definition_time:
            todo = [expr]
            while todo:
                node = todo.pop()
                cls = node.__class__
                if cls is ast.Call:
                    func = node.func
                    path = self.resolve(func, module_scope)
                    allowed = (
                        (path is not None and policy.definition_time_call_allowed(path))
                        or (func.__class__ is ast.Name and func.id in local_classes)
                        or (
                            func.__class__ is ast.Attribute
                            and func.value.__class__ is ast.Name
                            and func.value.id in own_values
                        )
                    )
                    if not allowed:
                        self.add(
                            "module-statement",
                            f"{what} calls '{snippet_of(func)}' when the file is loaded.",
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
                push_children(node, todo)


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
