"""The OpenCL set-up for pyclesperanto (openhcs_plugins._opencl): when it points the loader at
pocl, what it leaves alone, and what it says when there is no device."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from openhcs_plugins import _opencl
from openhcs_plugins._opencl import configure_opencl, diagnose_no_device, find_pocl_library

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def no_opencl_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Nothing configured: no OCL_ICD_FILENAMES, an empty vendors folder."""
    vendors = tmp_path / "vendors"
    vendors.mkdir()
    monkeypatch.delenv(_opencl.ICD_FILENAMES, raising=False)
    monkeypatch.setenv(_opencl.ICD_VENDORS, str(vendors))
    monkeypatch.setattr(_opencl, "_set_too_late", False)
    return vendors


def test_the_module_uses_the_standard_library_only() -> None:
    # It runs on every `import openhcs_plugins` (and first thing in the isolated worker).
    tree = ast.parse(Path(_opencl.__file__).read_text(encoding="utf-8"))
    imported = {
        alias.name.partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module.partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and not node.level
    }
    assert imported - {"__future__"} <= sys.stdlib_module_names, imported


def test_pocl_is_found_without_importing_it_or_pyclesperanto() -> None:
    script = textwrap.dedent(
        """
        import sys
        from openhcs_plugins._opencl import find_pocl_library
        print(find_pocl_library())
        print(sorted(m for m in sys.modules if m.startswith(("pocl", "pyclesperanto", "pyopencl"))))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    path, modules = done.stdout.splitlines()
    assert modules == "[]"
    if path != "None":
        assert Path(path).is_file() and Path(path).name.startswith("libpocl")


def test_pocl_is_chosen_when_nothing_is_configured(no_opencl_env: Path) -> None:
    pocl = find_pocl_library()
    if pocl is None:
        pytest.skip("pocl-binary-distribution is not installed")
    assert configure_opencl() == pocl
    assert os.environ[_opencl.ICD_FILENAMES] == pocl


def test_a_user_setting_is_left_alone(no_opencl_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(_opencl.ICD_FILENAMES, "/opt/vendor/libmyopencl.so")
    assert configure_opencl() == "/opt/vendor/libmyopencl.so"
    assert os.environ[_opencl.ICD_FILENAMES] == "/opt/vendor/libmyopencl.so"


def test_the_systems_own_drivers_are_left_alone(no_opencl_env: Path) -> None:
    (no_opencl_env / "nvidia.icd").write_text("libnvidia-opencl.so.1\n")
    assert configure_opencl() is None
    assert _opencl.ICD_FILENAMES not in os.environ


def test_importing_openhcs_plugins_sets_up_opencl_before_any_user_code() -> None:
    if find_pocl_library() is None or _opencl.system_icds():
        pytest.skip("needs pocl-binary-distribution and no system OpenCL driver")
    env = {k: v for k, v in os.environ.items() if k != _opencl.ICD_FILENAMES}
    script = "import os, openhcs_plugins; print(os.environ.get('OCL_ICD_FILENAMES'))"
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == find_pocl_library()


def test_the_isolated_worker_passes_the_users_opencl_setting() -> None:
    from openhcs_plugins.execution.process import ENV_PASSED

    assert {"OCL_ICD_FILENAMES", "OCL_ICD_VENDORS"} <= set(ENV_PASSED)


# -- what a missing device is reported as


def test_a_missing_driver_library_is_named_with_the_fix(
    no_opencl_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_opencl, "_installed", lambda module: True)
    monkeypatch.setattr(_opencl, "find_pocl_library", lambda: "/site/pyopencl/.libs/libpocl.so")
    monkeypatch.setenv(_opencl.ICD_FILENAMES, "/gone/libpocl.so")
    message = diagnose_no_device()
    assert message == (
        "found no OpenCL device (OCL_ICD_FILENAMES=/gone/libpocl.so): /gone/libpocl.so does "
        "not exist; unset OCL_ICD_FILENAMES to use pocl's CPU device "
        "(/site/pyopencl/.libs/libpocl.so), or point it at an installed OpenCL driver"
    )


def test_without_pocl_or_a_driver_the_message_names_pocl_not_pyclesperanto(
    no_opencl_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_opencl, "_installed", lambda module: True)
    monkeypatch.setattr(_opencl, "find_pocl_library", lambda: None)
    message = diagnose_no_device()
    assert "python -m pip install pocl-binary-distribution" in message
    assert "openhcs-plugins[pyclesperanto]" not in message
    assert "no OpenCL driver is installed" in message


def test_a_missing_backend_or_pyclesperanto_is_named(
    no_opencl_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_opencl, "_installed", lambda module: module == "pyclesperanto")
    assert diagnose_no_device().endswith("python -m pip install 'pyclesperanto[opencl]'")
    monkeypatch.setattr(_opencl, "_installed", lambda module: False)
    assert diagnose_no_device() == (
        "pyclesperanto is not installed: python -m pip install 'openhcs-plugins[pyclesperanto]'"
    )


def test_system_drivers_without_a_device_point_at_clinfo_and_pocl(
    no_opencl_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (no_opencl_env / "amd.icd").write_text("libamdocl64.so\n")
    monkeypatch.setattr(_opencl, "_installed", lambda module: True)
    monkeypatch.setattr(_opencl, "find_pocl_library", lambda: "/site/libpocl.so")
    message = diagnose_no_device()
    assert "amd.icd" in message and "clinfo" in message
    assert "export OCL_ICD_FILENAMES=/site/libpocl.so" in message


def test_pyclesperanto_imported_before_openhcs_plugins_gets_an_exact_fix() -> None:
    """A script that imports pyclesperanto first is too late for the set-up: say so."""
    pocl = find_pocl_library()
    if pocl is None or _opencl.system_icds() or not _opencl._installed("pyclesperanto"):
        pytest.skip("needs pyclesperanto, pocl-binary-distribution and no system OpenCL driver")
    env = {k: v for k, v in os.environ.items() if k != _opencl.ICD_FILENAMES}
    script = textwrap.dedent(
        """
        import pyclesperanto
        import numpy as np
        from openhcs_plugins import convert_memory
        from openhcs_plugins.memory import FrameworkUnavailableError
        try:
            convert_memory(np.zeros(2, np.float32), "pyclesperanto")
        except FrameworkUnavailableError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        env={**env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "pyclesperanto was imported before OCL_ICD_FILENAMES was set" in done.stdout
    assert f"export OCL_ICD_FILENAMES={pocl}" in done.stdout
    assert "install" not in done.stdout.replace("installed", "")


def test_doctor_prints_the_hint_with_its_brackets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The detail is text, not rich markup: `[opencl]` and `[torch]` stay in the command."""
    from click.testing import CliRunner

    from openhcs_plugins.cli import app
    from openhcs_plugins.memory import MemoryType
    from openhcs_plugins.memory import status as memory_status

    status = {mt: (True, mt.value) for mt in MemoryType}
    status[MemoryType.PYCLESPERANTO] = (
        False,
        "pyclesperanto is installed without a compiled backend (pyclesperanto-opencl): "
        "python -m pip install 'pyclesperanto[opencl]'",
    )
    status[MemoryType.TORCH] = (False, "not installed: pip install 'openhcs-plugins[torch]'")
    monkeypatch.setattr(memory_status, "framework_status", lambda **_: status)
    result = CliRunner().invoke(app, ["doctor"])
    assert result.exit_code == 0, result.output
    text = "".join(result.output.replace("│", "").split())  # the table folds long cells
    assert "pipinstall'pyclesperanto[opencl]'" in text
    assert "pipinstall'openhcs-plugins[torch]'" in text


def test_a_test_module_that_imports_pyclesperanto_first_gets_a_device(tmp_path: Path) -> None:
    """The pytest plugin imports openhcs_plugins before any test module is collected."""
    pocl = find_pocl_library()
    if pocl is None or _opencl.system_icds() or not _opencl._installed("pyclesperanto"):
        pytest.skip("needs pyclesperanto, pocl-binary-distribution and no system OpenCL driver")
    (tmp_path / "test_cle.py").write_text(
        textwrap.dedent(
            """
            import os
            import pyclesperanto as cle
            import numpy as np

            def test_push_and_pull():
                assert os.environ["OCL_ICD_FILENAMES"]
                assert cle.pull(cle.push(np.ones((2, 2), np.float32))).sum() == 4
            """
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != _opencl.ICD_FILENAMES}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:]
