"""Set-up for the Qt widget tests (pytest-qt, offscreen).

The tests need the ``gui`` extra (qtpy, PyQt6) and pytest-qt. Without them this folder is not
collected, except when ``OPENHCS_PLUGINS_REQUIRE_BACKENDS=1`` (CI): then the import error shows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Before any QApplication exists: no screen is needed (and none pops up on a desktop).
os.environ["QT_QPA_PLATFORM"] = "offscreen"

try:
    import pytestqt  # noqa: F401
    import qtpy.QtWidgets  # noqa: F401
except ImportError:
    if os.environ.get("OPENHCS_PLUGINS_REQUIRE_BACKENDS", "").strip() == "1":
        raise
    collect_ignore_glob = ["test_*.py"]

from plugin_packages import FILTERS_V1, build_wheels, install_target, on_sys_path


@pytest.fixture
def functions_dir(tmp_path: Path) -> Path:
    """An empty functions folder for this test."""
    path = tmp_path / "functions"
    path.mkdir()
    return path


@pytest.fixture
def confirmations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Answer every confirmation dialog with Yes; the list collects the questions asked."""
    from qtpy.QtWidgets import QMessageBox

    asked: list[str] = []

    def question(parent, title, text, *args, **kwargs):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    return asked


@pytest.fixture(scope="session")
def package_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real plugin package oplab-filters 0.1.0, built and pip-installed into a folder."""
    root = tmp_path_factory.mktemp("gui-packages")
    wheels = build_wheels([FILTERS_V1], root)
    return install_target(wheels.values(), root / "site")


@pytest.fixture
def installed_package(package_site: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """``package_site`` on ``sys.path`` for this test (entry points become visible)."""
    with on_sys_path(package_site, monkeypatch):
        yield package_site
