"""Fast lookups over one import policy: the allow/deny table, its parents, and bounded caches.

This module owns :class:`PolicyIndex`, everything derived from an
:class:`~openhcs_plugins.validation.policy.ImportPolicy` that the pass asks many times per file
(the verdict for a dotted path, whether an allowed module has excluded parts, which attribute
names need a closer look), and the path verdicts ``allowed``/``denied``/``parent``/``unknown``.
The policy stays a frozen value; the mutable caches live here, one index per policy
(:func:`index_of`). It imports only the standard library (not the policy module: it reads the
policy's fields).
"""

from __future__ import annotations

from typing import Any

__all__ = ["ALLOWED", "DENIED", "PARENT", "UNKNOWN", "PolicyIndex", "index_of"]

#: path_status results.
ALLOWED = "allowed"
DENIED = "denied"
#: a package that only leads to allowed submodules (``scipy`` for ``scipy.ndimage``): it may be
#: imported and used as the base of an attribute chain, but not passed around on its own.
PARENT = "parent"
UNKNOWN = "unknown"

#: Entries a cache keeps before it starts again (bounded across many files with odd names).
_CACHE_LIMIT = 50_000


class PolicyIndex:
    """Tables and caches built from one policy (``policy`` is an ``ImportPolicy``)."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        table = {path: False for path in policy.denied_modules}
        table.update({path: True for path in policy.allowed_modules})
        # an entry on both lists is denied: additions remove their paths from the deny list
        for path in policy.denied_modules & policy.allowed_modules:
            table[path] = False
        parents = set()
        for path in policy.allowed_modules:
            parts = path.split(".")
            parents.update(".".join(parts[:i]) for i in range(1, len(parts)))
        self._table = table
        self._parents = frozenset(parents)
        self._denied_roots = frozenset(
            path.split(".", 1)[0] for path, ok in table.items() if not ok
        )
        self._status_cache: dict[str, str] = {}
        self._below_cache: dict[str, bool] = {}
        #: attribute name -> whether the pass must look at it more closely.
        self.watched_attributes: dict[str, bool] = {}

    def trim(self) -> None:
        """Start the per-name caches again once they hold more than a bound."""
        if len(self.watched_attributes) > _CACHE_LIMIT:
            self.watched_attributes.clear()

    def path_status(self, path: str) -> str:
        """``allowed``, ``denied``, ``parent`` or ``unknown`` for a dotted module path."""
        cache = self._status_cache
        status = cache.get(path)
        if status is None:
            status = self._path_status(path)
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            cache[path] = status
        return status

    def _path_status(self, path: str) -> str:
        verdict = self._longest_entry(path)
        if verdict is None:
            return PARENT if path in self._parents else UNKNOWN
        if verdict:
            # A module re-exported inside an allowed one (``torch.nn.functional.torch``) leads
            # to the same excluded parts: ``....torch.jit`` is ``torch.jit``.
            parts = path.split(".")
            roots = self._denied_roots
            for start in range(1, len(parts) - 1):
                if parts[start] in roots and self._longest_entry(".".join(parts[start:])) is False:
                    return DENIED
        return ALLOWED if verdict else DENIED

    def _longest_entry(self, path: str) -> bool | None:
        """The verdict of the longest allow/deny entry that is ``path`` or a prefix of it."""
        table = self._table
        verdict = table.get(path)
        if verdict is not None:
            return verdict
        end = len(path)
        while True:
            end = path.rfind(".", 0, end)
            if end <= 0:
                return None
            verdict = table.get(path[:end])
            if verdict is not None:
                return verdict

    def has_exclusions_below(self, path: str) -> bool:
        """True when an allowed ``path`` contains excluded parts (``torch``: ``torch.jit``)."""
        cache = self._below_cache
        found = cache.get(path)
        if found is None:
            prefix = path + "."
            found = any(
                entry.startswith(prefix) and not self._table[entry]
                for entry in self.policy.denied_modules
            )
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            cache[path] = found
        return found


#: id(policy) -> (policy, its index). The policy is kept alive with its entry, so its id is
#: not reused while the entry exists; looking up by identity costs no hashing of the policy.
_INDEXES: dict[int, tuple[Any, PolicyIndex]] = {}
_MAX_INDEXES = 16


def index_of(policy: Any) -> PolicyIndex:
    """The index of ``policy`` (built once per policy object, a few kept)."""
    entry = _INDEXES.get(id(policy))
    if entry is not None and entry[0] is policy:
        return entry[1]
    if len(_INDEXES) >= _MAX_INDEXES:
        _INDEXES.pop(next(iter(_INDEXES)))
    index = PolicyIndex(policy)
    _INDEXES[id(policy)] = (policy, index)
    return index
