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
Importing this package imports none of them: each public name is imported from its module on
first use (PEP 562), so ``from openhcs_plugins.memory.types import MemoryType`` (what the
validator and a listing read) loads only :mod:`.types`. numpy is imported when data is first
converted, a framework when its data is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openhcs_plugins._exports import lazy_exports

if TYPE_CHECKING:  # the names as a type checker sees them; imported on first use below
    from openhcs_plugins.memory.convert import convert_memory as convert_memory
    from openhcs_plugins.memory.convert import stack_planes as stack_planes
    from openhcs_plugins.memory.convert import take_plane as take_plane
    from openhcs_plugins.memory.decorators import DECORATORS as DECORATORS
    from openhcs_plugins.memory.decorators import cupy as cupy
    from openhcs_plugins.memory.decorators import is_memory_decorated as is_memory_decorated
    from openhcs_plugins.memory.decorators import jax as jax
    from openhcs_plugins.memory.decorators import memory_types as memory_types
    from openhcs_plugins.memory.decorators import numpy as numpy
    from openhcs_plugins.memory.decorators import pyclesperanto as pyclesperanto
    from openhcs_plugins.memory.decorators import tensorflow as tensorflow
    from openhcs_plugins.memory.decorators import torch as torch
    from openhcs_plugins.memory.detect import detect_memory_type as detect_memory_type
    from openhcs_plugins.memory.detect import memory_type_of_type as memory_type_of_type
    from openhcs_plugins.memory.errors import DtypeChangeError as DtypeChangeError
    from openhcs_plugins.memory.errors import DtypeChangeWarning as DtypeChangeWarning
    from openhcs_plugins.memory.errors import FrameworkUnavailableError as FrameworkUnavailableError
    from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES as AVAILABLE_MEMORY_TYPES
    from openhcs_plugins.memory.types import CONTRACT_ATTRIBUTE as CONTRACT_ATTRIBUTE
    from openhcs_plugins.memory.types import CONTRACTS as CONTRACTS
    from openhcs_plugins.memory.types import DECORATED_MARKER as DECORATED_MARKER
    from openhcs_plugins.memory.types import INJECTED_PARAMETERS as INJECTED_PARAMETERS
    from openhcs_plugins.memory.types import MemoryType as MemoryType
    from openhcs_plugins.memory.types import ProcessingContract as ProcessingContract

#: Public name -> the module of this package that defines it.
_HOMES: dict[str, str] = {
    "AVAILABLE_MEMORY_TYPES": "types",
    "CONTRACTS": "types",
    "MemoryType": "types",
    "ProcessingContract": "types",
    "DtypeChangeError": "errors",
    "DtypeChangeWarning": "errors",
    "FrameworkUnavailableError": "errors",
    "convert_memory": "convert",
    "detect_memory_type": "detect",
    "cupy": "decorators",
    "is_memory_decorated": "decorators",
    "jax": "decorators",
    "memory_types": "decorators",
    "numpy": "decorators",
    "pyclesperanto": "decorators",
    "tensorflow": "decorators",
    "torch": "decorators",
}

#: Importable from here, as before the split into a package, but not part of ``__all__``.
_ALSO: dict[str, str] = {
    "stack_planes": "convert",
    "take_plane": "convert",
    "DECORATORS": "decorators",
    "memory_type_of_type": "detect",
    "CONTRACT_ATTRIBUTE": "types",
    "DECORATED_MARKER": "types",
    "INJECTED_PARAMETERS": "types",
}

__all__ = sorted(_HOMES)


__getattr__, __dir__ = lazy_exports(__name__, {k: f".{v}" for k, v in {**_HOMES, **_ALSO}.items()})
