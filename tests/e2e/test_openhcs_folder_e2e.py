"""The shared functions folder against the real OpenHCS 0.8.6 (issue 15), installed from the
package index into its own environment, without this project (tests/openhcs_env.py).

OpenHCS loads the folder the way it does at start-up (``load_all_custom_functions``), in a
fresh process whose data folder is the test's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openhcs_env import LOAD_FOLDER, openhcs_env, openhcs_venv
from test_openhcs_folder import OURS

from openhcs_plugins.hosts.openhcs_folder import scan_folder
from openhcs_plugins.templates import get_analysis_template, get_template_for_memory_type

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def openhcs_python() -> Path:
    return openhcs_venv()


def _ours(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.update(
        XDG_DATA_HOME=str(home / "data"),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        OPENHCS_PLUGINS_DATA_DIR=str(home / "plugins-data"),
        COLUMNS="1000",
    )
    return subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def _openhcs_loads(python: Path, home: Path) -> dict:
    done = subprocess.run(
        [str(python), "-c", LOAD_FOLDER],
        capture_output=True, text=True, env=openhcs_env(home), cwd=home, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_files_this_project_writes_load_in_openhcs_without_it(
    openhcs_python: Path, tmp_path: Path
) -> None:
    check = subprocess.run(
        [str(openhcs_python), "-c", "import openhcs_plugins"],
        capture_output=True, cwd=tmp_path, env=openhcs_env(tmp_path), check=False,
    )  # fmt: skip
    assert check.returncode != 0  # this project is not in OpenHCS's environment
    sources = {
        "mine.py": OURS,  # three functions, this project's imports
        "analysis.py": get_analysis_template(),
        "torch_one.py": get_template_for_memory_type("numpy"),
    }
    for name, text in sources.items():
        path = tmp_path / name
        path.write_text(text)
        added = _ours(tmp_path, "add", str(path), "--trust")
        assert added.returncode == 0, added.stderr
        assert "warning" not in added.stderr, added.stderr
    folder = tmp_path / "data" / "openhcs" / "custom_functions"
    assert sorted(p.stem for p in folder.glob("*.py")) == [
        "areas", "brighten", "darken", "my_filter", "my_measurement",
    ]  # fmt: skip
    result = _openhcs_loads(openhcs_python, tmp_path)
    assert result == {"loaded": 5, "error": None, "folder": str(folder)}
    # removing one function keeps the folder loadable there
    assert _ours(tmp_path, "remove", "brighten").returncode == 0
    assert _openhcs_loads(openhcs_python, tmp_path)["loaded"] == 4


def test_a_file_openhcs_refuses_is_reported_before_openhcs_meets_it(
    openhcs_python: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "data" / "openhcs" / "custom_functions"
    folder.mkdir(parents=True)
    good = folder / "my_filter.py"
    good.write_text(
        "from openhcs.core.memory import numpy\n\n\n@numpy\ndef my_filter(image):\n"
        "    return image\n"
    )
    (folder / "dropped.py").write_text(OURS)
    doctor = _ours(tmp_path, "doctor", "--json")
    reported = json.loads(doctor.stdout)["openhcs_folder_problems"]
    assert {(Path(p["file"]).name, p["rule"]) for p in reported} == {
        ("dropped.py", "imports-openhcs-plugins"),
        ("dropped.py", "one-function-per-file"),
    }
    # what the report warns of: OpenHCS refuses the folder, the good file included
    result = _openhcs_loads(openhcs_python, tmp_path)
    assert result["loaded"] == 0 and "openhcs_plugins" in result["error"]
    # the fix the report names, and OpenHCS loads everything again
    fixed = _ours(tmp_path, "add", "--replace", "--trust", str(folder / "dropped.py"))
    assert fixed.returncode == 0, fixed.stderr
    (folder / "dropped.py").unlink(missing_ok=True)
    assert scan_folder(folder) == []
    assert _openhcs_loads(openhcs_python, tmp_path) == {
        "loaded": 4, "error": None, "folder": str(folder),
    }  # fmt: skip


WRITE_WITH_OPENHCS = """
from openhcs.processing.custom_functions.manager import CustomFunctionManager
CustomFunctionManager().register_from_code('''
from openhcs.core.memory import numpy
import numpy as np


@numpy
def lab_invert(image):
    \\"\\"\\"Invert each plane.\\"\\"\\"
    return image.max() - image
''', persist=True)
"""


def test_files_openhcs_writes_load_here(openhcs_python: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(openhcs_python), "-c", WRITE_WITH_OPENHCS],
        capture_output=True, text=True, env=openhcs_env(tmp_path), cwd=tmp_path, timeout=600,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    listed = _ours(tmp_path, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    keys = [item["key"] for item in json.loads(listed.stdout)]
    assert "openhcs:lab_invert" in keys
    import numpy as np
    import tifffile

    tifffile.imwrite(tmp_path / "in.tif", np.arange(8, dtype=np.float32).reshape(2, 2, 2))
    run = _ours(
        tmp_path,
        "run",
        "openhcs:lab_invert",
        str(tmp_path / "in.tif"),
        "-o",
        str(tmp_path / "out.tif"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert np.array_equal(tifffile.imread(tmp_path / "out.tif")[0], 7 - np.arange(4).reshape(2, 2))
