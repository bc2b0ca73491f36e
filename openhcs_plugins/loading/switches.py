"""Enable and disable: the settings' ``disabled`` list, rewritten.

:func:`disable` and :func:`enable` rewrite the user's settings file under its lock
(:mod:`.configured` reads it). It imports the settings module, the registry and (to check that a
name exists) :mod:`.load`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins.config import ENVIRONMENT_SEPARATOR, environment_id, settings_file_path
from openhcs_plugins.registry import FunctionRegistry, split_key

__all__ = ["SettingChange", "disable", "enable"]


@dataclass(frozen=True)
class SettingChange:
    """What :func:`enable` or :func:`disable` did: ``changed`` is False for a no-op."""

    name: str
    changed: bool
    message: str
    #: the settings file written, when one was.
    path: Path | None = None

    def __str__(self) -> str:
        return self.message


def _check_name(name: str) -> None:
    namespace, sep, function = name.partition(":")
    if not namespace.isidentifier() or (sep and not function.isidentifier()):
        raise ValueError(
            f"{name!r} is not a namespace (`lab_filters`) or a function key (`lab_filters:blur`)"
        )


def _known(name: str, folder: Path | None) -> bool:
    """Whether ``name`` is a namespace or key found here (installed or in the folder)."""
    from openhcs_plugins.config import load_settings
    from openhcs_plugins.loading.load import load_plugins

    everything = load_settings(disabled=())
    registry = FunctionRegistry()
    report = load_plugins(registry=registry, settings=everything, folder=folder)
    keys = set(registry.keys())
    namespaces = {split_key(k)[0] for k in keys}
    namespaces.update(p.namespace for p in report.problems if p.namespace)
    return name in keys if ":" in name else name in namespaces


def _change_disabled(change: Callable[[tuple[str, ...]], tuple[str, ...] | None]) -> bool:
    """Rewrite ``disabled`` in the settings file with ``change(current)`` under the file's lock
    (concurrent ``disable`` commands keep each other's names); ``change`` returns None to
    leave the file untouched. True when the file was written."""
    from openhcs_plugins.config import change_settings, with_setting

    written = False

    def edit(lazy: Any) -> Any:
        nonlocal written
        stored = object.__getattribute__(lazy, "disabled") if lazy is not None else None
        new = change(tuple(stored or ()))
        if new is None:
            return lazy
        written = True
        return with_setting(lazy, "disabled", new or None)

    change_settings(edit)
    return written


def _env_override_note() -> str:
    from openhcs_plugins.config import ENV_VARS

    var = ENV_VARS["disabled"]
    if os.environ.get(var, "").strip():
        return f" Note: {var} is set and overrides the settings file's list."
    return ""


def disable(
    name: str, *, everywhere: bool = False, folder: str | os.PathLike[str] | None = None
) -> SettingChange:
    """Switch off a namespace (``lab_filters``) or one function (``lab_filters:blur``).

    Written to the user's settings file (``disabled``), scoped to this Python environment
    (``name@<environment id>``) unless ``everywhere``. Disabled functions are not registered by
    :func:`load_plugins`. Disabling a name that is neither installed nor in the folder changes
    nothing and says so. Raises :class:`ValueError` for a malformed name and
    :class:`openhcs_plugins.settings.SettingsFileError` when the settings file is broken (it is
    then left untouched). ``folder`` is the functions folder to look in (default: the
    ``functions_dir`` setting).
    """
    _check_name(name)
    if not _known(name, Path(folder) if folder is not None else None):
        return SettingChange(
            name,
            False,
            f"{name!r} is not installed or in the functions folder here; nothing was "
            "disabled (see `openhcs-plugins list`).",
        )
    entry = name if everywhere else f"{name}{ENVIRONMENT_SEPARATOR}{environment_id()}"
    scope = "every environment" if everywhere else f"this environment ({sys.prefix})"

    def add(current: tuple[str, ...]) -> tuple[str, ...] | None:
        if entry in current or (name in current and not everywhere):
            return None
        return (*current, entry)

    if not _change_disabled(add):
        return SettingChange(name, False, f"{name} is already disabled in {scope}.")
    path = settings_file_path()
    return SettingChange(
        name, True, f"disabled {name} in {scope}; saved in {path}.{_env_override_note()}", path
    )


def enable(name: str) -> SettingChange:
    """Switch a disabled namespace or function on again (in this environment and, when it was
    disabled everywhere, everywhere). Enabling something that is not disabled changes
    nothing and says so."""
    _check_name(name)
    here = f"{name}{ENVIRONMENT_SEPARATOR}{environment_id()}"
    everywhere = ""

    def remove(current: tuple[str, ...]) -> tuple[str, ...] | None:
        nonlocal everywhere
        remaining = tuple(item for item in current if item not in (name, here))
        if remaining == current:
            return None
        if name in current:
            everywhere = " (it was disabled in every environment)"
        return remaining

    if not _change_disabled(remove):
        return SettingChange(
            name,
            False,
            f"{name} is not disabled in the settings file; nothing changed.{_env_override_note()}",
        )
    path = settings_file_path()
    return SettingChange(
        name, True, f"enabled {name}{everywhere}; saved in {path}.{_env_override_note()}", path
    )
