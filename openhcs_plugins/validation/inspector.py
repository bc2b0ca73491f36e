"""The static pass assembled: one walk, the rule parts it dispatches to, and its result.

This module owns :class:`Inspector` (the walk of :mod:`.walk` with the parts that each own one
job: names, attribute rules, imports, statements, string annotations, decorators, functions and
the module facts), the dispatch table from node class to handler, and :func:`inspect_tree`,
which runs the walk once and then the checks that need the whole module. It imports only the
standard library and the modules of this package below it (never :mod:`.api`).
"""

from __future__ import annotations

import ast
from typing import Any, NamedTuple

from openhcs_plugins.sources.candidate import StaticFunction
from openhcs_plugins.validation.annotations import AnnotationRules
from openhcs_plugins.validation.artifact_reader import ArtifactReader
from openhcs_plugins.validation.budget import Budget
from openhcs_plugins.validation.calls import CallRules
from openhcs_plugins.validation.decorators import DecoratorRules
from openhcs_plugins.validation.facts import ModuleFacts
from openhcs_plugins.validation.findings import Finding, TooComplex
from openhcs_plugins.validation.functions import FunctionReader
from openhcs_plugins.validation.imports import ImportRules
from openhcs_plugins.validation.module_reader import ModuleReader
from openhcs_plugins.validation.names import NameRules
from openhcs_plugins.validation.policy import ImportPolicy
from openhcs_plugins.validation.rules import AttributeRules
from openhcs_plugins.validation.statements import StatementRules
from openhcs_plugins.validation.walk import CHILD_FIELDS, Walk

__all__ = [
    "Inspection",
    "Inspector",
    "inspect_tree",
    "makes_functions_at_import",
    "read_module",
]


class Inspection(NamedTuple):
    findings: list[Finding]
    functions: list[StaticFunction]
    #: (first line, last line, name) of each top-level function, for attributing findings.
    ranges: list[tuple[int, int, str]]
    #: how many definitions carry a memory-type decorator (valid or not).
    memory_decorated: int = 0
    #: the module facts, when asked for.
    module: ModuleFacts | None = None


class Inspector(
    Walk,
    NameRules,
    AttributeRules,
    CallRules,
    ImportRules,
    StatementRules,
    AnnotationRules,
    DecoratorRules,
    FunctionReader,
    ArtifactReader,
    ModuleReader,
):
    """Collects facts in one pass, then checks them against the policy."""

    def check_collected(self) -> None:
        """The checks that need the whole module's imports and bindings."""
        self._check_annotation_strings()
        self._check_spelled()
        self._check_format_names()
        self._check_chains()
        self._check_bare_names()
        self._check_stores()


#: node class -> handler: one dict lookup per visited node.
_HANDLERS: dict[type, Any] = {
    ast.Attribute: Inspector._attribute,
    ast.Import: Inspector._import,
    ast.ImportFrom: Inspector._import_from,
    ast.FunctionDef: Inspector._function,
    ast.AsyncFunctionDef: Inspector._function,
    ast.ClassDef: Inspector._class,
    ast.arg: Inspector._arg,
    ast.Subscript: Inspector._subscript,
    ast.Dict: Inspector._dict,
    ast.keyword: Inspector._keyword,
    ast.ExceptHandler: Inspector._except_handler,
    ast.MatchClass: Inspector._match_class,
    ast.MatchAs: Inspector._match_name,
    ast.MatchStar: Inspector._match_name,
    ast.MatchMapping: Inspector._match_mapping,
    ast.Global: Inspector._global,
    ast.Nonlocal: Inspector._nonlocal,
    ast.Assign: Inspector._assign,
    ast.AnnAssign: Inspector._ann_assign,
    ast.NamedExpr: Inspector._named_expr,
    ast.For: Inspector._for,
    ast.Module: Inspector._module,
}
Inspector.TABLE = {cls: (_HANDLERS.get(cls), fields) for cls, fields in CHILD_FIELDS.items()}


def inspect_tree(
    tree: ast.Module, policy: ImportPolicy, *, facts: bool = False, budget: Budget | None = None
) -> Inspection:
    """Apply ``policy`` to ``tree`` and read its decorated functions (and, with ``facts``, the
    :class:`~openhcs_plugins.validation.facts.ModuleFacts` the loader needs).

    Raises :class:`~openhcs_plugins.validation.findings.TooComplex` when a limit is exceeded;
    the caller turns that (and any other exception) into a rejection.
    """
    inspector = Inspector(tree, policy)
    inspector.budget = budget
    inspector.index.trim()
    inspector.run([(tree, 0)])
    last = getattr(tree.body[-1], "end_lineno", 1) if tree.body else 1
    module = inspector.module_facts() if facts else None
    if budget is not None:
        budget.check(last)
    inspector.check_collected()
    if budget is not None:
        budget.check(last)
    functions, ranges = inspector.functions()
    inspector.check_definition_time()
    return Inspection(inspector.findings, functions, ranges, inspector.memory_decorated, module)


def read_module(tree: ast.Module, policy: ImportPolicy | None = None) -> ModuleFacts:
    """The module facts of a tree parsed elsewhere (``validate_code(..., module_facts=True)``
    reads them in the same pass as the checks; this is for a caller that holds only a tree)."""
    inspector = Inspector(tree, policy if policy is not None else ImportPolicy.default())
    inspector.run([(tree, 0)])
    return inspector.module_facts()


def makes_functions_at_import(tree: object, text: str | None = None) -> bool:
    """True when a memory-type decorator is used other than on a top-level ``def`` of ``tree``
    (an ``ast.Module`` parsed elsewhere; ``text`` is accepted for compatibility and not needed).

    ``validate_code(..., module_facts=True).module.makes_functions_at_import`` answers the same
    in the validating pass; a tree too large to read is answered True (importing decides).
    """
    del text
    try:
        return read_module(tree).makes_functions_at_import  # type: ignore[arg-type]
    except TooComplex:
        return True
