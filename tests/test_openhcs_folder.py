"""The shared functions folder (issue 15): the files this project writes follow OpenHCS's rules
(one function per file, named after it, imports OpenHCS resolves), and every entry warns about
files that break them. The same files against the real OpenHCS are in
tests/e2e/test_openhcs_folder_e2e.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from openhcs_plugins.config.trust import TrustStore
from openhcs_plugins.hosts.openhcs_folder import (
    folder_problems,
    openhcs_imports,
    plugin_imports,
    scan_folder,
)
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.templates import TEMPLATE_FUNCTION_NAME, get_analysis_template
from openhcs_plugins.validation import validate_code

OURS = '''"""Two functions written with this project's imports."""
from openhcs_plugins.memory import numpy
from openhcs_plugins.artifacts import CsvOptions, MaterializationSpec, artifact_outputs
from openhcs_plugins.decorators import ProcessingContract
import numpy as np


@numpy(contract=ProcessingContract.PURE_2D)
def brighten(image, k: float = 2.0):
    return image * k


@numpy
@artifact_outputs(("areas", MaterializationSpec(CsvOptions(fields=["plane", "area"]))))
def areas(image):
    return image, [{"plane": i, "area": int((p > 0).sum())} for i, p in enumerate(image)]


@numpy
def darken(image):
    return image / 2
'''


def test_imports_are_rewritten_to_openhcs_names_line_for_line() -> None:
    text = openhcs_imports(OURS)
    assert text.splitlines()[1:4] == [
        "from openhcs.core.memory import numpy",
        "from openhcs.processing.materialization import CsvOptions, MaterializationSpec; "
        "from openhcs.core.pipeline.function_contracts import artifact_outputs",
        "from openhcs.processing.backends.lib_registry.unified_registry import ProcessingContract",
    ]
    assert len(text.splitlines()) == len(OURS.splitlines())
    assert text.splitlines()[4:] == OURS.splitlines()[4:]
    before, after = validate_code(OURS), validate_code(text)
    assert after.is_valid and before.functions == after.functions
    module = (
        "import torch\nfrom openhcs_plugins import memory\nimport openhcs_plugins.memory as m\n"
    )
    assert openhcs_imports(module) == (
        "import torch\nimport openhcs.core.memory as memory\nimport openhcs.core.memory as m\n"
    )
    kept = "from openhcs_plugins.memory import numpy, take_plane\n"
    assert openhcs_imports(kept) == kept  # take_plane has no OpenHCS home: left, and reported


def test_folder_problems_name_the_rule_the_line_and_the_fix(tmp_path: Path) -> None:
    problems = folder_problems(tmp_path / "mixed.py", OURS)
    assert [(p.rule, p.line) for p in problems] == [
        ("imports-openhcs-plugins", 2),
        ("one-function-per-file", 15),
    ]
    assert "OpenHCS refuses the whole folder" in str(problems[0])
    assert "add --replace" in problems[1].fix
    renamed = folder_problems(
        tmp_path / "other.py", openhcs_imports(OURS.split("\n\n\n@numpy\n@")[0])
    )
    assert [(p.rule, p.fix) for p in renamed] == [
        ("file-named-after-function", "rename it to brighten.py")
    ]
    assert (
        folder_problems(tmp_path / "brighten.py", openhcs_imports(OURS.split("\n\n\n@numpy\n@")[0]))
        == []
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "functions"


@pytest.fixture
def manager(folder: Path) -> CustomFunctionManager:
    return CustomFunctionManager(storage_dir=folder)


def test_saved_files_follow_openhcs_rules(manager: CustomFunctionManager, folder: Path) -> None:
    manager.register_from_code(OURS, persist=True)
    assert sorted(p.name for p in folder.glob("*.py")) == ["areas.py", "brighten.py", "darken.py"]
    assert scan_folder(folder) == []
    assert "from openhcs.core.memory import numpy" in (folder / "darken.py").read_text()


def test_remove_never_leaves_a_file_openhcs_refuses(
    manager: CustomFunctionManager, folder: Path
) -> None:
    folder.mkdir(parents=True)
    mixed = folder / "mixed.py"
    mixed.write_text(OURS)
    TrustStore().trust(OURS, mixed)
    manager.load_all_custom_functions()
    assert manager.delete_custom_function("areas")
    assert not mixed.exists()
    assert sorted(p.name for p in folder.glob("*.py")) == ["brighten.py", "darken.py"]
    assert scan_folder(folder) == []
    assert sorted(manager.registry.keys()) == ["openhcs:brighten", "openhcs:darken"]
    # the user trusted the file: its parts stay trusted (they run in this process)
    info = manager.registry.info("openhcs:brighten")
    assert info.provenance.runs == "in process" and info.provenance.file == str(
        folder / "brighten.py"
    )


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", *args],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_add_and_doctor_warn_about_files_openhcs_would_refuse(tmp_path: Path) -> None:
    import os

    env = dict(os.environ)
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[variable] = str(tmp_path / variable.lower())
    env["OPENHCS_PLUGINS_DATA_DIR"] = str(tmp_path / "data")
    env["COLUMNS"] = "1000"  # one warning a line
    shared = tmp_path / "xdg_data_home" / "openhcs" / "custom_functions"
    shared.mkdir(parents=True)
    (shared / "dropped.py").write_text(OURS)  # a hand-written file, dropped in
    source = tmp_path / "new.py"
    source.write_text(get_analysis_template())
    added = _cli("add", str(source), env=env)
    assert added.returncode == 0, added.stderr
    assert "dropped.py:2: imports openhcs_plugins.memory" in added.stderr
    assert "dropped.py:15: declares 3 functions" in added.stderr
    assert "OpenHCS refuses the whole folder" in added.stderr
    doctor = _cli("doctor", "--json", env=env)
    data = json.loads(doctor.stdout)
    assert [(Path(p["file"]).name, p["rule"]) for p in data["openhcs_folder_problems"]] == [
        ("dropped.py", "imports-openhcs-plugins"),
        ("dropped.py", "one-function-per-file"),
    ]


def test_the_template_name_is_not_openhcs_template_name() -> None:
    assert TEMPLATE_FUNCTION_NAME == "my_filter"
    assert "def my_custom_function" not in get_analysis_template()


def test_promoting_turns_the_imports_back_into_this_projects() -> None:
    """A package imports openhcs_plugins: OpenHCS's names resolve only in folder code."""
    example = Path(__file__).parents[1] / "examples" / "single-file" / "unsharp_mask.py"
    for text in (OURS, example.read_text()):
        back = plugin_imports(openhcs_imports(text))
        assert "openhcs." not in back.replace("openhcs_plugins", "")
        assert validate_code(back).functions == validate_code(text).functions
    assert plugin_imports(openhcs_imports(example.read_text())) == example.read_text()
    module = "import openhcs.core.memory as memory\n"
    assert plugin_imports(module) == "import openhcs_plugins.memory as memory\n"


def test_host_hook_file_installs_and_uninstalls(tmp_path: Path) -> None:
    from openhcs_plugins.hosts.install import HOOK_LINE, install_hook, state, uninstall_hook

    assert state(tmp_path).installed is False
    path = install_hook(tmp_path)
    assert path.read_text() == HOOK_LINE and state(tmp_path).current
    assert install_hook(tmp_path) == path  # idempotent
    assert uninstall_hook(tmp_path) and not path.exists()
    assert uninstall_hook(tmp_path) is False
    # the hook module stands alone: it runs at every start of Python without this project
    install_hook(tmp_path)
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
        "sys.modules['openhcs_plugins'] = None; "
        + HOOK_LINE.strip()
        + "; print(sorted(m for m in sys.modules if m.startswith(('openhcs', '_openhcs'))"
        + " and sys.modules[m]))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['_openhcs_plugins_host_hook']"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "_openhcs_plugins_host_hook.py",
        "openhcs_plugins_openhcs_host.pth",
    ]
    assert uninstall_hook(tmp_path) and list(tmp_path.iterdir()) == []


def test_publish_refuses_an_openhcs_version_it_was_not_tested_with(monkeypatch) -> None:
    from openhcs_plugins.hosts import openhcs as adapter

    monkeypatch.setattr(adapter, "_published", None)
    monkeypatch.setattr(adapter, "openhcs_version", lambda: "0.9.0")
    with pytest.raises(adapter.UnsupportedOpenHCSVersion, match=r"OpenHCS 0\.9\.0 .*0\.8\.6.*"
                       r"host uninstall openhcs"):  # fmt: skip
        adapter.publish()


def test_publish_skips_a_namespace_named_like_an_openhcs_registry(monkeypatch) -> None:
    from openhcs_plugins.hosts import openhcs as adapter

    declared: list[str] = []
    monkeypatch.setattr(adapter, "_published", None)
    monkeypatch.setattr(adapter, "openhcs_version", lambda: "0.8.6")
    monkeypatch.setattr(
        adapter,
        "plugin_namespaces",
        lambda: ({"skimage": ("a.b",), "lab_a": ("lab_a.f",), "lab_b": ("lab_b.f",)}, {}, []),
    )
    monkeypatch.setattr(adapter, "_registry_class", lambda ns, mods, version: declared.append(ns))
    publication = adapter.publish()
    assert declared == ["lab_a", "lab_b"]  # two packages: both published, apart
    assert list(publication.namespaces) == ["lab_a", "lab_b"]
    assert publication.skipped == [
        "skimage: the name of an OpenHCS registry; rename the entry point"
    ]
    assert adapter.publish() is publication  # once per process
