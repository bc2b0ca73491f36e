"""A Python code editor: syntax highlighting, line numbers, marked lines.

Used by the function editor and by the code view of the settings form.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Iterable
from typing import ClassVar

from qtpy.QtCore import QRect, QSize, Qt
from qtpy.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
)
from qtpy.QtWidgets import QPlainTextEdit, QTextEdit, QWidget

__all__ = ["CodeEditor", "PythonHighlighter"]

_INDENT = "    "


def _format(color: str, *, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    if italic:
        fmt.setFontItalic(True)
    return fmt


# One scan per line; the first alternative that matches at a position wins, so a '#' inside a
# string stays part of the string and a quote inside a comment stays part of the comment.
_TOKENS = re.compile(
    r"""
    (?P<comment>\#.*)
    |(?P<triple>(?:[rRbBuUfF]{1,2})?(?:'''|\"\"\"))
    |(?P<string>(?:[rRbBuUfF]{1,2})?(?:'(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?))
    |(?P<decorator>@[A-Za-z_][\w.]*)
    |(?P<number>\b(?:0[xXoObB][0-9a-fA-F_]+|\d[\d_]*(?:\.[\d_]*)?(?:[eE][+-]?\d+)?[jJ]?)\b)
    |(?P<word>[A-Za-z_]\w*)
    """,
    re.VERBOSE,
)
# Soft keywords that are mostly used as names (``type(x)``, ``_``) stay uncoloured.
_KEYWORDS = frozenset(keyword.kwlist) | (frozenset(keyword.softkwlist) - {"_", "type"})
_BUILTINS = frozenset(name for name in dir(builtins) if not name.startswith("_"))
# Block states: which triple quote is still open at the end of the line.
_IN_SINGLE, _IN_DOUBLE = 1, 2
_CLOSERS = {_IN_SINGLE: "'''", _IN_DOUBLE: '"""'}


class PythonHighlighter(QSyntaxHighlighter):
    """Colours keywords, builtins, strings (triple-quoted ones across lines), comments,
    numbers, decorators and the names of defined functions and classes."""

    FORMATS: ClassVar[dict[str, QTextCharFormat]] = {
        "keyword": _format("#0033b3", bold=True),
        "builtin": _format("#000080"),
        "self": _format("#94558d", italic=True),
        "string": _format("#067d17"),
        "comment": _format("#8c8c8c", italic=True),
        "number": _format("#1750eb"),
        "decorator": _format("#9e880d"),
        "definition": _format("#00627a", bold=True),
    }

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)

    def highlightBlock(self, text: str | None) -> None:
        """Qt calls this for each line; ``previousBlockState`` carries open triple quotes."""
        text = text or ""
        offsets = _utf16_offsets(text)
        self.setCurrentBlockState(0)
        position = 0
        state = self.previousBlockState()
        if state in _CLOSERS:
            position = self._continue_string(text, 0, _CLOSERS[state], state, offsets)
        previous_word = ""
        while position < len(text):
            match = _TOKENS.search(text, position)
            if match is None:
                break
            kind = match.lastgroup or ""
            start, end = match.span()
            position = end
            if kind == "triple":
                quote = match.group()[-3:]
                self._apply(start, end, "string", offsets)
                state = _IN_SINGLE if quote == "'''" else _IN_DOUBLE
                position = self._continue_string(text, end, quote, state, offsets, start)
                previous_word = ""
                continue
            if kind == "word":
                word = match.group()
                if previous_word in ("def", "class"):
                    self._apply(start, end, "definition", offsets)
                elif word in _KEYWORDS:
                    self._apply(start, end, "keyword", offsets)
                elif word in ("self", "cls"):
                    self._apply(start, end, "self", offsets)
                elif word in _BUILTINS:
                    self._apply(start, end, "builtin", offsets)
                previous_word = word
                continue
            self._apply(start, end, kind, offsets)
            previous_word = ""

    def _continue_string(
        self,
        text: str,
        position: int,
        quote: str,
        state: int,
        offsets: list[int] | None,
        start: int | None = None,
    ) -> int:
        """Colour up to the closing ``quote`` (or the end of the line, keeping ``state``)."""
        begin = position if start is None else start
        close = text.find(quote, position)
        if close < 0:
            self._apply(begin, len(text), "string", offsets)
            self.setCurrentBlockState(state)
            return len(text)
        self._apply(begin, close + 3, "string", offsets)
        return close + 3

    def _apply(self, start: int, end: int, kind: str, offsets: list[int] | None) -> None:
        if offsets is not None:
            start, end = offsets[start], offsets[end]
        self.setFormat(start, end - start, self.FORMATS[kind])


def _utf16_offsets(text: str) -> list[int] | None:
    """Qt counts UTF-16 code units; None when they equal Python's indices (no astral chars)."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return None
    offsets = [0]
    for ch in text:
        offsets.append(offsets[-1] + (2 if ord(ch) > 0xFFFF else 1))
    return offsets


class _LineNumberArea(QWidget):
    def __init__(self, editor: CodeEditor) -> None:
        super().__init__(editor)
        self._editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self._editor.line_number_width(), 0)

    def paintEvent(self, event: QPaintEvent | None) -> None:
        if event is not None:
            self._editor._paint_line_numbers(event)


class CodeEditor(QPlainTextEdit):
    """A plain-text editor for Python: monospace, highlighted, numbered lines.

    ``set_problem_lines`` marks lines with findings (red) and :meth:`go_to_line` moves the
    cursor to a line and marks it (yellow), as the function editor does when an error in its
    list is clicked. Tab inserts four spaces.
    """

    PROBLEM_COLOR = QColor("#ffd7d7")
    MARK_COLOR = QColor("#fff2a8")
    CURRENT_COLOR = QColor("#f3f6fb")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSize(max(font.pointSize(), 10))
        self.setFont(font)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setTabStopDistance(self.fontMetrics().horizontalAdvance(" ") * 4)
        self.highlighter = PythonHighlighter(self.document())  # type: ignore[arg-type]
        self._line_numbers = _LineNumberArea(self)
        self._problem_lines: frozenset[int] = frozenset()
        self._marked_line = 0
        self.blockCountChanged.connect(self._update_margin)
        self.updateRequest.connect(self._update_line_numbers)
        self.cursorPositionChanged.connect(self._update_selections)
        self._update_margin()
        self._update_selections()

    # -- public ----------------------------------------------------------------------------
    @property
    def marked_line(self) -> int:
        """The line :meth:`go_to_line` marked last (1-based; 0 when none)."""
        return self._marked_line

    @property
    def problem_lines(self) -> frozenset[int]:
        """Lines currently marked as having a problem (1-based)."""
        return self._problem_lines

    def current_line(self) -> int:
        """The line of the text cursor (1-based)."""
        return self.textCursor().blockNumber() + 1

    def set_problem_lines(self, lines: Iterable[int]) -> None:
        """Mark these lines (1-based) as having problems; an empty iterable clears them."""
        count = self.document().blockCount()  # type: ignore[union-attr]
        self._problem_lines = frozenset(line for line in lines if 0 < line <= count)
        self._marked_line = 0
        self._update_selections()
        self._line_numbers.update()

    def go_to_line(self, line: int) -> None:
        """Put the cursor at the start of ``line`` (1-based), scroll to it and mark it."""
        document = self.document()
        assert document is not None
        line = max(1, min(line, document.blockCount()))
        block = document.findBlockByNumber(line - 1)
        cursor = QTextCursor(block)
        text = block.text()
        cursor.movePosition(
            QTextCursor.MoveOperation.Right,
            QTextCursor.MoveMode.MoveAnchor,
            len(text) - len(text.lstrip()),
        )
        self.setTextCursor(cursor)
        self.centerCursor()
        self.setFocus()
        self._marked_line = line
        self._update_selections()

    # -- line numbers ------------------------------------------------------------------------
    def line_number_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 12 + self.fontMetrics().horizontalAdvance("9") * digits

    def _update_margin(self, *_: object) -> None:
        self.setViewportMargins(self.line_number_width(), 0, 0, 0)

    def _update_line_numbers(self, rect: QRect, dy: int) -> None:
        if dy:
            self._line_numbers.scroll(0, dy)
        else:
            self._line_numbers.update(0, rect.y(), self._line_numbers.width(), rect.height())
        viewport = self.viewport()
        if viewport is not None and rect.contains(viewport.rect()):
            self._update_margin()

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        rect = self.contentsRect()
        self._line_numbers.setGeometry(
            QRect(rect.left(), rect.top(), self.line_number_width(), rect.height())
        )

    def _paint_line_numbers(self, event: QPaintEvent) -> None:
        painter = QPainter(self._line_numbers)
        painter.fillRect(event.rect(), QColor("#f0f0f0"))
        block = self.firstVisibleBlock()
        number = block.blockNumber()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        bottom = top + round(self.blockBoundingRect(block).height())
        width = self._line_numbers.width() - 6
        height = self.fontMetrics().height()
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and bottom >= event.rect().top():
                line = number + 1
                if line in self._problem_lines:
                    painter.fillRect(0, top, self._line_numbers.width(), height, QColor("#f28b82"))
                    painter.setPen(QColor("#ffffff"))
                else:
                    painter.setPen(QColor("#888888"))
                painter.drawText(0, top, width, height, Qt.AlignmentFlag.AlignRight, str(line))
            block = block.next()
            top = bottom
            bottom = top + round(self.blockBoundingRect(block).height())
            number += 1
        painter.end()

    # -- selections --------------------------------------------------------------------------
    def _line_selection(self, line: int, color: QColor) -> QTextEdit.ExtraSelection:
        selection = QTextEdit.ExtraSelection()
        selection.format.setBackground(color)
        selection.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
        document = self.document()
        assert document is not None
        cursor = QTextCursor(document.findBlockByNumber(line - 1))
        cursor.clearSelection()
        selection.cursor = cursor
        return selection

    def _update_selections(self) -> None:
        selections = [self._line_selection(self.current_line(), self.CURRENT_COLOR)]
        selections += [self._line_selection(n, self.PROBLEM_COLOR) for n in self._problem_lines]
        if self._marked_line:
            selections.append(self._line_selection(self._marked_line, self.MARK_COLOR))
        self.setExtraSelections(selections)

    # -- editing -----------------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent | None) -> None:
        if (
            event is not None
            and event.key() == Qt.Key.Key_Tab
            and not event.modifiers() & Qt.KeyboardModifier.ControlModifier
        ):
            self.textCursor().insertText(_INDENT)
            return
        super().keyPressEvent(event)
