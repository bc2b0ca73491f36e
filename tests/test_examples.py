"""The examples in ``examples/``: each package is built into a wheel, installed into a fresh
virtual environment, listed by the CLI there, run on a TIFF, and its own tests pass against the
installed wheel; each single-file function passes ``validate``, is added to the functions folder
with ``add`` and run with ``run``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tifffile
from _frameworks import requires_framework
from click.testing import CliRunner
from plugin_packages import REPO, build_wheel, make_venv, pip

from openhcs_plugins._images import read_provenance, synthetic_cells
from openhcs_plugins.cli import app

EXAMPLES = REPO / "examples"

#: Example package -> (namespace, its functions).
PACKAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    "lab-filters-numpy": (
        "lab_filters",
        ("gaussian_blur", "normalize_percentile", "subtract_background", "threshold_otsu"),
    ),
    "lab-filters-torch": (
        "lab_torch",
        ("gaussian_denoise", "median_denoise", "normalize_range", "sobel_edges"),
    ),
}
#: Example package -> how many of its own tests must pass (contract check + function tests).
OWN_TESTS = {"lab-filters-numpy": 12, "lab-filters-torch": 8}

SINGLE_FILES = sorted((EXAMPLES / "single-file").glob("*.py"))

runner = CliRunner()


def _tomllib() -> Any:
    return pytest.importorskip("tomllib", reason="needs Python 3.11+ to read pyproject.toml")


# ---------------------------------------------------------------------------------------------
# What is in the examples folder (fast)
# ---------------------------------------------------------------------------------------------


def test_every_example_package_and_single_file_is_tested_here() -> None:
    packages = {p.parent.name for p in EXAMPLES.glob("*/pyproject.toml")}
    assert packages == set(PACKAGES)
    assert {p.stem for p in SINGLE_FILES} == {
        "channel_max_projection",
        "clip_rescale",
        "unsharp_mask",
    }
    for name in (*PACKAGES, "single-file"):
        assert (EXAMPLES / name / "README.md").is_file(), name


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_example_package_declares_its_namespace_and_only_lower_bounds(name: str) -> None:
    meta = _tomllib().loads((EXAMPLES / name / "pyproject.toml").read_text(encoding="utf-8"))
    namespace, _ = PACKAGES[name]
    package = name.replace("-", "_")

    assert meta["project"]["entry-points"]["openhcs.functions"] == {
        namespace: f"{package}.functions"
    }
    dependencies = meta["project"]["dependencies"]
    assert not [d for d in dependencies if "==" in d], "an example must not pin its dependencies"
    if name == "lab-filters-torch":
        assert "torch>=2.1" in dependencies
    else:
        assert "scipy>=1.10" in dependencies


# ---------------------------------------------------------------------------------------------
# Single-file functions (fast: the real CLI in this process, on real files)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", SINGLE_FILES, ids=lambda p: p.stem)
def test_single_file_passes_validate_at_the_user_level(path: Path) -> None:
    result = runner.invoke(app, ["validate", str(path), "--trust", "user", "--json"])

    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["valid"] and report["functions"] == [path.stem]
    assert report["warnings"] == []


@pytest.fixture
def cells_tif(tmp_path: Path) -> Path:
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, synthetic_cells((2, 48, 48), n_cells=6).astype(np.uint16))
    return path


def _add_and_run(path: Path, image: Path, out: Path, *params: str) -> np.ndarray:
    added = runner.invoke(app, ["add", str(path)])
    assert added.exit_code == 0, added.output
    assert f"added openhcs:{path.stem}" in added.output
    args = ["run", f"openhcs:{path.stem}", str(image), "-o", str(out)]
    for param in params:
        args += ["-p", param]
    ran = runner.invoke(app, args)
    assert ran.exit_code == 0, ran.output
    provenance = read_provenance(out)
    assert provenance["function"] == f"openhcs:{path.stem}"
    assert provenance["source"] == "folder"
    return tifffile.imread(out)


def test_unsharp_mask_file_is_added_and_sharpens_a_tiff(cells_tif: Path, tmp_path: Path) -> None:
    before = tifffile.imread(cells_tif).astype(np.float32)

    after = _add_and_run(
        EXAMPLES / "single-file" / "unsharp_mask.py", cells_tif, tmp_path / "o.tif", "amount=2"
    )

    assert after.shape == before.shape and after.dtype == np.float32
    # More high-frequency detail, within the input's range.
    assert np.abs(np.diff(after, axis=2)).mean() > np.abs(np.diff(before, axis=2)).mean()
    assert after.min() >= before.min() and after.max() <= before.max()


def test_clip_rescale_file_is_added_and_maps_the_window(cells_tif: Path, tmp_path: Path) -> None:
    before = tifffile.imread(cells_tif).astype(np.float32)

    after = _add_and_run(
        EXAMPLES / "single-file" / "clip_rescale.py",
        cells_tif,
        tmp_path / "o.tif",
        "lower=50",
        "upper=150",
    )

    np.testing.assert_allclose(after, (np.clip(before, 50, 150) - 50) / 100, atol=1e-6)


def test_channel_max_projection_file_is_added_and_projects_channels(
    cells_tif: Path, tmp_path: Path
) -> None:
    before = tifffile.imread(cells_tif)

    after = _add_and_run(
        EXAMPLES / "single-file" / "channel_max_projection.py", cells_tif, tmp_path / "o.tif"
    )

    # One plane: written as a 2D TIFF page.
    np.testing.assert_array_equal(np.squeeze(after), before.max(axis=0))


# ---------------------------------------------------------------------------------------------
# Example packages: built, installed into a venv, listed, run, and their own tests (slow)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_projects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Copies of the example projects: a build writes build/ and *.egg-info next to the source."""
    root = tmp_path_factory.mktemp("examples")
    ignore = shutil.ignore_patterns("build", "dist", "*.egg-info", "__pycache__", ".*_cache")
    return {
        name: Path(shutil.copytree(EXAMPLES / name, root / name, ignore=ignore))
        for name in PACKAGES
    }


@pytest.fixture(scope="module")
def example_wheels(example_projects: dict[str, Path]) -> dict[str, Path]:
    return {
        name: build_wheel(project, project.parent / "wheels" / name)
        for name, project in example_projects.items()
    }


@pytest.fixture(scope="module")
def example_venv(example_wheels: dict[str, Path], tmp_path_factory: pytest.TempPathFactory):
    """A venv that sees the system's numpy, scipy and torch, with the two example wheels."""
    python = make_venv(tmp_path_factory.mktemp("examples-venv") / "env")
    # --no-deps: torch (installed here as the CPU build) must not be re-resolved.
    pip("install", "--no-deps", *map(str, example_wheels.values()), python=python)
    return python


def _in_venv(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENHCS_PLUGINS_CACHE_DIR": str(cwd / "cache")}
    return subprocess.run(
        [str(python), *args], capture_output=True, text=True, cwd=cwd, env=env, check=False
    )


def _cli(python: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = _in_venv(python, "-m", "openhcs_plugins.cli", *args, cwd=cwd)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_example_wheel_carries_the_entry_point_module_and_licence(
    example_wheels: dict[str, Path], name: str
) -> None:
    namespace, _ = PACKAGES[name]
    package = name.replace("-", "_")

    with zipfile.ZipFile(example_wheels[name]) as archive:
        names = archive.namelist()
        (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        text = archive.read(entry_points).decode()

    assert f"{package}/functions.py" in names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert f"{namespace} = {package}.functions" in text
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.slow
def test_installed_examples_are_listed_with_every_function_and_their_version(
    example_venv: Path, tmp_path: Path
) -> None:
    listed = json.loads(_cli(example_venv, "list", "--json", cwd=tmp_path).stdout)
    by_key = {row["key"]: row for row in listed}

    for name, (namespace, functions) in PACKAGES.items():
        keys = sorted(k for k in by_key if k.startswith(f"{namespace}:"))
        assert keys == [f"{namespace}:{f}" for f in functions]
        for key in keys:
            row = by_key[key]
            assert (row["distribution"], row["version"]) == (name, "0.1.0")
            assert row["source"] == "entry_point"
            assert row["origin"].startswith("file:") and row["origin"].endswith(".whl")
    assert by_key["lab_torch:median_denoise"]["input_memory_type"] == "torch"
    assert by_key["lab_filters:threshold_otsu"]["input_memory_type"] == "numpy"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_example_packages_own_tests_pass_against_the_installed_wheel(
    example_projects: dict[str, Path], example_venv: Path, name: str
) -> None:
    if name == "lab-filters-torch":
        requires_framework("torch")
    project = example_projects[name]
    # The tests import the package from the venv (src/ is not on the path), so they test the
    # wheel. The plugin is named explicitly, as in the template's own tests.
    result = _in_venv(
        example_venv,
        "-m",
        "pytest",
        "-p",
        "no:openhcs_plugins",
        "-p",
        "openhcs_plugins.pytest_plugin",
        "-p",
        "no:cacheprovider",
        "-rs",
        "tests",
        cwd=project,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert f"{OWN_TESTS[name]} passed" in output and "skipped" not in output, output
    assert (
        "site-packages"
        in _in_venv(
            example_venv,
            "-c",
            f"import {name.replace('-', '_')} as m; print(m.__file__)",
            cwd=project,
        ).stdout
    )


@pytest.mark.slow
def test_numpy_example_runs_on_a_tiff_and_records_its_measurements(
    example_venv: Path, tmp_path: Path
) -> None:
    image = tmp_path / "cells.tif"
    tifffile.imwrite(image, synthetic_cells((1, 96, 96), n_cells=8).astype(np.uint16))

    _cli(example_venv, "run", "lab_filters:subtract_background", str(image), "-o", "flat.tif",
         "-p", "radius=12", cwd=tmp_path)  # fmt: skip
    _cli(example_venv, "run", "lab_filters:threshold_otsu", "flat.tif", "-o", "mask.tif",
         "-p", "min_area=10", cwd=tmp_path)  # fmt: skip

    mask = tifffile.imread(tmp_path / "mask.tif")
    provenance = read_provenance(tmp_path / "mask.tif")
    assert (provenance["distribution"], provenance["version"]) == ("lab-filters-numpy", "0.1.0")
    measurements = provenance["metadata"]
    assert 4 <= measurements["objects"] <= 8
    assert measurements["area"] == int(mask.sum()) > 0
    assert provenance["parameters"] == {"min_area": 10}


@pytest.mark.slow
def test_torch_example_runs_on_a_tiff(example_venv: Path, tmp_path: Path) -> None:
    requires_framework("torch")
    stack = np.zeros((2, 32, 32), dtype=np.uint16)
    stack[:, 10, 10] = 5000  # hot pixels
    tifffile.imwrite(tmp_path / "in.tif", stack)

    _cli(example_venv, "run", "lab_torch:median_denoise", "in.tif", "-o", "out.tif", cwd=tmp_path)

    assert not tifffile.imread(tmp_path / "out.tif").any()
    assert read_provenance(tmp_path / "out.tif")["distribution"] == "lab-filters-torch"
