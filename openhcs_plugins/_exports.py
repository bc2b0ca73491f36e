"""Lazy public names for a package's ``__init__`` (PEP 562), written once.

A package that re-exports names from its modules imports each module when one of its names is
first used, so importing the package costs nothing more::

    __getattr__, __dir__ = lazy_exports(__name__, {"Problem": ".problem"})

A module written with a leading dot is relative to the package. ``deprecated`` maps an old name
to ``(module, new name)``: it still resolves, with a :class:`DeprecationWarning`, and is not
cached, so each use warns. Standard library only; imports nothing of the package.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str,
    homes: Mapping[str, str],
    *,
    deprecated: Mapping[str, tuple[str, str]] | None = None,
    listed: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: ``homes`` maps a name to its module.

    ``__dir__`` lists the names of ``homes`` and ``listed`` and the public names already bound.
    """
    old_names = dict(deprecated or {})
    shown = {*homes, *listed}

    def absolute(module: str) -> str:
        return f"{package}{module}" if module.startswith(".") else module

    def __getattr__(name: str) -> Any:
        if name in old_names:
            module, new = old_names[name]
            warnings.warn(
                f"{package}.{name} is deprecated, use {new} ({absolute(module)})",
                DeprecationWarning,
                stacklevel=2,
            )
            return getattr(importlib.import_module(absolute(module)), new)
        module = homes.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(absolute(module)), name)
        sys.modules[package].__dict__[name] = value  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        bound = (k for k in sys.modules[package].__dict__ if not k.startswith("_"))
        return sorted({*shown, *bound})

    return __getattr__, __dir__
