"""Static reading of functions: what a listing shows, read without running anything.

This module owns the handler of ``def`` (scope, names, defaults and annotations noted for the
definition-time check), the first-parameter rule, the reading of a memory-type decorator's
arguments (input and output type, contract) and of the parameters (with the decorator's
injected ones left out), and the :class:`~openhcs_plugins.sources.candidate.StaticFunction` of each
decorated top-level function. It imports only the standard library,
:mod:`openhcs_plugins.memory.types` (the contract), :mod:`openhcs_plugins.sources.candidate`,
:mod:`.findings` and :mod:`.text`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES, CONTRACTS, INJECTED_PARAMETERS
from openhcs_plugins.sources.candidate import ParameterInfo, StaticFunction
from openhcs_plugins.validation.text import snippet_of
from openhcs_plugins.validation.walk import FUNCTION_NODES

__all__ = ["FunctionReader"]


_IMAGE = "(3D array: C, Y, X)"


_MEMORY_TYPES = frozenset(AVAILABLE_MEMORY_TYPES)


class FunctionReader:
    """Function definitions and their static description (a part of the inspector)."""

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

    def functions(self) -> tuple[list[StaticFunction], list[tuple[int, int, str]]]:
        found: list[StaticFunction] = []
        ranges: list[tuple[int, int, str]] = []
        for node, scope in self.defs:
            if isinstance(node, FUNCTION_NODES) and scope == "top":
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
        outputs, inputs, others = self._read_artifacts(node, module_scope=True)
        return StaticFunction(
            name=name,
            line=node.lineno,
            input_memory_type=input_type,
            output_memory_type=output_type,
            contract=contract,
            parameters=_parameters(args),
            doc=ast.get_docstring(node) or "",
            artifact_outputs=outputs,
            artifact_inputs=inputs,
            outer_decorators=others,
        )

    def _contract_member(self, expr: Any) -> bool:
        """``ProcessingContract.PURE_2D``: a contract's name on something called
        ``ProcessingContract`` (ours, OpenHCS's, or any import path that names one, renamed
        or not). Read from the source; the decorator checks the value when it runs."""
        if expr.__class__ is not ast.Attribute or expr.attr not in CONTRACTS:
            return False
        owner = expr.value
        if owner.__class__ is ast.Attribute:
            return owner.attr == "ProcessingContract"
        if owner.__class__ is ast.Name:
            if owner.id == "ProcessingContract":
                return True
            paths = self.imports.get(owner.id, ())
            if any(path.rpartition(".")[2] == "ProcessingContract" for path in paths):
                return True
            # an import the policy did not record (a trusted package's own modules)
            return any(
                alias.name == "ProcessingContract" and (alias.asname or alias.name) == owner.id
                for statement in self.tree.body
                if statement.__class__ is ast.ImportFrom
                for alias in statement.names
            )
        return False

    def _memory_spec(
        self, decorator: ast.expr, kind: str, name: str
    ) -> tuple[str, str, str] | None:
        shown = f"@{snippet_of(decorator)}"
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
            allowed_keywords.update(("oom_recovery", "slice_by_slice_default"))
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
            if key == "contract" and self._contract_member(expr):
                return expr.attr  # ProcessingContract.PURE_2D, under any import path
            if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
                value = expr.value.upper() if key == "contract" else expr.value
                if value in choices:
                    return value
                bad(f"{key} {expr.value!r} is not valid; use {hint}.", expr, f"Use {hint}.")
                return None
            bad(
                f"{key} must be a literal string, not '{snippet_of(expr)}' (it is read without "
                "running the code).",
                expr,
                f"Use {hint}.",
            )
            return None

        input_type = literal("input_type", _MEMORY_TYPES, types_hint)
        output_type = literal("output_type", _MEMORY_TYPES, types_hint)
        contract = literal(
            "contract",
            CONTRACTS,
            "one of: " + ", ".join(CONTRACTS) + " (a string, or ProcessingContract.NAME)",
        )
        for flag in ("oom_recovery", "slice_by_slice_default"):
            value = values.get(flag)
            if value is not None and not (
                isinstance(value, ast.Constant) and isinstance(value.value, bool)
            ):
                bad(f"{flag} must be True or False.", value, f"Write {flag}=True.")
        if kind == "memory_types" and "input_type" not in values:
            bad("memory_types needs an input type.", decorator, types_hint)
        if not ok:
            return None
        if input_type is None:
            input_type = kind
        if input_type == "memory_types":  # pragma: no cover - guarded by the check above
            return None
        return input_type, output_type or input_type, contract or "FLEXIBLE"


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
