"""The decorator contract: memory types, processing contracts and the injected parameters.

This module is the one home of what a memory-type decorator promises (OpenHCS reads the same
attributes): the six :class:`MemoryType` names, the processing contracts, the attribute names
the decorator sets and the parameters it injects into the signature (``slice_by_slice``).
Validation, the registry and the decorators import these names from here; nothing here imports
numpy, a framework or another module of this package (only the standard library).
"""

from __future__ import annotations

import inspect
from enum import Enum

__all__ = [
    "AVAILABLE_MEMORY_TYPES",
    "CONTRACTS",
    "CONTRACT_ATTRIBUTE",
    "DECORATED_MARKER",
    "DEFAULT_CONTRACT",
    "INJECTED_PARAMETERS",
    "OPENHCS_CONTRACT_ATTRIBUTE",
    "OPENHCS_CONTRACT_MODULE",
    "MemoryType",
    "ProcessingContract",
    "coerce_contract",
    "coerce_memory_type",
    "inject_parameters",
]


class MemoryType(str, Enum):
    """The six array frameworks a function can declare."""

    NUMPY = "numpy"
    CUPY = "cupy"
    TORCH = "torch"
    TENSORFLOW = "tensorflow"
    JAX = "jax"
    PYCLESPERANTO = "pyclesperanto"

    def __str__(self) -> str:
        return self.value

    @property
    def extra(self) -> str:
        """The ``pip install openhcs-plugins[EXTRA]`` that provides this framework."""
        return self.value


#: The names of the six memory types, in the order the OpenHCS documentation lists them.
AVAILABLE_MEMORY_TYPES: list[str] = [m.value for m in MemoryType]


class ProcessingContract(str, Enum):
    """How OpenHCS runs a function on a stack (OpenHCS's enum of the same name).

    ``@numpy(contract=ProcessingContract.PURE_2D)``, ``contract="PURE_2D"`` and OpenHCS's own
    ``ProcessingContract.PURE_2D`` are the same declaration (:func:`coerce_contract` reads the
    member's name); a member equals its name as a string.
    """

    FLEXIBLE = "FLEXIBLE"
    PURE_3D = "PURE_3D"
    PURE_2D = "PURE_2D"
    VOLUMETRIC_TO_SLICE = "VOLUMETRIC_TO_SLICE"


#: Processing contracts OpenHCS understands (``__openhcs_declared_processing_contract__``).
CONTRACTS: tuple[str, ...] = tuple(member.value for member in ProcessingContract)
#: The contract of a function declared without ``contract=``.
DEFAULT_CONTRACT = "FLEXIBLE"

#: Attribute set on every function wrapped by one of these decorators.
DECORATED_MARKER = "__openhcs_plugins_memory_decorated__"
#: Attribute holding the processing contract, as a string (OpenHCS reads it).
CONTRACT_ATTRIBUTE = "__openhcs_declared_processing_contract__"
#: OpenHCS's module that defines its ``ProcessingContract`` enum (0.8.6), and the attribute
#: OpenHCS reads a callable's contract from (a member of that enum).
OPENHCS_CONTRACT_MODULE = "openhcs.processing.backends.lib_registry.unified_registry"
OPENHCS_CONTRACT_ATTRIBUTE = "__processing_contract__"
#: Parameters the decorator injects; validation treats them as the decorator's, not the user's.
INJECTED_PARAMETERS: frozenset[str] = frozenset({"slice_by_slice"})


def coerce_memory_type(value: MemoryType | str, what: str | None = None) -> MemoryType:
    """``value`` as a :class:`MemoryType`; a ValueError naming the six otherwise.

    >>> coerce_memory_type("torch")
    <MemoryType.TORCH: 'torch'>
    """
    try:
        return MemoryType(value)
    except ValueError:
        prefix = f"{what} " if what else ""
        raise ValueError(
            f"{prefix}{value!r} is not a memory type; use one of: "
            + ", ".join(AVAILABLE_MEMORY_TYPES)
        ) from None


def coerce_contract(contract: object) -> str:
    """The contract's name (a string or an enum member, any case); None is the default.

    >>> coerce_contract("pure_2d")
    'PURE_2D'
    """
    if contract is None:
        return DEFAULT_CONTRACT
    name = str(getattr(contract, "name", contract)).upper()
    if name not in CONTRACTS:
        raise ValueError(
            f"contract {contract!r} is not a processing contract; use one of: "
            + ", ".join(CONTRACTS)
        )
    return name


def inject_parameters(signature: inspect.Signature, default: bool = False) -> inspect.Signature:
    """``signature`` with the keyword-only ``slice_by_slice: bool = False`` OpenHCS passes
    (``default``: its default, ``slice_by_slice_default=True`` on the decorator).

    A signature that already has the parameter is returned unchanged.
    """
    if "slice_by_slice" in signature.parameters:
        return signature
    parameters = list(signature.parameters.values())
    injected = inspect.Parameter(
        "slice_by_slice", inspect.Parameter.KEYWORD_ONLY, default=default, annotation=bool
    )
    # Keyword-only must come before **kwargs.
    if parameters and parameters[-1].kind is inspect.Parameter.VAR_KEYWORD:
        parameters.insert(len(parameters) - 1, injected)
    else:
        parameters.append(injected)
    return signature.replace(parameters=parameters)
