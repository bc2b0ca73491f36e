"""The package's shape: imports run one way, validation stands alone, no import cycle.

Imports are read from the source (every ``import`` statement, inside functions and
``TYPE_CHECKING`` blocks too), so an import that only runs on some path still counts.
"""

from __future__ import annotations

import ast
import sys
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = "openhcs_plugins"
VALIDATION = f"{PACKAGE}.validation"

#: What the validator may import from the rest of the package: small leaf modules only.
VALIDATION_MAY_IMPORT = frozenset(
    {
        f"{PACKAGE}.sources.candidate",
        f"{PACKAGE}.memory.types",
        f"{PACKAGE}.errors",
        f"{PACKAGE}.artifacts.spec",
    }
)
#: Later stages of the flow, which the validator must never reach.
LATER_STAGES = ("loader", "registry", "manager", "cli", "execution", "isolation")


@cache
def modules() -> dict[str, tuple[Path, bool]]:
    """Dotted module name -> (file, is a package ``__init__``)."""
    found = {}
    for path in sorted((ROOT / PACKAGE).rglob("*.py")):
        if "data" in path.relative_to(ROOT / PACKAGE).parts:
            continue  # templates shipped as data, not modules of the package
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        found[".".join(parts)] = (path, is_package)
    return found


def _known(name: str) -> str | None:
    """The module of the package that ``name`` (a module or a name in one) is."""
    table = modules()
    while name and name not in table:
        name = name.rpartition(".")[0]
    return name or None


@cache
def imports_of(name: str) -> tuple[frozenset[str], frozenset[str]]:
    """(modules of the package, top-level names of other modules) that ``name`` imports.

    ``from pkg import mod`` counts as the submodule ``pkg.mod`` when it is one; relative
    imports are resolved against ``name``.
    """
    path, is_package = modules()[name]
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    internal: set[str | None] = set()
    external: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == PACKAGE:
                    internal.add(_known(alias.name))
                else:
                    external.add(alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name if is_package else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module.split(".")[0] != PACKAGE:
                external.add(module.split(".")[0])
                continue
            for alias in node.names:
                full = f"{module}.{alias.name}"
                internal.add(full if full in modules() else _known(module))
    internal.discard(None)
    internal.discard(name)
    return frozenset(internal), frozenset(external)  # type: ignore[arg-type]


def graph() -> dict[str, frozenset[str]]:
    """Module -> the modules of the package it imports."""
    return {name: imports_of(name)[0] for name in modules()}


def strongly_connected(edges: dict[str, frozenset[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return sorted(found)


def short(names: list[str]) -> list[str]:
    return [name.removeprefix(f"{PACKAGE}.") for name in names]


def test_the_reader_sees_imports_inside_functions_and_submodules() -> None:
    internal, _ = imports_of(f"{PACKAGE}.manager")
    # the manager imports the loader only inside functions: it still counts
    assert f"{PACKAGE}.loader" in internal
    # examination imports the validator only inside examine(): it still counts
    assert VALIDATION in imports_of(f"{PACKAGE}.loading.examine")[0]
    # ``from openhcs_plugins import gui`` style: a submodule named in a from-import is that module
    assert all(target in modules() for target in internal)


def test_validation_imports_nothing_from_later_stages() -> None:
    names = [name for name in modules() if name == VALIDATION or name.startswith(VALIDATION + ".")]
    assert len(names) > 5
    for name in names:
        internal, _ = imports_of(name)
        later = sorted(
            target
            for target in internal
            if target.removeprefix(f"{PACKAGE}.").split(".")[0] in LATER_STAGES
        )
        assert not later, f"{name} imports {later}"


def test_validation_needs_only_the_standard_library_and_leaf_modules() -> None:
    """Everything the validator imports, followed through the package, is the standard library,
    the validator itself, ``candidate``, ``memory.types`` or ``errors`` (so it never loads
    numpy)."""
    seen: set[str] = set()
    todo = [name for name in modules() if name.startswith(VALIDATION)]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        internal, external = imports_of(name)
        outside = sorted(e for e in external if e not in sys.stdlib_module_names)
        assert not outside, f"{name} imports {outside}"
        for target in internal:
            assert target.startswith(VALIDATION) or target in VALIDATION_MAY_IMPORT, (
                f"{name} imports {target}"
            )
            todo.append(target)
    assert VALIDATION_MAY_IMPORT <= seen


def test_the_decorator_contract_is_defined_once() -> None:
    """CONTRACTS, INJECTED_PARAMETERS and the contract attribute's name have one home."""
    homes: dict[str, list[str]] = {}
    for name, (path, _) in modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets = []
            if isinstance(node, ast.Assign):
                targets = node.targets
            elif isinstance(node, ast.AnnAssign):
                targets = [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.lstrip("_") in (
                    "CONTRACTS",
                    "INJECTED_PARAMETERS",
                    "CONTRACT_ATTRIBUTE",
                ):
                    homes.setdefault(target.id.lstrip("_"), []).append(name)
            if (
                isinstance(node, ast.Constant)
                and node.value == "__openhcs_declared_processing_contract__"
            ):
                homes.setdefault("the attribute name", []).append(name)
    home = [f"{PACKAGE}.memory.types"]
    assert homes == {
        "CONTRACTS": home,
        "INJECTED_PARAMETERS": home,
        "CONTRACT_ATTRIBUTE": home,
        "the attribute name": home,
    }


def test_the_cycle_finder_finds_a_cycle() -> None:
    edges = {
        "a": frozenset({"b"}),
        "b": frozenset({"c"}),
        "c": frozenset({"a"}),
        "d": frozenset({"a"}),
        "e": frozenset({"e"}),
    }
    assert strongly_connected(edges) == [["a", "b", "c"]]


def test_no_import_cycle() -> None:
    """Imports run one way: sources -> candidate -> validation -> adapter -> registry, execution
    below them, manager/cli/gui on top. Any strongly connected component is a cycle."""
    cycles = strongly_connected(graph())
    assert not cycles, "import cycles: " + "; ".join(" <-> ".join(short(c)) for c in cycles)


CONFIG = f"{PACKAGE}.config"
#: What the configuration package may import from the rest of the package.
CONFIG_MAY_IMPORT = frozenset(
    {
        f"{PACKAGE}.sources.candidate",
        # the trust store lists the folder's files (config/trust.py); it imports only candidate
        f"{PACKAGE}.sources.folder",
        f"{PACKAGE}.memory.types",
        f"{PACKAGE}._storage",
        f"{PACKAGE}.errors",
        f"{PACKAGE}._exports",
        VALIDATION,
    }
)


def test_config_imports_only_leaf_modules_and_the_policy() -> None:
    """The lazy dataclasses and the settings sit below the flow: they read the trust levels,
    the memory types and the policy a setting widens, and nothing from the sources, loader,
    registry, manager, execution, CLI or GUI."""
    names = [name for name in modules() if name == CONFIG or name.startswith(CONFIG + ".")]
    assert len(names) > 5
    for name in names:
        internal, external = imports_of(name)
        outside = sorted(
            e for e in external if e not in sys.stdlib_module_names | {"platformdirs", "filelock"}
        )
        assert not outside, f"{name} imports {outside}"
        for target in internal:
            allowed = target.startswith(CONFIG) or any(
                target == m or target.startswith(m + ".") for m in CONFIG_MAY_IMPORT
            )
            assert allowed, f"{name} imports {target}"


def test_sources_import_nothing_from_later_stages() -> None:
    """Where candidates come from stands before everything that checks, registers, loads or runs
    them: ``sources`` imports only itself and the lazy-exports helper (and never the loader,
    manager, CLI, GUI or executor)."""
    names = [
        n for n in modules() if n == f"{PACKAGE}.sources" or n.startswith(f"{PACKAGE}.sources.")
    ]
    assert len(names) > 5
    for name in names:
        internal, _ = imports_of(name)
        outside = sorted(
            t
            for t in internal
            if not t.startswith(f"{PACKAGE}.sources") and t != f"{PACKAGE}._exports"
        )
        assert not outside, f"{name} imports {outside}"


#: The size limits of issue 12: a module over this many lines says why in its docstring (a line
#: starting ``Over 600 lines:``); no class is over ``MAX_CLASS_LINES``.
MAX_MODULE_LINES = 600
MAX_CLASS_LINES = 400


def test_modules_and_classes_stay_small() -> None:
    """Every module of the package (the shipped template data aside)."""
    assert len(modules()) > 100
    for name, (path, _) in modules().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        lines = text.count("\n")
        if lines > MAX_MODULE_LINES:
            reason = [
                line
                for line in (ast.get_docstring(tree) or "").splitlines()
                if line.startswith("Over 600 lines:")
            ]
            assert reason, f"{name} has {lines} lines and no 'Over 600 lines:' reason"
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                size = (node.end_lineno or node.lineno) - node.lineno + 1
                assert size <= MAX_CLASS_LINES, f"{name}: class {node.name} has {size} lines"


def test_the_size_check_sees_a_long_module(tmp_path, monkeypatch) -> None:
    long = tmp_path / PACKAGE / "long.py"
    long.parent.mkdir()
    long.write_text('"""Short docstring."""\n' + "x = 1\n" * 700, encoding="utf-8")
    monkeypatch.setattr(
        sys.modules[__name__],
        "modules",
        lambda: {f"{PACKAGE}.long": (long, False), **{str(i): (long, False) for i in range(101)}},
    )
    with pytest.raises(AssertionError, match="no 'Over 600 lines:' reason"):
        test_modules_and_classes_stay_small()


def test_lazy_exports_resolve_cache_warn_and_list(tmp_path, monkeypatch) -> None:
    """The one PEP 562 helper behind the packages' lazy names."""
    import types
    import warnings

    from openhcs_plugins._exports import lazy_exports

    package = types.ModuleType("lazy_pkg")
    monkeypatch.setitem(sys.modules, "lazy_pkg", package)
    package.__getattr__, package.__dir__ = lazy_exports(
        "lazy_pkg", {"dedent": "textwrap"}, deprecated={"old": ("textwrap", "indent")}
    )
    import textwrap

    assert package.dedent is textwrap.dedent and "dedent" in vars(package)  # cached
    assert "dedent" in dir(package) and "old" not in dir(package)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert package.old is textwrap.indent
    assert [w.category for w in caught] == [DeprecationWarning]
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        package.nothing  # noqa: B018
