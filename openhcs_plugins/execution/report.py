"""What an isolated worker reports back: its protections and one call's output.

:class:`IsolationReport` is read back from the worker (never assumed) and printed by
``openhcs-plugins doctor``; :class:`CallOutput` is what one call printed and used. Standard
library only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["CallOutput", "IsolationReport"]


@dataclass(frozen=True)
class IsolationReport:
    """Which protections a worker really had (read back from the worker, not assumed)."""

    #: rlimit name -> the hard value set (bytes, seconds or a count).
    rlimits: Mapping[str, int]
    #: rlimit name -> why it was not set.
    rlimit_failures: Mapping[str, str]
    #: namespaces the worker runs in: some of ``user pid net ipc mount``.
    namespaces: tuple[str, ...]
    namespace_failures: Mapping[str, str]
    private_proc: bool
    readonly_root: bool
    readonly_mounts: int
    readonly_failures: tuple[str, ...]
    hidden_paths: tuple[str, ...]
    hidden_failures: tuple[str, ...]
    visible_paths: tuple[str, ...]
    #: mounts locked by a nested user namespace (the job cannot undo them).
    mounts_locked: bool
    capabilities_dropped: bool
    no_new_privs: bool
    securebits_locked: bool
    #: the supervisor adopts orphans (only without a pid namespace).
    subreaper: bool
    #: the worker's scratch folder (a tmpfs when namespaces work).
    scratch: str
    notes: tuple[str, ...]
    python: str
    kernel: str
    uid: int

    @classmethod
    def from_worker(cls, data: Mapping[str, Any]) -> IsolationReport:
        def strings(key: str) -> tuple[str, ...]:
            return tuple(str(x) for x in data.get(key, ()))

        return cls(
            rlimits={str(k): int(v[1]) for k, v in dict(data.get("rlimits", {})).items()},
            rlimit_failures={
                str(k): str(v) for k, v in dict(data.get("rlimit_errors", {})).items()
            },
            namespaces=strings("namespaces"),
            namespace_failures={
                str(k): str(v) for k, v in dict(data.get("namespace_errors", {})).items()
            },
            private_proc=bool(data.get("private_proc")),
            readonly_root=bool(data.get("readonly_root")),
            readonly_mounts=int(data.get("readonly_mounts", 0)),
            readonly_failures=strings("readonly_failures"),
            hidden_paths=strings("hidden_paths"),
            hidden_failures=strings("hidden_failures"),
            visible_paths=strings("visible_paths"),
            mounts_locked=bool(data.get("mounts_locked")),
            capabilities_dropped=bool(data.get("capabilities_dropped")),
            no_new_privs=bool(data.get("no_new_privs")),
            securebits_locked=bool(data.get("securebits_locked")),
            subreaper=bool(data.get("subreaper")),
            scratch=str(data.get("scratch", "")),
            notes=strings("notes"),
            python=str(data.get("python", "")),
            kernel=str(data.get("kernel", "")),
            uid=int(data.get("uid", -1)),
        )

    @property
    def network_isolated(self) -> bool:
        return "net" in self.namespaces

    @property
    def filesystem_protected(self) -> bool:
        """Read-only root, hidden folders, locked: the job cannot write outside its scratch."""
        return self.readonly_root and self.mounts_locked

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``openhcs-plugins doctor --json``)."""
        out = asdict(self)
        out["network_isolated"] = self.network_isolated
        out["filesystem_protected"] = self.filesystem_protected
        return out

    def lines(self) -> list[str]:
        """What ``openhcs-plugins doctor`` prints: one line per protection, on or off."""

        def mark(ok: bool) -> str:
            return "yes" if ok else "NO "

        def size(name: str, value: int) -> str:
            if name in ("RLIMIT_DATA", "RLIMIT_AS", "RLIMIT_FSIZE", "RLIMIT_MEMLOCK"):
                return f"{value / 2**20:.0f} MiB" if value >= 2**20 else f"{value} bytes"
            return f"{value} s" if name == "RLIMIT_CPU" else str(value)

        out = [f"isolated worker: Python {self.python}, kernel {self.kernel}, uid {self.uid}"]
        for name, value in sorted(self.rlimits.items()):
            out.append(f"  {mark(True)} {name} = {size(name, value)}")
        for name, why in sorted(self.rlimit_failures.items()):
            out.append(f"  {mark(False)} {name}: {why}")
        for ns in ("user", "pid", "net", "ipc", "mount"):
            out.append(f"  {mark(ns in self.namespaces)} {ns} namespace")
        for what, why in self.namespace_failures.items():
            out.append(f"      namespaces ({what}): {why}")
        out.append(f"  {mark(self.private_proc)} private /proc (host processes invisible)")
        out.append(
            f"  {mark(self.readonly_root)} read-only filesystem ({self.readonly_mounts} mounts)"
        )
        out.append(f"  {mark(self.mounts_locked)} mounts locked (nested user namespace)")
        hidden = ", ".join(self.hidden_paths) or "none"
        out.append(f"  {mark(bool(self.hidden_paths))} hidden folders: {hidden}")
        out.append(f"  {mark(self.capabilities_dropped)} capabilities dropped")
        out.append(f"  {mark(self.no_new_privs)} no_new_privs")
        out.append(f"      scratch folder: {self.scratch or 'none'}")
        for note in (*self.hidden_failures, *self.readonly_failures, *self.notes):
            out.append(f"      note: {note}")
        return out


@dataclass(frozen=True)
class CallOutput:
    """What the worker printed during one call (each stream capped at ``stdout_kb``)."""

    stdout: str = ""
    stderr: str = ""
    stdout_bytes: int = 0
    stderr_bytes: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    maxrss_mb: float = 0.0
