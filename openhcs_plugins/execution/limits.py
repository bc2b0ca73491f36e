"""The resource limits and protections of an isolated worker (:class:`IsolationLimits`).

The first six fields are the ``isolation`` settings; the others are per-call options with safe
defaults. Imports the settings (for the defaults) and nothing else of the package.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

from openhcs_plugins.config import IsolationSettings

if TYPE_CHECKING:
    from openhcs_plugins.config import Settings

__all__ = ["DEFAULT_HIDDEN_PATHS", "SETTINGS_HINT", "IsolationLimits", "limits_with"]


#: Folders hidden from the worker (an empty read-only tmpfs over each; ``/tmp`` becomes the
#: worker's own scratch folder). Paths the worker needs (the Python installation, the
#: package) stay visible inside them. The user's home folder is added at run time.
DEFAULT_HIDDEN_PATHS: tuple[str, ...] = (
    "/home",
    "/root",
    "/tmp",
    "/var/tmp",
    "/run/user",
    "/dev/shm",
    "/mnt",
    "/media",
    "/srv",
)
#: Largest JSON header (metadata) accepted from a worker.


SETTINGS_HINT = "openhcs-plugins settings set isolation.{key} VALUE"


@dataclass(frozen=True)
class IsolationLimits:
    """Resource limits and protections of one isolated worker.

    The first six fields are the ``isolation`` settings (:meth:`from_settings`); the others
    are per-call options with safe defaults.
    """

    # The first six defaults are the settings' own (one place to change them).
    #: CPU seconds one call may use (the kernel stops the worker past it: SIGXCPU).
    cpu_seconds: int = IsolationSettings.cpu_seconds
    #: heap and anonymous memory of the worker (RLIMIT_DATA), in MiB.
    memory_mb: int = IsolationSettings.memory_mb
    #: wall-clock seconds one call (or loading the module) may take.
    wall_seconds: float = IsolationSettings.wall_seconds
    #: total size of the arrays in one result, in MiB.
    max_output_mb: int = IsolationSettings.max_output_mb
    #: open file descriptors (RLIMIT_NOFILE).
    open_files: int = IsolationSettings.open_files
    #: stdout and stderr the worker may write per call, each, in KiB (more is an error).
    stdout_kb: int = IsolationSettings.stdout_kb
    #: largest file the worker may write, in KiB (RLIMIT_FSIZE; results go through pipes).
    #: None: the scratch folder's size (``scratch_mb``).
    file_size_kb: int | None = None
    #: processes of this user inside the worker's namespaces (RLIMIT_NPROC; not for root).
    processes: int = 64
    #: size of the worker's private scratch folder, in MiB: a tmpfs (with namespaces), its
    #: only writable folder, its ``TMPDIR`` and ``HOME`` (frameworks write caches and temporary
    #: files there: tensorflow, pocl's kernel cache), removed when the worker ends.
    scratch_mb: int = 64
    #: address space beyond ``memory_mb`` for libraries and reservations (RLIMIT_AS), in MiB.
    address_space_slack_mb: int = 4096
    #: use user/pid/net/ipc/mount namespaces where the kernel allows them.
    namespaces: bool = True
    #: hide ``hidden_paths`` and make every other mount read-only (needs ``namespaces``).
    filesystem: bool = True
    hidden_paths: tuple[str, ...] = DEFAULT_HIDDEN_PATHS
    #: extra paths that stay visible inside hidden folders (a plugin's install location).
    visible_paths: tuple[str, ...] = ()
    #: a warm worker that was not used for this long is shut down (None: kept until closed).
    idle_seconds: float | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides: Any) -> IsolationLimits:
        """Limits from ``settings.isolation`` (default: :func:`load_settings`) and overrides."""
        if settings is None:
            from openhcs_plugins.config import load_settings

            settings = load_settings()
        base = cls(**asdict(settings.isolation))
        return replace(base, **overrides) if overrides else base

    @property
    def cpu_hard_seconds(self) -> int:
        """The worker's lifetime CPU limit: a warm worker is replaced before a call could
        reach it, so every call can use ``cpu_seconds``."""
        return int(2 * self.cpu_seconds + 30)

    def _config(self) -> dict[str, Any]:
        return {
            "cpu_seconds": math.ceil(self.cpu_seconds),
            "cpu_hard_seconds": self.cpu_hard_seconds,
            "memory_mb": int(self.memory_mb),
            "max_output_mb": int(self.max_output_mb),
            "open_files": int(self.open_files),
            "file_size_kb": int(
                self.scratch_mb * 1024 if self.file_size_kb is None else self.file_size_kb
            ),
            "processes": int(self.processes),
            "scratch_mb": int(self.scratch_mb),
            "address_space_slack_mb": int(self.address_space_slack_mb),
        }


def limits_with(limits: IsolationLimits | None, overrides: Mapping[str, Any]) -> IsolationLimits:
    if limits is None:
        return IsolationLimits.from_settings(**overrides)
    return replace(limits, **overrides) if overrides else limits
