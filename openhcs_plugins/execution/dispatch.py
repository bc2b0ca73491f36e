"""Executing validated folder and editor code: here, or isolated when the trust level says so.

:func:`exec_candidate` decides where a candidate's text runs: ``strict`` code only in an
isolated worker (:func:`openhcs_plugins.execution.proxy.isolated_module`), everything else in
this process (:mod:`openhcs_plugins.execution.inprocess`, which owns the error type and the
module names, and which the isolated side uses directly, so nothing below imports this module
back). The host's entry to execution: the manager and the loader use :func:`load_checked` and
:func:`folder_importer`.
"""

from __future__ import annotations

import threading
import types
from collections.abc import Callable
from typing import Any

from openhcs_plugins.execution.inprocess import (
    CodeExecutionError,
    decorated_function,
    exec_module,
    module_name_for,
)
from openhcs_plugins.sources.candidate import Candidate, StaticFunction, TrustLevel

__all__ = [
    "CodeExecutionError",
    "exec_candidate",
    "folder_importer",
    "load_checked",
    "module_name_for",
]


def exec_candidate(candidate: Candidate) -> types.ModuleType:
    """Execute a validated candidate's text as a module and return it.

    The module is placed in ``sys.modules`` under :func:`module_name_for` so that its functions
    pickle by reference in this process and tracebacks show the real file and lines. At the
    ``strict`` level nothing is executed here: the module returned holds isolated proxies
    (:func:`openhcs_plugins.execution.proxy.isolated_module`).
    """
    if candidate.trust is TrustLevel.STRICT:
        # Strict code never runs here, not even to read signatures: the module holds proxies
        # (signatures from the static reading) whose calls run in a warm isolated worker.
        from openhcs_plugins.execution.proxy import isolated_module

        return isolated_module(candidate)
    return exec_module(candidate)


def load_checked(candidate: Candidate, function: StaticFunction) -> Callable[..., Any]:
    """Execute ``candidate`` and return ``function``'s callable once it passed the runtime checks.

    Raises :class:`CodeExecutionError` when the code fails to run and
    :class:`~openhcs_plugins.validation.ValidationError` when the callable fails
    :func:`~openhcs_plugins.validation.validate_function`.
    """
    from openhcs_plugins.validation import validate_function

    func = decorated_function(exec_candidate(candidate), function, candidate.filename)
    checked = validate_function(func)
    if not checked.is_valid:
        raise checked.as_error(candidate.filename)
    return func


def folder_importer(
    candidate: Candidate,
) -> Callable[[StaticFunction], Callable[[], Callable[..., Any]]]:
    """An ``importer_for`` factory for :meth:`RegistryAdapter.register_candidate`: each function's
    :data:`~openhcs_plugins.registry.Importer`.

    The candidate's file is executed once, on the first use of any of its functions.
    """
    lock = threading.Lock()
    executed: list[types.ModuleType] = []

    def module() -> types.ModuleType:
        with lock:
            if not executed:
                executed.append(exec_candidate(candidate))
            return executed[0]

    def importer_for(function: StaticFunction) -> Callable[[], Callable[..., Any]]:
        def load() -> Callable[..., Any]:
            return decorated_function(module(), function, candidate.filename)

        return load

    return importer_for
