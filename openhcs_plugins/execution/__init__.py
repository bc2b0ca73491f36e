"""Running plugin code: in this process, or in an isolated worker process (``strict``).

This package owns everything that executes a candidate's code: ``inprocess`` (validated text
run as a module here), ``dispatch`` (here or isolated, by the trust level), the isolated runner
seen from the parent (``runner``, ``process``, ``channel``, ``limits``, ``report``, ``errors``,
``probes``, ``proxy``) and the worker process (``worker``, the script the runner starts by
path; ``protocol``, shared with the parent; ``sandbox``, ``filesystem``, ``processes``,
``job``), whose modules import only the standard library so that it can load them before its
limits are set. It may import ``candidate``, ``memory``, ``validation``, ``settings``,
``sources`` (a file's text) and ``registry`` (a registered function's provenance, the result
contract); nothing from the loader, manager, CLI or GUI, and nothing it imports imports it
back. The names below are imported from their module on first use (PEP 562), so importing
one module of this package loads only what that module needs (``inprocess`` loads no numpy).
"""

from __future__ import annotations

from openhcs_plugins._exports import lazy_exports

#: Each public name and the module of this package it lives in.
_LAZY: dict[str, str] = {
    "CodeExecutionError": "inprocess",
    "DEFAULT_HIDDEN_PATHS": "limits",
    "IsolationLimits": "limits",
    "CallOutput": "report",
    "IsolationReport": "report",
    "IsolatedFunctionError": "errors",
    "IsolationError": "errors",
    "LeftoverActivity": "errors",
    "LoadFailed": "errors",
    "OutputFlood": "errors",
    "ResultRejected": "errors",
    "WorkerCPULimit": "errors",
    "WorkerCrashed": "errors",
    "WorkerExited": "errors",
    "WorkerMemoryError": "errors",
    "WorkerStartError": "errors",
    "WorkerTimeout": "errors",
    "IsolatedFunctionInfo": "runner",
    "IsolatedRunner": "runner",
    "run_isolated": "runner",
    "runner_for": "runner",
    "FunctionCheck": "probes",
    "IsolationCheck": "probes",
    "probe_protections": "probes",
    "validate_in_worker": "probes",
    "measure_cold_start": "probes",
    "is_isolated": "proxy",
    "isolated_module": "proxy",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, {k: f".{v}" for k, v in _LAZY.items()})
