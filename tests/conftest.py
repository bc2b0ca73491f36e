"""Shared test set-up: every test gets its own XDG folders, so no test touches the real
per-user functions folder, settings or cache, and the default registry starts empty."""

from __future__ import annotations

import pytest

from openhcs_plugins.config import ENV_VARS
from openhcs_plugins.registry import get_default_registry


@pytest.fixture(autouse=True)
def _isolated_user_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    # A developer's shell must not change the tests: clear every variable openhcs-plugins reads.
    for var in {
        *ENV_VARS.values(),
        "OPENHCS_PLUGINS_FUNCTIONS_DIR",
        "OPENHCS_PLUGINS_CONFIG_DIR",
        "OPENHCS_PLUGINS_CACHE_DIR",
        "OPENHCS_PLUGINS_NO_CACHE",
    }:
        monkeypatch.delenv(var, raising=False)
    get_default_registry().clear()
    yield home
    get_default_registry().clear()
