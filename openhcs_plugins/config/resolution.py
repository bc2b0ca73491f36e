"""Resolution: what a lazy field reads when its stored value is ``None``.

A field resolves through the stack of :func:`config_context` blocks (innermost first), matched by
type, then the class default. :func:`resolve` turns a lazy instance into a concrete one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import weakref
from collections import deque
from collections.abc import Iterator
from typing import Any

from openhcs_plugins.config._lazy_state import (
    _CONTEXT,
    _info,
    _LazyInfo,
    has_lazy_resolution,
)
from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = ["LazyResolutionError", "config_context", "resolve", "to_base_config"]


class LazyResolutionError(OpenHCSPluginsError, LookupError):
    """A field has no value: not set, not in any :func:`config_context`, and no class default."""


def _resolve_field(obj: Any, name: str, info: _LazyInfo) -> Any:
    twin = info.nested.get(name)
    if twin is not None and info.defaults[name] is not None:
        # A fresh, empty twin: each of its fields resolves on its own, by type.
        return twin()
    # An optional nested config (``foo: Foo | None = None``) is inherited whole, or stays None.
    for ctx in reversed(_CONTEXT.get()):
        for provider_type in info.providers[name]:
            for provider in _providers(ctx, provider_type):
                try:
                    value = object.__getattribute__(provider, name)
                except AttributeError:
                    continue
                if value is not None:
                    return value
    default = info.defaults[name]
    if default is not dataclasses.MISSING:
        return default
    factory = info.default_factories[name]
    if factory is not dataclasses.MISSING:
        return factory()
    return None


def _providers(root: Any, base: type) -> Iterator[Any]:
    """``root`` and the dataclasses nested in it that are instances of ``base``, breadth first."""
    queue = deque([root])
    seen: set[int] = set()
    while queue:
        item = queue.popleft()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, base):
            yield item
        for name in _field_names(type(item)):
            try:
                child = object.__getattribute__(item, name)
            except AttributeError:
                continue
            if hasattr(type(child), "__dataclass_fields__") and not isinstance(child, type):
                queue.append(child)


_FIELD_NAMES: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
    return names


def _resolved(obj: Any, name: str) -> Any:
    """A field's value, resolved even inside patch_lazy_constructors."""
    value = object.__getattribute__(obj, name)
    if value is None:
        return _resolve_field(obj, name, _info(obj))
    return value


def resolve(obj: Any) -> Any:
    """A concrete instance of the base dataclass with every field resolved (recursively).

    Resolution uses the :func:`config_context` stack active now, and happens even inside
    :func:`patch_lazy_constructors` (asking for it is explicit). A concrete dataclass instance is
    returned unchanged. Raises :class:`LazyResolutionError` for a field that resolves to ``None``
    although the base class has no default for it.
    """
    if not has_lazy_resolution(obj) or isinstance(obj, type):
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return obj
        raise TypeError(f"resolve() needs a lazy dataclass instance, got {obj!r}")
    info = _info(obj)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(info.base):
        if not f.init:
            continue
        value = _resolved(obj, f.name)
        if has_lazy_resolution(value) and not isinstance(value, type):
            value = resolve(value)
        if (
            value is None
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            raise LazyResolutionError(
                f"{type(obj).__qualname__}.{f.name} has no value: it is not set, no "
                f"config_context provides a {info.base.__qualname__}, and "
                f"{info.base.__qualname__}.{f.name} has no default; set it or enter a "
                "config_context that does",
                subject=f"{type(obj).__qualname__}.{f.name}",
            )
        kwargs[f.name] = value
    return info.base(**kwargs)


#: Alias of :func:`resolve` under the name OpenHCS uses.
to_base_config = resolve


@contextlib.contextmanager
def config_context(obj: Any) -> Iterator[Any]:
    """Push ``obj`` (a dataclass instance, lazy or concrete) onto the resolution stack.

    Inside the block, a lazy ``X`` reading a ``None`` field looks for an ``X`` in the innermost
    context first (the object itself or one nested in its fields), then outward. The stack is a
    :class:`contextvars.ContextVar`: each thread and asyncio task has its own.
    """
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"config_context() needs a dataclass instance, got {obj!r}")
    token = _CONTEXT.set((*_CONTEXT.get(), obj))
    try:
        yield obj
    finally:
        _CONTEXT.reset(token)
