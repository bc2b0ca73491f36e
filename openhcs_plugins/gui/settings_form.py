"""The settings form: one field per setting, generated from the settings dataclasses.

The form edits the settings *file* layer, a :class:`~openhcs_plugins.config.LazySettings`:

- a field the file sets shows its value; a field it leaves out (``None``) is empty and shows the
  inherited value as placeholder text with the layer it comes from ("user  (inherited: default)",
  "strict  (inherited: OPENHCS_PLUGINS_TRUST_EDITOR)");
- clearing a field makes it inherit again (``None``);
- the Code tab shows the same settings as Python (:func:`~openhcs_plugins.lazy.to_code`);
  edited code is run with :func:`~openhcs_plugins.lazy.exec_user_code`, so what the code leaves
  out stays ``None`` and the form shows it as inherited;
- Save writes the file with :func:`~openhcs_plugins.config.save_settings` (only explicit
  fields are written).

Fields are found by walking the fields of :class:`~openhcs_plugins.config.Settings` (nested
dataclasses become groups); a new setting appears in the form without a change here.
"""

from __future__ import annotations

import dataclasses
import typing
import warnings
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from openhcs_plugins.config import (
    ENV_VARS,
    LazySettings,
    Settings,
    SettingsError,
    SettingsFileError,
    SettingsReport,
    default_note,
    describe_settings,
    parse_setting_value,
    read_settings_file,
    save_settings,
    settings_file_path,
    with_setting,
)
from openhcs_plugins.config.codegen import to_code
from openhcs_plugins.config.user_code import UserCodeError, exec_user_code
from openhcs_plugins.gui._code import CodeEditor
from openhcs_plugins.gui._text import home_relative
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES
from openhcs_plugins.sources.candidate import TrustLevel

__all__ = ["CODE_FILENAME", "SettingsForm", "setting_keys"]

#: The file name the code view's text carries in error messages.
CODE_FILENAME = "<settings code>"

# Values the settings validate but whose types are plain ``str``: offered as choices.
_CHOICES: dict[str, tuple[str, ...]] = {
    "default_output_memory_type": tuple(AVAILABLE_MEMORY_TYPES),
}
_TRUST_CHOICES = tuple(level.value for level in TrustLevel)


def _choices(key: str) -> tuple[str, ...] | None:
    if key.startswith("trust."):
        return _TRUST_CHOICES
    return _CHOICES.get(key)


def _is_dataclass_type(hint: Any) -> bool:
    return isinstance(hint, type) and dataclasses.is_dataclass(hint)


def _walk(cls: type, prefix: str = "") -> list[tuple[str, Any]]:
    """``(dotted key, type hint)`` of every field, nested dataclasses as ``(key, cls)`` first."""
    out: list[tuple[str, Any]] = []
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        out.append((prefix + f.name, hint))
        if _is_dataclass_type(hint):
            out += _walk(hint, f"{prefix}{f.name}.")
    return out


def setting_keys() -> list[str]:
    """Every dotted key the form shows, in declaration order (walked from ``Settings``)."""
    return [key for key, hint in _walk(Settings) if not _is_dataclass_type(hint)]


def _kind(key: str, hint: Any) -> str:
    if _choices(key) is not None:
        return "choice"
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if typing.get_origin(hint) in (typing.Union, type(int | None)) else hint
    if typing.get_origin(base) is tuple:
        return "tuple"
    if base is int:
        return "int"
    if base is float:
        return "float"
    return "path" if key.endswith("_dir") else "text"


def _stored_at(lazy: Any, key: str) -> Any:
    value = lazy
    for part in key.split("."):
        if value is None:
            return None
        value = object.__getattribute__(value, part)
    return value


def _value_text(value: Any) -> str:
    if isinstance(value, tuple):
        return ", ".join(str(item) for item in value)
    return "" if value is None else str(value)


def _inherited_text(key: str, value: Any) -> str:
    if value is None:
        note = default_note(key)
        return home_relative(note.removeprefix("None means ")) if note else "(none)"
    if isinstance(value, tuple) and not value:
        return "(none)"
    return home_relative(value) if key.endswith("_dir") else _value_text(value)


class _Field(QWidget):
    """One setting: an input (line edit or combo box), a reset button and a layer label (which
    settings layer the value comes from)."""

    edited = Signal(str)

    def __init__(self, key: str, kind: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.kind = kind
        self.combo: QComboBox | None = None
        self.line: QLineEdit | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        if kind == "choice":
            self.combo = QComboBox()
            self.combo.addItems(list(_choices(key) or ()))
            self.combo.setCurrentIndex(-1)
            self.combo.currentIndexChanged.connect(lambda *_: self.edited.emit(self.key))
            self.combo.setMinimumWidth(160)
            layout.addWidget(self.combo, 1)
        else:
            self.line = QLineEdit()
            self.line.setClearButtonEnabled(True)
            self.line.textChanged.connect(lambda *_: self.edited.emit(self.key))
            layout.addWidget(self.line, 1)
            if kind == "path":
                browse = QToolButton()
                browse.setText("…")
                browse.setToolTip("Choose a folder")
                browse.clicked.connect(lambda *_: self._browse())
                layout.addWidget(browse)
        self.reset_button = QToolButton()
        self.reset_button.setText("Inherit")
        self.reset_button.setToolTip("Clear this field: the value is inherited again")
        self.reset_button.clicked.connect(lambda *_: self.clear())
        layout.addWidget(self.reset_button)
        self.layer_label = QLabel()
        self.layer_label.setFixedWidth(400)
        layout.addWidget(self.layer_label)
        self.error_label = QLabel()
        self.error_label.setStyleSheet("QLabel { color: #b00020; }")
        self.error_label.setWordWrap(True)
        self.error_label.setVisible(False)

    @property
    def origin_label(self) -> QLabel:
        """Deprecated (kept for one release): :attr:`layer_label`."""
        warnings.warn(
            "origin_label is deprecated, use layer_label", DeprecationWarning, stacklevel=2
        )
        return self.layer_label

    def text(self) -> str:
        """The entered text ("" when the field inherits)."""
        if self.combo is not None:
            return self.combo.currentText() if self.combo.currentIndex() >= 0 else ""
        assert self.line is not None
        return self.line.text()

    def set_text(self, text: str) -> None:
        if self.combo is not None:
            self.combo.setCurrentIndex(self.combo.findText(text) if text else -1)
        else:
            assert self.line is not None
            self.line.setText(text)

    def clear(self) -> None:
        """Make the field inherit (empty)."""
        self.set_text("")

    def placeholder(self) -> str:
        """The placeholder text shown while the field inherits."""
        if self.combo is not None:
            return self.combo.placeholderText()
        assert self.line is not None
        return self.line.placeholderText()

    def set_placeholder(self, text: str) -> None:
        if self.combo is not None:
            self.combo.setPlaceholderText(text)
        else:
            assert self.line is not None
            self.line.setPlaceholderText(text)

    def set_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))
        editor = self.combo if self.combo is not None else self.line
        assert editor is not None
        editor.setStyleSheet("border: 1px solid #b00020;" if message else "")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, f"Choose {self.key}", self.text())
        if folder:
            self.set_text(folder)


class SettingsForm(QWidget):
    """Form and code view of the settings file; ``path`` defaults to
    :func:`~openhcs_plugins.config.settings_file_path`."""

    #: The settings were written (the file's path).
    settings_saved = Signal(object)
    #: The edited (not yet saved) settings changed.
    changed = Signal()

    def __init__(self, path: str | Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._path = Path(path) if path is not None else None
        self._lazy: Any = LazySettings()
        self._saved: Any = LazySettings()
        self._report: SettingsReport | None = None
        self._fields: dict[str, _Field] = {}
        self._errors: dict[str, str] = {}
        self._updating = False
        self._build()
        self.reload()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.path_label = QLabel()
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path_label.setWordWrap(True)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setStyleSheet("QLabel { color: #8a6d00; }")
        self.problems_label.setVisible(False)

        form_page = QWidget()
        form_layout = QVBoxLayout(form_page)
        form_layout.addLayout(self._build_fields(Settings, ""))
        form_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(form_page)

        self.code_view = CodeEditor()
        self.apply_button = QPushButton("Apply code to the form")
        self.apply_button.setShortcut("Ctrl+Return")
        self.apply_button.clicked.connect(lambda *_: self.apply_code())
        self.code_error_label = QLabel()
        self.code_error_label.setWordWrap(True)
        self.code_error_label.setStyleSheet("QLabel { color: #b00020; }")
        code_page = QWidget()
        code_layout = QVBoxLayout(code_page)
        code_layout.addWidget(
            QLabel(
                "The same settings as Python. Fields left out inherit. "
                "Apply runs the code and updates the form."
            )
        )
        code_layout.addWidget(self.code_view, 1)
        code_row = QHBoxLayout()
        code_row.addWidget(self.code_error_label, 1)
        code_row.addWidget(self.apply_button)
        code_layout.addLayout(code_row)

        self.tabs = QTabWidget()
        self.tabs.addTab(scroll, "Form")
        self.tabs.addTab(code_page, "Code")
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.save_button = QPushButton("Save")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(lambda *_: self.save())
        self.revert_button = QPushButton("Revert")
        self.revert_button.setToolTip("Discard unsaved changes and read the settings file again")
        self.revert_button.clicked.connect(lambda *_: self.reload())
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.path_label)
        layout.addWidget(self.problems_label)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)

    def _build_fields(self, cls: type, prefix: str, form: QFormLayout | None = None) -> QFormLayout:
        """One row per field; a nested dataclass becomes a titled section of indented rows
        (one form, so every input lines up)."""
        if form is None:
            form = QFormLayout()
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        indent = "    " * prefix.count(".")
        hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):
            key, hint = prefix + f.name, hints[f.name]
            if _is_dataclass_type(hint):
                header = QLabel(f"<b>{indent}{f.name}</b>")
                header.setContentsMargins(0, 8, 0, 0)
                form.addRow(header)
                self._build_fields(hint, key + ".", form)
                continue
            field = _Field(key, _kind(key, hint))
            field.setToolTip(
                f"{key}\nenvironment variable: {ENV_VARS[key]}\n"
                "empty: inherited (environment variable, then the built-in default)"
            )
            field.edited.connect(self._on_field_edited)
            self._fields[key] = field
            form.addRow(indent + f.name, field)
            form.addRow("", field.error_label)
        return form

    # -- the model ---------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        """The settings file this form reads and writes."""
        return self._path if self._path is not None else settings_file_path()

    def lazy_settings(self) -> Any:
        """The edited settings (a ``LazySettings``; ``None`` fields inherit)."""
        return self._lazy

    def explicit_value(self, key: str) -> Any:
        """The value the edited settings set for ``key``, or None when it inherits."""
        return _stored_at(self._lazy, key)

    def saved_value(self, key: str) -> Any:
        """The value the settings file (as last read or saved) sets for ``key``, or None."""
        return _stored_at(self._saved, key)

    def field(self, key: str) -> _Field:
        """The input of one dotted key (``trust.folder``)."""
        return self._fields[key]

    def is_modified(self) -> bool:
        """True when the form differs from the file as last read or saved."""
        return bool(self._lazy != self._saved)

    def reload(self) -> None:
        """Read the settings file again (unsaved changes are discarded)."""
        problems: list[str] = []
        try:
            lazy = read_settings_file(self.path)
        except SettingsFileError as exc:
            lazy = None
            problems.append(
                f"{exc}. The form starts empty; Save replaces the file (or fix it by hand)."
            )
        self._lazy = self._saved = lazy if lazy is not None else LazySettings()
        self._errors.clear()
        self._refresh_report(problems)
        self._refresh_fields()
        self._refresh_code()
        exists = "" if self.path.exists() else " (not created yet: everything is inherited)"
        self.path_label.setText(f"Settings file: <code>{home_relative(self.path)}</code>{exists}")
        self.path_label.setToolTip(str(self.path))
        self._set_status("")

    def _refresh_report(self, problems: list[str] | None = None) -> None:
        self._report = describe_settings()
        # Problems with this form's own file are reported by reload(); the report adds those
        # of the environment (and of the default file when the form edits another one).
        shown = list(problems or []) + [p for p in self._report.problems if str(self.path) not in p]
        self.problems_label.setText("\n".join(shown))
        self.problems_label.setVisible(bool(shown))

    def _inherited(self, key: str) -> tuple[Any, str]:
        """What ``key`` is when the file leaves it out: ``(value, layer text)``."""
        assert self._report is not None
        entry = next(e for e in self._report.entries if e.key == key)
        if entry.layer == "env":
            return entry.value, entry.env_var
        if entry.layer == "override":
            return entry.value, "override"
        return entry.default, "default"

    def _refresh_fields(self) -> None:
        self._updating = True
        try:
            for key, field in self._fields.items():
                field.set_text(_value_text(self.explicit_value(key)))
                field.set_error(self._errors.get(key, ""))
                self._refresh_layer(key)
        finally:
            self._updating = False
        self._update_state()

    def _refresh_layer(self, key: str) -> None:
        field = self._fields[key]
        value, layer = self._inherited(key)
        field.set_placeholder(f"{_inherited_text(key, value)}   (inherited: {layer})")
        explicit = self.explicit_value(key)
        if explicit is None:
            text = f"<span style='color:#5f6368'>inherited from {layer}</span>"
        elif layer == ENV_VARS[key]:
            text = (
                f"<span style='color:#8a6d00'>set here, but {layer}={_value_text(value)} "
                "wins</span>"
            )
        elif explicit == self.saved_value(key):
            text = "<b>set in the settings file</b>"
        else:
            text = "<b>set here</b> (not saved yet)"
        field.layer_label.setText(text)

    def _refresh_code(self) -> None:
        self.code_view.setPlainText(to_code(self._lazy, name="settings"))
        self.code_view.document().setModified(False)  # type: ignore[union-attr]
        self.code_view.set_problem_lines(())
        self.code_error_label.clear()

    def set_value(self, key: str, value: Any) -> None:
        """Set ``key`` in the edited settings (None: inherit); raises SettingsError."""
        self._lazy = with_setting(self._lazy, key, value)
        self._errors.pop(key, None)
        self._refresh_fields()
        self._refresh_code()
        self.changed.emit()

    def _on_field_edited(self, key: str) -> None:
        if self._updating:
            return
        text = self._fields[key].text().strip()
        try:
            value = parse_setting_value(key, text) if text else None
            if isinstance(value, tuple) and not value:
                value = None
            updated = with_setting(self._lazy, key, value)
        except SettingsError as exc:
            message = str(exc).removeprefix(f"invalid value for {key}: ")
            self._errors[key] = message
            self._fields[key].set_error(message)
            self._update_state()
            return
        self._errors.pop(key, None)
        self._fields[key].set_error("")
        self._lazy = updated
        self._refresh_layer(key)
        self._refresh_code()
        self._update_state()
        self.changed.emit()

    # -- code view ---------------------------------------------------------------------------
    def code(self) -> str:
        """The text of the code view."""
        return self.code_view.toPlainText()

    def set_code(self, code: str) -> None:
        """Replace the text of the code view (not applied until :meth:`apply_code`)."""
        self.code_view.setPlainText(code)
        self.code_view.document().setModified(True)  # type: ignore[union-attr]

    def apply_code(self) -> bool:
        """Run the code view's text and make its ``settings`` the edited settings.

        Fields the code leaves out stay ``None`` (inherited). On an error the form keeps its
        values and the error (with its line) is shown under the code.
        """
        try:
            namespace = exec_user_code(self.code(), filename=CODE_FILENAME)
        except UserCodeError as exc:
            self._code_error(str(exc), exc.line_number)
            return False
        value = namespace.get("settings")
        if not isinstance(value, LazySettings):
            found = "nothing" if value is None else type(value).__name__
            self._code_error(
                f"{CODE_FILENAME}: the code must assign settings = LazySettings(...), "
                f"it assigned {found}",
                0,
            )
            return False
        self._lazy = value
        self._errors.clear()
        self._refresh_fields()
        self.code_view.document().setModified(False)  # type: ignore[union-attr]
        self.code_view.set_problem_lines(())
        self.code_error_label.clear()
        self.changed.emit()
        return True

    def _code_error(self, message: str, line: int) -> None:
        self.code_error_label.setText(message)
        if line:
            self.code_view.set_problem_lines([line])
            self.code_view.go_to_line(line)

    def _on_tab_changed(self, index: int) -> None:
        document = self.code_view.document()
        if index == 0 and document is not None and document.isModified() and not self.apply_code():
            self.tabs.setCurrentIndex(1)

    # -- saving ------------------------------------------------------------------------------
    def save(self) -> bool:
        """Write the edited settings to the file; False (reason shown) when not written."""
        document = self.code_view.document()
        if document is not None and document.isModified() and not self.apply_code():
            self._set_status("Not saved: the code has an error.", error=True)
            return False
        if self._errors:
            keys = ", ".join(sorted(self._errors))
            self._set_status(f"Not saved: fix {keys} first.", error=True)
            return False
        try:
            path = save_settings(self._lazy, self.path)
        except (SettingsError, OSError, TimeoutError) as exc:
            self._set_status(f"Not saved: {exc}", error=True)
            return False
        self._saved = self._lazy
        self._refresh_report()
        self._refresh_fields()
        self.path_label.setText(f"Settings file: <code>{home_relative(path)}</code>")
        self._set_status(f"Saved {path}.", ok=True)
        self.settings_saved.emit(path)
        return True

    def _update_state(self) -> None:
        self.save_button.setEnabled(not self._errors)
        if self.is_modified() and not self._errors:
            self._set_status("Unsaved changes.")

    def status_text(self) -> str:
        """The text of the status line."""
        return self.status_label.text()

    def _set_status(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        color = "#b00020" if error else "#1e7e34" if ok else "palette(window-text)"
        self.status_label.setStyleSheet(f"QLabel {{ color: {color}; }}")
        self.status_label.setText(text)
