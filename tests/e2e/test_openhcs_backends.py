"""OpenHCS 0.8.6's own processing backends, listed by our loader (issue 14, "Must show").

The wheel of ``openhcs==0.8.6`` is downloaded from the package index with pip (kept in
``~/.cache/openhcs-plugins-tests`` between runs; a fresh machine downloads it again; openhcs
itself is never installed). Its ``openhcs/processing/backends`` tree becomes one distribution,
built into a wheel with ``build`` and installed with pip into a folder, with one
``openhcs.functions`` entry point per module. Listing it must show every function whose first
parameter is ``image`` and that carries one of OpenHCS's memory-type decorators, without
importing any of its modules (they import ``openhcs``, which is not installed).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from plugin_packages import Package, build_wheels, install_target, on_sys_path

from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import FunctionRegistry

pytestmark = pytest.mark.slow

VERSION = "0.8.6"
CACHE = Path(
    os.environ.get("OPENHCS_PLUGINS_TEST_CACHE", Path.home() / ".cache" / "openhcs-plugins-tests")
)
BACKENDS = "openhcs/processing/backends/"
PACKAGE = "oplab_ohbackends"
#: Where OpenHCS's backends import the memory-type decorators from.
DECORATOR_MODULES = ("openhcs.core.memory", "openhcs.core.memory.decorators")
MEMORY_TYPES = {"numpy", "cupy", "torch", "tensorflow", "jax", "pyclesperanto"}


def openhcs_wheel() -> Path:
    wheel = CACHE / f"openhcs-{VERSION}-py3-none-any.whl"
    if not wheel.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
             f"openhcs=={VERSION}", "-d", str(CACHE)],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0 and wheel.exists(), (
            f"could not download openhcs=={VERSION} with pip: {done.stderr[-2000:]}"
        )
    return wheel


def backend_files() -> dict[str, str]:
    """``oplab_ohbackends/...`` -> text, for every Python file of OpenHCS's backends."""
    files = {}
    with zipfile.ZipFile(openhcs_wheel()) as archive:
        for name in archive.namelist():
            if name.startswith(BACKENDS) and name.endswith(".py"):
                rel = name[len(BACKENDS) :]
                files[f"{PACKAGE}/{rel}"] = archive.read(name).decode("utf-8")
    files.setdefault(f"{PACKAGE}/__init__.py", "")
    # every folder a package, as in the wheel (namespace folders get an empty __init__)
    for path in list(files):
        parts = path.split("/")[:-1]
        for depth in range(1, len(parts) + 1):
            files.setdefault("/".join([*parts[:depth], "__init__.py"]), "")
    return files


def expected_functions(module: str, text: str) -> set[str]:
    """Top-level functions with ``image`` first and an OpenHCS memory-type decorator (the
    oracle, independent of the validator: names imported from OpenHCS's decorator modules)."""
    tree = ast.parse(text)
    decorators: set[str] = set()
    modules: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module in DECORATOR_MODULES:
            for alias in node.names:
                if alias.name in MEMORY_TYPES:
                    decorators.add(alias.asname or alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in DECORATOR_MODULES and alias.asname:
                    modules.add(alias.asname)
    found = set()
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef):
            continue
        args = [*node.args.posonlyargs, *node.args.args]
        if not args or args[0].arg != "image":
            continue
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            if isinstance(target, ast.Name) and target.id in decorators:
                found.add(node.name)
            elif (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id in modules
                and target.attr in MEMORY_TYPES
            ):
                found.add(node.name)
    return found


def test_every_image_first_function_of_openhcs_backends_is_listed(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = backend_files()
    modules = {
        path[:-3].replace("/", "."): text
        for path, text in files.items()
        if not path.endswith("__init__.py") and text.strip()
    }
    expected: dict[str, set[str]] = {}
    entry_points = {}
    for module, text in modules.items():
        names = expected_functions(module, text)
        if names:
            namespace = "ohcs_" + module.removeprefix(PACKAGE + ".").replace(".", "_")
            entry_points[namespace] = module
            expected[namespace] = names
    total = sum(len(v) for v in expected.values())
    assert total >= 100, f"the oracle found only {total} functions: the wheel changed?"
    # setuptools: every folder is a package of its own
    packages = tuple(sorted({p.rsplit("/", 1)[0].replace("/", ".") for p in files}))
    package = Package("oplab-ohbackends", VERSION, files, entry_points, packages=packages)
    wheels = build_wheels([package], tmp_path_factory.mktemp("ohbackends"))
    site = install_target(wheels.values(), tmp_path_factory.mktemp("ohbackends-site"))
    with on_sys_path(site, monkeypatch):
        before = set(sys.modules)
        registry = FunctionRegistry()
        report = load_plugins(registry=registry, folder=tmp_path_factory.mktemp("none"))
        imported = sorted(
            m for m in set(sys.modules) - before if m.startswith(("oplab", "openhcs."))
        )
    listed = {key for key in registry.keys() if key.startswith("ohcs_")}
    wanted = {f"{ns}:{name}" for ns, names in expected.items() for name in names}
    missing = sorted(wanted - listed)
    reasons = {p.key or p.entry_point: p.message for p in report.problems}
    assert not missing, "\n".join(f"{key}: {reasons.get(key, '?')}" for key in missing)
    assert imported == []
    with_outputs = [k for k in listed if registry.info(k).artifact_outputs]
    stacked = [k for k in listed if registry.info(k).outer_decorators]
    print(
        f"\nOpenHCS {VERSION} backends: {len(modules)} modules, {total} image-first decorated "
        f"functions in {len(expected)} modules, {len(listed & wanted)} listed statically, "
        f"{len(listed)} listed in all, {len(with_outputs)} with artifact outputs, "
        f"{len(stacked)} with other decorators, 0 modules imported; "
        f"{len(report.problems)} problems reported"
    )
