"""Reading a function's artifact declarations and its other decorators from source.

This module owns the static reading of ``@artifact_outputs(...)``/``@special_outputs(...)`` and
``@artifact_inputs(...)``/``@special_inputs(...)`` (OpenHCS's function contracts, ours under the
same names) in a function's decorator stack: the output names in order, each output's
materialization spec evaluated from its literal arguments (``MaterializationSpec(CsvOptions(
fields=[...], filename_suffix=".csv"))``, the presets) into the plain data a listing keeps,
and the input names. Decorators that are neither these nor the memory-type ones (a trusted
package's own, such as OpenHCS's ``runtime_image_execution_mode``) are recorded by name for the
listing. Nothing is executed: the spec is built with this package's own option classes from
literals only; anything else is read as "not known until the code loads".

It imports only the standard library, :mod:`openhcs_plugins.artifacts.spec` (standard library
only), :mod:`openhcs_plugins.errors`, :mod:`.policy` (the decorator tables) and :mod:`.text`.
"""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.artifacts.spec import BUILDERS, spec_text
from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.validation.policy import (
    ARTIFACT_DECORATOR_PATHS,
    ARTIFACT_SPEC_PATHS,
    DECORATOR_PATHS,
)
from openhcs_plugins.validation.text import snippet_of

__all__ = ["ArtifactReader"]


class _NotLiteral(OpenHCSPluginsError):
    """A spec argument that cannot be known without running the code."""


class ArtifactReader:
    """Artifact declarations and other decorators of a function (a part of the inspector)."""

    def _read_artifacts(
        self, node: Any, module_scope: bool
    ) -> tuple[tuple[tuple[str, str | None], ...], tuple[str, ...], tuple[str, ...]]:
        """(outputs, inputs, other decorators) of a top-level function's decorator stack."""
        outputs: list[tuple[str, str | None]] = []
        inputs: list[str] = []
        others: list[str] = []
        name = node.name
        for decorator in node.decorator_list:
            target = decorator.func if decorator.__class__ is ast.Call else decorator
            path = self.resolve(target, module_scope)
            kind = ARTIFACT_DECORATOR_PATHS.get(path) if path is not None else None
            if kind is None:
                if path is None or path not in DECORATOR_PATHS:
                    if path not in self.policy.allowed_decorators:
                        others.append(snippet_of(target))
                continue
            if decorator.__class__ is not ast.Call:
                self._artifact_problem(
                    name, decorator, f"@{kind} needs its names as arguments", kind
                )
                continue
            if decorator.keywords:
                self._artifact_problem(
                    name,
                    decorator.keywords[0].value,
                    f"@{kind} takes no keyword arguments",
                    kind,
                    "artifact-spec",
                )
            if kind.endswith("_outputs"):
                for argument in decorator.args:
                    output = self._output_declaration(name, argument, module_scope, kind)
                    if output is not None:
                        outputs.append(output)
            else:
                for argument in decorator.args:
                    literal = argument.__class__ is ast.Constant
                    if literal and isinstance(argument.value, str):
                        if argument.value.strip().isidentifier():
                            inputs.append(argument.value.strip())
                            continue
                    # ArtifactSpec.input(...) in a trusted package: a warning there
                    self._artifact_problem(
                        name,
                        argument,
                        f"@{kind} takes parameter names (string literals)",
                        kind,
                        "decorator" if literal else "artifact-spec",
                    )
        seen: set[str] = set()
        for output_name, _spec in outputs:
            if output_name in seen:
                self._artifact_problem(
                    name, node, f"artifact output {output_name!r} is declared twice", "outputs"
                )
            seen.add(output_name)
        return tuple(outputs), tuple(inputs), tuple(others)

    def _output_declaration(
        self, name: str, argument: Any, module_scope: bool, kind: str
    ) -> tuple[str, str | None] | None:
        if argument.__class__ is ast.Constant and isinstance(argument.value, str):
            if argument.value.strip().isidentifier():
                return argument.value.strip(), None
        elif argument.__class__ is ast.Tuple and len(argument.elts) == 2:
            key, spec = argument.elts
            if (
                key.__class__ is ast.Constant
                and isinstance(key.value, str)
                and key.value.strip().isidentifier()
            ):
                if spec.__class__ is ast.Constant and spec.value is None:
                    return key.value.strip(), None
                try:
                    built = self._literal_spec(spec, module_scope)
                except _NotLiteral:
                    # a trusted package's (a warning there): its spec is read when it loads
                    self._artifact_problem(
                        name,
                        spec,
                        "the materialization spec must be built from literals "
                        "(MaterializationSpec(CsvOptions(fields=[...], filename_suffix='.csv')))",
                        kind,
                        "artifact-spec",
                    )
                    return key.value.strip(), None
                except (TypeError, ValueError, IndexError) as exc:
                    self._artifact_problem(name, spec, f"invalid materialization spec: {exc}", kind)
                    return None
                if not hasattr(built, "to_data"):
                    self._artifact_problem(
                        name, spec, "the spec of an output must be a MaterializationSpec", kind
                    )
                    return None
                return key.value.strip(), spec_text(built)
        # ArtifactSpec.output(...), a module constant: a trusted package's is read when it loads
        self._artifact_problem(
            name,
            argument,
            f"an artifact output is a name ('counts') or a (name, MaterializationSpec(...)) "
            f"pair, not '{snippet_of(argument)}'",
            kind,
            "artifact-spec" if argument.__class__ is not ast.Constant else "decorator",
        )
        return None

    def _literal_spec(self, expr: Any, module_scope: bool) -> Any:
        cls = expr.__class__
        if cls is ast.Constant:
            return expr.value
        if cls in (ast.List, ast.Tuple):
            values = [self._literal_spec(e, module_scope) for e in expr.elts]
            return values if cls is ast.List else tuple(values)
        if cls is ast.Dict:
            if any(k is None for k in expr.keys):
                raise _NotLiteral
            return {
                self._literal_spec(k, module_scope): self._literal_spec(v, module_scope)
                for k, v in zip(expr.keys, expr.values, strict=True)
            }
        if cls is ast.Call:
            path = self.resolve(expr.func, module_scope)
            builder = ARTIFACT_SPEC_PATHS.get(path) if path is not None else None
            if builder is None or any(a.__class__ is ast.Starred for a in expr.args):
                raise _NotLiteral
            if any(k.arg is None for k in expr.keywords):
                raise _NotLiteral
            args = [self._literal_spec(a, module_scope) for a in expr.args]
            kwargs = {k.arg: self._literal_spec(k.value, module_scope) for k in expr.keywords}
            return BUILDERS[builder](*args, **kwargs)
        raise _NotLiteral

    def _artifact_problem(
        self, name: str, where: Any, message: str, kind: str, rule: str = "decorator"
    ) -> None:
        self.add(
            rule,
            f"Decorator '@{kind}' on '{name}': {message}.",
            where,
            "Write @artifact_outputs('counts', ('cells', MaterializationSpec(CsvOptions("
            "fields=['label', 'area'])))) and @artifact_inputs('positions') with literals.",
            name,
        )
