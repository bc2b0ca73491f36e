from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from openhcs_plugins.cli import app
from openhcs_plugins.lockfile import LockFileError, check_lock, read_lock
from openhcs_plugins.lockfile import freeze as freeze_with_files
from openhcs_plugins.registry import FunctionInfo, get_default_registry
from openhcs_plugins.sources import Problem
from openhcs_plugins.sources.candidate import ParameterInfo, Provenance, SourceKind, sha256_text

runner = CliRunner()


def freeze(infos):
    """Lock data for ``infos`` whose distributions are not installed here (no files)."""
    return freeze_with_files(infos, files_of=lambda name: None)


SCALE = (
    "from openhcs_plugins.decorators import numpy\n\n\n"
    "@numpy\ndef scale(image):\n    return image * 2\n"
)


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
            "files": {},
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
    source.write_text(SCALE)
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
    data = {"format": 2, "packages": {}, "folder": {}}
    data[section]["lab"] = entry
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(data))
    with pytest.raises(LockFileError, match=what) as caught:
        check_lock(read_lock(path), freeze([]))
    assert str(path) in str(caught.value)


# -- the source files of a package, and folder files that are present but not loaded -----------


def _files(root, contents):
    paths = {}
    for rel, text in contents.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths[rel] = path
    return paths


def test_freeze_records_the_hash_of_every_source_file_of_a_package(tmp_path):
    files = _files(tmp_path, {"lab/__init__.py": "", "lab/core.py": "X = 1\n"})
    data = freeze_with_files([_package("blur")], files_of=lambda name: files)
    assert data["format"] == 2
    assert data["packages"]["lab"]["files"] == {
        "lab/__init__.py": sha256_text(""),
        "lab/core.py": sha256_text("X = 1\n"),
    }


def test_check_says_which_package_file_changed_was_added_removed_or_does_not_parse(tmp_path):
    files = _files(
        tmp_path, {"lab/__init__.py": "", "lab/core.py": "X = 1\n", "lab/old.py": "Y = 2\n"}
    )
    locked = freeze_with_files([_package("blur")], files_of=lambda name: dict(files))
    files["lab/core.py"].write_text("X = (\n", encoding="utf-8")
    files.pop("lab/old.py").unlink()
    files.update(_files(tmp_path, {"lab/new.py": "Z = 3\n"}))
    current = freeze_with_files([_package("blur")], files_of=lambda name: dict(files))
    drifts = check_lock(locked, current, files_of=lambda name: dict(files))
    lines = sorted(str(d) for d in drifts)
    assert "~ package lab: changed lab/core.py" in lines
    assert "~ package lab: added lab/new.py" in lines
    assert "~ package lab: removed lab/old.py" in lines
    (syntax,) = [d for d in drifts if d.kind == "syntax"]
    assert syntax.file == "lab/core.py"
    assert f"does not parse: {files['lab/core.py']}:1:" in str(syntax)
    assert check_lock(current, current, files_of=lambda name: dict(files)) == []


def test_a_package_that_is_installed_but_not_loaded_is_not_called_missing(tmp_path):
    files = _files(tmp_path, {"lab/core.py": "X = 1\n"})
    locked = freeze_with_files([_package("blur")], files_of=lambda name: files)
    problem = Problem(subject="lab-filters 0.1.0", message="it broke", namespace="lab")
    (drift,) = check_lock(locked, freeze([]), problems=[problem], files_of=lambda name: files)
    assert str(drift) == "! package lab: present but not loaded: it broke"
    (gone,) = check_lock(locked, freeze([]), files_of=lambda name: None)
    assert gone.kind == "missing" and "not present" in str(gone)
    (off,) = check_lock(locked, freeze([]), disabled=["lab:blur"], files_of=lambda name: files)
    assert "disabled (`openhcs-plugins enable lab`)" in str(off)


@pytest.fixture
def frozen_folder(tmp_path, monkeypatch):
    """A functions folder with ``scale.py`` and a lock file of it."""
    folder = tmp_path / "functions"
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    source = tmp_path / "scale.py"
    source.write_text(SCALE)
    assert runner.invoke(app, ["add", str(source)]).exit_code == 0
    lock = tmp_path / "openhcs.lock.json"
    assert runner.invoke(app, ["freeze", "-o", str(lock)]).exit_code == 0
    get_default_registry().clear()  # one process per command in real use
    return folder / "scale.py", lock


def test_a_folder_file_that_does_not_parse_is_reported_with_its_line(frozen_folder):
    path, lock = frozen_folder
    path.write_text(SCALE.replace("def scale(image):", "def scale(image:"), encoding="utf-8")
    result = runner.invoke(app, ["check", str(lock)])
    assert result.exit_code == 1
    assert f"file scale.py: does not parse: {path}:5:" in result.stdout
    assert "not present" not in result.stdout


def test_a_folder_file_that_cannot_be_read_says_so(frozen_folder):
    path, lock = frozen_folder
    path.write_bytes(b"x = '\xff'\n")
    result = runner.invoke(app, ["check", str(lock)])
    assert result.exit_code == 1
    assert f"file scale.py: cannot be read: {path}:" in result.stdout


def test_a_folder_file_that_is_present_but_invalid_says_why(frozen_folder):
    path, lock = frozen_folder
    path.write_text(SCALE.replace("(image)", "(img)").replace("image *", "img *"))
    result = runner.invoke(app, ["check", str(lock)])
    assert result.exit_code == 1
    assert "~ file scale.py: changed" in result.stdout
    assert "file scale.py: present but not loaded:" in result.stdout
    assert "'img'" in result.stdout


def test_a_format_1_lock_is_checked_with_a_note_to_refreeze_it(frozen_folder):
    _, lock = frozen_folder
    data = json.loads(lock.read_text())
    data["format"] = 1
    lock.write_text(json.dumps(data))
    result = runner.invoke(app, ["check", str(lock)])
    assert result.exit_code == 0, result.output
    assert f"re-freeze it with `openhcs-plugins freeze -o {lock}`" in result.stderr
