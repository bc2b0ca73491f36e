"""Trying a function out in the editor: running the editor text on a sample, and the panel
that shows the result.

:func:`run_on_image` runs in a worker thread: it executes the editor text in this process, or
in the isolated runner (:mod:`openhcs_plugins.execution.runner`) when the trust level for editor
code is ``strict``, and prepares the before/after images. :class:`RunPanel` is the "Try it" group of
:class:`~openhcs_plugins.gui.editor.FunctionEditor`: the sample, the function, its parameters,
the Run button and the before/after panes.
"""

from __future__ import annotations

import json
import reprlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtCore import Qt
from qtpy.QtGui import QImage, QPixmap, QResizeEvent
from qtpy.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from openhcs_plugins.artifacts import ArtifactOutput, listed_outputs, split_outputs
from openhcs_plugins.config import Settings
from openhcs_plugins.errors import OpenHCSPluginsError, traceback_line
from openhcs_plugins.registry import FunctionInfo, info_from_static
from openhcs_plugins.sources.candidate import Candidate, SourceKind, StaticFunction
from openhcs_plugins.validation import validate_code

__all__ = [
    "EDITOR_FILENAME",
    "IsolationUnavailableError",
    "RunOutcome",
    "RunPanel",
    "Shown",
    "run_on_image",
    "user_line",
]

#: The file name editor code carries in messages and tracebacks.
EDITOR_FILENAME = "<editor>"
_SYNTHETIC_LABEL = "Synthetic cells (2 × 256 × 256)"


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
class Shown:
    """A run's outcome with what the window draws, prepared in the worker thread."""

    outcome: RunOutcome
    before: QImage
    after: QImage
    metadata: str


def user_line(exc: BaseException) -> int:
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


def run_on_image(
    code: str,
    function: StaticFunction,
    key: str,
    params: dict[str, Any],
    settings: Settings,
    *,
    isolated: bool,
    sample: Path | None,
) -> Shown:
    """Run ``function`` of the editor text on the sample (the synthetic stack for None) and
    prepare what the window draws. Called in a worker thread."""
    from openhcs_plugins._images import read_stack, synthetic_cells

    started = time.perf_counter()
    image = read_stack(sample) if sample is not None else synthetic_cells()
    runner = _run_isolated if isolated else _run_in_process
    output = runner(code, function, image, params, settings)
    outputs = listed_outputs(function.artifact_outputs)
    output, values, extra = split_outputs(key, outputs, output)
    metadata: Any = None
    if values:
        metadata = values
    elif extra:
        metadata = extra[0] if len(extra) == 1 else extra
    outcome = RunOutcome(
        key=key,
        sample=sample.name if sample is not None else "synthetic cells",
        before=_as_stack(image, "the sample"),
        after=_as_stack(output, key),
        metadata=metadata,
        seconds=time.perf_counter() - started,
        isolated=isolated,
    )
    # Here, not in the GUI thread: a big result or odd metadata must neither freeze
    # the window nor raise in a slot.
    before, after = outcome.before, outcome.after
    return Shown(
        outcome,
        _plane_image(before[before.shape[0] // 2]),
        _plane_image(after[after.shape[0] // 2]),
        _outputs_text(outputs, values) if values else _label_text(metadata),
    )


def _label_text(metadata: Any) -> str:
    return "" if metadata is None else f"Metadata: {_metadata_text(metadata)}"


def _outputs_text(outputs: tuple[ArtifactOutput, ...], values: dict[str, Any]) -> str:
    """One line per artifact output: its name, how `run` writes it, its size and a start."""
    from openhcs_plugins.artifacts.write import plain

    lines = ["Artifact outputs (openhcs-plugins run writes them beside the image):"]
    for output in outputs:
        value = plain(values[output.name])
        formats = "+".join(output.spec.formats) if output.spec is not None else "json"
        size = f"{len(value)} item(s)" if isinstance(value, (list, dict)) else type(value).__name__
        lines.append(f"{output.name} ({formats}, {size}): {_metadata_text(value, 200)}")
    return "\n".join(lines)


class RunPanel(QGroupBox):
    """The "Try it" group: sample, function, parameters, Run, and the before/after panes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Try it", parent)
        self._sample_path: Path | None = None
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
        self.before_pane = _ImagePane("before")
        self.after_pane = _ImagePane("after")
        self.before_caption = QLabel("Before")
        self.after_caption = QLabel("After")
        self.metadata_label = QLabel()
        self.metadata_label.setWordWrap(True)
        self.metadata_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.sample_box)
        layout.addWidget(self.function_box)
        layout.addWidget(self.params_edit)
        layout.addWidget(self.run_button)
        layout.addWidget(self.before_caption)
        layout.addWidget(self.before_pane, 1)
        layout.addWidget(self.after_caption)
        layout.addWidget(self.after_pane, 1)
        layout.addWidget(self.metadata_label)

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

    def set_functions(self, names: list[str]) -> None:
        """Offer ``names`` to run; the choice shows only when there are several."""
        self.function_box.clear()
        self.function_box.addItems(names)
        self.function_box.setVisible(len(names) > 1)

    def parameters(self, info: FunctionInfo) -> dict[str, Any]:
        """The typed parameters (``sigma=2, radius=5``) for ``info``; ValueError when one does
        not fit its signature."""
        from openhcs_plugins._params import parse_params

        text = self.params_edit.text().strip()
        pairs = [part.strip() for part in text.split(",") if part.strip()]
        return parse_params(info, pairs)

    def show_result(self, shown: Shown) -> None:
        """Draw a run's before/after middle planes, with captions and metadata."""
        outcome = shown.outcome
        before, after = outcome.before, outcome.after
        b, a = before.shape[0] // 2, after.shape[0] // 2
        self.before_pane.set_image(shown.before)
        self.after_pane.set_image(shown.after)
        self.before_caption.setText(
            f"Before: {outcome.sample}, plane {b} of {before.shape[0]}, {before.dtype}"
        )
        self.after_caption.setText(f"After: plane {a} of {after.shape[0]}, {after.dtype}")
        if shown.metadata:
            self.metadata_label.setText(shown.metadata)
        else:
            self.metadata_label.clear()

    def show_failure(self) -> None:
        """Clear the result of the last run: this one failed."""
        self.after_pane.set_image(None, "run failed")
        self.after_caption.setText("After")
        self.metadata_label.clear()
