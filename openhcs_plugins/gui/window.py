"""The standalone window (``openhcs-plugins gui``): function list, editor and settings.

Plugins load in a worker thread; every error shows in the window (status bar, the function
list's problem box, the editor's problem list), never as a crash.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from qtpy.QtCore import Signal
from qtpy.QtGui import QAction, QCloseEvent, QKeySequence
from qtpy.QtWidgets import QLabel, QMainWindow, QTabWidget, QWidget

from openhcs_plugins.gui._tasks import TaskError, run_in_thread
from openhcs_plugins.gui.editor import FunctionEditor
from openhcs_plugins.gui.function_list import FunctionList
from openhcs_plugins.gui.settings_form import SettingsForm
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.registry import FunctionRegistry, get_default_registry

__all__ = ["PluginsWindow"]

logger = logging.getLogger(__name__)


class PluginsWindow(QMainWindow):
    """Main window with three tabs: Functions, Editor, Settings.

    ``functions_dir`` (default: the settings' folder) is where the editor saves and the loader
    looks; ``registry`` defaults to the default registry. ``settings_path`` defaults to the
    user's settings file.
    """

    #: Loading plugins finished (the :class:`~openhcs_plugins.loader.LoadReport`).
    plugins_loaded = Signal(object)
    #: Loading plugins failed (the message).
    plugins_failed = Signal(str)

    def __init__(
        self,
        *,
        functions_dir: str | Path | None = None,
        registry: FunctionRegistry | None = None,
        settings_path: str | Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("openhcs-plugins")
        self.resize(1180, 760)
        self._functions_dir = Path(functions_dir) if functions_dir is not None else None
        self.registry = registry if registry is not None else get_default_registry()
        manager = None
        if functions_dir is not None or registry is not None:
            manager = CustomFunctionManager(functions_dir, registry=self.registry)
        self._loading = False

        self.function_list = FunctionList(self.registry, manager)
        self.editor = FunctionEditor(manager)
        self.settings_form = SettingsForm(settings_path)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.function_list, "Functions")
        self.tabs.addTab(self.editor, "Editor")
        self.tabs.addTab(self.settings_form, "Settings")
        self.setCentralWidget(self.tabs)
        self._busy_label = QLabel()
        self.statusBar().addPermanentWidget(self._busy_label)  # type: ignore[union-attr]

        self.function_list.edit_requested.connect(self._open_in_editor)
        self.function_list.deleted.connect(lambda key: self.show_message(f"Deleted {key}."))
        self.editor.status_changed.connect(self._mirror_status)
        self.settings_form.settings_saved.connect(self._on_settings_saved)
        self._build_menu()

    def _build_menu(self) -> None:
        menu_bar = self.menuBar()
        assert menu_bar is not None
        file_menu = menu_bar.addMenu("&File")
        assert file_menu is not None
        actions: list[tuple[str, Any, Any]] = [
            ("&New function", QKeySequence.StandardKey.New, self._new_function),
            ("&Reload plugins", QKeySequence.StandardKey.Refresh, self.load_plugins_async),
            ("&Quit", QKeySequence.StandardKey.Quit, self.close),
        ]
        for text, shortcut, slot in actions:
            action = QAction(text, self)
            action.setShortcut(QKeySequence(shortcut))
            action.triggered.connect(lambda *_, slot=slot: slot())
            file_menu.addAction(action)

    # -- loading -----------------------------------------------------------------------------
    def load_plugins_async(self) -> bool:
        """Find and register packages and folder functions in a worker thread.

        False when a load is already running. The result arrives as :attr:`plugins_loaded`
        (the list refreshes through ``functions_changed``) or :attr:`plugins_failed`.
        """
        if self._loading:
            return False
        from openhcs_plugins.loader import load_plugins

        self._loading = True
        self._busy_label.setText("Loading plugins…")
        folder = self._functions_dir
        registry = self.registry

        def work() -> Any:
            return load_plugins(registry=registry, folder=folder)

        run_in_thread(self, work, self._on_loaded, self._on_load_failed)
        return True

    def is_loading(self) -> bool:
        """True while plugins are being loaded."""
        return self._loading

    def _on_loaded(self, report: Any) -> None:
        self._loading = False
        self._busy_label.clear()
        problems = [str(p) for p in report.problems]
        self.function_list.set_problems(problems)
        text = (
            f"{len(report.registered)} functions registered in {report.seconds:.2f} s "
            f"(discovery cache: {report.cache})"
        )
        if problems:
            text += f"; {len(problems)} problem{'s' if len(problems) != 1 else ''} (listed below)"
        self.show_message(text)
        self.plugins_loaded.emit(report)

    def _on_load_failed(self, error: TaskError) -> None:
        self._loading = False
        self._busy_label.clear()
        message = f"Loading plugins failed: {error.message}"
        self.function_list.set_problems([message, error.traceback])
        self.show_message(message)
        self.plugins_failed.emit(message)

    # -- wiring ------------------------------------------------------------------------------
    def _open_in_editor(self, key: str) -> None:
        if self.editor.load_function(key):
            self.tabs.setCurrentWidget(self.editor)

    def _new_function(self) -> None:
        self.editor.new_function(self.editor.memory_type_box.currentText())
        self.tabs.setCurrentWidget(self.editor)

    def _mirror_status(self, text: str) -> None:
        self.show_message(text)

    def _on_settings_saved(self, path: Path) -> None:
        self.show_message(f"Saved settings to {path}; reloading plugins.")
        self.load_plugins_async()

    def show_message(self, text: str) -> None:
        """Show ``text`` in the status bar (also where unexpected errors go)."""
        self.statusBar().showMessage(text)  # type: ignore[union-attr]

    def closeEvent(self, event: QCloseEvent | None) -> None:
        if self.editor.is_busy() or self._loading:
            # A worker thread cannot be stopped; its result is dropped when it ends.
            logger.info("closing while background work runs; its result will be dropped")
        super().closeEvent(event)
