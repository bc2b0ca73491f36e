"""The editor's problem list: validation findings with their line; clicking one goes there."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qtpy.QtCore import Qt
from qtpy.QtGui import QColor
from qtpy.QtWidgets import QListWidget, QListWidgetItem, QWidget

from openhcs_plugins.validation import ValidationError

__all__ = ["ProblemList"]

_ERROR_COLOR = QColor("#b00020")
_WARNING_COLOR = QColor("#8a6d00")
_LINE_ROLE = Qt.ItemDataRole.UserRole


class ProblemList(QListWidget):
    """Findings (errors, then warnings), each with its line; ``go_to_line`` is called with the
    line of a clicked or activated finding."""

    def __init__(self, go_to_line: Callable[[int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._go_to_line = go_to_line
        self.setWordWrap(True)
        self.setToolTip("Click a problem to go to its line")
        self.itemClicked.connect(self._on_clicked)
        self.itemActivated.connect(self._on_clicked)

    def show_findings(
        self, errors: Sequence[ValidationError], warnings: Sequence[ValidationError] = ()
    ) -> None:
        """List ``errors`` and ``warnings`` in place of what was shown."""
        self.clear()
        for error, is_error in [(e, True) for e in errors] + [(w, False) for w in warnings]:
            self.addItem(_finding_item(error, is_error))

    def problems(self) -> list[tuple[int, str]]:
        """The listed problems as ``(line, text)`` (line 0 when the problem has none)."""
        out = []
        for row in range(self.count()):
            item = self.item(row)
            assert item is not None
            out.append((int(item.data(_LINE_ROLE) or 0), item.text()))
        return out

    def _on_clicked(self, item: QListWidgetItem) -> None:
        line = int(item.data(_LINE_ROLE) or 0)
        if line:
            self._go_to_line(line)


def _finding_item(error: ValidationError, is_error: bool) -> QListWidgetItem:
    where = f"Line {error.line_number}" if error.line_number else "Code"
    kind = "" if is_error else "warning: "
    text = f"{where}: {kind}{error.message}"
    if error.code_snippet:
        text += f"\n    {error.code_snippet.strip()}"
    if error.hint:
        text += f"\n    hint: {error.hint}"
    item = QListWidgetItem(text)
    item.setData(_LINE_ROLE, error.line_number)
    item.setForeground(_ERROR_COLOR if is_error else _WARNING_COLOR)
    if error.rule:
        item.setToolTip(f"rule: {error.rule}")
    return item
