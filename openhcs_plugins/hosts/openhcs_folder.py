"""The shared functions folder as OpenHCS 0.8.6 reads it.

Both programs use ``$XDG_DATA_HOME/openhcs/custom_functions``. OpenHCS loads every ``*.py`` file
there in its own processes and refuses the **whole folder** (every custom function disappears,
its own included) when one file breaks its rules, measured with ``openhcs==0.8.6``:

- the file must execute in OpenHCS's environment: an import of ``openhcs_plugins`` fails where
  OpenHCS runs without this project (``No module named 'openhcs_plugins'``);
- it declares exactly one memory-decorated function (``Each custom-function source must declare
  exactly one decorated processing function; found 2``);
- the file is named after that function (``Persisted custom function 'a.py' declares 'b'. The
  filename and declaration name must match.``).

:func:`openhcs_imports` rewrites a text's imports of this project's decorators and artifact
names into the OpenHCS module names this project accepts too (``from openhcs.core.memory import
numpy``), which is what the manager writes into the folder; :func:`folder_problems` checks one
file's text against the three rules. It imports the standard library and the validator's
policy (the artifact names both programs export).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from openhcs_plugins.memory.types import OPENHCS_CONTRACT_MODULE
from openhcs_plugins.validation.policy import (
    ARTIFACT_DECORATOR_NAMES,
    ARTIFACT_SPEC_NAMES,
    MEMORY_DECORATOR_NAMES,
)

__all__ = [
    "OPENHCS_DROPS_THE_FOLDER",
    "FolderRuleProblem",
    "folder_problems",
    "openhcs_imports",
    "plugin_imports",
    "scan_folder",
]

#: What a message adds about the consequence.
OPENHCS_DROPS_THE_FOLDER = (
    "OpenHCS refuses the whole folder for one such file: all custom functions disappear there"
)

_DECORATORS = frozenset({*MEMORY_DECORATOR_NAMES, "memory_types"})
_OPENHCS_MEMORY_NAMES = _DECORATORS | {"MemoryType", "convert_memory", "detect_memory_type"}
_ARTIFACT_DECORATORS = frozenset(ARTIFACT_DECORATOR_NAMES)
_MATERIALIZATION = frozenset(ARTIFACT_SPEC_NAMES)
#: name -> the OpenHCS module that exports it.
_HOMES: dict[str, str] = {
    **dict.fromkeys(_OPENHCS_MEMORY_NAMES, "openhcs.core.memory"),
    **dict.fromkeys(_ARTIFACT_DECORATORS, "openhcs.core.pipeline.function_contracts"),
    **dict.fromkeys(_MATERIALIZATION, "openhcs.processing.materialization"),
    "ProcessingContract": OPENHCS_CONTRACT_MODULE,
}
#: Our modules whose names map to OpenHCS's by :data:`_HOMES`.
_OURS = frozenset(
    {"openhcs_plugins", "openhcs_plugins.memory", "openhcs_plugins.decorators",
     "openhcs_plugins.artifacts"}
)  # fmt: skip
#: ``import X as y`` of a whole module of ours -> OpenHCS's module of the same names.
_MODULES = {
    "openhcs_plugins.memory": "openhcs.core.memory",
    "openhcs_plugins.decorators": "openhcs.core.memory.decorators",
}


@dataclass(frozen=True)
class FolderRuleProblem:
    """A file of the shared folder that OpenHCS would refuse: the rule, and how to fix it."""

    path: Path
    rule: str
    message: str
    line: int
    fix: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message} ({OPENHCS_DROPS_THE_FOLDER}); {self.fix}"


def openhcs_imports(text: str) -> str:
    """``text`` with its top-level imports of this project's decorators, artifact decorators,
    specs and ``ProcessingContract`` written as OpenHCS's modules, which both programs resolve.

    Only statements whose every name has an OpenHCS home are rewritten (others are left and
    reported by :func:`folder_problems`); a statement that needs several imports becomes one
    line of them joined by ``;``, so every other line keeps its number; nothing else changes.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in tree.body:
        replacement = _rewrite(node)
        if replacement is not None and node.end_lineno is not None:
            indent = lines[node.lineno - 1][: node.col_offset]
            ending = "\n" if lines[node.end_lineno - 1].endswith("\n") else ""
            # one line for one line, so that every later line keeps its number
            text_new = indent + "; ".join(replacement) + ending
            edits.append((node.lineno - 1, node.end_lineno, text_new))
    for start, end, new in reversed(edits):
        lines[start:end] = [new]
    return "".join(lines)


def _rewrite(node: ast.stmt) -> list[str] | None:
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in _OURS:
        groups: dict[str, list[str]] = {}
        modules: list[str] = []
        for alias in node.names:
            module = _MODULES.get(f"{node.module}.{alias.name}")
            if module is not None:  # from openhcs_plugins import memory
                modules.append(f"import {module} as {alias.asname or alias.name}")
                continue
            home = _HOMES.get(alias.name)
            if node.module == "openhcs_plugins.decorators" and alias.name in _DECORATORS:
                home = "openhcs.core.memory.decorators"  # kept apart: plugin_imports inverts
            if home is None:
                return None
            spelled = alias.name if alias.asname is None else f"{alias.name} as {alias.asname}"
            groups.setdefault(home, []).append(spelled)
        return [
            *(f"from {home} import {', '.join(names)}" for home, names in groups.items()),
            *modules,
        ]
    if isinstance(node, ast.Import) and all(a.name in _MODULES and a.asname for a in node.names):
        return [f"import {_MODULES[a.name]} as {a.asname}" for a in node.names]
    return None


#: OpenHCS's module -> this project's, for a package (where OpenHCS's names do not resolve):
#: the inverse of :data:`_MODULES`, and the artifact and contract homes of :data:`_HOMES`.
_PLUGIN_MODULES = {
    **{openhcs: ours for ours, openhcs in _MODULES.items()},
    "openhcs.core.pipeline.function_contracts": "openhcs_plugins.artifacts",
    "openhcs.processing.materialization": "openhcs_plugins.artifacts",
    OPENHCS_CONTRACT_MODULE: "openhcs_plugins.memory",
}


def plugin_imports(text: str) -> str:
    """The inverse of :func:`openhcs_imports`, for code that becomes a package (``promote``):
    a package imports this project's modules (OpenHCS's names resolve only in folder and
    editor code). Statements joined by ``;`` on one line are rewritten each; line numbers stay.
    """
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return text
    lines = text.splitlines(keepends=True)
    by_line: dict[int, list[ast.stmt]] = {}
    for node in tree.body:
        by_line.setdefault(node.lineno, []).append(node)
    for number, nodes in sorted(by_line.items(), reverse=True):
        parts = [_plugin_statement(node) for node in nodes]
        if all(p is None for p in parts) or any(n.end_lineno != number for n in nodes):
            continue
        line = lines[number - 1]
        indent = line[: len(line) - len(line.lstrip())]
        ending = "\n" if line.endswith("\n") else ""
        # the from-imports grouped by module, then the module imports, then the rest unchanged
        groups: dict[str, list[str]] = {}
        imports: list[str] = []
        kept: list[str] = []
        for node, part in zip(nodes, parts, strict=True):
            if part is None:
                kept.append(ast.unparse(node))
            elif isinstance(part, str):
                imports.append(part)
            else:
                groups.setdefault(part[0], []).extend(part[1])
        statements = [f"from {m} import {', '.join(names)}" for m, names in groups.items()]
        lines[number - 1] = indent + "; ".join([*statements, *imports, *kept]) + ending
    return "".join(lines)


def _plugin_statement(node: ast.stmt) -> tuple[str, list[str]] | str | None:
    """``(module, names)`` for a from-import to rewrite, the text of a rewritten module import,
    or None to keep the statement."""
    if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in _PLUGIN_MODULES:
        names = [a.name if a.asname is None else f"{a.name} as {a.asname}" for a in node.names]
        return _PLUGIN_MODULES[node.module], names
    if isinstance(node, ast.Import) and all(
        a.name in _MODULES.values() and a.asname for a in node.names
    ):
        return "; ".join(f"import {_PLUGIN_MODULES[a.name]} as {a.asname}" for a in node.names)
    return None


def _decorated_functions(tree: ast.Module) -> list[ast.FunctionDef]:
    """Top-level functions carrying a memory-type decorator (spelled as either program does)."""
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in _DECORATORS or name.endswith(("_func", "_decorator")):
                found.append(node)
                break
    return found


def folder_problems(path: Path, text: str) -> list[FolderRuleProblem]:
    """What OpenHCS 0.8.6 would refuse in the folder file ``path`` holding ``text``."""
    try:
        tree = ast.parse(text)
    except SyntaxError as exc:
        return [
            FolderRuleProblem(
                path, "syntax", f"does not parse ({exc.msg})", exc.lineno or 1,
                f"fix it, or remove it with: openhcs-plugins remove {path.stem}",
            )
        ]  # fmt: skip
    problems = []
    for node in ast.walk(tree):
        if problems:
            break  # one import problem per file says it
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        ours = [n for n in names if n == "openhcs_plugins" or n.startswith("openhcs_plugins.")]
        if ours:
            problems.append(
                FolderRuleProblem(
                    path,
                    "imports-openhcs-plugins",
                    f"imports {ours[0]}, which OpenHCS cannot import where this project is not "
                    "installed in its environment",
                    node.lineno,
                    "write `from openhcs.core.memory import numpy` (this project accepts it "
                    "too); `openhcs-plugins add --replace FILE` rewrites the imports",
                )
            )
    functions = _decorated_functions(tree)
    if len(functions) > 1:
        names = ", ".join(f.name for f in functions)
        problems.append(
            FolderRuleProblem(
                path,
                "one-function-per-file",
                f"declares {len(functions)} functions ({names}); OpenHCS takes exactly one per "
                "file",
                functions[1].lineno,
                f"split it with: openhcs-plugins add --replace {path} (one file per function), "
                f"then delete {path.name}",
            )
        )
    elif len(functions) == 1 and functions[0].name != path.stem:
        name = functions[0].name
        problems.append(
            FolderRuleProblem(
                path,
                "file-named-after-function",
                f"declares {name!r} but is named {path.name}; OpenHCS needs {name}.py",
                functions[0].lineno,
                f"rename it to {name}.py",
            )
        )
    return problems


def scan_folder(folder: Path) -> list[FolderRuleProblem]:
    """:func:`folder_problems` for every ``*.py`` file of ``folder`` (sorted by name); a file
    that is not UTF-8 text is a problem too (OpenHCS cannot read it either)."""
    problems: list[FolderRuleProblem] = []
    if not folder.is_dir():
        return problems
    for path in sorted(folder.glob("*.py")):
        try:
            text = path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(
                FolderRuleProblem(
                    path, "unreadable", f"cannot be read as UTF-8 text ({exc})", 1,
                    f"remove it with: openhcs-plugins remove {path.stem}",
                )
            )  # fmt: skip
            continue
        problems.extend(folder_problems(path, text))
    return problems
