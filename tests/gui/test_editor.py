"""The function editor: type, validate, jump to the error, save, run on a sample."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import Qt

from openhcs_plugins.gui import FunctionEditor, FunctionList, RunOutcome
from openhcs_plugins.hosts.openhcs_folder import openhcs_imports
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.registry import get_default_registry
from openhcs_plugins.templates import get_template_for_memory_type

BROKEN = """\
from openhcs_plugins.memory import numpy
import os


@numpy
def brighten(image, factor: float = 2.0):
    return image * factor
"""

FIXED = BROKEN.replace("import os\n", "")

# Valid to the static checks, fails when the module runs (line 3).
FAILS_ON_LOAD = """\
from openhcs_plugins.memory import numpy

SCALE = int("not a number")


@numpy
def brighten(image, factor: float = 2.0):
    return image * factor * SCALE
"""

RAISES_ON_CALL = """\
from openhcs_plugins.memory import numpy


@numpy
def explode(image):
    if image.mean() > 0:
        raise ValueError("the sample is too bright")
    return image
"""

WITH_METADATA = """\
import numpy as np
from openhcs_plugins.memory import numpy


@numpy(contract="PURE_2D")
def invert(image):
    inverted = image.max() - image
    return inverted, {"max": float(image.max())}
"""


def type_code(qtbot, editor: FunctionEditor, code: str) -> None:
    """Type ``code`` key by key into the code editor, as a user would."""
    widget = editor.code_editor
    widget.clear()
    widget.setFocus()
    for line in code.splitlines():
        if line:
            qtbot.keyClicks(widget, line)
        qtbot.keyClick(widget, Qt.Key.Key_Return)


def click_problem(qtbot, editor: FunctionEditor, row: int) -> None:
    item = editor.problem_list.item(row)
    rect = editor.problem_list.visualItemRect(item)
    qtbot.mouseClick(editor.problem_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


@pytest.fixture
def manager(functions_dir: Path) -> CustomFunctionManager:
    return CustomFunctionManager(functions_dir)


@pytest.fixture
def editor(qtbot, manager: CustomFunctionManager) -> FunctionEditor:
    widget = FunctionEditor(manager)
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    return widget


def test_typed_code_with_a_forbidden_import_lists_the_line_and_clicking_moves_the_cursor(
    qtbot, editor: FunctionEditor
):
    type_code(qtbot, editor, BROKEN)
    assert editor.code() == BROKEN
    qtbot.mouseClick(editor.validate_button, Qt.MouseButton.LeftButton)

    problems = editor.problems()
    assert problems and problems[0][0] == 2
    assert "Line 2" in problems[0][1] and "'os'" in problems[0][1]
    assert editor.code_editor.problem_lines == {2}
    assert "problem" in editor.status_text()

    editor.code_editor.go_to_line(7)
    click_problem(qtbot, editor, 0)
    assert editor.code_editor.current_line() == 2
    assert editor.code_editor.marked_line == 2


def test_fixing_and_saving_registers_and_the_list_refreshes_through_the_signal(
    qtbot, editor: FunctionEditor, functions_dir: Path
):
    # The list is not connected to the editor: only functions_changed can refresh it.
    function_list = FunctionList()
    qtbot.addWidget(function_list)
    assert function_list.keys() == []

    type_code(qtbot, editor, BROKEN)
    assert not editor.validate().is_valid
    type_code(qtbot, editor, FIXED)
    with qtbot.waitSignal(editor.saved, timeout=10_000) as saved:
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == [["openhcs:brighten"]]
    assert (functions_dir / "brighten.py").read_text() == openhcs_imports(FIXED)
    assert editor.editing == "brighten"

    qtbot.waitUntil(lambda: function_list.keys() == ["openhcs:brighten"], timeout=5_000)
    row = function_list.row_texts("openhcs:brighten")
    assert row["Namespace"] == "openhcs"
    assert row["Memory type"] == "numpy"
    assert row["Source"] == "folder"
    assert row["Status"] == "loaded"


def test_a_failing_update_keeps_the_saved_function_live_and_shows_the_error(
    qtbot, editor: FunctionEditor, manager: CustomFunctionManager, functions_dir: Path
):
    manager.register_from_code(FIXED)
    editor.load_function("openhcs:brighten")
    assert editor.editing == "brighten"
    editor.set_code(FAILS_ON_LOAD, editing="brighten")

    with qtbot.waitSignal(editor.save_failed, timeout=10_000) as failed:
        editor.save()
    message = failed.args[0]
    assert "ValueError" in message and "stays registered" in message
    assert editor.problems()[0][0] == 3
    assert (functions_dir / "brighten.py").read_text() == openhcs_imports(FIXED)
    old = get_default_registry().get("openhcs:brighten")
    assert np.array_equal(old(np.ones((1, 2, 2))), np.full((1, 2, 2), 2.0))


def test_saving_a_new_function_over_a_saved_one_asks_first(
    qtbot, editor: FunctionEditor, manager: CustomFunctionManager, confirmations, functions_dir
):
    manager.register_from_code(FIXED)
    editor.set_code(FIXED.replace("factor: float = 2.0", "factor: float = 3.0"))
    with qtbot.waitSignal(editor.saved, timeout=10_000):
        editor.save()
    assert len(confirmations) == 1 and "brighten" in confirmations[0]
    assert "3.0" in (functions_dir / "brighten.py").read_text()


def test_choosing_a_memory_type_fills_in_its_template(qtbot, editor: FunctionEditor, confirmations):
    box = editor.memory_type_box
    box.setCurrentText("torch")
    box.activated.emit(box.currentIndex())
    assert editor.code() == get_template_for_memory_type("torch")
    assert confirmations == []  # an untouched template is replaced without asking

    editor.set_code(FIXED)
    box.setCurrentText("jax")
    box.activated.emit(box.currentIndex())
    assert len(confirmations) == 1
    assert editor.code() == get_template_for_memory_type("jax")


def test_run_on_the_synthetic_sample_shows_before_and_after(qtbot, editor: FunctionEditor):
    editor.set_code(FIXED)
    editor.params_edit.setText("factor=3")
    with qtbot.waitSignal(editor.run_finished, timeout=20_000) as finished:
        qtbot.mouseClick(editor.run_button, Qt.MouseButton.LeftButton)
    outcome: RunOutcome = finished.args[0]
    assert outcome.before.shape == (2, 256, 256)
    np.testing.assert_allclose(outcome.after, outcome.before * 3, rtol=1e-6)
    assert not outcome.isolated
    assert editor.before_pane.has_image() and editor.after_pane.has_image()
    assert "synthetic cells" in editor.status_text()
    # Trying a function out registers nothing.
    assert "openhcs:brighten" not in get_default_registry()


def test_run_on_a_picked_tiff_with_metadata(qtbot, editor: FunctionEditor, tmp_path: Path):
    stack = np.arange(3 * 16 * 20, dtype=np.uint16).reshape(3, 16, 20)
    path = tmp_path / "sample.tif"
    tifffile.imwrite(path, stack, photometric="minisblack")
    editor.set_sample(path)
    editor.set_code(WITH_METADATA)
    with qtbot.waitSignal(editor.run_finished, timeout=20_000) as finished:
        editor.run_on_sample()
    outcome: RunOutcome = finished.args[0]
    assert outcome.sample == "sample.tif"
    np.testing.assert_array_equal(outcome.before, stack)
    # PURE_2D: each plane inverted on its own; metadata per plane.
    np.testing.assert_array_equal(outcome.after[1], stack[1].max() - stack[1])
    assert outcome.metadata == [{"max": float(p.max())} for p in stack]
    assert "max" in editor.metadata_label.text()


def test_a_failing_run_shows_the_error_and_its_line_in_the_window(qtbot, editor: FunctionEditor):
    editor.set_code(RAISES_ON_CALL)
    with qtbot.waitSignal(editor.run_failed, timeout=20_000) as failed:
        editor.run_on_sample()
    assert "the sample is too bright" in failed.args[0]
    assert "the sample is too bright" in editor.status_text()
    assert editor.problems()[0][0] == 7
    assert not editor.after_pane.has_image()
    assert not editor.is_busy() and editor.run_button.isEnabled()

    # A module that fails while it runs: its line too.
    editor.set_code(FAILS_ON_LOAD)
    with qtbot.waitSignal(editor.run_failed, timeout=20_000):
        editor.run_on_sample()
    assert editor.problems()[0][0] == 3


def test_bad_parameters_are_reported_without_running(qtbot, editor: FunctionEditor):
    editor.set_code(FIXED)
    editor.params_edit.setText("sigma=2")
    assert editor.run_on_sample() is False
    assert "no parameter 'sigma'" in editor.status_text()


def test_strict_trust_runs_editor_code_only_in_the_isolated_runner(
    qtbot, editor: FunctionEditor, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    editor.set_code(FIXED)
    if importlib.util.find_spec("openhcs_plugins.execution.runner") is None:
        with qtbot.waitSignal(editor.run_failed, timeout=20_000) as failed:
            editor.run_on_sample()
        assert "isolated runner" in failed.args[0] and "Nothing was run" in failed.args[0]
        assert "isolated runner" in editor.status_text()
    else:
        with qtbot.waitSignal(editor.run_finished, timeout=60_000) as finished:
            editor.run_on_sample()
        outcome: RunOutcome = finished.args[0]
        assert outcome.isolated
        np.testing.assert_allclose(outcome.after, outcome.before * 2, rtol=1e-6)


def test_a_function_failing_in_the_isolated_runner_shows_the_error_and_its_line(
    qtbot, editor: FunctionEditor, monkeypatch: pytest.MonkeyPatch
):
    if importlib.util.find_spec("openhcs_plugins.execution.runner") is None:
        pytest.skip("openhcs_plugins.execution.runner is not part of this checkout")
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    editor.set_code(RAISES_ON_CALL)
    with qtbot.waitSignal(editor.run_failed, timeout=60_000) as failed:
        editor.run_on_sample()
    assert "the sample is too bright" in failed.args[0]
    assert editor.problems()[0][0] == 7
    assert not editor.is_busy()


ODD_METADATA = """\
from openhcs_plugins.memory import numpy


@numpy
def measure(image):
    return image, {(0, 1): "pair", "count": 2}
"""

NO_PLANES = """\
from openhcs_plugins.memory import numpy


@numpy
def empty(image):
    return image[:0]
"""


def test_metadata_json_cannot_write_is_still_shown(qtbot, editor: FunctionEditor):
    editor.set_code(ODD_METADATA)
    with qtbot.waitSignal(editor.run_finished, timeout=20_000) as finished:
        editor.run_on_sample()
    assert finished.args[0].metadata == {(0, 1): "pair", "count": 2}
    assert "pair" in editor.metadata_label.text() and "count" in editor.metadata_label.text()
    assert editor.after_pane.has_image() and not editor.is_busy()


def test_a_result_without_planes_is_a_run_failure_shown_in_the_window(
    qtbot, editor: FunctionEditor
):
    editor.set_code(NO_PLANES)
    with qtbot.waitSignal(editor.run_failed, timeout=20_000) as failed:
        editor.run_on_sample()
    assert "(0, 256, 256)" in failed.args[0] and "(0, 256, 256)" in editor.status_text()
    assert not editor.after_pane.has_image()
    assert not editor.is_busy() and editor.run_button.isEnabled()


UNANNOTATED = """\
from openhcs_plugins.memory import numpy


@numpy
def shift(image, offset):
    return image + offset
"""


def test_a_parameter_the_parser_chokes_on_is_reported_without_running(
    qtbot, editor: FunctionEditor
):
    editor.set_code(UNANNOTATED)
    # no annotation: the text is read as a Python literal, and this one exhausts the parser
    editor.params_edit.setText("offset=" + "-" * 100_000 + "1")
    assert editor.run_on_sample() is False
    assert editor.status_text().startswith("Not run:") and "offset" in editor.status_text()
    assert not editor.is_busy() and editor.run_button.isEnabled()


def test_an_opened_untrusted_folder_file_runs_isolated_until_edited_or_trusted(
    qtbot, editor: FunctionEditor, functions_dir: Path
):
    """Issue 13: a file nobody trusted on this machine never runs in the host, the GUI's run
    included; once the user edits it, it is their own text."""
    from openhcs_plugins.config.trust import TrustStore

    functions_dir.mkdir(parents=True, exist_ok=True)
    (functions_dir / "brighten.py").write_text(FIXED)  # dropped in, not trusted
    assert editor.load_function("openhcs:brighten")
    with qtbot.waitSignal(editor.run_finished, timeout=60_000) as finished:
        editor.run_on_sample()
    outcome: RunOutcome = finished.args[0]
    assert outcome.isolated
    np.testing.assert_allclose(outcome.after, outcome.before * 2, rtol=1e-6)
    editor.set_code(FIXED.replace("factor: float = 2.0", "factor: float = 4.0"))
    with qtbot.waitSignal(editor.run_finished, timeout=60_000) as finished:
        editor.run_on_sample()
    assert not finished.args[0].isolated  # edited: the user's own code
    TrustStore().trust(FIXED, functions_dir / "brighten.py")
    assert editor.load_function("openhcs:brighten")
    with qtbot.waitSignal(editor.run_finished, timeout=60_000) as finished:
        editor.run_on_sample()
    assert not finished.args[0].isolated  # trusted


def test_a_run_shows_the_artifact_outputs_the_code_declares(qtbot, editor: FunctionEditor):
    from openhcs_plugins.templates import get_analysis_template

    editor.set_code(get_analysis_template())
    editor.params_edit.setText("threshold=0.3")
    with qtbot.waitSignal(editor.run_finished, timeout=30_000) as finished:
        editor.run_on_sample()
    outcome: RunOutcome = finished.args[0]
    rows = outcome.metadata["object_counts"]
    assert [row.plane for row in rows] == list(range(outcome.before.shape[0]))
    text = editor.metadata_label.text()
    assert text.startswith("Artifact outputs")
    assert f"object_counts (csv, {len(rows)} item(s))" in text and '"objects":' in text


def test_saving_warns_about_a_folder_file_openhcs_would_refuse(
    qtbot, editor: FunctionEditor, functions_dir: Path
):
    functions_dir.mkdir(parents=True, exist_ok=True)
    (functions_dir / "other_name.py").write_text(
        "from openhcs.core.memory import numpy\n\n\n@numpy\ndef inside(image):\n    return image\n"
    )
    editor.set_code(FIXED)
    with qtbot.waitSignal(editor.saved, timeout=20_000):
        editor.save()
    status = editor.status_text()
    assert "Saved and registered openhcs:brighten" in status
    assert "other_name.py:5: declares 'inside' but is named other_name.py" in status
    assert "OpenHCS refuses the whole folder" in status
