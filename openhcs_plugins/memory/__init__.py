"""Memory types and the memory-type decorators.

A *memory type* names the array framework a function works in: ``numpy``, ``cupy``, ``torch``,
``tensorflow``, ``jax`` or ``pyclesperanto``. A function declares it with a decorator::

    from openhcs_plugins.memory import numpy, torch

    @numpy
    def subtract_background(image, radius: int = 50):
        ...

    @torch(output_type="numpy", contract="PURE_2D")
    def denoise(image, strength: float = 0.5):
        ...

This package owns everything about arrays; this file only re-exports its public names. Its
modules, from the bottom up: :mod:`.types` (the decorator contract: memory types, contracts,
injected parameters), :mod:`.errors`, :mod:`.detect` and :mod:`.devices`, :mod:`.frameworks`
(one module per framework), :mod:`.buffers`, :mod:`.convert` (the dispatcher and its rules),
:mod:`.status` (``doctor``) and :mod:`.decorators`. Each imports only modules listed before it.
Importing this package imports no numpy and no framework; numpy is imported when data is first
converted, a framework when its data is.
"""

from __future__ import annotations

# Names imported as ``X as X`` stay importable from here, as before the split into a package
# (the registry, loader and isolated runner import them), but are not part of ``__all__``.
from openhcs_plugins.memory.convert import convert_memory
from openhcs_plugins.memory.convert import stack_planes as stack_planes
from openhcs_plugins.memory.convert import take_plane as take_plane
from openhcs_plugins.memory.decorators import DECORATORS as DECORATORS
from openhcs_plugins.memory.decorators import (
    cupy,
    is_memory_decorated,
    jax,
    memory_types,
    numpy,
    pyclesperanto,
    tensorflow,
    torch,
)
from openhcs_plugins.memory.detect import detect_memory_type
from openhcs_plugins.memory.detect import memory_type_of_type as memory_type_of_type
from openhcs_plugins.memory.errors import (
    DtypeChangeError,
    DtypeChangeWarning,
    FrameworkUnavailableError,
)
from openhcs_plugins.memory.types import (
    AVAILABLE_MEMORY_TYPES,
    CONTRACTS,
    MemoryType,
)
from openhcs_plugins.memory.types import CONTRACT_ATTRIBUTE as CONTRACT_ATTRIBUTE
from openhcs_plugins.memory.types import DECORATED_MARKER as DECORATED_MARKER
from openhcs_plugins.memory.types import INJECTED_PARAMETERS as INJECTED_PARAMETERS

__all__ = [
    "AVAILABLE_MEMORY_TYPES",
    "CONTRACTS",
    "DtypeChangeError",
    "DtypeChangeWarning",
    "FrameworkUnavailableError",
    "MemoryType",
    "convert_memory",
    "cupy",
    "detect_memory_type",
    "is_memory_decorated",
    "jax",
    "memory_types",
    "numpy",
    "pyclesperanto",
    "tensorflow",
    "torch",
]
