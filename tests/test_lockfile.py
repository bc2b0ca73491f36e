from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from openhcs_plugins.candidate import ParameterInfo, Provenance, SourceKind
from openhcs_plugins.cli import app
from openhcs_plugins.lockfile import LockFileError, check_lock, freeze, read_lock
from openhcs_plugins.registry import FunctionInfo

runner = CliRunner()


def _info(name, namespace, provenance):
    return FunctionInfo(
        key=f"{namespace}:{name}",
        name=name,
        namespace=namespace,
        input_memory_type="numpy",
        output_memory_type="numpy",
        parameters=(ParameterInfo("image"),),
        doc="",
        provenance=provenance,
    )


def _package(name, version="0.1.0", origin="index", dist="lab-filters"):
    return _info(
        name,
        "lab",
        Provenance(SourceKind.ENTRY_POINT, distribution=dist, version=version, origin=origin),
    )


def _folder(name, sha):
    return _info(name, "openhcs", Provenance(SourceKind.FOLDER, file=f"/f/{name}.py", sha256=sha))


def test_freeze_groups_packages_by_namespace_and_files_by_name():
    data = freeze([_package("blur"), _package("denoise"), _folder("mine", "a" * 64)])
    assert data["packages"] == {
        "lab": {
            "distribution": "lab-filters",
            "version": "0.1.0",
            "origin": "index",
            "functions": ["blur", "denoise"],
        }
    }
    assert data["folder"] == {"mine.py": {"sha256": "a" * 64, "functions": ["mine"]}}


def test_check_lists_every_kind_of_drift():
    locked = freeze([_package("blur"), _folder("mine", "a" * 64), _folder("gone", "b" * 64)])
    current = freeze(
        [
            _package("blur", version="0.2.0", origin="vcs:git+file:///r@abc"),
            _package("sharpen"),
            _folder("mine", "c" * 64),
            _folder("new", "d" * 64),
        ]
    )
    drifts = {(d.kind, d.subject) for d in check_lock(locked, current)}
    assert drifts == {
        ("version", "package lab"),
        ("origin", "package lab"),
        ("functions", "package lab"),
        ("changed", "file mine.py"),
        ("missing", "file gone.py"),
        ("extra", "file new.py"),
    }
    assert check_lock(locked, locked) == []


def test_unreadable_lock_files_are_clear_errors(tmp_path):
    with pytest.raises(LockFileError, match="no such lock file"):
        read_lock(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(LockFileError, match="not a lock file"):
        read_lock(tmp_path / "bad.json")
    (tmp_path / "old.json").write_text(json.dumps({"format": 99}))
    with pytest.raises(LockFileError, match="unknown lock file format 99"):
        read_lock(tmp_path / "old.json")


def test_freeze_then_check_passes_and_an_edited_folder_file_fails(tmp_path, monkeypatch):
    folder = tmp_path / "functions"
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    source = tmp_path / "scale.py"
    source.write_text(
        "from openhcs_plugins.decorators import numpy\n\n\n"
        "@numpy\ndef scale(image):\n    return image * 2\n"
    )
    assert runner.invoke(app, ["add", str(source)]).exit_code == 0
    lock = tmp_path / "openhcs.lock.json"
    frozen = runner.invoke(app, ["freeze", "-o", str(lock)])
    assert frozen.exit_code == 0, frozen.output
    assert "scale.py" in read_lock(lock)["folder"]
    ok = runner.invoke(app, ["check", str(lock)])
    assert ok.exit_code == 0 and "matches" in ok.stdout

    (folder / "scale.py").write_text(source.read_text().replace("* 2", "* 3"))
    drift = runner.invoke(app, ["check", str(lock)])
    assert drift.exit_code == 1
    assert "file scale.py: changed" in drift.stdout
    assert "1 difference(s)" in drift.stderr


@pytest.mark.parametrize(
    ("section", "entry", "what"),
    [
        ("packages", "0.1.0", "'packages' entry 'lab' is not an object"),
        ("folder", ["a" * 64], "'folder' entry 'lab' is not an object"),
        ("packages", {"version": "1", "functions": "blur"}, "'functions' of 'packages' entry"),
    ],
)
def test_a_hand_edited_lock_entry_is_a_clear_error_not_a_crash(tmp_path, section, entry, what):
    data = {"format": 1, "packages": {}, "folder": {}}
    data[section]["lab"] = entry
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LockFileError, match=what) as caught:
        check_lock(read_lock(path), freeze([]))
    assert str(path) in str(caught.value)
