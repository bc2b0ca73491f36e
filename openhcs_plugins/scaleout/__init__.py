"""Scale-out: ``openhcs-plugins run`` on a Dask cluster (``run --workers N``, ``--scheduler``,
``run_batch(..., client=)``).

Dask schedules; this package adds what Dask does not know (docs/distributed.md):

- :mod:`.environment`: each worker's plugin environment (packages, versions, source-file
  sha256s) compared with this one or a lock file before the first task; a worker that differs
  is refused with the diff;
- :mod:`.shipping`: a folder or editor function travels as its validated source and sha256,
  and is validated again on the worker at the same trust level; a package function resolves by
  key from the worker's own environment;
- :mod:`.task`: the task a worker runs for one input (read, run, write through
  :func:`openhcs_plugins.batch.process_file`);
- :mod:`.client`: the client side: checks, a bounded window of tasks, retries that write
  nothing twice, Ctrl-C.

Importing it imports neither ``distributed`` nor a framework; :func:`run_on_cluster` imports
``distributed`` (the ``distributed`` extra).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openhcs_plugins._exports import lazy_exports

if TYPE_CHECKING:
    from openhcs_plugins.scaleout.client import (
        BatchCancelled,
        WorkerCheck,
        WorkersRefused,
        local_client,
        run_on_cluster,
    )
    from openhcs_plugins.scaleout.environment import EnvironmentMismatch

_LAZY: dict[str, str] = {
    "BatchCancelled": "openhcs_plugins.scaleout.client",
    "WorkerCheck": "openhcs_plugins.scaleout.client",
    "WorkersRefused": "openhcs_plugins.scaleout.client",
    "local_client": "openhcs_plugins.scaleout.client",
    "run_on_cluster": "openhcs_plugins.scaleout.client",
    "EnvironmentMismatch": "openhcs_plugins.scaleout.environment",
}

__all__ = [
    "BatchCancelled",
    "EnvironmentMismatch",
    "WorkerCheck",
    "WorkersRefused",
    "local_client",
    "run_on_cluster",
]
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
