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
(:mod:`openhcs_plugins.execution.runner`) when the trust level for editor code is ``strict``.
"""

from __future__ import annotations

import functools
import json
import reprlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import Qt, Signal
from qtpy.QtGui import QColor, QImage, QPixmap, QResizeEvent
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from openhcs_plugins.candidate import (
    OPENHCS_NAMESPACE,
    Candidate,
    Provenance,
    SourceKind,
    StaticFunction,
    TrustLevel,
)
from openhcs_plugins.errors import OpenHCSPluginsError, traceback_line
from openhcs_plugins.gui._code import CodeEditor
from openhcs_plugins.gui._tasks import TaskError, run_in_thread
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES
from openhcs_plugins.registry import FunctionInfo, info_from_static, split_key
from openhcs_plugins.settings import Settings, describe_settings
from openhcs_plugins.templates import get_default_template, get_template_for_memory_type
from openhcs_plugins.validation import ValidationError, ValidationResult, validate_code

__all__ = ["EDITOR_FILENAME", "FunctionEditor", "IsolationUnavailableError", "RunOutcome"]

#: The file name editor code carries in messages and tracebacks.
EDITOR_FILENAME = "<editor>"
_SYNTHETIC_LABEL = "Synthetic cells (2 × 256 × 256)"
_ERROR_COLOR = QColor("#b00020")
_WARNING_COLOR = QColor("#8a6d00")
_LINE_ROLE = Qt.ItemDataRole.UserRole


class IsolationUnavailableError(OpenHCSPluginsError, RuntimeError):
    """The trust level asks for the isolated runner, and it cannot be used here."""


@dataclass(frozen=True)
class RunOutcome:
    """What a run on the sample produced (``after`` is a numpy ``(C, Y, X)`` stack)."""

    key: str
    sample: str
    before: np.ndarray
    after: np.ndarray
    metadata: Any
    seconds: float
    isolated: bool


# -- running editor code ---------------------------------------------------------------------


def _run_in_process(
    code: str,
    function: StaticFunction,
    image: np.ndarray,
    params: dict[str, Any],
    settings: Settings,
) -> Any:
    """Execute the editor text and call one of its functions on ``image`` (this process)."""
    from openhcs_plugins.execution.dispatch import load_checked
    from openhcs_plugins.registry import FunctionRegistry
    from openhcs_plugins.registry.adapter import RegistryAdapter

    trust = settings.trust.level_for("editor")
    result = validate_code(code, trust=trust, policy=settings.import_policy())
    if not result.is_valid:
        raise result.as_error(EDITOR_FILENAME)
    candidate = Candidate.from_code(code, source=SourceKind.EDITOR, trust=trust)
    func = load_checked(candidate, function)
    # A private registry: trying a function out registers nothing the rest of the app sees,
    # but the call goes through the same path (PURE_2D planes, memory conversion) as a real run.
    registry = FunctionRegistry()
    info = info_from_static(function, candidate.namespace, candidate.provenance(line=function.line))
    RegistryAdapter(registry).add_loaded(info, func)
    return registry.call(info.key, image, **params)


def _run_isolated(
    code: str,
    function: StaticFunction,
    image: np.ndarray,
    params: dict[str, Any],
    settings: Settings,
) -> Any:
    """Run the editor text in the isolated worker process (trust level ``strict``)."""
    try:
        from openhcs_plugins.execution.limits import IsolationLimits
        from openhcs_plugins.execution.runner import IsolatedRunner
    except ImportError as exc:
        raise IsolationUnavailableError(
            "The trust level for editor code is 'strict' (setting trust.editor), so this "
            "function must run in the isolated runner, but openhcs_plugins.execution cannot "
            f"be imported ({exc}). Nothing was run. Update openhcs-plugins, or set "
            "trust.editor to 'user' in the Settings tab to run editor code in this process.",
            subject=EDITOR_FILENAME,
        ) from exc
    limits = IsolationLimits.from_settings(settings)
    with IsolatedRunner(code, function.name, filename=EDITOR_FILENAME, limits=limits) as runner:
        # apply(): PURE_2D functions run plane by plane, as FunctionRegistry.call runs them.
        return runner.apply(image, **params)


def _as_stack(value: Any, what: str) -> np.ndarray:
    from openhcs_plugins.memory import convert_memory

    array = np.asarray(convert_memory(value, "numpy"))
    if array.ndim == 2:
        array = array[np.newaxis]
    if array.ndim != 3 or array.shape[0] == 0:
        raise ValueError(
            f"{what} returned an array of shape {array.shape}; a (C, Y, X) stack of at least "
            "one plane or a 2D image is expected"
        )
    return array


def _metadata_text(metadata: Any, limit: int = 500) -> str:
    """The start of ``metadata`` as text: JSON when it can be, else its repr."""
    try:
        text = json.dumps(metadata, default=str)
    except (TypeError, ValueError, RecursionError):  # e.g. tuple keys, a cycle
        text = reprlib.repr(metadata)
    return text[:limit]


@dataclass(frozen=True)
class _Shown:
    """A run's outcome with what the window draws, prepared in the worker thread."""

    outcome: RunOutcome
    before: QImage
    after: QImage
    metadata: str


def _user_line(exc: BaseException) -> int:
    """The line of the editor text where ``exc`` happened (0 when it is not in the text)."""
    return traceback_line(exc, EDITOR_FILENAME) or int(getattr(exc, "line_number", 0) or 0)


def _plane_image(plane: np.ndarray) -> QImage:
    from openhcs_plugins._images import _to_uint8

    data = np.ascontiguousarray(_to_uint8(plane))
    height, width = data.shape
    image = QImage(data.data, width, height, width, QImage.Format.Format_Grayscale8)
    return image.copy()  # own the pixels: ``data`` is freed when this returns


class _ImagePane(QLabel):
    """A label showing an image scaled to its size, with a caption under it."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(placeholder, parent)
        self._pixmap: QPixmap | None = None
        self._placeholder = placeholder
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setStyleSheet("QLabel { background: #202124; color: #bdc1c6; }")

    def set_image(self, image: QImage | None, text: str = "") -> None:
        self._pixmap = QPixmap.fromImage(image) if image is not None else None
        if self._pixmap is None:
            self.setPixmap(QPixmap())
            self.setText(text or self._placeholder)
        else:
            self._rescale()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def _rescale(self) -> None:
        if self._pixmap is not None:
            self.setPixmap(
                self._pixmap.scaled(
                    self.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def resizeEvent(self, event: QResizeEvent | None) -> None:
        super().resizeEvent(event)
        self._rescale()


# -- the widget ------------------------------------------------------------------------------


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
        self._busy = False
        self._sample_path: Path | None = None
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
        self.problem_list = QListWidget()
        self.problem_list.setWordWrap(True)
        self.problem_list.setToolTip("Click a problem to go to its line")
        self.problem_list.itemClicked.connect(self._on_problem_clicked)
        self.problem_list.itemActivated.connect(self._on_problem_clicked)
        problems = QGroupBox("Problems")
        problems_layout = QVBoxLayout(problems)
        problems_layout.setContentsMargins(4, 4, 4, 4)
        problems_layout.addWidget(self.problem_list)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.code_editor)
        left.addWidget(problems)
        left.setStretchFactor(0, 4)
        left.setStretchFactor(1, 1)

        self.sample_box = QComboBox()
        self.sample_box.addItems([_SYNTHETIC_LABEL, "TIFF file…"])
        self.sample_box.activated.connect(lambda *_: self._on_sample_chosen())
        self.function_box = QComboBox()
        self.function_box.setToolTip("The function to run, when the code defines several")
        self.function_box.setVisible(False)
        self.params_edit = QLineEdit()
        self.params_edit.setPlaceholderText("parameters: sigma=2, radius=5 (defaults if empty)")
        self.run_button = QPushButton("Run on sample")
        self.run_button.setShortcut("Ctrl+R")
        self.run_button.setToolTip("Run the function on the sample and show the middle slice")
        self.run_button.clicked.connect(lambda *_: self.run_on_sample())
        self.before_pane = _ImagePane("before")
        self.after_pane = _ImagePane("after")
        self.before_caption = QLabel("Before")
        self.after_caption = QLabel("After")
        self.metadata_label = QLabel()
        self.metadata_label.setWordWrap(True)
        self.metadata_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        run_group = QGroupBox("Try it")
        run_layout = QVBoxLayout(run_group)
        run_layout.addWidget(self.sample_box)
        run_layout.addWidget(self.function_box)
        run_layout.addWidget(self.params_edit)
        run_layout.addWidget(self.run_button)
        run_layout.addWidget(self.before_caption)
        run_layout.addWidget(self.before_pane, 1)
        run_layout.addWidget(self.after_caption)
        run_layout.addWidget(self.after_pane, 1)
        run_layout.addWidget(self.metadata_label)

        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(run_group)
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
        names = list(result.function_names)
        self.function_box.clear()
        self.function_box.addItems(names)
        self.function_box.setVisible(len(names) > 1)
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
        self.problem_list.clear()
        for error, is_error in [(e, True) for e in errors] + [(w, False) for w in warnings]:
            self.problem_list.addItem(_finding_item(error, is_error))
        self.code_editor.set_problem_lines(e.line_number for e in errors if e.line_number)

    def problems(self) -> list[tuple[int, str]]:
        """The listed problems as ``(line, text)`` (line 0 when the problem has none)."""
        out = []
        for row in range(self.problem_list.count()):
            item = self.problem_list.item(row)
            assert item is not None
            out.append((int(item.data(_LINE_ROLE) or 0), item.text()))
        return out

    def _on_problem_clicked(self, item: QListWidgetItem) -> None:
        line = int(item.data(_LINE_ROLE) or 0)
        if line:
            self.code_editor.go_to_line(line)

    # -- saving ------------------------------------------------------------------------------
    def _manager(self) -> CustomFunctionManager:
        if self._manager_given is not None:
            return self._manager_given
        return CustomFunctionManager()

    def _is_saved(self, manager: CustomFunctionManager, name: str) -> bool:
        try:
            manager.get_function_code(name)
        except (KeyError, ValueError, OSError):
            return False
        return True

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
        editing = self._editing
        work: Callable[[], list[Callable[..., Any]]]
        if editing is not None and self._is_saved(manager, editing):
            work = functools.partial(manager.update_custom_function, editing, code)
        else:
            names = list(result.function_names)
            clashes = [name for name in names if self._is_saved(manager, name)]
            if clashes and len(names) == 1:
                name = clashes[0]
                if not self._confirm(
                    "Replace the saved function?",
                    f"A function named {name!r} is already saved in {manager.storage_dir}. "
                    "Replace it with this code?",
                ):
                    self._set_status("Not saved.")
                    return False
                work = functools.partial(manager.update_custom_function, name, code)
            elif clashes:
                self._set_status(
                    f"Not saved: {', '.join(clashes)} already exist in {manager.storage_dir}; "
                    "open them from the function list to edit them.",
                    error=True,
                )
                return False
            else:
                work = functools.partial(manager.register_from_code, code, persist=True)
        self._start("Saving…", work, self._on_saved, self._on_save_failed)
        return True

    def _on_saved(self, funcs: list[Callable[..., Any]]) -> None:
        self._set_busy(False)
        names = [func.__name__ for func in funcs]
        if len(names) == 1:
            self._editing = names[0]
        self.code_editor.document().setModified(False)  # type: ignore[union-attr]
        self._update_title()
        keys = [f"{OPENHCS_NAMESPACE}:{name}" for name in names]
        self._set_status(f"Saved and registered {', '.join(keys)} in {self._save_folder}.", ok=True)
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
        return self._sample_path

    def set_sample(self, path: str | Path | None) -> None:
        """Use the TIFF at ``path`` as the sample (None: the synthetic stack)."""
        self._sample_path = Path(path) if path is not None else None
        self.sample_box.setItemText(
            1, f"TIFF: {self._sample_path.name}" if self._sample_path else "TIFF file…"
        )
        self.sample_box.setCurrentIndex(1 if self._sample_path else 0)

    def _on_sample_chosen(self) -> None:
        if self.sample_box.currentIndex() == 0:
            self._sample_path = None
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Choose a sample stack", "", "TIFF images (*.tif *.tiff);;All files (*)"
        )
        self.set_sample(path or self._sample_path)

    def _parameters(self, info: FunctionInfo) -> dict[str, Any]:
        from openhcs_plugins._params import parse_params

        text = self.params_edit.text().strip()
        pairs = [part.strip() for part in text.split(",") if part.strip()]
        return parse_params(info, pairs)

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
            params = self._parameters(info)
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
        sample = self._sample_path

        def work() -> _Shown:
            from openhcs_plugins._images import read_stack, synthetic_cells

            started = time.perf_counter()
            image = read_stack(sample) if sample is not None else synthetic_cells()
            runner = _run_isolated if isolated else _run_in_process
            output = runner(code, function, image, params, settings)
            metadata = None
            if type(output) is tuple:
                output, metadata = output[0], (output[1] if len(output) == 2 else output[1:])
            outcome = RunOutcome(
                key=info.key,
                sample=sample.name if sample is not None else "synthetic cells",
                before=_as_stack(image, "the sample"),
                after=_as_stack(output, info.key),
                metadata=metadata,
                seconds=time.perf_counter() - started,
                isolated=isolated,
            )
            # Here, not in the GUI thread: a big result or odd metadata must neither freeze
            # the window nor raise in a slot.
            before, after = outcome.before, outcome.after
            return _Shown(
                outcome,
                _plane_image(before[before.shape[0] // 2]),
                _plane_image(after[after.shape[0] // 2]),
                "" if metadata is None else _metadata_text(metadata),
            )

        where = "the isolated runner" if isolated else "this process"
        self._start(f"Running {info.key} in {where}…", work, self._on_ran, self._on_run_failed)
        return True

    def _on_ran(self, shown: _Shown) -> None:
        self._set_busy(False)
        outcome = shown.outcome
        before, after = outcome.before, outcome.after
        b, a = before.shape[0] // 2, after.shape[0] // 2
        self.before_pane.set_image(shown.before)
        self.after_pane.set_image(shown.after)
        self.before_caption.setText(
            f"Before: {outcome.sample}, plane {b} of {before.shape[0]}, {before.dtype}"
        )
        self.after_caption.setText(f"After: plane {a} of {after.shape[0]}, {after.dtype}")
        if outcome.metadata is not None:
            self.metadata_label.setText(f"Metadata: {shown.metadata}")
        else:
            self.metadata_label.clear()
        where = "in the isolated runner" if outcome.isolated else "in this process"
        self._set_status(
            f"Ran {outcome.key} on {outcome.sample} {where} in {outcome.seconds:.2f} s.", ok=True
        )
        self.run_finished.emit(outcome)

    def _on_run_failed(self, error: TaskError) -> None:
        self._set_busy(False)
        exc = error.exception
        self.after_pane.set_image(None, "run failed")
        self.after_caption.setText("After")
        self.metadata_label.clear()
        if isinstance(exc, ValidationError) and getattr(exc, "errors", None):
            self._show_findings(exc.errors)  # type: ignore[attr-defined]
        else:
            line = _user_line(exc)
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
