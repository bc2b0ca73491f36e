"""Plugin packages end to end: real wheels built with ``build``, installed with pip into real
virtual environments, listed and loaded by a separate interpreter.

Each probe runs ``load_plugins()`` in the venv's python and reports what it registered, the
problems, the cache state and which modules the listing imported (``sys.modules``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from plugin_packages import (
    BROKEN,
    DUP_A,
    DUP_B,
    EDITABLE,
    FACTORY,
    FILTERS_V1,
    FILTERS_V2,
    REPO,
    SINGLE,
    Package,
    build_wheel,
    build_wheels,
    make_venv,
    pip,
    run,
)

pytestmark = pytest.mark.slow

FRAMEWORKS = ("torch", "tensorflow", "jax", "jaxlib", "cupy", "pyclesperanto")

PROBE = f"""
FRAMEWORKS = {FRAMEWORKS!r}
import json, sys
request = json.loads(sys.argv[1])
from openhcs_plugins.loader import PluginLoadError, load_plugins
from openhcs_plugins.registry import FunctionRegistry

registry = FunctionRegistry()
out = {{}}
try:
    report = load_plugins(
        registry=registry,
        folder=request["folder"],
        strict=request.get("strict", False),
        verify=request.get("verify", False),
    )
except PluginLoadError as exc:
    out["strict_error"] = str(exc)
    report = exc.report
out["registered"] = sorted(report.registered)
out["problems"] = [p.to_dict() for p in report.problems]
out["cache"] = report.cache
out["infos"] = {{i.key: i.to_dict() for i in registry.infos()}}
out["plugin_modules"] = sorted(m for m in sys.modules if m.startswith("oplab"))
out["frameworks"] = sorted(m for m in sys.modules if m.split(".")[0] in FRAMEWORKS)
if request.get("call"):
    import numpy as np
    out["calls"] = {{
        key: float(np.asarray(registry.call(key, np.ones((2, 3, 3), dtype=np.float32))).ravel()[0])
        for key in request["call"]
    }}
    out["modules_after_calls"] = sorted(m for m in sys.modules if m.startswith("oplab"))
print(json.dumps(out))
"""


class Env:
    """A virtual environment with its own cache, settings and functions folder."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.python = make_venv(root / "venv")
        self.folder = root / "functions"
        self.folder.mkdir()
        self.probe_file = root / "probe.py"
        self.probe_file.write_text(PROBE, encoding="utf-8")
        self.env = {
            **os.environ,
            "OPENHCS_PLUGINS_CACHE_DIR": str(root / "cache"),
            "XDG_CONFIG_HOME": str(root / "config"),
            "XDG_DATA_HOME": str(root / "data"),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        self.env.pop("OPENHCS_PLUGINS_NO_CACHE", None)

    def install(self, *targets: str | Path, editable: bool = False) -> None:
        args = ["install", "--no-deps", "--no-build-isolation"]
        if editable:
            args.append("-e")
        pip(*args, *map(str, targets), python=self.python)

    def uninstall(self, *names: str) -> None:
        pip("uninstall", "-y", *names, python=self.python)

    def probe(self, **request: Any) -> dict[str, Any]:
        request.setdefault("folder", str(self.folder))
        result = run(
            [str(self.python), str(self.probe_file), json.dumps(request)],
            env=self.env,
            cwd=self.root,
        )
        return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    packages = [FILTERS_V1, FILTERS_V2, SINGLE, FACTORY, BROKEN, DUP_A, DUP_B]
    return build_wheels(packages, tmp_path_factory.mktemp("e2e-wheels"))


def _wheel(wheels: dict[tuple[str, str], Path], package: Package) -> Path:
    return wheels[package.name, package.version]


@pytest.fixture(scope="module")
def lab(wheels: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory) -> Env:
    """One venv with the good, broken, factory and duplicate packages (read-only tests)."""
    env = Env(tmp_path_factory.mktemp("lab-env"))
    env.install(*(_wheel(wheels, p) for p in (FILTERS_V1, SINGLE, FACTORY, BROKEN, DUP_A, DUP_B)))
    return env


def _problems(out: dict[str, Any], entry_point_name: str) -> list[dict[str, Any]]:
    return [
        p for p in out["problems"] if (p["entry_point"] or "").startswith(entry_point_name + " =")
    ]


# -- listing -------------------------------------------------------------------------------------

FACTORY_IMPORTS = {
    "oplab_factory",
    "oplab_factory.core",
    "oplab_factory.filters",
    "oplab_factory.mixed",
    # no static function: imported once to look for factory-made ones
    "oplab_broken",
    "oplab_broken.empty",
}


def test_listing_installed_wheels_imports_no_plugin_module_and_no_framework(lab: Env) -> None:
    shutil.rmtree(lab.root / "cache", ignore_errors=True)
    cold = lab.probe()
    assert cold["cache"] == "cold"
    assert {"oplab_filters:double", "oplab_single:threshold", "oplab_factory:box3"} <= set(
        cold["registered"]
    )
    assert cold["frameworks"] == []
    # Only modules whose functions are made at import time were imported.
    assert set(cold["plugin_modules"]) <= FACTORY_IMPORTS
    assert "oplab_filters" not in cold["plugin_modules"]
    warm = lab.probe()
    assert warm["cache"] == "warm"
    assert warm["plugin_modules"] == [] and warm["frameworks"] == []
    assert warm["registered"] == cold["registered"]
    assert warm["infos"] == cold["infos"]


def test_listing_shows_provenance_of_an_index_style_wheel_install(lab: Env) -> None:
    info = lab.probe()["infos"]["oplab_filters:double"]
    assert info["source"] == "entry_point"
    assert (info["distribution"], info["version"]) == ("oplab-filters", "0.1.0")
    assert info["origin"].startswith("file:file://") and info["origin"].endswith(".whl")
    assert info["entry_point"] == "oplab_filters = oplab_filters.filters"
    assert info["input_memory_type"] == info["output_memory_type"] == "numpy"
    assert info["signature_from"] == "static"


def test_first_call_imports_the_module_and_returns_the_result(lab: Env) -> None:
    out = lab.probe(call=["oplab_filters:double", "oplab_factory:box7"])
    assert out["calls"] == {"oplab_filters:double": 2.0, "oplab_factory:box7": 7.0}
    assert "oplab_filters.filters" not in out["plugin_modules"]
    assert "oplab_filters.filters" in out["modules_after_calls"]


def test_broken_packages_are_each_reported_and_the_rest_load(lab: Env) -> None:
    out = lab.probe()
    for name, kind in [
        ("oplab_missing", "module-not-found"),
        ("openhcs", "invalid-namespace"),
        ("bad-name", "invalid-namespace"),
    ]:
        (problem,) = _problems(out, name)
        assert problem["kind"] == kind
    for name in ("oplab_syntax", "oplab_empty", "oplab_signature"):
        (problem,) = _problems(out, name)
        assert (problem["distribution"], problem["version"]) == ("oplab-broken", "0.3.0")
        assert problem["file"] and problem["hint"]
    (syntax,) = _problems(out, "oplab_syntax")
    assert syntax["line"] and syntax["file"].endswith("oplab_broken/syntax.py")
    assert {p["distribution"] for p in _problems(out, "oplab_shared")} == {
        "oplab-dup-a",
        "oplab-dup-b",
    }
    assert "oplab_signature:fine" in out["registered"]
    assert {"oplab_filters:double", "oplab_single:threshold"} <= set(out["registered"])


def test_raising_module_is_a_problem_when_verified(lab: Env) -> None:
    out = lab.probe(verify=True)
    (problem,) = [p for p in out["problems"] if p["kind"] == "load"]
    assert problem["key"] == "oplab_raises:fails_to_import"
    assert "cannot be imported" in problem["message"]


def test_strict_turns_the_problems_into_an_error(lab: Env) -> None:
    out = lab.probe(strict=True)
    assert "oplab-broken 0.3.0" in out["strict_error"]


# -- install, upgrade, uninstall -----------------------------------------------------------------


def test_upgrade_changes_what_is_registered_and_uninstall_removes_it(
    wheels: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    env = Env(tmp_path)
    env.install(_wheel(wheels, FILTERS_V1))
    first = env.probe()
    assert {"oplab_filters:double", "oplab_filters:old_invert"} <= set(first["registered"])
    assert first["infos"]["oplab_filters:double"]["version"] == "0.1.0"
    assert env.probe()["cache"] == "warm"

    env.install(_wheel(wheels, FILTERS_V2))
    upgraded = env.probe()
    assert upgraded["cache"] != "warm"
    keys = {k for k in upgraded["registered"] if k.startswith("oplab_filters:")}
    assert keys == {"oplab_filters:double", "oplab_filters:sharpen"}
    double = upgraded["infos"]["oplab_filters:double"]
    assert double["version"] == "0.2.0"
    assert double["parameters"][1]["default"] == "3.0"

    env.uninstall("oplab-filters")
    gone = env.probe()
    assert gone["cache"] != "warm"
    assert not [k for k in gone["registered"] if k.startswith("oplab_filters:")]
    # The environment without the package is what the cache now records.
    assert env.probe()["cache"] == "warm"


@pytest.mark.parametrize("src_layout", [True, False], ids=["src-layout-pth", "flat-finder"])
def test_editable_install_is_found_without_importing_it_and_edits_are_seen(
    tmp_path: Path, src_layout: bool
) -> None:
    package = replace(EDITABLE, src_layout=src_layout)
    project = package.write(tmp_path / "projects")
    env = Env(tmp_path / "env")
    env.install(project, editable=True)
    out = env.probe()
    info = out["infos"]["oplab_editable:first"]
    assert info["origin"] == f"editable:{project.as_uri()}"
    assert out["plugin_modules"] == []  # its __init__ raises when imported
    source = project / ("src" if src_layout else "") / "oplab_editable" / "filters.py"
    source.write_text(
        source.read_text() + "\n\n@numpy\ndef second(image, k: int = 2):\n    return image * k\n",
        encoding="utf-8",
    )
    edited = env.probe()
    assert {"oplab_editable:first", "oplab_editable:second"} <= set(edited["registered"])
    assert edited["cache"] == "partial"


@pytest.mark.parametrize("src_layout", [True, False], ids=["src-layout-pth", "flat-finder"])
def test_check_names_a_file_of_an_editable_install_edited_after_freeze(
    tmp_path: Path, src_layout: bool
) -> None:
    package = replace(
        EDITABLE,
        files={**EDITABLE.files, "oplab_editable/helpers.py": "OFFSET = 0\n"},
    )
    package = replace(package, src_layout=src_layout)
    project = package.write(tmp_path / "projects")
    env = Env(tmp_path / "env")
    env.install(project, editable=True)
    lock = tmp_path / "lock.json"

    def cli(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(env.python), "-m", "openhcs_plugins.cli", *args],
            env=env.env,
            cwd=env.root,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == code, result.stdout + result.stderr
        return result

    cli("freeze", "-o", str(lock), "--functions-dir", str(env.folder))
    locked = json.loads(lock.read_text(encoding="utf-8"))["packages"]["oplab_editable"]
    assert sorted(locked["files"]) == [
        "oplab_editable/__init__.py",
        "oplab_editable/filters.py",
        "oplab_editable/helpers.py",
    ]
    assert "matches" in cli("check", str(lock), "--functions-dir", str(env.folder)).stdout

    # A module the entry point does not name: the functions stay the same, the code does not.
    base = project / ("src" if src_layout else "") / "oplab_editable"
    (base / "helpers.py").write_text("OFFSET = 1\n", encoding="utf-8")
    changed = cli("check", str(lock), "--functions-dir", str(env.folder), code=1)
    assert "~ package oplab_editable: changed oplab_editable/helpers.py" in changed.stdout
    assert "1 difference(s)" in changed.stderr

    (base / "filters.py").write_text("@numpy\ndef first(image:\n", encoding="utf-8")
    broken = cli("check", str(lock), "--functions-dir", str(env.folder), code=1)
    assert "~ package oplab_editable: changed oplab_editable/filters.py" in broken.stdout
    assert f"! package oplab_editable: does not parse: {base / 'filters.py'}:2:" in broken.stdout
    assert "! package oplab_editable: present but not loaded:" in broken.stdout
    assert "not present" not in broken.stdout


# -- the pytest plugin, installed ------------------------------------------------------------------

PLUGIN_AUTHOR_TEST = """
import numpy as np


def test_my_function(make_plugin, openhcs_registry, openhcs_contract):
    make_plugin(
        "from openhcs_plugins.decorators import numpy\\n\\n"
        "@numpy\\n"
        "def halve(image):\\n"
        "    return image / 2\\n",
        namespace="mine",
    )
    assert openhcs_registry.keys() == ["mine:halve"]
    report = openhcs_contract.check_namespace("mine")
    assert report.passed == ["mine:halve"]
"""


def test_installed_project_registers_its_pytest_fixtures_through_pytest11(
    tmp_path: Path,
) -> None:
    # Build this project's own wheel from a copy of the checkout (a build writes in place).
    copy = tmp_path / "openhcs-plugins"
    shutil.copytree(
        REPO / "openhcs_plugins",
        copy / "openhcs_plugins",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    for rel in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / rel, copy / rel)
    wheel = build_wheel(copy, tmp_path / "dist")
    venv = tmp_path / "venv"
    make_venv(venv, checkout=False)
    pip("install", "--no-deps", str(wheel), python=venv / "bin" / "python")
    (tmp_path / "author").mkdir()
    (tmp_path / "author" / "test_author.py").write_text(PLUGIN_AUTHOR_TEST, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_DISABLE_PLUGIN_AUTOLOAD"}
    env["PYTHONPATH"] = ""
    result = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "author"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
