"""The function list: every source, filter, status, delete, refresh through functions_changed."""

from __future__ import annotations

import gc
import threading
from pathlib import Path

import pytest
from qtpy.QtCore import QCoreApplication, QEvent, Qt
from qtpy.QtWidgets import QMessageBox

from openhcs_plugins.gui import FunctionList
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.memory import numpy
from openhcs_plugins.registry import FunctionLoadError, get_default_registry, register_function
from openhcs_plugins.signals import custom_function_signals

FOLDER_FUNCTION = """\
from openhcs_plugins.decorators import numpy


@numpy
def {name}(image, offset: float = 1.0):
    \"\"\"Add an offset.\"\"\"
    return image + offset
"""

FAILS_WHEN_LOADED = """\
from openhcs_plugins.decorators import numpy

LIMIT = int("ten")


@numpy
def clipped(image):
    return image.clip(0, LIMIT)
"""


@numpy(output_type="torch")
def api_function(image):
    """Registered from Python."""
    return image


@pytest.fixture
def function_list(qtbot) -> FunctionList:
    widget = FunctionList()
    qtbot.addWidget(widget)
    widget.resize(1000, 500)
    widget.show()
    return widget


def test_lists_folder_editor_and_api_functions_with_their_columns(
    qtbot, function_list: FunctionList, functions_dir: Path
):
    manager = CustomFunctionManager(functions_dir)
    manager.register_from_code(FOLDER_FUNCTION.format(name="offset"))
    manager.register_from_code(FOLDER_FUNCTION.format(name="scratch"), persist=False)
    register_function(api_function)
    qtbot.waitUntil(lambda: len(function_list.keys()) == 3)
    assert function_list.keys() == ["openhcs:api_function", "openhcs:offset", "openhcs:scratch"]
    assert function_list.row_texts("openhcs:offset")["Source"] == "folder"
    assert function_list.row_texts("openhcs:offset")["Provenance"].startswith(str(functions_dir))
    assert function_list.row_texts("openhcs:scratch")["Source"] == "editor"
    api = function_list.row_texts("openhcs:api_function")
    assert api["Source"] == "api" and api["Memory type"] == "numpy → torch"
    assert api["Version"] == "—"
    assert function_list.summary_label.text() == "3 functions"


def test_filter_box_matches_any_column(qtbot, function_list: FunctionList, functions_dir: Path):
    manager = CustomFunctionManager(functions_dir)
    for name in ("blur", "sharpen"):
        manager.register_from_code(FOLDER_FUNCTION.format(name=name))
    register_function(api_function)
    qtbot.waitUntil(lambda: len(function_list.keys()) == 3)

    qtbot.keyClicks(function_list.filter_edit, "SHARP")
    assert function_list.keys() == ["openhcs:sharpen"]
    assert function_list.summary_label.text() == "3 functions, 1 shown"
    function_list.set_filter("torch")  # the memory-type column
    assert function_list.keys() == ["openhcs:api_function"]
    function_list.set_filter("")
    assert len(function_list.keys()) == 3


def test_status_shows_not_loaded_loaded_and_failed(
    qtbot, function_list: FunctionList, functions_dir: Path
):
    (functions_dir / "offset.py").write_text(FOLDER_FUNCTION.format(name="offset"))
    (functions_dir / "clipped.py").write_text(FAILS_WHEN_LOADED)
    CustomFunctionManager(functions_dir).load_all_custom_functions()
    qtbot.waitUntil(lambda: len(function_list.keys()) == 2)
    assert function_list.row_texts("openhcs:offset")["Status"] == "not loaded"

    registry = get_default_registry()
    registry.get("openhcs:offset")
    with pytest.raises(FunctionLoadError):
        registry.get("openhcs:clipped")
    qtbot.mouseClick(function_list.refresh_button, Qt.MouseButton.LeftButton)
    assert function_list.row_texts("openhcs:offset")["Status"] == "loaded"
    assert function_list.row_texts("openhcs:clipped")["Status"] == "failed"


def test_delete_asks_then_removes_the_file_and_the_row_goes_through_the_signal(
    qtbot, function_list: FunctionList, functions_dir: Path, confirmations: list[str]
):
    manager = CustomFunctionManager(functions_dir)
    manager.register_from_code(FOLDER_FUNCTION.format(name="offset"))
    qtbot.waitUntil(lambda: function_list.keys() == ["openhcs:offset"])
    assert function_list.select("openhcs:offset")
    assert function_list.delete_button.isEnabled()

    with qtbot.waitSignal(function_list.refreshed, timeout=5_000):
        qtbot.mouseClick(function_list.delete_button, Qt.MouseButton.LeftButton)
    assert len(confirmations) == 1 and "openhcs:offset" in confirmations[0]
    assert not (functions_dir / "offset.py").exists()
    assert "openhcs:offset" not in get_default_registry()
    assert function_list.keys() == []


def test_declining_the_confirmation_keeps_the_function(
    qtbot, function_list: FunctionList, functions_dir: Path, monkeypatch: pytest.MonkeyPatch
):
    CustomFunctionManager(functions_dir).register_from_code(FOLDER_FUNCTION.format(name="keep"))
    qtbot.waitUntil(lambda: function_list.keys() == ["openhcs:keep"])
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No)
    )
    function_list.select("openhcs:keep")
    assert function_list.delete_selected() is False
    assert (functions_dir / "keep.py").exists()
    assert "openhcs:keep" in get_default_registry()


def test_only_folder_functions_can_be_deleted(qtbot, function_list: FunctionList):
    register_function(api_function)
    # register_function() does not emit functions_changed (the manager and the loader do).
    function_list.refresh()
    assert function_list.keys() == ["openhcs:api_function"]
    function_list.select("openhcs:api_function")
    assert not function_list.delete_button.isEnabled()
    assert function_list.delete_selected() is False
    assert "openhcs:api_function" in get_default_registry()


def test_double_click_asks_to_edit_a_folder_function(
    qtbot, function_list: FunctionList, functions_dir: Path
):
    CustomFunctionManager(functions_dir).register_from_code(FOLDER_FUNCTION.format(name="blur"))
    qtbot.waitUntil(lambda: function_list.keys() == ["openhcs:blur"])
    function_list.select("openhcs:blur")
    index = function_list.proxy.index(0, 0)
    rect = function_list.table.visualRect(index)
    viewport = function_list.table.viewport()
    with qtbot.waitSignal(function_list.edit_requested) as requested:
        # Qt's item views want the press/release that precedes a real double-click.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert requested.args == ["openhcs:blur"]


def test_a_change_made_in_another_thread_refreshes_the_list(
    qtbot, function_list: FunctionList, functions_dir: Path
):
    manager = CustomFunctionManager(functions_dir)
    worker = threading.Thread(
        target=manager.register_from_code, args=(FOLDER_FUNCTION.format(name="threaded"),)
    )
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: function_list.keys() == ["openhcs:threaded"], timeout=5_000)


def test_a_deleted_list_stops_listening(qtbot, functions_dir: Path):
    widget = FunctionList()
    forward = widget._bridge._forward
    assert forward in custom_function_signals.functions_changed
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert forward not in custom_function_signals.functions_changed
    del widget
    gc.collect()
    # Emitting after the widget is gone reaches nobody and raises nothing.
    CustomFunctionManager(functions_dir).register_from_code(FOLDER_FUNCTION.format(name="late"))
    qtbot.wait(20)


@pytest.mark.slow
def test_functions_of_an_installed_package_show_their_version(
    qtbot, function_list: FunctionList, installed_package: Path, functions_dir: Path
):
    (functions_dir / "offset.py").write_text(FOLDER_FUNCTION.format(name="offset"))
    report = load_plugins(folder=functions_dir)
    assert not report.problems, report
    qtbot.waitUntil(lambda: len(function_list.keys()) == 4)
    double = function_list.row_texts("oplab_filters:double")
    assert double["Namespace"] == "oplab_filters"
    assert double["Version"] == "0.1.0"
    assert double["Source"] == "package"
    assert double["Status"] == "not loaded"
    assert double["Provenance"] == "oplab-filters"
    assert function_list.row_texts("oplab_filters:torch_square")["Memory type"] == "torch → numpy"
    function_list.select("oplab_filters:double")
    assert not function_list.delete_button.isEnabled()
    assert "pip" in function_list.delete_button.toolTip()
