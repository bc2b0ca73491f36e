"""Start-up costs nothing unused: what a fresh process has imported after ``import
openhcs_plugins``, after listing, and after ``--help`` (each checked in its own subprocess,
since this test process has long imported everything)."""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import openhcs_plugins

#: Never imported by ``import openhcs_plugins``: array frameworks and the CLI's libraries.
HEAVY = ("numpy", "typer", "click", "rich", "torch", "jax", "tensorflow", "cupy", "pyclesperanto")

GOOD = '''from openhcs_plugins.decorators import numpy


@numpy
def scale(image, factor: float = 2.0):
    """Multiply by a factor."""
    return image * factor
'''

#: Prints, as JSON on the last line of stdout, which of HEAVY the process had imported when it
#: ended (also after the CLI's SystemExit).
REPORT = f"""
import atexit, json, sys
atexit.register(lambda: print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules))))
"""


def _imported(code: str, env: dict[str, str], *, check: bool = True) -> list[str]:
    """Which heavy modules a fresh ``python -c code`` imported."""
    done = subprocess.run(
        [sys.executable, "-c", REPORT + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check:
        assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Empty per-user folders and an empty functions folder (the conftest's are this
    process's; the subprocess gets its own)."""
    environ = dict(os.environ)
    for var in ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        (tmp_path / var).mkdir()
        environ[var] = str(tmp_path / var)
    (tmp_path / "functions").mkdir()
    environ["OPENHCS_PLUGINS_FUNCTIONS_DIR"] = str(tmp_path / "functions")
    return environ


def test_importing_the_package_imports_no_framework_and_no_cli_library(env):
    assert _imported("import openhcs_plugins", env) == []


def test_load_plugins_with_an_empty_folder_imports_no_numpy(env):
    code = """
        from openhcs_plugins import get_default_registry, load_plugins
        load_plugins()
        get_default_registry().infos()
    """
    assert "numpy" not in _imported(code, env)


def test_listing_a_folder_file_imports_no_numpy(env):
    Path(env["OPENHCS_PLUGINS_FUNCTIONS_DIR"], "scale.py").write_text(GOOD, encoding="utf-8")
    code = """
        from openhcs_plugins import get_default_registry, load_plugins
        load_plugins()
        assert [i.key for i in get_default_registry().infos()] == ["openhcs:scale"]
    """
    assert "numpy" not in _imported(code, env)


def test_the_list_command_with_a_folder_file_imports_no_numpy(env):
    Path(env["OPENHCS_PLUGINS_FUNCTIONS_DIR"], "scale.py").write_text(GOOD, encoding="utf-8")
    code = """
        import sys
        from openhcs_plugins.cli import main
        sys.argv = ["openhcs-plugins", "list", "--json"]
        main()
    """
    done = subprocess.run(
        [sys.executable, "-c", REPORT + textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    *listing, heavy = done.stdout.strip().splitlines()
    assert [f["key"] for f in json.loads("\n".join(listing))] == ["openhcs:scale"]
    assert "numpy" not in json.loads(heavy)


def test_help_imports_no_numpy(env):
    code = """
        import sys
        from openhcs_plugins.cli import main
        sys.argv = ["openhcs-plugins", "--help"]
        main()
    """
    assert "numpy" not in _imported(code, env)


def _cli_modules(args: list[str], env: dict[str, str]) -> dict[str, list[str]]:
    """Which command modules of the CLI (``openhcs_plugins.cli._*``) and which of HEAVY a fresh
    ``openhcs-plugins ARGS`` process had imported when it ended."""
    code = f"""
import atexit, json, sys
def report():
    names = set(sys.modules)
    print(json.dumps({{
        "cli": sorted(n for n in names if n.startswith("openhcs_plugins.cli.")),
        "heavy": sorted(m for m in {HEAVY!r} if m in names),
    }}))
atexit.register(report)
from openhcs_plugins.cli import main
sys.argv = ["openhcs-plugins", *{args!r}]
main()
"""
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_help_imports_no_command_module_and_no_rich(env):
    # The root's --help lists names and short helps from the command table.
    imported = _cli_modules(["--help"], env)
    assert imported["cli"] == ["openhcs_plugins.cli._lazy", "openhcs_plugins.cli._output"]
    assert imported["heavy"] == ["click"]


def test_a_command_imports_only_its_own_module(env):
    imported = _cli_modules(["list", "--json"], env)
    assert "openhcs_plugins.cli._listing" in imported["cli"]
    assert not {"_validate", "_folder", "_running", "_lock", "_project", "_environment"} & {
        name.rpartition(".")[2] for name in imported["cli"]
    }
    assert "rich" not in imported["heavy"]  # no table, no colour: the JSON is printed plainly
    assert "rich" in _cli_modules(["list"], env)["heavy"]


def test_the_version_is_the_installed_metadatas(tmp_path, env):
    # A distribution found first on sys.path says 9.9.9: __version__ must follow the metadata,
    # not a number written in the source.
    dist = tmp_path / "site" / "openhcs_plugins-9.9.9.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: openhcs-plugins\nVersion: 9.9.9\n", encoding="utf-8"
    )
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(dist.parent), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", "import openhcs_plugins; print(openhcs_plugins.__version__)"],
        env=env,
        # not the checkout: an ``openhcs_plugins.egg-info`` left there by a build would come first
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "9.9.9", done.stderr
    assert openhcs_plugins.__version__ == importlib.metadata.version("openhcs-plugins")


def test_the_version_of_an_uninstalled_checkout_says_unknown(monkeypatch):
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert openhcs_plugins._installed_version() == "0+unknown"


def test_every_public_name_resolves_and_dir_lists_it():
    for name in openhcs_plugins.__all__:
        assert getattr(openhcs_plugins, name) is not None, name
    assert set(openhcs_plugins.__all__) <= set(dir(openhcs_plugins))
    assert openhcs_plugins.numpy is openhcs_plugins.memory.numpy
    assert openhcs_plugins.load_plugins is openhcs_plugins.loader.load_plugins
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        openhcs_plugins.not_a_name  # noqa: B018


def test_pocl_in_the_wheels_layout_is_found_without_reading_metadata(tmp_path, env):
    # pocl-binary-distribution installs its library as pyopencl/.libs/libpocl-<hash>.so next
    # to its package; finding it there must not import importlib.metadata (tens of ms).
    site = tmp_path / "site"
    (site / "pocl_binary_distribution").mkdir(parents=True)
    (site / "pocl_binary_distribution" / "__init__.py").write_text("", encoding="utf-8")
    (site / "pyopencl" / ".libs").mkdir(parents=True)
    library = site / "pyopencl" / ".libs" / "libpocl-0123abcd.so"
    library.write_bytes(b"")
    (tmp_path / "vendors").mkdir()
    env.pop("OCL_ICD_FILENAMES", None)
    env["OCL_ICD_VENDORS"] = str(tmp_path / "vendors")  # no system drivers
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH")]))
    code = (
        "import os, sys; import openhcs_plugins; "
        "print(os.environ['OCL_ICD_FILENAMES']); print('importlib.metadata' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == [str(library), "False"], done.stderr
