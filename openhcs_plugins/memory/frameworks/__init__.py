"""One module per array framework, loaded when its data is first converted.

This package owns the table from memory type to framework module and the cache of their
backends (:func:`backend`). Importing it imports nothing heavy: a framework module (which
imports numpy) is imported by :func:`framework_module`, and the framework itself when its
backend is first created. Each module (``numpy``, ``torch``, ``cupy``, ``jax``, ``tensorflow``,
``pyclesperanto``) owns its import, its status check and its DLPack and copy paths, and
provides ``DISTRIBUTIONS`` and ``load()``; they all build on :mod:`.base`. Imports only
:mod:`openhcs_plugins.memory.types` here.
"""

from __future__ import annotations

import importlib
import threading
from types import ModuleType
from typing import TYPE_CHECKING

from openhcs_plugins.memory.types import MemoryType

if TYPE_CHECKING:
    from openhcs_plugins.memory.frameworks.base import Backend

__all__ = ["backend", "framework_module"]

_BACKENDS: dict[MemoryType, Backend] = {}
_BACKENDS_LOCK = threading.Lock()


def framework_module(memory_type: MemoryType) -> ModuleType:
    """This package's module for ``memory_type`` (the framework itself is not imported)."""
    return importlib.import_module(f"{__name__}.{memory_type.value}")


def backend(memory_type: MemoryType) -> Backend:
    """The backend of ``memory_type``, importing its framework on first use.

    Raises :class:`~openhcs_plugins.memory.errors.FrameworkUnavailableError` when the framework
    is missing or cannot run here; a failed import is retried on the next call.
    """
    try:
        return _BACKENDS[memory_type]
    except KeyError:
        pass
    with _BACKENDS_LOCK:
        if memory_type not in _BACKENDS:
            _BACKENDS[memory_type] = framework_module(memory_type).load()
        return _BACKENDS[memory_type]
