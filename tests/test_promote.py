"""``openhcs-plugins promote``: a folder function becomes a package made from the template.

The real CLI in this process, the real template (cookiecutter), real files. Building and
installing a promoted package is in tests/e2e/test_distribution.py.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from openhcs_plugins.cli import app

tomllib = pytest.importorskip("tomllib", reason="needs Python 3.11+ to read pyproject.toml")

runner = CliRunner()

OPTIONS = ["--option", "namespace=lab_promoted", "--option", "email=a@example.org"]


@pytest.fixture(autouse=True)
def _cookiecutter_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep cookiecutter's replay files out of the real home folder."""
    home = tmp_path_factory.mktemp("cookiecutter")
    (home / "config.yaml").write_text(f"replay_dir: {home / 'replay'}\n", encoding="utf-8")
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(home / "config.yaml"))
    monkeypatch.setattr(tempfile, "tempdir", str(home))


def _save(folder: Path, name: str, code: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    path.write_text(code, encoding="utf-8")
    return path


def _promote(name: str, folder: Path, out: Path, *extra: str):
    return runner.invoke(
        app, ["promote", name, "-o", str(out), "--functions-dir", str(folder), *OPTIONS, *extra]
    )


SCIPY_CODE = '''from scipy import ndimage

from openhcs_plugins.decorators import numpy


@numpy
def smooth(image, size: int = 3):
    """Box mean of each channel."""
    return ndimage.uniform_filter(image, size=(1, size, size))
'''


def test_promote_adds_the_codes_imports_as_dependencies_and_names_the_function(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "functions"
    _save(folder, "smooth", SCIPY_CODE)

    result = _promote("smooth", folder, tmp_path / "out")

    assert result.exit_code == 0, result.output
    project = tmp_path / "out" / "openhcs-smooth"
    assert "added to the dependencies" in result.output and "scipy" in result.output
    meta = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["dependencies"] == ["openhcs-plugins>=0.1", "numpy>=1.24", "scipy"]
    assert meta["project"]["entry-points"]["openhcs.functions"] == {
        "lab_promoted": "openhcs_smooth.functions"
    }
    assert (project / "src" / "openhcs_smooth" / "functions.py").read_text("utf-8") == SCIPY_CODE
    for doc in ("README.md", "CHANGELOG.md"):
        text = (project / doc).read_text(encoding="utf-8")
        assert "lab_promoted:smooth" in text and "my_filter" not in text, doc


def test_promote_of_numpy_only_code_adds_no_dependency(tmp_path: Path) -> None:
    folder = tmp_path / "functions"
    _save(
        folder,
        "invert",
        "import math\n\nimport numpy as np\n\nfrom openhcs_plugins.decorators import numpy\n\n\n"
        "@numpy\ndef invert(image):\n    return np.max(image) - image + math.e * 0\n",
    )

    result = _promote("invert", folder, tmp_path / "out")

    assert result.exit_code == 0, result.output
    assert "dependencies" not in result.output
    meta = tomllib.loads(
        (tmp_path / "out" / "openhcs-invert" / "pyproject.toml").read_text(encoding="utf-8")
    )
    assert meta["project"]["dependencies"] == ["openhcs-plugins>=0.1", "numpy>=1.24"]


def test_promote_warns_about_an_import_that_is_not_installed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("tomllib")
    import importlib.metadata

    # scikit-image is in the test extra; make this environment's metadata not know it.
    known = importlib.metadata.packages_distributions()
    monkeypatch.setattr(
        importlib.metadata,
        "packages_distributions",
        lambda: {k: v for k, v in known.items() if k != "skimage"},
    )
    folder = tmp_path / "functions"
    _save(
        folder,
        "edges",
        "from skimage import filters\n\nfrom openhcs_plugins.decorators import numpy\n\n\n"
        "@numpy\ndef edges(image):\n    return filters.sobel(image)\n",
    )

    result = _promote("edges", folder, tmp_path / "out")

    assert result.exit_code == 0, result.output
    assert "warning:" in result.output and "skimage" in result.output
    assert (tmp_path / "out" / "openhcs-edges" / "pyproject.toml").is_file()


def test_promote_refuses_a_folder_file_that_does_not_validate_and_creates_nothing(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "functions"
    path = _save(
        folder,
        "leaky",
        "import subprocess\n\nfrom openhcs_plugins.decorators import numpy\n\n\n"
        "@numpy\ndef leaky(image):\n    return image\n",
    )

    result = _promote("leaky", folder, tmp_path / "out")

    assert result.exit_code == 1
    assert f"{path}:1" in result.output and "subprocess" in result.output
    assert "fix it before promoting it" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_promote_of_an_unknown_function_says_where_it_looked(tmp_path: Path) -> None:
    result = _promote("nothere", tmp_path / "functions", tmp_path / "out")

    assert result.exit_code == 1
    assert "no custom function 'nothere'" in result.output
    assert not (tmp_path / "out").exists()
