"""The trust store (issue 13): folder files nobody trusted on this machine run only isolated.

Each test has its own XDG folders (conftest), so the store lives in the test's data folder.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins import CustomFunctionManager
from openhcs_plugins.config.trust import (
    TrustRule,
    TrustStore,
    TrustStoreWarning,
    data_dir,
    untrusted_files,
)
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import FunctionRegistry, RegistryAdapter
from openhcs_plugins.sources.candidate import TrustLevel, sha256_text

CODE = '''from openhcs_plugins.decorators import numpy
import numpy as np


@numpy
def double_it(image, factor: float = 2.0):
    """Multiply the stack."""
    return image * factor
'''


def _load(folder: Path) -> FunctionRegistry:
    adapter = RegistryAdapter(FunctionRegistry())
    report = load_plugins(adapter=adapter, include_entry_points=False, folder=folder)
    assert not report.problems, report.problems
    return adapter.registry


def test_store_round_trip_and_copies(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "d")
    assert store.entries() == [] and not store.is_trusted(sha256_text(CODE))
    record = store.trust(CODE, tmp_path / "f.py")
    assert record.sha256 == sha256_text(CODE)
    again = TrustStore(tmp_path / "d")  # another process reads what was written
    assert again.is_trusted(record.sha256)
    assert again.last_trusted(tmp_path / "f.py") == record
    assert again.trusted_text(record.sha256) == CODE
    data = json.loads((tmp_path / "d" / "trust.json").read_text())
    assert data["format"] == 1 and data["trusted"][0]["sha256"] == record.sha256
    assert again.untrust([record.sha256]) == 1
    assert not TrustStore(tmp_path / "d").is_trusted(record.sha256)
    assert again.trusted_text(record.sha256) is None


def test_default_folder_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENHCS_PLUGINS_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere"
    assert TrustStore().path == tmp_path / "elsewhere" / "trust.json"


def test_damaged_store_warns_reads_empty_and_is_kept_aside(tmp_path: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    (folder / "trust.json").write_text("{not json")
    store = TrustStore(folder)
    with pytest.warns(TrustStoreWarning, match="damaged.*openhcs-plugins trust"):
        assert store.hashes() == frozenset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same damage is reported once
        store.hashes()
    store.trust(CODE)
    kept = list(folder.glob("trust.json.damaged-*"))
    assert len(kept) == 1 and kept[0].read_text() == "{not json"  # nothing lost
    assert TrustStore(folder).is_trusted(sha256_text(CODE))


def test_rule_levels() -> None:
    sha = sha256_text(CODE)
    rule = TrustRule(TrustLevel.USER, TrustLevel.STRICT, frozenset({sha}))
    assert rule.level(sha) is TrustLevel.USER
    assert rule.level("0" * 64) is TrustLevel.STRICT
    # strict in the settings stays strict, trusted or not
    strict = TrustRule.from_store(TrustLevel.STRICT, TrustLevel.USER)
    assert strict.level(sha) is TrustLevel.STRICT and strict.level("0" * 64) is TrustLevel.STRICT
    # trust.untrusted = user: the user said to run the folder in process
    lax = TrustRule.from_store(TrustLevel.USER, TrustLevel.USER)
    assert lax.level("0" * 64) is TrustLevel.USER


def test_dropped_file_runs_isolated_until_trusted(tmp_path: Path) -> None:
    folder = tmp_path / "functions"
    folder.mkdir()
    path = folder / "double_it.py"
    path.write_text(CODE)  # a downloaded file: nobody trusted it
    assert untrusted_files(folder) == [path]
    registry = _load(folder)
    info = registry.entry("openhcs:double_it").info
    assert info.provenance.trust is TrustLevel.STRICT and info.provenance.runs == "isolated"
    out = registry.call("openhcs:double_it", np.ones((1, 4, 4), np.float32), factor=3.0)
    assert float(out.max()) == 3.0
    assert not [m for m in sys.modules if m.endswith("double_it")]  # never executed here

    TrustStore().trust(path.read_text(), path)
    assert untrusted_files(folder) == []
    registry = _load(folder)
    assert registry.entry("openhcs:double_it").info.provenance.trust is TrustLevel.USER
    assert float(registry.call("openhcs:double_it", np.ones((1, 4, 4), np.float32)).max()) == 2

    # a file that changes is untrusted until trusted again
    path.write_text(CODE.replace("image * factor", "image * factor + 1"))
    registry = _load(folder)
    assert registry.entry("openhcs:double_it").info.provenance.trust is TrustLevel.STRICT
    assert untrusted_files(folder) == [path]


def test_untrusted_setting_user_runs_the_folder_in_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_UNTRUSTED", "user")
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "double_it.py").write_text(CODE)
    registry = _load(folder)
    assert registry.entry("openhcs:double_it").info.provenance.trust is TrustLevel.USER


def test_editor_saves_are_trusted_added_files_are_not(tmp_path: Path) -> None:
    manager = CustomFunctionManager(tmp_path / "functions")
    manager.register_from_code(CODE, persist=True)
    saved = manager.path_for("double_it")
    assert TrustStore().is_trusted(sha256_text(saved.read_text()))
    assert manager.registry.entry("openhcs:double_it").info.provenance.trust is TrustLevel.USER

    other = CustomFunctionManager(tmp_path / "other")
    funcs = other.register_from_code(
        CODE.replace("double_it", "triple_it"), persist=True, trusted=False
    )
    entry = other.registry.entry("openhcs:triple_it")
    assert entry.info.provenance.trust is TrustLevel.STRICT
    assert not TrustStore().is_trusted(sha256_text(other.path_for("triple_it").read_text()))
    from openhcs_plugins.execution import is_isolated

    assert is_isolated(funcs[0])
    assert float(funcs[0](np.ones((1, 2, 2), np.float32)).max()) == 2.0


def test_doctor_shows_the_cold_start_and_the_untrusted_files(tmp_path: Path) -> None:
    import subprocess

    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "double_it.py").write_text(CODE)
    trusted = folder / "trusted_one.py"
    trusted.write_text(CODE.replace("double_it", "trusted_one"))
    TrustStore().trust(trusted.read_text(), trusted)
    done = subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OPENHCS_PLUGINS_FUNCTIONS_DIR": str(folder)},
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["untrusted_folder_files"] == [str(folder / "double_it.py")]
    assert data["isolation_cold_start_ms"] > 0


def test_cli_trust_shows_the_diff_and_needs_yes_without_a_terminal(tmp_path: Path) -> None:
    import subprocess

    folder = tmp_path / "functions"
    folder.mkdir()
    path = folder / "double_it.py"
    path.write_text(CODE)
    env = {**os.environ, "OPENHCS_PLUGINS_FUNCTIONS_DIR": str(folder)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "openhcs_plugins.cli", *args]
        return subprocess.run(
            command, capture_output=True, text=True, timeout=120, env=env, stdin=subprocess.DEVNULL
        )

    first = cli("trust", "double_it")
    assert first.returncode == 1
    assert "never trusted" in first.stdout and "def double_it" in first.stdout
    assert "openhcs-plugins trust double_it --yes" in first.stderr
    assert cli("trust", "double_it", "--yes").returncode == 0
    assert TrustStore().is_trusted(sha256_text(path.read_text()))
    path.write_text(CODE.replace("image * factor", "image * factor * 2"))
    second = cli("trust", "double_it")
    assert second.returncode == 1
    assert "-    return image * factor" in second.stdout
    assert "+    return image * factor * 2" in second.stdout
    listed = json.loads(cli("list", "--json").stdout)
    assert [(f["key"], f["runs"]) for f in listed] == [("openhcs:double_it", "isolated")]
    assert cli("untrust", "double_it").returncode == 0
