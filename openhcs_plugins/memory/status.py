"""Whether each framework can run here, for ``openhcs-plugins doctor`` and the test helpers.

Owns :class:`FrameworkStatus`, :func:`check_framework` and :func:`framework_status`: a framework
that is not installed is reported without importing anything; an installed one is imported and
its framework module's ``check`` runs (pyclesperanto builds a kernel). It imports ``types``,
``errors`` and ``frameworks`` of this package (no numpy until a framework is checked).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass
from typing import Literal, cast

from openhcs_plugins.memory.errors import FrameworkUnavailableError
from openhcs_plugins.memory.frameworks import backend, framework_module
from openhcs_plugins.memory.types import MemoryType, coerce_memory_type

__all__ = ["FrameworkStatus", "check_framework", "framework_status"]

State = Literal["ok", "missing", "no-device", "broken"]


@dataclass(frozen=True)
class FrameworkStatus:
    """Whether a framework can run here.

    ``state`` is ``"ok"``, ``"missing"`` (not installed), ``"no-device"`` (installed, but the
    device it needs is absent or cannot run kernels) or ``"broken"`` (installed but fails).
    """

    memory_type: MemoryType
    state: State
    detail: str

    @property
    def usable(self) -> bool:
        return self.state == "ok"


def _installed_version(memory_type: MemoryType) -> str | None:
    for dist in framework_module(memory_type).DISTRIBUTIONS:
        try:
            return f"{dist} {importlib.metadata.version(dist)}"
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def check_framework(memory_type: MemoryType | str, *, kernels: bool = True) -> FrameworkStatus:
    """Whether ``memory_type``'s framework is installed and can run here.

    A framework that is not installed is reported without importing anything; an installed one
    is imported. With ``kernels=True``, pyclesperanto must also build and run a tiny kernel
    (pocl's compiler cannot on CPUs its LLVM does not know); with False, array transfers
    (push/pull) are enough.
    """
    mt = coerce_memory_type(memory_type)
    install = f"pip install 'openhcs-plugins[{mt.extra}]'"
    if importlib.util.find_spec(mt.value) is None:
        return FrameworkStatus(mt, "missing", f"not installed: {install}")
    if mt is MemoryType.PYCLESPERANTO:
        no_driver = framework_module(mt).no_driver_reason()
        if no_driver is not None:
            return FrameworkStatus(mt, "missing", no_driver)
    try:
        found = backend(mt)
    except FrameworkUnavailableError as exc:
        state: State = "no-device" if exc.installed else "broken"
        return FrameworkStatus(mt, state, exc.reason)
    except Exception as exc:  # a broken install can fail in any way at import
        version = _installed_version(mt) or mt.value
        return FrameworkStatus(mt, "broken", f"{version} fails to import: {exc}")
    try:
        detail = found.describe()
    except Exception as exc:
        return FrameworkStatus(mt, "broken", f"{mt.value} cannot list its devices: {exc}")
    state_name, detail = found.check(detail, kernels)
    return FrameworkStatus(mt, cast(State, state_name), detail)


def framework_status(*, kernels: bool = True) -> dict[MemoryType, tuple[bool, str]]:
    """For each memory type: ``(usable, detail)`` with the version and devices, or the reason
    and the extra to install. Frameworks that are not installed are never imported.

    >>> framework_status()[MemoryType.NUMPY][0]
    True
    """
    statuses = (check_framework(mt, kernels=kernels) for mt in MemoryType)
    return {status.memory_type: (status.usable, status.detail) for status in statuses}
