"""The errors and warnings of conversion: a framework that cannot run here, a dtype change.

Owns :class:`FrameworkUnavailableError`, :class:`DtypeChangeWarning` and
:class:`DtypeChangeError`, each carrying the memory type it is about (also as ``subject``, as
every error of the package does: :mod:`openhcs_plugins.errors`). It imports only
:mod:`openhcs_plugins.memory.types` and :mod:`openhcs_plugins.errors` (no numpy, no framework),
so the framework modules and the dispatcher can both raise them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openhcs_plugins.errors import OpenHCSPluginsError, OpenHCSPluginsWarning
from openhcs_plugins.memory.types import MemoryType

if TYPE_CHECKING:
    import numpy as np

__all__ = ["DtypeChangeError", "DtypeChangeWarning", "FrameworkUnavailableError"]


class FrameworkUnavailableError(OpenHCSPluginsError, RuntimeError):
    """A framework a function needs is not installed, or has no usable device.

    ``memory_type`` and ``reason`` say which and why; the message names the extra to install.
    ``installed`` is True when the framework imports but cannot run here (cupy without a CUDA
    device, a GPU index that does not exist). ``fix``, when given, replaces the generic advice
    (the reason already names what is missing and the command that fixes it).
    """

    def __init__(
        self,
        memory_type: MemoryType,
        reason: str,
        *,
        installed: bool = False,
        fix: str | None = None,
    ) -> None:
        self.memory_type = MemoryType(memory_type)
        self.reason = reason
        self.installed = installed
        self.extra = self.memory_type.extra
        install = f"pip install 'openhcs-plugins[{self.extra}]'"
        if fix is not None:
            super().__init__(
                f"{self.memory_type.value} is not usable here: {reason}{fix}",
                subject=self.memory_type,
            )
            return
        if installed:
            hint = (
                f"it is installed ({install}) but cannot run here: use a machine with the device, "
                f"pass device='cpu' where the framework has a CPU, or declare another memory type"
            )
        else:
            hint = f"install it with: {install}"
        super().__init__(
            f"{self.memory_type.value} is not usable here: {reason}; {hint}",
            subject=self.memory_type,
            hint=None if installed else install,
        )


class DtypeChangeWarning(OpenHCSPluginsWarning):
    """A conversion changed the dtype in a way that can lose values (e.g. int64 -> int32)."""


class DtypeChangeError(OpenHCSPluginsError, TypeError):
    """A lossy dtype change was refused (strict dtypes: see
    :data:`openhcs_plugins.memory.convert.STRICT_DTYPES_ENV`)."""

    def __init__(
        self, message: str, *, source: np.dtype, target: np.dtype, memory_type: MemoryType
    ) -> None:
        super().__init__(message, subject=MemoryType(memory_type))
        self.source = source
        self.target = target
        self.memory_type = memory_type
