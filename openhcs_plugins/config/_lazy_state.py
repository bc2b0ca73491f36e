"""The lazy machinery's shared state: the context variables, the registry of lazy types, and
the record (:class:`_LazyInfo`) each lazy type carries.

Every other lazy module reads this one; it imports only the standard library.
"""

from __future__ import annotations

import contextvars
import dataclasses
import itertools
import threading
import weakref
from typing import Any

__all__ = ["has_lazy_resolution"]

# Instance attribute holding the frozenset of explicitly set field names (None while __init__
# runs, so assignments made by __post_init__ are not counted as the user's).
_EXPLICIT = "_lazy_explicit_fields_"


class _AllTypes:
    """Marker value of ``_PATCH``: every lazy type, including ones created inside the block."""

    def __repr__(self) -> str:
        return "<all lazy types>"


_ALL = _AllTypes()

#: None: normal behaviour; _ALL or a frozenset of lazy types: no resolution for those types.
_PATCH: contextvars.ContextVar[_AllTypes | frozenset[type] | None] = contextvars.ContextVar(
    "openhcs_plugins_lazy_patch", default=None
)
#: The config_context stack, outermost first.
_CONTEXT: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar(
    "openhcs_plugins_lazy_context", default=()
)

_LOCK = threading.RLock()
#: concrete class -> weak reference to its lazy twin (one twin per class).
_TWINS: weakref.WeakKeyDictionary[type, weakref.ref[type]] = weakref.WeakKeyDictionary()
#: every lazy type created in this process, by anyone (weak: a discarded type drops out).
_ALL_LAZY: weakref.WeakSet[type] = weakref.WeakSet()
_SERIAL = itertools.count()


@dataclasses.dataclass(frozen=True)
class _LazyInfo:
    """What the lazy machinery knows about one lazy type (stored as ``__lazy_info__``)."""

    base: type
    fields: frozenset[str]
    #: field name -> lazy twin type, for fields holding a nested dataclass.
    nested: dict[str, type]
    #: field name -> class default of ``base`` (dataclasses.MISSING when it has none).
    defaults: dict[str, Any]
    default_factories: dict[str, Any]
    #: field name -> the dataclasses of base's MRO that declare it, most specific first: a
    #: context object of any of them provides the field.
    providers: dict[str, tuple[type, ...]]
    serial: int
    #: modules the type belongs to: its base class's module and the module that called make_lazy.
    modules: frozenset[str]


def _raw(obj: Any, name: str) -> Any:
    return object.__getattribute__(obj, name)


def _raw_mode(lazy: type) -> bool:
    mode = _PATCH.get()
    if mode is None:
        return False
    return mode is _ALL or lazy in mode  # type: ignore[operator]


def _info(obj_or_type: Any) -> _LazyInfo:
    cls = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return cls.__lazy_info__  # type: ignore[no-any-return]


def has_lazy_resolution(x: Any) -> bool:
    """True for a lazy twin type made by :func:`make_lazy` and for its instances."""
    cls = x if isinstance(x, type) else type(x)
    return cls in _ALL_LAZY
