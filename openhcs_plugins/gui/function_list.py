"""The function list widget: every registered function, refreshed by ``functions_changed``.

It shows folder, editor and package functions alike (namespace, memory type, version, source,
entry status), filters them as you type, deletes folder functions after a confirmation and asks
the editor to open one on double-click (:attr:`FunctionList.edit_requested`).

It refreshes itself when ``openhcs_plugins.signals.custom_function_signals.functions_changed``
is emitted, from any thread: nothing else has to call :meth:`FunctionList.refresh`.
"""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QTimer, Signal
from qtpy.QtGui import QColor, QStandardItem, QStandardItemModel
from qtpy.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from openhcs_plugins.gui._tasks import FunctionsChangedBridge
from openhcs_plugins.gui._text import home_relative
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.registry import FunctionInfo, FunctionRegistry, get_default_registry
from openhcs_plugins.sources.candidate import SourceKind

__all__ = ["COLUMNS", "FunctionList"]

#: Column titles, in order.
COLUMNS = ("Function", "Namespace", "Memory type", "Version", "Source", "Status", "Provenance")
_KEY_ROLE = Qt.ItemDataRole.UserRole
_SOURCE_TEXT = {
    SourceKind.ENTRY_POINT: "package",
    SourceKind.FOLDER: "folder",
    SourceKind.EDITOR: "editor",
    SourceKind.API: "api",
}
_STATUS_COLOR = {"loaded": "#1e7e34", "failed": "#b00020", "not loaded": "#5f6368"}


def _memory_text(info: FunctionInfo) -> str:
    if info.output_memory_type == info.input_memory_type:
        return info.input_memory_type
    return f"{info.input_memory_type} → {info.output_memory_type}"


def _provenance_text(info: FunctionInfo) -> str:
    prov = info.provenance
    if prov.source is SourceKind.ENTRY_POINT:
        return prov.distribution or ""
    where = home_relative(prov.file) if prov.file else ""
    return f"{where}:{prov.line}" if where and prov.line else where


def _shorten_home(text: str) -> str:
    home = str(Path.home()).rstrip("/")
    return text.replace(home + "/", "~/") if home else text


class FunctionList(QWidget):
    """A filterable table of the functions in ``registry`` (default: the default registry).

    ``manager`` deletes folder functions; by default one on the folder the function's file is
    in.
    """

    #: The user asked to edit a folder or editor function (its key).
    edit_requested = Signal(str)
    #: A function was deleted (its key).
    deleted = Signal(str)
    #: The table was rebuilt from the registry.
    refreshed = Signal()

    def __init__(
        self,
        registry: FunctionRegistry | None = None,
        manager: CustomFunctionManager | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.registry = registry if registry is not None else get_default_registry()
        self._manager = manager
        self._build()
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(0)
        self._refresh_timer.timeout.connect(self.refresh)
        self._bridge = FunctionsChangedBridge(self)
        # Queued: the psygnal signal may come from a worker thread; the slot runs in ours.
        self._bridge.changed.connect(self._schedule_refresh, Qt.ConnectionType.QueuedConnection)
        self.refresh()

    def _build(self) -> None:
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText(
            "Filter by name, namespace, memory type, version, source, status or provenance"
        )
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)

        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels(list(COLUMNS))
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setSortCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.table.verticalHeader().setVisible(False)  # type: ignore[union-attr]
        header = self.table.horizontalHeader()
        assert header is not None
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.doubleClicked.connect(self._on_double_clicked)
        self.table.selectionModel().selectionChanged.connect(  # type: ignore[union-attr]
            lambda *_: self._update_buttons()
        )

        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(lambda *_: self.refresh())
        self.edit_button = QPushButton("Open in editor")
        self.edit_button.clicked.connect(lambda *_: self._request_edit())
        self.delete_button = QPushButton("Delete…")
        self.delete_button.clicked.connect(lambda *_: self.delete_selected())
        self.summary_label = QLabel()
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.problems_view = QPlainTextEdit()
        self.problems_view.setReadOnly(True)
        self.problems_view.setMaximumHeight(110)
        self.problems_box = QGroupBox("Problems found while loading plugins")
        problems_layout = QVBoxLayout(self.problems_box)
        problems_layout.setContentsMargins(4, 4, 4, 4)
        problems_layout.addWidget(self.problems_view)
        self.problems_box.setVisible(False)

        buttons = QHBoxLayout()
        buttons.addWidget(self.summary_label, 1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.edit_button)
        buttons.addWidget(self.delete_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter_edit)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status_label)
        layout.addWidget(self.problems_box)

    # -- contents ----------------------------------------------------------------------------
    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh(self) -> None:
        """Rebuild the table from the registry, keeping the selection."""
        selected = self.selected_key()
        self.model.removeRows(0, self.model.rowCount())
        for info in self.registry.infos():
            try:
                state = self.registry.entry(info.key).state
            except KeyError:  # removed by another thread meanwhile
                continue
            self.model.appendRow(self._row(info, state))
        if selected is not None:
            self.select(selected)
        self._update_summary()
        self._update_buttons()
        self.refreshed.emit()

    def _row(self, info: FunctionInfo, state: str) -> list[QStandardItem]:
        prov = info.provenance
        texts = (
            info.name,
            info.namespace,
            _memory_text(info),
            prov.version or "—",
            _SOURCE_TEXT.get(info.source, str(info.source)),
            state,
            _provenance_text(info),
        )
        items = [QStandardItem(text) for text in texts]
        items[0].setData(info.key, _KEY_ROLE)
        tooltip = f"{info.key}{info.signature}\n{prov.describe()}"
        if info.summary:
            tooltip += f"\n\n{info.summary}"
        error = self.registry.entry(info.key).error if state == "failed" else None
        if error:
            tooltip += f"\n\nfailed to load: {error}"
        for item in items:
            item.setToolTip(tooltip)
        items[5].setForeground(QColor(_STATUS_COLOR.get(state, "#000000")))
        return items

    def keys(self) -> list[str]:
        """Keys of the rows shown now (after the filter), in display order."""
        out = []
        for row in range(self.proxy.rowCount()):
            out.append(str(self.proxy.index(row, 0).data(_KEY_ROLE)))
        return out

    def row_texts(self, key: str) -> dict[str, str]:
        """The cells of ``key``'s row, by column title (empty when not listed)."""
        for row in range(self.model.rowCount()):
            item = self.model.item(row, 0)
            if item is not None and item.data(_KEY_ROLE) == key:
                return {
                    title: (self.model.item(row, col) or QStandardItem()).text()
                    for col, title in enumerate(COLUMNS)
                }
        return {}

    def set_filter(self, text: str) -> None:
        """Show only rows with ``text`` in one of their cells (case-insensitive)."""
        self.filter_edit.setText(text)

    def _on_filter_changed(self, text: str) -> None:
        self.proxy.setFilterFixedString(text)
        self._update_summary()

    def set_problems(self, problems: list[str]) -> None:
        """Show problems found while loading plugins (an empty list hides the box)."""
        self.problems_view.setPlainText("\n".join(_shorten_home(p) for p in problems))
        self.problems_box.setVisible(bool(problems))

    def _update_summary(self) -> None:
        total, shown = self.model.rowCount(), self.proxy.rowCount()
        text = f"{total} function{'s' if total != 1 else ''}"
        if shown != total:
            text += f", {shown} shown"
        self.summary_label.setText(text)

    # -- selection ---------------------------------------------------------------------------
    def selected_key(self) -> str | None:
        """Key of the selected row, or None."""
        model = self.table.selectionModel()
        rows = model.selectedRows() if model is not None else []
        return str(rows[0].data(_KEY_ROLE)) if rows else None

    def select(self, key: str) -> bool:
        """Select the row of ``key``; False when it is not shown."""
        for row in range(self.proxy.rowCount()):
            index = self.proxy.index(row, 0)
            if index.data(_KEY_ROLE) == key:
                self.table.selectRow(row)
                self.table.scrollTo(index)
                return True
        return False

    def _selected_info(self) -> FunctionInfo | None:
        key = self.selected_key()
        if key is None or key not in self.registry:
            return None
        return self.registry.info(key)

    def _update_buttons(self) -> None:
        info = self._selected_info()
        folder = info is not None and info.source is SourceKind.FOLDER
        self.delete_button.setEnabled(folder)
        self.edit_button.setEnabled(folder)
        if info is not None and not folder:
            reason = (
                "installed with pip: uninstall the package to remove it"
                if info.source is SourceKind.ENTRY_POINT
                else "not saved in the functions folder"
            )
            self.delete_button.setToolTip(f"{info.key} is {reason}")
        else:
            self.delete_button.setToolTip("Delete the selected folder function")

    def _on_double_clicked(self, index: QModelIndex) -> None:
        self._request_edit()

    def _request_edit(self) -> None:
        info = self._selected_info()
        if info is not None and info.source is SourceKind.FOLDER:
            self.edit_requested.emit(info.key)

    # -- deleting ----------------------------------------------------------------------------
    def delete_selected(self) -> bool:
        """Delete the selected folder function after a confirmation; True when deleted."""
        info = self._selected_info()
        if info is None or info.source is not SourceKind.FOLDER or info.provenance.file is None:
            return False
        path = Path(info.provenance.file)
        answer = QMessageBox.question(
            self,
            "Delete function",
            f"Delete {info.key}?\n\nThis removes it from the registry and deletes it from {path}.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return False
        manager = self._manager if self._manager is not None else CustomFunctionManager(path.parent)
        try:
            removed = manager.delete_custom_function(info.name)
        except (OSError, ValueError, TimeoutError) as exc:
            self._set_status(f"Could not delete {info.key}: {exc}", error=True)
            return False
        if not removed:
            self._set_status(f"{info.key} was not found in {manager.storage_dir}.", error=True)
            return False
        self._set_status(f"Deleted {info.key} ({path}).")
        self.deleted.emit(info.key)
        return True

    def status_text(self) -> str:
        """The text of the status line."""
        return self.status_label.text()

    def _set_status(self, text: str, *, error: bool = False) -> None:
        color = "#b00020" if error else "palette(window-text)"
        self.status_label.setStyleSheet(f"QLabel {{ color: {color}; }}")
        self.status_label.setText(text)
