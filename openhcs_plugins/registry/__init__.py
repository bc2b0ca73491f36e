"""The registry: where a validated function becomes an entry, and the store of entries.

Two modules, one way: :mod:`~openhcs_plugins.registry.adapter` (:class:`RegistryAdapter`,
:func:`register_function`) is the only writer; it adds, removes and announces entries in the
store, :mod:`~openhcs_plugins.registry._store` (:class:`FunctionRegistry`, keys
``"namespace:name"``, lazy entries with provenance), which imports nothing from the adapter.
Host adapters (OpenHCS) subclass :class:`RegistryAdapter` here. This package may import
``candidate``, ``memory``, ``signals`` and ``validation``; sources, the loader, execution, the
manager, the CLI and the GUI import it, never the reverse.

>>> from openhcs_plugins.memory import numpy
>>> reg = FunctionRegistry()
>>> @numpy
... def double(image):
...     return image * 2
>>> register_function(double, registry=reg).key
'openhcs:double'
"""

from __future__ import annotations

from openhcs_plugins._exports import lazy_exports
from openhcs_plugins.registry._store import (
    ContractError,
    FunctionInfo,
    FunctionLoadError,
    FunctionRegistry,
    Importer,
    RegistryCollisionError,
    RegistryEntry,
    UnknownFunctionError,
    check_result,
    get_default_registry,
    info_from_callable,
    info_from_static,
    make_key,
    parameters_of,
    split_key,
)
from openhcs_plugins.registry.adapter import RegistryAdapter, register_function

__all__ = [
    "ContractError",
    "FunctionInfo",
    "FunctionLoadError",
    "FunctionRegistry",
    "Importer",
    "RegistryAdapter",
    "RegistryCollisionError",
    "RegistryEntry",
    "UnknownFunctionError",
    "check_result",
    "get_default_registry",
    "info_from_callable",
    "info_from_static",
    "make_key",
    "parameters_of",
    "register_function",
    "split_key",
]


# ``Loader``, the old name of :data:`Importer`, kept for one release.
__getattr__, __dir__ = lazy_exports(
    __name__, {}, deprecated={"Loader": ("._store", "Importer")}, listed=__all__
)
