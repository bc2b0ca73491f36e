"""The functions folder as every command sees it: ``--functions-dir`` on each command that reads
it, the settings passed to :func:`load_plugins`, and one hash for a file's text."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from openhcs_plugins.cli import app
from openhcs_plugins.registry import get_default_registry
from openhcs_plugins.sources import read_source
from openhcs_plugins.sources.candidate import sha256_text

runner = CliRunner()

GOOD = '''from openhcs_plugins.decorators import numpy


@numpy
def scale(image, factor: float = 2.0):
    """Multiply by a factor."""
    return image * factor
'''


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _stack(path: Path) -> Path:
    tifffile.imwrite(path, np.full((2, 4, 5), 2.0, dtype=np.float32))
    return path


# -- one hash for a file's text (item 13) ------------------------------------------------------


def test_a_bom_does_not_change_a_files_hash(tmp_path):
    plain, bom = tmp_path / "plain.py", tmp_path / "bom.py"
    plain.write_text(GOOD, encoding="utf-8")
    bom.write_bytes(codecs.BOM_UTF8 + GOOD.encode("utf-8"))
    assert sha256_text(read_source(bom)) == sha256_text(read_source(plain))
    assert sha256_text(bom.read_text(encoding="utf-8")) == sha256_text(GOOD)


def test_a_folder_file_starting_with_a_bom_runs_isolated(tmp_path, monkeypatch):
    folder = tmp_path / "functions"
    folder.mkdir()
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    (folder / "scale.py").write_bytes(codecs.BOM_UTF8 + GOOD.encode("utf-8"))
    image = _stack(tmp_path / "a.tif")
    result = invoke("run", "scale", str(image), "-o", str(tmp_path / "out"), "--isolated")
    assert result.exit_code == 0, result.output
    assert np.array_equal(tifffile.imread(tmp_path / "out" / "a.tif"), np.full((2, 4, 5), 4.0))


# -- the settings load_plugins is given (item 12) ----------------------------------------------


def test_load_plugins_reads_the_folder_of_the_settings_it_is_given(tmp_path, monkeypatch):
    from openhcs_plugins.config import load_settings
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.registry import FunctionRegistry

    default = tmp_path / "default"
    default.mkdir()
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(default))
    chosen = tmp_path / "chosen"
    chosen.mkdir()
    (chosen / "scale.py").write_text(GOOD, encoding="utf-8")
    registry = FunctionRegistry()
    settings = load_settings(functions_dir=str(chosen))
    report = load_plugins(settings=settings, registry=registry, include_entry_points=False)
    assert report.registered == ("openhcs:scale",)
    assert registry.info("openhcs:scale").provenance.file == str(chosen / "scale.py")


def test_a_broken_settings_file_is_one_clean_warning(tmp_path):
    config = tmp_path / "config"
    config.mkdir()
    settings_file = config / "settings.py"
    settings_file.write_text(
        "from openhcs_plugins.config.settings import LazySettings\n\n"
        "settings = LazySettings(trust=1)\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "OPENHCS_PLUGINS_CONFIG_DIR": str(config),
        "OPENHCS_PLUGINS_FUNCTIONS_DIR": str(tmp_path / "functions"),
        "OPENHCS_PLUGINS_NO_CACHE": "1",
    }
    for args in (["list"], ["doctor", "--json"]):
        result = subprocess.run(
            [sys.executable, "-m", "openhcs_plugins.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert result.stderr.count(f"{settings_file}:3:") == 1, result.stderr
        assert "warning: " in result.stderr and "settings edit" in result.stderr
        # Python's warning display would add the internal line that called load_settings.
        assert "SettingsWarning" not in result.stderr
        assert "load_settings(" not in result.stderr, result.stderr


# -- --functions-dir on every command that reads the folder (item 11) ---------------------------


@pytest.fixture
def elsewhere(tmp_path):
    """A functions folder that is not the default one, holding ``scale.py``."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "scale.py").write_text(GOOD, encoding="utf-8")
    return folder


def test_list_info_and_doctor_read_the_functions_dir_option(elsewhere):
    assert "openhcs:scale" not in invoke("list", "--json").stdout
    listed = invoke("list", "--json", "--functions-dir", str(elsewhere))
    assert listed.exit_code == 0, listed.output
    assert [e["key"] for e in json.loads(listed.stdout)] == ["openhcs:scale"]
    shown = invoke("info", "scale", "--functions-dir", str(elsewhere))
    assert shown.exit_code == 0, shown.output
    assert str(elsewhere / "scale.py") in shown.stdout
    doctor = json.loads(invoke("doctor", "--json", "--functions-dir", str(elsewhere)).stdout)
    assert doctor["functions_dir"] == str(elsewhere)
    assert doctor["functions"] >= 1


def test_run_reads_the_functions_dir_option(tmp_path, elsewhere):
    image = _stack(tmp_path / "a.tif")
    result = invoke(
        "run", "scale", str(image), "-o", str(tmp_path / "out"), "--functions-dir", str(elsewhere)
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "a.tif").is_file()


def test_validate_without_a_target_validates_the_functions_folder(elsewhere):
    result = invoke("validate", "--functions-dir", str(elsewhere), "--json")
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout)
    assert report["file"] == str(elsewhere / "scale.py") and report["valid"] is True
    (elsewhere / "bad.py").write_text(GOOD.replace("(image,", "(img,"), encoding="utf-8")
    failed = invoke("validate", "--functions-dir", str(elsewhere))
    assert failed.exit_code == 1
    assert f"{elsewhere / 'bad.py'}:5" in failed.stderr


def test_freeze_and_check_read_the_functions_dir_option(tmp_path, elsewhere):
    lock = tmp_path / "lock.json"
    frozen = invoke("freeze", "-o", str(lock), "--functions-dir", str(elsewhere))
    assert frozen.exit_code == 0, frozen.output
    assert list(json.loads(lock.read_text())["folder"]) == ["scale.py"]
    ok = invoke("check", str(lock), "--functions-dir", str(elsewhere))
    assert ok.exit_code == 0, ok.output
    # One process per command in real use: forget what the other folder registered.
    get_default_registry().clear()
    drift = invoke("check", str(lock))  # the default folder is empty
    assert drift.exit_code == 1 and "file scale.py" in drift.stdout


def test_disable_finds_a_function_in_the_functions_dir_option(elsewhere):
    unknown = invoke("disable", "openhcs:scale")
    assert "nothing was disabled" in unknown.stdout
    result = invoke("disable", "openhcs:scale", "--functions-dir", str(elsewhere))
    assert result.exit_code == 0, result.output
    assert "disabled openhcs:scale" in result.stdout
