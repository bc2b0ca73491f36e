"""The function editor widget: write, validate, save and try out a custom function.

::

    from openhcs_plugins.gui import FunctionEditor

    editor = FunctionEditor()          # saves into the functions folder (settings: functions_dir)
    editor.new_function("torch")       # the torch template
    editor.validate()                  # problems listed with their line; click one to go there
    editor.save()                      # register + persist (in a worker thread)
    editor.run_on_sample()             # before/after middle slice of the sample stack

Saving goes through :class:`~openhcs_plugins.manager.CustomFunctionManager`
(``register_from_code`` for a new function, ``update_custom_function`` for a saved one: if the new
code fails, the saved version stays registered). Saving and running happen in a worker thread.
Running executes the editor's text in this process, or in the isolated runner
(:mod:`openhcs_plugins.execution`) when the trust level for editor code is ``strict``
(:mod:`openhcs_plugins.gui._run`, which also holds the "Try it" panel); the problem list is
:mod:`openhcs_plugins.gui._problems`, the choice a Save makes :mod:`openhcs_plugins.gui._saving`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qtpy.QtCore import Qt, Signal
from qtpy.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from openhcs_plugins.config import Settings, describe_settings
from openhcs_plugins.gui._code import CodeEditor
from openhcs_plugins.gui._problems import ProblemList
from openhcs_plugins.gui._run import (
    EDITOR_FILENAME,
    IsolationUnavailableError,
    RunOutcome,
    RunPanel,
    Shown,
    run_on_image,
    user_line,
)
from openhcs_plugins.gui._saving import SaveRefused, plan_save
from openhcs_plugins.gui._tasks import TaskError, run_in_thread
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES
from openhcs_plugins.registry import info_from_static, split_key
from openhcs_plugins.sources.candidate import (
    OPENHCS_NAMESPACE,
    Provenance,
    SourceKind,
    StaticFunction,
    TrustLevel,
)
from openhcs_plugins.templates import get_default_template, get_template_for_memory_type
from openhcs_plugins.validation import ValidationError, ValidationResult, validate_code

__all__ = ["EDITOR_FILENAME", "FunctionEditor", "IsolationUnavailableError", "RunOutcome"]


class FunctionEditor(QWidget):
    """Code editor for one custom function, with Validate, Save and Run on a sample.

    ``manager`` is the :class:`~openhcs_plugins.manager.CustomFunctionManager` that saves
    functions; by default a new one per save, on the functions folder of the current settings
    and the default registry.
    """

    #: A validation finished (the :class:`~openhcs_plugins.validation.ValidationResult`).
    validated = Signal(object)
    #: Functions were saved and registered (their keys, ``openhcs:name``).
    saved = Signal(list)
    #: Saving failed; the message (the previously saved version stays registered).
    save_failed = Signal(str)
    #: A run on the sample finished (a :class:`RunOutcome`).
    run_finished = Signal(object)
    #: A run on the sample failed; the message.
    run_failed = Signal(str)
    #: The status line changed (its text), for a host's status bar.
    status_changed = Signal(str)
    #: Work started (True) or ended (False) in the worker thread.
    busy_changed = Signal(bool)

    def __init__(
        self, manager: CustomFunctionManager | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._manager_given = manager
        self._editing: str | None = None
        self._untrusted_text: str | None = None  # an opened file's, if not trusted: _trusted
        self._busy = False
        self._last_result: ValidationResult | None = None
        self._save_folder: Path | None = None
        self._build()
        self.new_function("numpy")

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.memory_type_box = QComboBox()
        self.memory_type_box.addItems(list(AVAILABLE_MEMORY_TYPES))
        self.memory_type_box.setToolTip("Memory type: choosing one fills in its template")
        self.memory_type_box.activated.connect(lambda *_: self._on_memory_type_chosen())
        self.title_label = QLabel()
        self.title_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.validate_button = QPushButton("Validate")
        self.validate_button.setShortcut("Ctrl+Shift+V")
        self.validate_button.setToolTip("Check the code without running it (Ctrl+Shift+V)")
        self.validate_button.clicked.connect(lambda *_: self.validate())
        self.save_button = QPushButton("Save")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.setToolTip("Register the function and save it in the functions folder")
        self.save_button.clicked.connect(lambda *_: self.save())

        top = QHBoxLayout()
        top.addWidget(QLabel("Memory type:"))
        top.addWidget(self.memory_type_box)
        top.addSpacing(12)
        top.addWidget(self.title_label, 1)
        top.addWidget(self.validate_button)
        top.addWidget(self.save_button)

        self.code_editor = CodeEditor()
        self.code_editor.document().modificationChanged.connect(  # type: ignore[union-attr]
            lambda *_: self._update_title()
        )
        self.problem_list = ProblemList(self.code_editor.go_to_line)
        problems = QGroupBox("Problems")
        problems_layout = QVBoxLayout(problems)
        problems_layout.setContentsMargins(4, 4, 4, 4)
        problems_layout.addWidget(self.problem_list)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.code_editor)
        left.addWidget(problems)
        left.setStretchFactor(0, 4)
        left.setStretchFactor(1, 1)

        self.run_panel = RunPanel()
        self.run_panel.run_button.clicked.connect(lambda *_: self.run_on_sample())
        # The panel's widgets, under the names a host or a test reaches for.
        panel = self.run_panel
        self.sample_box, self.function_box = panel.sample_box, panel.function_box
        self.params_edit, self.run_button = panel.params_edit, panel.run_button
        self.before_pane, self.after_pane = panel.before_pane, panel.after_pane
        self.before_caption, self.after_caption = panel.before_caption, panel.after_caption
        self.metadata_label = panel.metadata_label

        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(self.run_panel)
        main.setStretchFactor(0, 3)
        main.setStretchFactor(1, 1)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(main, 1)
        layout.addWidget(self.status_label)

    # -- code --------------------------------------------------------------------------------
    def code(self) -> str:
        """The text in the editor."""
        return self.code_editor.toPlainText()

    def set_code(self, code: str, *, editing: str | None = None) -> None:
        """Replace the text. ``editing`` names the saved function this text updates on Save
        (None: Save registers a new function)."""
        self.code_editor.setPlainText(code)
        self.code_editor.document().setModified(False)  # type: ignore[union-attr]
        self._editing = editing
        self._last_result = None
        self.problem_list.clear()
        self.code_editor.set_problem_lines(())
        self._update_title()

    @property
    def editing(self) -> str | None:
        """Name of the saved function Save updates, or None for a new function."""
        return self._editing

    def new_function(self, memory_type: str = "numpy") -> None:
        """Start a new function from the template of ``memory_type``."""
        self.set_code(get_template_for_memory_type(memory_type))
        self.memory_type_box.setCurrentText(memory_type)
        self._set_status(f"New {memory_type} function from the template.")

    def load_function(self, key: str) -> bool:
        """Open the saved function ``key`` (``openhcs:name`` or ``name``); False if not found."""
        namespace, name = split_key(key)
        if namespace != OPENHCS_NAMESPACE:
            self._set_status(
                f"{key} comes from an installed package; only functions saved in the functions "
                "folder can be edited here.",
                error=True,
            )
            return False
        manager = self._manager()
        try:
            code = manager.get_function_code(name)
        except (KeyError, ValueError, OSError) as exc:
            self._set_status(f"Cannot open {key}: {exc}", error=True)
            return False
        self.set_code(code, editing=name)
        self._untrusted_text = None if _trusted(code) else code
        result = self.validate()
        for function in result.functions:
            if function.name == name:
                self.memory_type_box.setCurrentText(function.input_memory_type)
        self._set_status(f"Opened {OPENHCS_NAMESPACE}:{name} from {manager.storage_dir}.")
        return True

    def _on_memory_type_chosen(self) -> None:
        memory_type = self.memory_type_box.currentText()
        current = self.code()
        untouched = not current.strip() or current in _template_texts()
        if not untouched and not self._confirm(
            "Replace the code?",
            f"Replace the code in the editor with the {memory_type} template? "
            "Unsaved changes are lost.",
        ):
            return
        self.new_function(memory_type)

    # -- validation --------------------------------------------------------------------------
    def _settings(self) -> Settings:
        return describe_settings().settings

    def validate(self) -> ValidationResult:
        """Check the code (static checks only, nothing runs) and list the problems."""
        settings = self._settings()
        result = validate_code(
            self.code(),
            trust=settings.trust.level_for("editor"),
            policy=settings.import_policy(),
            filename=EDITOR_FILENAME,
        )
        self._last_result = result
        self._show_findings(result.errors, result.warnings)
        self.run_panel.set_functions(list(result.function_names))
        if result.is_valid:
            described = ", ".join(
                f"{OPENHCS_NAMESPACE}:{f.name} ({_memory_text(f)})" for f in result.functions
            )
            note = f" ({len(result.warnings)} warnings)" if result.warnings else ""
            self._set_status(f"Valid{note}: {described}.", ok=True)
        else:
            count = len(result.errors)
            self._set_status(
                f"{count} problem{'s' if count != 1 else ''} found; click one to go to its line.",
                error=True,
            )
        self.validated.emit(result)
        return result

    def _show_findings(
        self, errors: Sequence[ValidationError], warnings: Sequence[ValidationError] = ()
    ) -> None:
        self.problem_list.show_findings(errors, warnings)
        self.code_editor.set_problem_lines(e.line_number for e in errors if e.line_number)

    def problems(self) -> list[tuple[int, str]]:
        """The listed problems as ``(line, text)`` (line 0 when the problem has none)."""
        return self.problem_list.problems()

    # -- saving ------------------------------------------------------------------------------
    def _manager(self) -> CustomFunctionManager:
        if self._manager_given is not None:
            return self._manager_given
        return CustomFunctionManager()

    def save(self) -> bool:
        """Validate, then register and save the code in a worker thread.

        Returns False (with the reason in the window) when nothing was started; the outcome
        arrives as :attr:`saved` or :attr:`save_failed`.
        """
        if self._busy:
            return False
        code = self.code()
        result = self.validate()
        if not result.is_valid:
            self._set_status("Not saved: fix the problems listed first.", error=True)
            return False
        manager = self._manager()
        self._save_folder = manager.storage_dir
        work = plan_save(manager, code, list(result.function_names), self._editing, self._confirm)
        if isinstance(work, SaveRefused):
            self._set_status(work.message, error=work.error)
            return False
        self._start("Saving…", work, self._on_saved, self._on_save_failed)
        return True

    def _on_saved(self, funcs: Any) -> None:
        self._set_busy(False)
        # register_from_code gives the callables; update_custom_function the new name, with them
        funcs = getattr(funcs, "functions", funcs)
        names = [func.__name__ for func in funcs]
        if len(names) == 1:
            self._editing = names[0]
        self.code_editor.document().setModified(False)  # type: ignore[union-attr]
        self._update_title()
        keys = [f"{OPENHCS_NAMESPACE}:{name}" for name in names]
        status, clean = saved_status(keys, Path(self._save_folder))
        self._set_status(status, ok=clean)
        self.saved.emit(keys)

    def _on_save_failed(self, error: TaskError) -> None:
        self._set_busy(False)
        exc = error.exception
        kept = (
            f" The saved version of {self._editing!r} is unchanged and stays registered."
            if self._editing
            else " Nothing was saved."
        )
        if isinstance(exc, ValidationError):
            findings = getattr(exc, "errors", None) or (exc,)
            self._show_findings(findings)
            message = f"Not saved: {exc}.{kept}"
        else:
            message = f"Not saved: {error.message}.{kept}"
        self._set_status(message, error=True)
        self.save_failed.emit(message)

    # -- running -----------------------------------------------------------------------------
    @property
    def sample_path(self) -> Path | None:
        """The TIFF runs use, or None for the bundled synthetic stack."""
        return self.run_panel.sample_path

    def set_sample(self, path: str | Path | None) -> None:
        """Use the TIFF at ``path`` as the sample (None: the synthetic stack)."""
        self.run_panel.set_sample(path)

    def run_on_sample(self) -> bool:
        """Run the function on the sample in a worker thread and show before/after.

        Returns False (with the reason shown) when nothing was started; the outcome arrives as
        :attr:`run_finished` or :attr:`run_failed`.
        """
        if self._busy:
            return False
        result = self.validate()
        if not result.is_valid:
            self._set_status("Not run: fix the problems listed first.", error=True)
            return False
        chosen = self.function_box.currentText() or result.function_names[0]
        function = next(f for f in result.functions if f.name == chosen)
        info = info_from_static(
            function, OPENHCS_NAMESPACE, Provenance(SourceKind.EDITOR, line=function.line)
        )
        try:
            params = self.run_panel.parameters(info)
        except ValueError as exc:
            self._set_status(f"Not run: {exc}", error=True)
            return False
        except (MemoryError, RecursionError):  # a literal the parser cannot hold (_params)
            self._set_status(
                "Not run: a parameter value is nested too deeply to read; "
                f"check {self.params_edit.text()[:40]!r}…",
                error=True,
            )
            return False
        code = self.code()
        settings = self._settings()
        isolated = settings.trust.level_for("editor") is TrustLevel.STRICT
        if code == self._untrusted_text and settings.trust.untrusted == TrustLevel.STRICT.value:
            isolated = True  # an opened, untrusted, unedited folder file
        work = functools.partial(
            run_on_image,
            code,
            function,
            info.key,
            params,
            settings,
            isolated=isolated,
            sample=self.run_panel.sample_path,
        )
        where = "the isolated runner" if isolated else "this process"
        self._start(f"Running {info.key} in {where}…", work, self._on_ran, self._on_run_failed)
        return True

    def _on_ran(self, shown: Shown) -> None:
        self._set_busy(False)
        self.run_panel.show_result(shown)
        outcome = shown.outcome
        where = "in the isolated runner" if outcome.isolated else "in this process"
        self._set_status(
            f"Ran {outcome.key} on {outcome.sample} {where} in {outcome.seconds:.2f} s.", ok=True
        )
        self.run_finished.emit(outcome)

    def _on_run_failed(self, error: TaskError) -> None:
        self._set_busy(False)
        exc = error.exception
        self.run_panel.show_failure()
        if isinstance(exc, ValidationError) and getattr(exc, "errors", None):
            self._show_findings(exc.errors)  # type: ignore[attr-defined]
        else:
            line = user_line(exc)
            finding = ValidationError(
                error.message, line, rule="run", hint="the traceback is in the item's tooltip"
            )
            self._show_findings([finding])
            item = self.problem_list.item(0)
            if item is not None:
                item.setToolTip(error.traceback)
        message = f"Run failed: {error.message}"
        self._set_status(message, error=True)
        self.run_failed.emit(message)

    # -- helpers -----------------------------------------------------------------------------
    def is_busy(self) -> bool:
        """True while a save or a run is in progress."""
        return self._busy

    def _start(
        self,
        status: str,
        work: Callable[[], Any],
        on_success: Callable[[Any], None],
        on_failure: Callable[[TaskError], None],
    ) -> None:
        self._set_busy(True)
        self._set_status(status)
        run_in_thread(self, work, on_success, on_failure)

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        for button in (self.save_button, self.run_button):
            button.setEnabled(not busy)
        self.busy_changed.emit(busy)

    def _update_title(self) -> None:
        modified = self.code_editor.document().isModified()  # type: ignore[union-attr]
        name = (
            f"{OPENHCS_NAMESPACE}:{self._editing}" if self._editing else "new function (not saved)"
        )
        self.title_label.setText(f"<b>{name}</b>{' — modified' if modified else ''}")

    def status_text(self) -> str:
        """The text of the status line."""
        return self.status_label.text()

    def _set_status(self, text: str, *, error: bool = False, ok: bool = False) -> None:
        color = "#b00020" if error else "#1e7e34" if ok else "palette(window-text)"
        self.status_label.setStyleSheet(f"QLabel {{ color: {color}; }}")
        self.status_label.setText(text)
        self.status_changed.emit(text)

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes


def _template_texts() -> set[str]:
    return {get_template_for_memory_type(m) for m in AVAILABLE_MEMORY_TYPES} | {
        get_default_template()
    }


def _memory_text(function: StaticFunction) -> str:
    types = function.input_memory_type
    if function.output_memory_type != function.input_memory_type:
        types += f" → {function.output_memory_type}"
    if function.contract != "FLEXIBLE":
        types += f", {function.contract}"
    return types


def _trusted(code: str) -> bool:
    """Whether this machine's trust store holds ``code``: an opened folder file that it does not
    hold runs isolated here too, until it is edited (then it is the user's own text) or trusted
    (`openhcs-plugins trust NAME`)."""
    from openhcs_plugins.config.trust import TrustStore
    from openhcs_plugins.sources.candidate import sha256_text

    return TrustStore().is_trusted(sha256_text(code))


def saved_status(keys: list[str], folder: Path) -> tuple[str, bool]:
    """The status line after a save, and whether the folder is clean: the folder is
    OpenHCS's too, so a file there that OpenHCS would refuse is named with its rule."""
    from openhcs_plugins.hosts.openhcs_folder import OPENHCS_DROPS_THE_FOLDER, scan_folder

    status = f"Saved and registered {', '.join(keys)} in {folder}."
    refused = scan_folder(folder)
    if refused:
        first = refused[0]
        status += (
            f" Warning: {len(refused)} file problem(s) OpenHCS would refuse "
            f"({OPENHCS_DROPS_THE_FOLDER}), first {first.path.name}:{first.line}: "
            f"{first.message}; {first.fix}."
        )
    return status, not refused
