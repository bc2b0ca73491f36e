"""Background work and thread-safe signals for the widgets.

- :func:`run_in_thread` runs a callable on ``QThreadPool.globalInstance()`` and delivers its
  result or exception to slots in the GUI thread, so loading plugins or running a function
  never freezes a window.
- :class:`FunctionsChangedBridge` turns the psygnal signal
  ``custom_function_signals.functions_changed`` (emitted in whatever thread changed the
  registry, often a worker) into a Qt signal delivered in the GUI thread.
"""

from __future__ import annotations

import logging
import traceback
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qtpy.QtCore import QObject, QThreadPool, Signal

from openhcs_plugins.signals import custom_function_signals

__all__ = ["FunctionsChangedBridge", "TaskError", "run_in_thread"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskError:
    """An exception raised by background work, as the GUI thread receives it."""

    exception: BaseException
    traceback: str

    @property
    def message(self) -> str:
        return f"{type(self.exception).__name__}: {self.exception}"


class _TaskSignals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)


def _work(fn: Callable[[], Any], signals: _TaskSignals) -> None:
    try:
        result = fn()
    except BaseException as exc:  # user code may raise SystemExit; it must not end the thread
        if isinstance(exc, KeyboardInterrupt):
            raise
        outcome: tuple[str, Any] = ("failed", TaskError(exc, traceback.format_exc()))
    else:
        outcome = ("succeeded", result)
    try:
        getattr(signals, outcome[0]).emit(outcome[1])
    except RuntimeError:  # the widget that asked was closed meanwhile
        logger.debug("result of background work dropped: its receiver is gone")


def run_in_thread(
    owner: QObject,
    fn: Callable[[], Any],
    on_success: Callable[[Any], None],
    on_failure: Callable[[TaskError], None],
) -> None:
    """Run ``fn()`` in the global thread pool; call ``on_success(result)`` or
    ``on_failure(TaskError)`` in the GUI thread afterwards.

    The signal carrier is a child of ``owner``: if ``owner`` is deleted first, the result is
    dropped instead of reaching a deleted widget.
    """
    signals = _TaskSignals(owner)
    signals.succeeded.connect(on_success)
    signals.failed.connect(on_failure)
    signals.succeeded.connect(signals.deleteLater)
    signals.failed.connect(signals.deleteLater)
    QThreadPool.globalInstance().start(lambda: _work(fn, signals))  # type: ignore[union-attr]


class FunctionsChangedBridge(QObject):
    """Re-emits ``custom_function_signals.functions_changed`` as the Qt signal :attr:`changed`.

    The psygnal signal is emitted synchronously in the thread that changed the registry.
    Emitting a Qt signal of this object (which lives in the GUI thread) from there is
    thread-safe, and a queued connection to :attr:`changed` runs the slot in the GUI thread.
    When the bridge is deleted it disconnects itself.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        source = custom_function_signals.functions_changed
        ref = weakref.ref(self)

        def forward(*_: object) -> None:
            bridge = ref()
            if bridge is None:
                source.disconnect(forward, missing_ok=True)
                return
            try:
                bridge.changed.emit()
            except RuntimeError:  # the C++ object is gone
                source.disconnect(forward, missing_ok=True)

        self._forward = forward
        source.connect(forward)
        self.destroyed.connect(lambda *_: source.disconnect(forward, missing_ok=True))

    def disconnect_source(self) -> None:
        """Stop listening to ``functions_changed``."""
        custom_function_signals.functions_changed.disconnect(self._forward, missing_ok=True)
