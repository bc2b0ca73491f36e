"""Discovery with the cache: what the sources find, taken from the cache when it still holds.

A warm start reads the discovery cache (:mod:`openhcs_plugins.sources.cache`) and parses
nothing: the entry-point section is used while the environment fingerprint matches (a module
file whose stamp changed is examined again alone), a folder file's record while its stamp is
unchanged (the file is not even read) or, once read, while its sha256 matches.
:func:`validator_key` names the code and settings that decide what discovery finds, so a
cache written by other code or settings is not used. It imports :mod:`openhcs_plugins.sources`
and :mod:`.discovery`; the entry-point source and :mod:`.examine` (the validator) only on a
cache miss.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openhcs_plugins.loading.configured import current_settings
from openhcs_plugins.loading.discovery import Discovery
from openhcs_plugins.sources import cache as _cache
from openhcs_plugins.sources.candidate import Candidate, ParameterInfo, TrustLevel
from openhcs_plugins.sources.folder import FolderSource, read_source
from openhcs_plugins.sources.problem import Problem

if TYPE_CHECKING:
    from openhcs_plugins.config import Settings
    from openhcs_plugins.config.trust import TrustRule

__all__ = [
    "Found",
    "clear_discovery_cache",
    "discover",
    "discovery_cache_info",
    "validator_key",
]


#: The folders whose modules decide what discovery finds (their files' stamps are in the key).
_DISCOVERY_PACKAGES = ("sources", "loading", "validation")
#: Single modules that decide it too (the decorator contract, the runtime signature reader).
_DISCOVERY_MODULES = ("memory/types.py", "registry/_store.py")


def validator_key(settings: Settings | None = None) -> str:
    """Identifies the validator and the settings that decide validation, for the cache.

    A cache written by other code (the package's location, and the modification time and size of
    every module that decides discovery: installing another version rewrites them, and an
    editable install or a checkout changes without a new version) or with other trust or policy
    settings is not used. Stat calls only: no metadata lookup.
    """
    package = Path(__file__).resolve().parent.parent
    parts = [str(package)]
    names = list(_DISCOVERY_MODULES)
    for folder in _DISCOVERY_PACKAGES:
        try:
            listing = os.listdir(package / folder)
        except OSError:
            listing = []
        names += sorted(f"{folder}/{n}" for n in listing if n.endswith(".py"))
    for name in names:
        parts.append(f"{name}:{_cache.file_stamp(package / name)}")
    if settings is not None:
        parts.append(repr(settings.trust))
        parts.append(repr(settings.policy))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


@dataclass
class Found:
    """What :func:`discover` found, from the cache or read now."""

    entry_points: list[Discovery] = field(default_factory=list)
    entry_point_problems: list[Problem] = field(default_factory=list)
    folder: list[Discovery] = field(default_factory=list)
    folder_problems: list[Problem] = field(default_factory=list)
    #: candidates read and validated now (not taken from the cache).
    misses: int = 0
    #: something was taken from the cache.
    reused: bool = False
    #: the cache must be written (something was re-read, or entries disappeared).
    changed: bool = False
    #: ``warm`` (everything from the cache), ``partial``, ``cold`` or ``off``.
    cache: str = "off"


def _entry_points_from_cache(
    state: _cache.CacheState,
    parameters: list[ParameterInfo],
    trust: TrustLevel,
    policy: Any,
    found: Found,
) -> bool:
    """Rebuild the entry-point discoveries from the cache; False when it cannot be used."""
    try:
        discoveries = [Discovery.from_dict(d, parameters) for d in state.entry_points]
        problems = [Problem.from_dict(p) for p in state.entry_point_problems]
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    for discovery in discoveries:
        if discovery.candidate.trust is not trust:
            return False
        path = discovery.candidate.path
        stamp = _cache.file_stamp(path) if path is not None else None
        if path is not None and (stamp is None or tuple(stamp) != discovery.stamp):
            # The module file changed (an editable install was edited): read just this one.
            found.entry_points.append(_reexamine(discovery.candidate, policy))
            found.misses += 1
            found.changed = True
        else:
            found.entry_points.append(discovery)
    found.entry_point_problems.extend(problems)
    found.reused = True
    return True


def _reexamine(candidate: Candidate, policy: Any) -> Discovery:
    if candidate.path is None or candidate.path.suffix != ".py":
        return _examine_entry_point(candidate, policy)
    try:
        text = read_source(candidate.path)
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem.for_candidate(
            candidate, f"cannot read the source: {exc}", kind="unreadable"
        )
        return Discovery(candidate, (), (problem,), ())
    return _examine_entry_point(replace(candidate, text=text, sha256=""), policy)


def _examine_entry_point(candidate: Candidate, policy: Any) -> Discovery:
    stamp = _cache.file_stamp(candidate.path) if candidate.path is not None else None
    discovery = _examine(candidate, policy)
    # The text is not kept: packages are imported by name, and the cache stays small.
    return replace(
        discovery,
        candidate=replace(candidate, text="", sha256=candidate.sha256),
        stamp=(stamp[0], stamp[1]) if stamp is not None else None,
    )


def _discover_entry_points(trust: TrustLevel, policy: Any, found: Found) -> None:
    from openhcs_plugins.sources.entry_points import EntryPointSource

    for item in EntryPointSource(trust).candidates():
        if isinstance(item, Problem):
            found.entry_point_problems.append(item)
        else:
            found.entry_points.append(_examine_entry_point(item, policy))
            found.misses += 1
    # Even an environment without any plugin left must record its new fingerprint.
    found.changed = True


def _discover_folder(
    folder: Path,
    rule: TrustRule,
    policy: Any,
    state: _cache.CacheState | None,
    parameters: list[ParameterInfo],
    found: Found,
) -> None:
    cached = state.folder if state is not None else {}
    source = FolderSource(folder, rule.configured)
    for path in source.files():
        try:
            stamp = _cache.folder_stamp(os.stat(path))  # before the text is read
        except OSError:
            stamp = None
        record = cached.get(str(path))
        if record is not None and stamp is not None:
            try:
                trust = rule.level(record["sha256"])  # the trust store holds this text?
                found.folder.append(
                    Discovery.from_stamped_record(path, trust, record, parameters, stamp)
                )
            except (KeyError, TypeError, ValueError, IndexError):
                pass  # changed, other trust level, or a malformed record: read the file
            else:
                found.reused = True
                continue
        item = source.candidate(path)
        if isinstance(item, Problem):
            found.folder_problems.append(item)
            continue
        trust = rule.level(item.sha256)
        if trust is not item.trust:
            item = replace(item, trust=trust)
        if record is not None:
            try:
                found.folder.append(Discovery.from_record(item, record, parameters, stamp))
            except (KeyError, TypeError, ValueError, IndexError):
                pass  # changed file, other trust level, or a malformed record: validate again
            else:
                found.reused = True
                if stamp is not None and record.get("stamp") != list(stamp):
                    found.changed = True  # the same text, touched: record the new stamp
                continue
        found.folder.append(replace(_examine(item, policy), stamp=stamp))
        found.misses += 1
        found.changed = True
    prefix = str(folder) + os.sep
    current = {str(d.candidate.path) for d in found.folder} | {
        p.file for p in found.folder_problems if p.file
    }
    if any(path.startswith(prefix) and path not in current for path in cached):
        found.changed = True  # files were deleted: drop their records


def _examine(candidate: Candidate, policy: Any) -> Discovery:
    # The validator is imported only when something must be read: a warm start never needs it.
    from openhcs_plugins.loading.examine import examine

    return examine(candidate, policy)


def discover(
    settings: Settings,
    *,
    policy: Any,
    folder: Path | None,
    include_entry_points: bool,
    refresh: bool,
) -> Found:
    """Find the candidates of the installed packages (``include_entry_points``) and of
    ``folder`` (None: not the folder), taking what the cache still holds and writing back what
    changed. ``found.cache`` says how much came from the cache."""
    ep_trust = settings.trust.level_for("entry_point")
    use_cache = not _cache.cache_disabled()
    key = validator_key(settings)
    cache_path = _cache.cache_file(settings.cache_path())
    state = _cache.read_cache(cache_path) if use_cache and not refresh else None
    if state is not None and state.validator != key:
        state = None
    parameters: list[ParameterInfo] = []
    if state is not None:
        try:
            parameters = _cache.ParameterTable.read(state.parameters)
        except (TypeError, ValueError):
            state = None  # a malformed table: nothing in the file can be read
    found = Found()
    ep_state_valid = False
    fingerprint = ""
    if include_entry_points:
        fingerprint = _cache.environment_fingerprint([key])
        if state is not None and state.fingerprint == fingerprint:
            ep_state_valid = _entry_points_from_cache(state, parameters, ep_trust, policy, found)
            if not ep_state_valid:
                found.entry_points.clear()
                found.entry_point_problems.clear()
        if not ep_state_valid:
            _discover_entry_points(ep_trust, policy, found)
    if folder is not None:
        from openhcs_plugins.config.trust import TrustRule

        folder_rule = TrustRule.for_settings(settings.trust, "folder")
        _discover_folder(folder, folder_rule, policy, state, parameters, found)
    if use_cache and found.changed:
        _save(found, state, key, fingerprint, folder, include_entry_points, cache_path)
    if not use_cache:
        found.cache = "off"
    elif state is None:  # missing, unreadable, written by another validator, or refresh
        found.cache = "cold"
    elif not found.misses and (ep_state_valid or not include_entry_points):
        found.cache = "warm"
    else:
        found.cache = "partial" if found.reused else "cold"
    return found


def _save(
    found: Found,
    state: _cache.CacheState | None,
    key: str,
    fingerprint: str,
    folder: Path | None,
    include_entry_points: bool,
    cache_path: Path,
) -> None:
    """Write what was found over ``state`` (the sections not looked at now are kept, their
    parameters moved into the new table)."""
    table = _cache.ParameterTable()
    new_state = _cache.CacheState(validator=key)
    if state is not None:
        old = _cache.ParameterTable.read(state.parameters)  # read once already: it is valid
        new_state.fingerprint = state.fingerprint
        new_state.entry_point_problems = list(state.entry_point_problems)
        if not include_entry_points:
            moved = (_moved(r, old, table) for r in state.entry_points)
            new_state.entry_points = [r for r in moved if r is not None]
        prefix = str(folder) + os.sep if folder is not None else None
        for path, record in state.folder.items():
            if prefix is not None and path.startswith(prefix):
                continue  # this folder's records are written from what was found now
            kept = _moved(record, old, table)
            if kept is not None:
                new_state.folder[path] = kept
    if include_entry_points:
        new_state.fingerprint = fingerprint
        new_state.entry_points = [d.to_dict(table) for d in found.entry_points]
        new_state.entry_point_problems = [p.to_dict() for p in found.entry_point_problems]
    if folder is not None:
        for d in found.folder:
            new_state.folder[str(d.candidate.path)] = d.to_record(table)
    new_state.parameters = table.rows
    _cache.write_cache(new_state, cache_path)


def _moved(
    record: dict[str, Any], old: list[ParameterInfo], table: _cache.ParameterTable
) -> dict[str, Any] | None:
    """A record kept from the old file, its parameter positions rewritten for ``table``; None
    for a malformed record (it is read and validated again next time)."""
    try:
        functions = [
            [*row[:5], table.indices(old[i] for i in row[5]), *row[6:]]
            for row in record["functions"]
        ]
    except (KeyError, TypeError, IndexError):
        return None
    return {**record, "functions": functions}


def discovery_cache_info(settings: Settings | None = None) -> _cache.CacheInfo:
    """The cache's state for ``doctor`` (stale when written by another validator or settings)."""
    settings = current_settings() if settings is None else settings
    return _cache.cache_info(validator_key(settings), settings.cache_path())


def clear_discovery_cache(settings: Settings | None = None) -> list[Path]:
    """Delete the discovery cache files (``openhcs-plugins cache clear``); returns them."""
    settings = current_settings() if settings is None else settings
    return _cache.clear_cache(settings.cache_path())
