"""Deprecated re-export of the isolated runner, kept for one release.

The isolated runner moved into the package :mod:`openhcs_plugins.execution`: the runner to
``execution.runner``, the limits to ``execution.limits``, the report to ``execution.report``,
the errors to ``execution.errors``, ``probe_protections`` and ``validate_in_worker`` to
``execution.probes`` and the strict proxies to ``execution.proxy``; every name below is also
importable from :mod:`openhcs_plugins.execution` itself. Import them from there. Like the old
module, this shim imports numpy.
"""

from __future__ import annotations

from openhcs_plugins.execution.errors import (
    IsolatedFunctionError,
    IsolationError,
    LeftoverActivity,
    LoadFailed,
    OutputFlood,
    ResultRejected,
    WorkerCPULimit,
    WorkerCrashed,
    WorkerExited,
    WorkerMemoryError,
    WorkerStartError,
    WorkerTimeout,
)
from openhcs_plugins.execution.limits import DEFAULT_HIDDEN_PATHS, IsolationLimits
from openhcs_plugins.execution.probes import (
    FunctionCheck,
    IsolationCheck,
    probe_protections,
    validate_in_worker,
)
from openhcs_plugins.execution.proxy import is_isolated, isolated_module
from openhcs_plugins.execution.report import CallOutput, IsolationReport
from openhcs_plugins.execution.runner import (
    IsolatedFunctionInfo,
    IsolatedRunner,
    run_isolated,
    runner_for,
)

__all__ = [
    "DEFAULT_HIDDEN_PATHS",
    "CallOutput",
    "FunctionCheck",
    "IsolatedFunctionError",
    "IsolatedFunctionInfo",
    "IsolatedRunner",
    "IsolationCheck",
    "IsolationError",
    "IsolationLimits",
    "IsolationReport",
    "LeftoverActivity",
    "LoadFailed",
    "OutputFlood",
    "ResultRejected",
    "WorkerCPULimit",
    "WorkerCrashed",
    "WorkerExited",
    "WorkerMemoryError",
    "WorkerStartError",
    "WorkerTimeout",
    "is_isolated",
    "isolated_module",
    "probe_protections",
    "run_isolated",
    "runner_for",
    "validate_in_worker",
]
