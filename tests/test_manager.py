from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins.hosts.openhcs_folder import openhcs_imports
from openhcs_plugins.manager import CustomFunctionManager, default_functions_dir
from openhcs_plugins.registry import FunctionRegistry
from openhcs_plugins.signals import custom_function_signals
from openhcs_plugins.validation import ValidationError

REPO = Path(__file__).resolve().parents[1]

THRESHOLD = textwrap.dedent('''
    from openhcs_plugins.decorators import numpy
    import numpy as np

    @numpy
    def my_function(image, threshold=0.5):
        """Custom thresholding function."""
        return np.where(image > threshold, image, 0)
''')

TWO_FUNCTIONS = textwrap.dedent('''
    from openhcs_plugins.decorators import numpy
    import numpy as np

    SCALE = 2.0


    def _helper(image):
        return image * SCALE


    # Scales the image.
    @numpy
    def scale_up(image):
        """Scale up."""
        return _helper(image)


    @numpy
    def shift(image, by: float = 1.0):
        """Shift."""
        return image + by
''')


def code_for(name: str, body: str = "return image * 2") -> str:
    return (
        "from openhcs_plugins.decorators import numpy\n\n\n"
        f'@numpy\ndef {name}(image):\n    """{name}."""\n    {body}\n'
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "custom_functions"


@pytest.fixture
def manager(folder: Path) -> CustomFunctionManager:
    return CustomFunctionManager(folder, registry=FunctionRegistry())


@pytest.fixture
def changes():
    seen: list[int] = []
    slot = lambda: seen.append(1)  # noqa: E731
    custom_function_signals.functions_changed.connect(slot)
    yield seen
    custom_function_signals.functions_changed.disconnect(slot)


def test_register_from_code_registers_saves_and_runs(manager, folder, changes):
    funcs = manager.register_from_code(THRESHOLD, persist=True)
    assert [f.__name__ for f in funcs] == ["my_function"]
    assert manager.registry.keys() == ["openhcs:my_function"]
    assert (folder / "my_function.py").read_text() == openhcs_imports(THRESHOLD)
    assert (
        "from openhcs.core.memory.decorators import numpy"
        in (folder / "my_function.py").read_text()
    )
    image = np.array([[[0.2, 0.9]]])
    assert np.array_equal(manager.registry.get("openhcs:my_function")(image), [[[0, 0.9]]])
    assert changes == [1]


def test_restart_with_a_new_manager_brings_functions_back(manager, folder):
    manager.register_from_code(THRESHOLD)
    fresh = CustomFunctionManager(folder, registry=FunctionRegistry())
    assert fresh.load_all_custom_functions() == 1
    entry = fresh.registry.entry("openhcs:my_function")
    assert entry.state == "not loaded"  # lazy: the file runs on first use
    out = fresh.registry.get("openhcs:my_function")(np.array([[[1.0, 0.1]]]))
    assert np.array_equal(out, [[[1.0, 0.0]]])
    assert entry.info.provenance.file == str(folder / "my_function.py")
    assert entry.info.provenance.sha256


def test_several_functions_are_split_one_file_each_and_reload_has_no_duplicates(manager, folder):
    funcs = manager.register_from_code(TWO_FUNCTIONS)
    assert sorted(f.__name__ for f in funcs) == ["scale_up", "shift"]
    assert sorted(p.name for p in folder.glob("*.py")) == ["scale_up.py", "shift.py"]
    scale_text = (folder / "scale_up.py").read_text()
    assert "def shift" not in scale_text and "_helper" in scale_text and "# Scales" in scale_text
    assert "def scale_up" not in (folder / "shift.py").read_text()
    for _ in range(3):
        manager.load_all_custom_functions()
    assert manager.registry.keys() == ["openhcs:scale_up", "openhcs:shift"]
    fresh = CustomFunctionManager(folder, registry=FunctionRegistry())
    fresh.load_all_custom_functions()
    assert fresh.registry.get("openhcs:scale_up")(np.ones((1, 1, 1)))[0, 0, 0] == 2.0


def test_multi_function_registration_is_all_or_nothing(manager, folder):
    bad = TWO_FUNCTIONS + "\n\n@numpy\ndef broken(img):\n    return img\n"
    with pytest.raises(ValidationError, match="first parameter is 'img'"):
        manager.register_from_code(bad)
    assert not list(folder.glob("*.py"))
    assert len(manager.registry) == 0


def test_module_level_error_reports_line_and_saves_nothing(manager, folder):
    code = code_for("ok_function") + "\nVALUE = undefined_var + 1\n"
    with pytest.raises(ValidationError) as caught:
        manager.register_from_code(code)
    error = caught.value
    assert "Code execution failed: NameError" in error.message
    assert error.line_number == code.splitlines().index("VALUE = undefined_var + 1") + 1
    assert not list(folder.glob("*.py")) and len(manager.registry) == 0


def test_existing_name_is_refused_and_update_replaces_it(manager, folder, changes):
    manager.register_from_code(code_for("blur"))
    with pytest.raises(FileExistsError, match="update_custom_function"):
        manager.register_from_code(code_for("blur", "return image * 3"))
    manager.update_custom_function("blur", code_for("blur", "return image * 3"))
    assert manager.registry.get("openhcs:blur")(np.ones((1, 1, 1)))[0, 0, 0] == 3
    assert "image * 3" in (folder / "blur.py").read_text()
    assert changes == [1, 1]


def test_update_with_bad_code_keeps_old_function_live_and_file_unchanged(manager, folder):
    manager.register_from_code(code_for("blur"))
    before = (folder / "blur.py").read_bytes()
    old = manager.registry.get("openhcs:blur")
    with pytest.raises(ValidationError):
        manager.update_custom_function("blur", code_for("blur", "return image +"))
    with pytest.raises(ValidationError):
        manager.update_custom_function("blur", code_for("blur") + "\nX = 1 / 0\n")
    assert (folder / "blur.py").read_bytes() == before
    assert manager.registry.get("openhcs:blur") is old


def test_update_can_rename_and_removes_the_old_file(manager, folder):
    manager.register_from_code(code_for("blur"))
    manager.update_custom_function("blur", code_for("smooth"))
    assert manager.registry.keys() == ["openhcs:smooth"]
    assert [p.name for p in folder.glob("*.py")] == ["smooth.py"]


def test_delete_removes_file_and_entry(manager, folder, changes):
    manager.register_from_code(code_for("blur"))
    assert manager.delete_custom_function("blur") is True
    assert not (folder / "blur.py").exists()
    assert "openhcs:blur" not in manager.registry
    assert manager.delete_custom_function("blur") is False
    assert changes == [1, 1]


def test_names_that_are_not_identifiers_are_refused(manager):
    for bad in ("../x", "a/b", "", "x.py"):
        with pytest.raises(ValueError, match="not a function name"):
            manager.delete_custom_function(bad)
        with pytest.raises(ValueError, match="not a function name"):
            manager.get_function_code(bad)


def test_get_function_code_returns_saved_text(manager):
    manager.register_from_code(THRESHOLD)
    assert manager.get_function_code("my_function") == openhcs_imports(THRESHOLD)
    with pytest.raises(KeyError):
        manager.get_function_code("missing")


def test_persist_false_registers_without_a_file(manager, folder):
    manager.register_from_code(code_for("draft"), persist=False)
    assert "openhcs:draft" in manager.registry
    assert manager.registry.info("openhcs:draft").source.value == "editor"
    assert not folder.exists() or not list(folder.glob("*.py"))
    # Saving it later replaces the editor entry with the folder one.
    manager.register_from_code(code_for("draft"), persist=True)
    assert manager.registry.info("openhcs:draft").source.value == "folder"


def test_corrupt_and_invalid_files_are_reported_and_the_others_load(manager, folder):
    manager.register_from_code(code_for("good"))
    (folder / "binary.py").write_bytes(b"\xff\xfe\x00garbage")
    (folder / "syntax.py").write_text("def broken(:\n")
    (folder / "evil.py").write_text(code_for("evil") + "import os\n")
    assert manager.load_all_custom_functions() == 1
    assert manager.registry.keys() == ["openhcs:good"]
    problems = {Path(p.file).name: p for p in manager.problems}
    assert set(problems) == {"binary.py", "syntax.py", "evil.py"}
    assert "UTF-8" in problems["binary.py"].message
    assert problems["syntax.py"].line == 1
    assert "os" in problems["evil.py"].message and problems["evil.py"].line == 8


def test_listing_never_executes_files(manager, folder, tmp_path):
    marker = tmp_path / "executed"
    manager.register_from_code(code_for("good"))
    (folder / "sneaky.py").write_text(
        code_for("sneaky") + f"\nopen({str(marker)!r}, 'w').write('x')\n"
    )
    infos = manager.list_custom_functions()
    assert [i.name for i in infos] == ["good"]
    assert infos[0].memory_type == "numpy" and infos[0].file_path == folder / "good.py"
    assert not marker.exists()
    (folder / "direct.py").write_text(code_for("direct"))
    assert "direct" in [i.name for i in manager.list_custom_functions()]
    assert "openhcs_plugins_custom.direct" not in sys.modules
    fresh = CustomFunctionManager(folder, registry=FunctionRegistry())
    fresh.load_all_custom_functions()
    assert not marker.exists()


def test_removed_file_disappears_from_the_registry_on_reload(manager, folder):
    manager.register_from_code(code_for("a"))
    manager.register_from_code(code_for("b"))
    (folder / "a.py").unlink()
    manager.load_all_custom_functions()
    assert manager.registry.keys() == ["openhcs:b"]


def test_openhcs_style_imports_load_unchanged(manager):
    for i, module in enumerate(("openhcs.core.memory", "openhcs.core.memory.decorators")):
        code = THRESHOLD.replace("openhcs_plugins.decorators", module).replace(
            "my_function", f"fn{i}"
        )
        (func,) = manager.register_from_code(code)
        assert func.input_memory_type == "numpy"
    code = "import openhcs.core.memory as mem\n\n\n@mem.numpy\ndef fn3(image):\n    return image\n"
    (func,) = manager.register_from_code(code)
    assert func.__name__ == "fn3"


def test_storage_dir_honours_env_var_and_xdg_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_functions_dir() == tmp_path / "xdg" / "openhcs" / "custom_functions"
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(tmp_path / "env"))
    assert CustomFunctionManager(registry=FunctionRegistry()).storage_dir == tmp_path / "env"


def test_function_that_renames_itself_is_refused(manager, folder):
    code = code_for("innocent") + "\ninnocent.__name__ = 'evil'\n"
    with pytest.raises(ValidationError):
        manager.register_from_code(code)
    assert not list(folder.glob("*.py"))


_SLOW_SAVE = """
import os, sys, time
from openhcs_plugins import _storage
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.registry import FunctionRegistry

real_fsync = os.fsync
def stalled_fsync(fd):
    open(sys.argv[2], "w").close()   # tell the parent we are mid-write
    time.sleep(60)
_storage.os.fsync = stalled_fsync
m = CustomFunctionManager(sys.argv[1], registry=FunctionRegistry())
m.update_custom_function("blur", sys.stdin.read())
"""


def test_process_killed_mid_save_leaves_old_file_and_no_stray_py(manager, folder, tmp_path):
    manager.register_from_code(code_for("blur"))
    before = (folder / "blur.py").read_text()
    ready = tmp_path / "ready"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_SAVE, str(folder), str(ready)],
        stdin=subprocess.PIPE,
        cwd=REPO,
        start_new_session=True,
    )
    proc.stdin.write(code_for("blur", "return image * 5 " + "#" * 100_000).encode())
    proc.stdin.close()
    deadline = time.monotonic() + 30
    while not ready.exists():
        assert proc.poll() is None, "writer exited before the save"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert (folder / "blur.py").read_text() == before
    assert sorted(p.name for p in folder.glob("*.py")) == ["blur.py"]
    leftovers = [p for p in folder.iterdir() if p.name not in {"blur.py", ".lock"}]
    assert leftovers and all(not p.name.endswith(".py") for p in leftovers)
    fresh = CustomFunctionManager(folder, registry=FunctionRegistry())
    assert fresh.load_all_custom_functions() == 1
    assert [p.name for p in folder.iterdir() if p.name != ".lock"] == ["blur.py"]


_REGISTER_MANY = """
import sys
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.registry import FunctionRegistry
m = CustomFunctionManager(sys.argv[1], registry=FunctionRegistry())
prefix = sys.argv[2]
for i in range(15):
    name = f"{prefix}_{i}"
    m.register_from_code(
        "from openhcs_plugins.decorators import numpy\\n\\n\\n"
        f"@numpy\\ndef {name}(image):\\n    return image\\n"
    )
try:
    m.register_from_code(
        "from openhcs_plugins.decorators import numpy\\n\\n\\n"
        f"@numpy\\ndef shared(image):\\n    return image + {len(prefix)}\\n"
    )
    print("shared-ok")
except FileExistsError:
    print("shared-exists")
"""


def test_two_processes_registering_at_once_lose_nothing(folder):
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _REGISTER_MANY, str(folder), prefix],
            stdout=subprocess.PIPE,
            text=True,
            cwd=REPO,
        )
        for prefix in ("alpha", "beta")
    ]
    outputs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert sorted(outputs) == ["shared-exists", "shared-ok"]
    fresh = CustomFunctionManager(folder, registry=FunctionRegistry())
    assert fresh.load_all_custom_functions() == 31
    assert fresh.problems == []


def test_trust_and_policy_settings_apply_to_folder_files(monkeypatch, folder):
    folder.mkdir(parents=True)
    (folder / "uses_json.py").write_text(
        "import json\n\nfrom openhcs_plugins.decorators import numpy\n\n\n"
        "@numpy\ndef uses_json(image):\n    return image\n"
    )
    manager = CustomFunctionManager(folder, registry=FunctionRegistry())
    assert manager.list_custom_functions() == []
    assert "json" in manager.problems[0].message
    monkeypatch.setenv("OPENHCS_PLUGINS_POLICY_ALLOW_MODULES", "json")
    widened = CustomFunctionManager(folder, registry=FunctionRegistry())
    assert [i.name for i in widened.list_custom_functions()] == ["uses_json"]
    monkeypatch.delenv("OPENHCS_PLUGINS_POLICY_ALLOW_MODULES")
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_FOLDER", "trusted")
    trusting = CustomFunctionManager(folder, registry=FunctionRegistry())
    assert [i.name for i in trusting.list_custom_functions()] == ["uses_json"]


def test_replace_saves_over_existing_functions_of_the_block(manager, folder):
    manager.register_from_code(TWO_FUNCTIONS)
    funcs = manager.register_from_code(
        TWO_FUNCTIONS.replace("SCALE = 2.0", "SCALE = 5.0"), replace=True
    )
    assert sorted(f.__name__ for f in funcs) == ["scale_up", "shift"]
    assert "SCALE = 5.0" in (folder / "scale_up.py").read_text()
    assert manager.registry.get("openhcs:scale_up")(np.ones((1, 1, 1)))[0, 0, 0] == 5.0


def test_replace_never_drops_another_function_of_a_hand_written_file(manager, folder):
    folder.mkdir(parents=True, exist_ok=True)
    both = code_for("blur") + "\n\n@numpy\ndef keep(image):\n    return image\n"
    (folder / "blur.py").write_text(both)
    with pytest.raises(ValueError, match="keep"):
        manager.register_from_code(code_for("blur", "return image * 3"), replace=True)
    assert (folder / "blur.py").read_text() == both


def test_a_refused_save_keeps_the_editor_draft_registered(manager, folder):
    from openhcs_plugins.memory import numpy as numpy_decorator
    from openhcs_plugins.registry import register_function

    manager.register_from_code(code_for("draft"), persist=False)

    @numpy_decorator
    def taken(image):
        return image

    register_function(taken, registry=manager.registry)
    both = code_for("draft") + "\n\n@numpy\ndef taken(image):\n    return image\n"
    with pytest.raises(ValueError, match="already registered"):
        manager.register_from_code(both, persist=True)
    assert manager.registry.info("openhcs:draft").source.value == "editor"
    assert not folder.exists() or not list(folder.glob("*.py"))


def test_the_folder_lock_is_reentrant_within_a_thread_and_excludes_other_threads(folder):
    import threading

    from openhcs_plugins._storage import folder_lock

    entered = threading.Event()
    with folder_lock(folder, timeout=2), folder_lock(folder, timeout=2):
        worker = threading.Thread(target=lambda: _take(folder, entered))
        worker.start()
        worker.join(0.5)
        assert not entered.is_set()  # another thread waits while this one holds the lock
    worker.join(5)
    assert entered.is_set()


def _take(folder, entered):
    from openhcs_plugins._storage import folder_lock

    with folder_lock(folder, timeout=10):
        entered.set()


def test_each_editor_draft_keeps_its_own_module_so_older_drafts_still_pickle(manager):
    import pickle

    (first,) = manager.register_from_code(code_for("draft_one"), persist=False)
    (second,) = manager.register_from_code(code_for("draft_two"), persist=False)
    assert first.__module__ != second.__module__
    assert pickle.loads(pickle.dumps(first)) is first
    assert pickle.loads(pickle.dumps(second)) is second


def test_saved_functions_pickle_by_reference_in_this_process(manager):
    import pickle

    (func,) = manager.register_from_code(code_for("saved_fn"))
    assert pickle.loads(pickle.dumps(func)) is func


def test_openhcs_host_dialog_calls_work_as_its_dialog_makes_them(tmp_path):
    """OpenHCS's dialog: get_function_code(name), new_name = update_custom_function(name,
    code), ValueError for an unknown name (issue 14)."""
    from openhcs_plugins.manager import UnknownCustomFunctionError, UpdatedFunction

    manager = CustomFunctionManager(tmp_path / "functions")
    manager.register_from_code(code_for("blur"))
    assert "def blur(image" in manager.get_function_code("blur")
    new_name = manager.update_custom_function("blur", code_for("smooth"))
    assert isinstance(new_name, UpdatedFunction) and new_name == "smooth"
    assert [f.__name__ for f in new_name.functions] == ["smooth"]
    assert "def smooth(image" in manager.get_function_code(new_name)
    assert manager.update_custom_function("smooth", code_for("smooth", "return image * 3")) == (
        "smooth"
    )
    for call in (
        lambda: manager.get_function_code("blur"),
        lambda: manager.update_custom_function("blur", code_for("blur")),
    ):
        with pytest.raises(ValueError, match="no custom function 'blur'") as raised:
            call()
        assert isinstance(raised.value, (KeyError, UnknownCustomFunctionError))
