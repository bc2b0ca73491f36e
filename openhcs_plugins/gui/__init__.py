"""Qt widgets for openhcs-plugins: function editor, function list, settings form, window.

Needs the ``gui`` extra (``pip install "openhcs-plugins[gui]"``: qtpy and PyQt6). The widgets use
qtpy, so a host application on PyQt6 (OpenHCS) or PySide6 embeds them as they are; napari (qtpy)
too. See ``docs/gui.md``.

>>> from openhcs_plugins.gui import FunctionEditor, FunctionList, SettingsForm  # doctest: +SKIP
"""

from __future__ import annotations

import sys
import traceback
from types import TracebackType

try:
    import qtpy  # noqa: F401  (raises when no Qt binding is installed)
except ImportError as exc:  # qtpy.QtBindingsNotFoundError is an ImportError
    raise ImportError(
        "openhcs_plugins.gui needs a Qt binding and qtpy: "
        'pip install "openhcs-plugins[gui]" (qtpy and PyQt6). '
        f"Original error: {exc}"
    ) from exc

from openhcs_plugins.gui.editor import FunctionEditor, RunOutcome
from openhcs_plugins.gui.function_list import FunctionList
from openhcs_plugins.gui.settings_form import SettingsForm
from openhcs_plugins.gui.window import PluginsWindow

__all__ = ["FunctionEditor", "FunctionList", "PluginsWindow", "RunOutcome", "SettingsForm", "main"]


def main(argv: list[str] | None = None) -> int:
    """Open the standalone window (``openhcs-plugins gui``); returns the exit status.

    Plugins load in the background once the window shows. An exception that escapes a slot is
    shown in the status bar and printed to stderr instead of aborting the application (PyQt's
    default for an unhandled exception in a slot).
    """
    from qtpy.QtCore import QTimer
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(list(argv) if argv is not None else sys.argv[:1])
    window = PluginsWindow()

    def excepthook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        traceback.print_exception(kind, value, tb)
        try:
            window.show_message(f"Unexpected error: {kind.__name__}: {value}")
        except RuntimeError:  # the window is already gone
            pass

    previous = sys.excepthook
    sys.excepthook = excepthook
    try:
        window.show()
        QTimer.singleShot(0, window.load_plugins_async)
        return int(app.exec())  # type: ignore[union-attr]
    finally:
        sys.excepthook = previous
