"""The registry adapter: the single place where a validated function becomes a registry entry.

Every source (entry points, the folder, editor code, :func:`register_function`) registers,
removes and announces changes through a :class:`RegistryAdapter`; nothing else writes to a
registry or emits ``functions_changed``. The built-in adapter writes to a
:class:`~openhcs_plugins.registry.FunctionRegistry`; a host application (OpenHCS itself) can
subclass it and override :meth:`RegistryAdapter.publish` and :meth:`RegistryAdapter.retract` to
mirror entries into its own registry. It may import the store
(:mod:`openhcs_plugins.registry._store`), ``candidate``, ``signals`` and ``validation``; the
store imports nothing from here.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterable
from typing import Any

from openhcs_plugins.registry._store import (
    FunctionInfo,
    FunctionRegistry,
    Importer,
    RegistryEntry,
    get_default_registry,
    info_from_callable,
    info_from_static,
)
from openhcs_plugins.sources.candidate import (
    OPENHCS_NAMESPACE,
    Candidate,
    Provenance,
    SourceKind,
    StaticFunction,
)

__all__ = ["RegistryAdapter", "register_function"]


class RegistryAdapter:
    """Adds and removes entries; the registry is the built-in one unless given."""

    def __init__(self, registry: FunctionRegistry | None = None) -> None:
        self.registry = registry if registry is not None else get_default_registry()

    # Hooks for host adapters ------------------------------------------------------------------
    def publish(self, entry: RegistryEntry) -> None:
        """Called after an entry is added. A host adapter mirrors it here."""

    def retract(self, key: str) -> None:
        """Called after an entry is removed."""

    # The API every source uses ----------------------------------------------------------------
    def check(self, infos: list[FunctionInfo]) -> None:
        """Raise before any change if one of ``infos`` would collide (all-or-nothing)."""
        keys = [info.key for info in infos]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"the same code defines {', '.join(duplicates)} more than once")
        for info in infos:
            self.registry.check_free(info)

    def add(self, info: FunctionInfo, importer: Importer) -> RegistryEntry:
        """Register a lazy entry: ``importer`` imports the code on first use."""
        entry = self.registry.add_entry(RegistryEntry(info, importer=importer))
        self.publish(entry)
        return entry

    def add_loaded(self, info: FunctionInfo, func: Callable[..., Any]) -> RegistryEntry:
        """Register an already-loaded callable."""
        entry = self.registry.add_entry(RegistryEntry(info, func=func))
        self.publish(entry)
        return entry

    def infos_for(
        self, candidate: Candidate, functions: Iterable[StaticFunction]
    ) -> list[FunctionInfo]:
        """The entry infos a validated candidate's functions would get."""
        return [
            info_from_static(fn, candidate.namespace, candidate.provenance(line=fn.line))
            for fn in functions
        ]

    def register_candidate(
        self,
        candidate: Candidate,
        functions: Iterable[StaticFunction],
        importer_for: Callable[[StaticFunction], Importer],
    ) -> list[RegistryEntry]:
        """Register every function of a validated candidate, all or nothing.

        ``functions`` comes from the static validation of ``candidate.text``;
        ``importer_for(fn)`` returns the :data:`~openhcs_plugins.registry.Importer` that imports or
        executes that function on first use.
        An entry of the same identity and key is replaced. Entries this candidate registered before
        and no longer defines are the caller's to remove (:func:`~openhcs_plugins.loader.
        load_plugins` does it for all candidates in one pass).
        """
        functions = list(functions)
        infos = self.infos_for(candidate, functions)
        self.check(infos)
        return [self.add(info, importer_for(fn)) for info, fn in zip(infos, functions, strict=True)]

    def register_callable(self, func: Callable[..., Any], namespace: str) -> FunctionInfo:
        """Register an already-decorated callable as ``"{namespace}:{func.__name__}"``.

        The function must pass :func:`openhcs_plugins.validation.validate_function`
        (:class:`ValueError` otherwise). Registering the same function object again replaces
        its entry.
        """
        from openhcs_plugins.validation import validate_function

        result = validate_function(func)
        if not result.is_valid:
            raise ValueError("; ".join(str(e) for e in result.errors))
        try:
            file = inspect.getsourcefile(func)
        except TypeError:
            file = None
        provenance = Provenance(
            source=SourceKind.API,
            file=f"{func.__module__}.{func.__qualname__}" if file is None else file,
            line=getattr(getattr(func, "__code__", None), "co_firstlineno", None),
        )
        info = info_from_callable(func, namespace, provenance)
        self.add_loaded(info, func)
        return info

    def remove(self, key: str) -> bool:
        removed = self.registry.unregister(key)
        if removed:
            self.retract(key)
        return removed

    def take(self, key: str) -> RegistryEntry | None:
        """Remove ``key`` and return its entry (for :meth:`restore`), or None when absent."""
        entry = self.registry.entry(key) if key in self.registry else None
        if entry is not None and self.remove(key):
            return entry
        return None

    def restore(self, entries: Iterable[RegistryEntry]) -> list[RegistryEntry]:
        """Put back entries :meth:`take` removed (a rollback); a key taken again meanwhile is
        left as it is. Each restored entry is published again."""
        restored = []
        for entry in entries:
            if entry.info.key in self.registry:
                continue
            restored.append(self.registry.add_entry(entry))
            self.publish(restored[-1])
        return restored

    def remove_where(self, predicate: Callable[[FunctionInfo], bool]) -> list[str]:
        keys = self.registry.unregister_where(predicate)
        for key in keys:
            self.retract(key)
        return keys

    def changed(self) -> None:
        """Tell listeners (GUI lists) that the set of functions changed."""
        if "openhcs_plugins.signals" not in sys.modules:
            # Nobody imported the signals, so nobody listens: psygnal is not worth ~20 ms here.
            return
        from openhcs_plugins.signals import custom_function_signals

        custom_function_signals.functions_changed.emit()


def register_function(
    func: Callable[..., Any],
    backend: str | None = OPENHCS_NAMESPACE,
    *,
    registry: FunctionRegistry | None = None,
    adapter: RegistryAdapter | None = None,
) -> FunctionInfo:
    """Register a decorated callable under ``"{backend}:{func.__name__}"`` (OpenHCS's call).

    The function must pass :func:`openhcs_plugins.validation.validate_function`. Registering
    the same function object again replaces its entry. Emits ``functions_changed``. The entry
    goes through ``adapter`` (default: the built-in adapter of ``registry``, itself the default
    registry unless given).

    >>> from openhcs_plugins.memory import numpy
    >>> reg = FunctionRegistry()
    >>> @numpy
    ... def double(image):
    ...     return image * 2
    >>> register_function(double, registry=reg).key
    'openhcs:double'
    """
    if adapter is None:
        adapter = RegistryAdapter(registry)
    info = adapter.register_callable(func, backend or OPENHCS_NAMESPACE)
    adapter.changed()
    return info
