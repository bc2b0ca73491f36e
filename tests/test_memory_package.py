"""The memory package's shape: what importing it costs, its old module names, module sizes."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "openhcs_plugins" / "memory"
HEAVY = ("numpy", "cupy", "torch", "tensorflow", "jax", "jaxlib", "pyclesperanto")

IMPORT_PROBE = textwrap.dedent(
    """
    import sys
    import {module}
    heavy = {heavy!r}
    print(" ".join(sorted(m for m in heavy if m in sys.modules)))
    """
)


def _imported_by(module: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_PROBE.format(module=module, heavy=HEAVY)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.split()


@pytest.mark.parametrize(
    "module",
    ["openhcs_plugins.memory", "openhcs_plugins.decorators", "openhcs_plugins.memory.types"],
)
def test_importing_the_decorators_imports_no_numpy_and_no_framework(module: str) -> None:
    assert _imported_by(module) == []


def test_numpy_is_imported_when_data_is_converted() -> None:
    script = (
        "import sys\n"
        "from openhcs_plugins.memory import convert_memory, numpy\n"
        "assert 'numpy' not in sys.modules\n"
        "@numpy\n"
        "def f(image):\n"
        "    return image\n"
        "import numpy as np\n"
        "print(type(f(convert_memory(np.zeros(2), 'numpy'))).__name__)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "ndarray"


# The modules that moved into the package stay importable, for one release, with the same objects.
SHIMS = ["openhcs_plugins._memtypes", "openhcs_plugins._conversion"]


@pytest.mark.parametrize("old", SHIMS)
def test_the_old_module_names_still_import_and_say_for_how_long(old: str) -> None:
    module = importlib.import_module(old)
    assert module.__doc__ and "one release" in module.__doc__
    assert all(hasattr(module, name) for name in module.__all__)


def test_the_decorators_module_is_public_and_stays() -> None:
    """DESIGN.md names ``openhcs_plugins.decorators`` (OpenHCS code imports its twin): no
    deprecation, the same decorator objects as the memory package."""
    from openhcs_plugins import decorators, memory

    assert decorators.__doc__ and "one release" not in decorators.__doc__
    assert all(getattr(decorators, name) is getattr(memory, name) for name in decorators.__all__)


def test_the_old_conversion_names_are_the_new_ones() -> None:
    from openhcs_plugins import _conversion, _memtypes, decorators, memory
    from openhcs_plugins.memory import buffers, convert, detect, errors, status, types

    assert _conversion.convert_memory is convert.convert_memory is memory.convert_memory
    assert _conversion.detect_memory_type is detect.detect_memory_type
    assert _conversion.FrameworkUnavailableError is errors.FrameworkUnavailableError
    assert _conversion.empty_aligned is buffers.empty_aligned
    assert _conversion.framework_status is status.framework_status
    assert _memtypes.MemoryType is types.MemoryType is memory.MemoryType
    assert _memtypes.CONTRACTS is types.CONTRACTS is memory.CONTRACTS
    assert _memtypes.INJECTED_PARAMETERS is memory.INJECTED_PARAMETERS
    assert decorators.numpy is memory.numpy and decorators.memory_types is memory.memory_types


def test_the_public_names_of_openhcs_plugins_memory_are_unchanged() -> None:
    from openhcs_plugins import memory

    assert memory.__all__ == [
        "AVAILABLE_MEMORY_TYPES",
        "CONTRACTS",
        "DtypeChangeError",
        "DtypeChangeWarning",
        "FrameworkUnavailableError",
        "MemoryType",
        "ProcessingContract",  # issue 14
        "convert_memory",
        "cupy",
        "detect_memory_type",
        "is_memory_decorated",
        "jax",
        "memory_types",
        "numpy",
        "pyclesperanto",
        "tensorflow",
        "torch",
    ]
    # Decorators keep saying they live in openhcs_plugins.memory (pickle resolves them there).
    assert memory.numpy.__module__ == "openhcs_plugins.memory"


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_module_is_small_and_says_what_it_owns(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source)
    docstring = ast.get_docstring(tree)
    assert docstring, f"{path}: no module docstring"
    assert "import" in docstring.lower(), f"{path}: the docstring does not say what it may import"
    assert len(source.splitlines()) <= 600, f"{path}: over 600 lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1  # type: ignore[operator]
            assert size <= 400, f"{path}:{node.lineno}: class {node.name} is {size} lines"
