"""The registry adapter: the single place where a validated function becomes a registry entry.

Every source (entry points, the folder, editor code, ``register_function``) registers through a
:class:`RegistryAdapter`. The built-in adapter writes to a :class:`FunctionRegistry`; a host
application (OpenHCS itself) can subclass it and override :meth:`RegistryAdapter.publish` and
:meth:`RegistryAdapter.retract` to mirror entries into its own registry.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from openhcs_plugins.candidate import Candidate, StaticFunction
from openhcs_plugins.registry import (
    FunctionInfo,
    FunctionRegistry,
    Loader,
    RegistryEntry,
    get_default_registry,
    info_from_static,
)
from openhcs_plugins.signals import custom_function_signals

__all__ = ["RegistryAdapter"]


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

    def add(self, info: FunctionInfo, loader: Loader) -> RegistryEntry:
        """Register a lazy entry: ``loader`` imports the code on first use."""
        entry = self.registry.add_entry(RegistryEntry(info, loader=loader))
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
        loader_for: Callable[[StaticFunction], Loader],
    ) -> list[RegistryEntry]:
        """Register every function of a validated candidate, all or nothing.

        ``functions`` comes from the static validation of ``candidate.text``;
        ``loader_for(fn)`` returns the loader that imports or executes that function on first use.
        An entry of the same origin and key is replaced. Entries this origin registered before
        and no longer defines are the caller's to remove (:func:`~openhcs_plugins.loader.
        load_plugins` does it for all candidates in one pass).
        """
        functions = list(functions)
        infos = self.infos_for(candidate, functions)
        self.check(infos)
        return [self.add(info, loader_for(fn)) for info, fn in zip(infos, functions, strict=True)]

    def remove(self, key: str) -> bool:
        removed = self.registry.unregister(key)
        if removed:
            self.retract(key)
        return removed

    def remove_where(self, predicate: Callable[[FunctionInfo], bool]) -> list[str]:
        keys = self.registry.unregister_where(predicate)
        for key in keys:
            self.retract(key)
        return keys

    def changed(self) -> None:
        """Tell listeners (GUI lists) that the set of functions changed."""
        custom_function_signals.functions_changed.emit()
