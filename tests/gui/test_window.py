"""The standalone window: background loading, wiring between the three views, main()."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from qtpy.QtCore import Qt, QTimer
from qtpy.QtWidgets import QApplication

from openhcs_plugins.gui import PluginsWindow, main
from openhcs_plugins.registry import get_default_registry

OFFSET = """\
from openhcs_plugins.decorators import numpy


@numpy
def offset(image, amount: float = 1.0):
    \"\"\"Add a constant.\"\"\"
    return image + amount
"""

BROKEN = "from openhcs_plugins.decorators import numpy\n\n@numpy\ndef broken(image:\n"

# Keeps a worker thread busy for a while (numpy releases the GIL in its loops).
SLOW = """\
import numpy as np
from openhcs_plugins.memory import numpy


@numpy
def slow(image, rounds: int = 60):
    work = np.tile(image.astype(np.float64), (8, 1, 1))
    for _ in range(rounds):
        work = np.sqrt(work * work + 1.0)
    return work[: image.shape[0]]
"""


@pytest.fixture
def window(qtbot, functions_dir: Path) -> PluginsWindow:
    widget = PluginsWindow(functions_dir=functions_dir)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_plugins_load_in_the_background_and_problems_show_in_the_window(
    qtbot, window: PluginsWindow, functions_dir: Path
):
    (functions_dir / "offset.py").write_text(OFFSET)
    (functions_dir / "broken.py").write_text(BROKEN)
    with qtbot.waitSignal(window.plugins_loaded, timeout=20_000) as loaded:
        assert window.load_plugins_async()
        assert window.is_loading()  # returned at once; the work runs in a worker thread
        assert window.load_plugins_async() is False  # one load at a time
    report = loaded.args[0]
    assert report.registered == ("openhcs:offset",)
    qtbot.waitUntil(lambda: window.function_list.keys() == ["openhcs:offset"])
    problems = window.function_list.problems_view
    assert window.function_list.problems_box.isVisibleTo(window)
    assert "broken.py" in problems.toPlainText()
    assert "1 functions registered" in window.statusBar().currentMessage()
    assert "1 problem" in window.statusBar().currentMessage()


def test_double_click_in_the_list_opens_the_function_in_the_editor(
    qtbot, window: PluginsWindow, functions_dir: Path
):
    (functions_dir / "offset.py").write_text(OFFSET)
    with qtbot.waitSignal(window.plugins_loaded, timeout=20_000):
        window.load_plugins_async()
    qtbot.waitUntil(lambda: window.function_list.keys() == ["openhcs:offset"])
    window.function_list.select("openhcs:offset")
    qtbot.mouseClick(window.function_list.edit_button, Qt.MouseButton.LeftButton)
    assert window.tabs.currentWidget() is window.editor
    assert window.editor.code() == OFFSET
    assert window.editor.editing == "offset"


def test_saving_settings_reloads_the_plugins(qtbot, window: PluginsWindow, functions_dir: Path):
    (functions_dir / "offset.py").write_text(OFFSET)
    with qtbot.waitSignal(window.plugins_loaded, timeout=20_000):
        window.load_plugins_async()
    qtbot.waitUntil(lambda: window.function_list.keys() == ["openhcs:offset"])
    window.settings_form.field("disabled").set_text("openhcs:offset")
    with qtbot.waitSignal(window.plugins_loaded, timeout=20_000) as loaded:
        assert window.settings_form.save()
    assert loaded.args[0].disabled == ("openhcs:offset",)
    qtbot.waitUntil(lambda: window.function_list.keys() == [])
    assert "openhcs:offset" not in get_default_registry()


def test_the_window_keeps_handling_events_while_a_function_runs(qtbot, window: PluginsWindow):
    ticks: list[int] = []
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(1))
    window.editor.set_code(SLOW)
    window.editor.params_edit.setText("rounds=400")
    with qtbot.waitSignal(window.editor.run_finished, timeout=60_000) as finished:
        timer.start()
        assert window.editor.run_on_sample()
        assert window.editor.is_busy() and not window.editor.run_button.isEnabled()
    timer.stop()
    seconds = finished.args[0].seconds
    assert seconds > 0.1, "the function ran too fast to show anything"
    # The GUI thread handled timer events during the run instead of blocking on it.
    assert len(ticks) >= 3, (len(ticks), seconds)


def test_main_opens_the_window_and_returns_the_exit_status(qtbot):
    app = QApplication.instance()
    seen: list[PluginsWindow] = []

    def close_all() -> None:
        for widget in app.topLevelWidgets():
            if isinstance(widget, PluginsWindow) and widget.isVisible():
                seen.append(widget)
                widget.close()
        app.quit()

    QTimer.singleShot(300, close_all)
    assert main([]) == 0
    assert len(seen) == 1


def test_without_a_qt_binding_the_import_error_says_which_extra_to_install():
    code = "import sys; sys.modules['qtpy'] = None; import openhcs_plugins.gui"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert 'pip install "openhcs-plugins[gui]"' in result.stderr
