"""Deprecated re-export of the conversion names, kept for one release.

Conversion moved into the package :mod:`openhcs_plugins.memory`: the dispatcher and its rules
to :mod:`openhcs_plugins.memory.convert`, detection to ``memory.detect``, the errors to
``memory.errors``, aligned buffers to ``memory.buffers``, the ``doctor`` status to
``memory.status`` and each framework to ``memory.frameworks.<name>``. Import them from there.
This shim imports those modules and :mod:`openhcs_plugins._opencl` (and so numpy).
"""

from __future__ import annotations

from openhcs_plugins._opencl import configure_opencl, find_pocl_library
from openhcs_plugins._opencl import system_icds as _system_icds  # noqa: F401 (old private name)
from openhcs_plugins.memory.buffers import ALIGNMENT, empty_aligned
from openhcs_plugins.memory.convert import (
    STRICT_DTYPES_ENV,
    convert_memory,
    stack_planes,
    take_plane,
)
from openhcs_plugins.memory.detect import detect_memory_type, memory_type_of_type
from openhcs_plugins.memory.errors import (
    DtypeChangeError,
    DtypeChangeWarning,
    FrameworkUnavailableError,
)
from openhcs_plugins.memory.status import FrameworkStatus, check_framework, framework_status

__all__ = [
    "ALIGNMENT",
    "STRICT_DTYPES_ENV",
    "DtypeChangeError",
    "DtypeChangeWarning",
    "FrameworkStatus",
    "FrameworkUnavailableError",
    "check_framework",
    "configure_opencl",
    "convert_memory",
    "detect_memory_type",
    "empty_aligned",
    "find_pocl_library",
    "framework_status",
    "memory_type_of_type",
    "stack_planes",
    "take_plane",
]
