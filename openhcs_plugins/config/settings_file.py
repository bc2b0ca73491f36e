"""The settings file: where it is, reading it, and writing it safely.

The file is Python (run with :func:`~openhcs_plugins.config.user_code.exec_user_code`) that
assigns ``settings = LazySettings(...)``. Writes are generated with
:func:`~openhcs_plugins.config.codegen.to_code` (only explicitly set fields), validated before
they land, and atomic (temporary file, fsync, ``os.replace``) under a file lock.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from openhcs_plugins._storage import atomic_write_text
from openhcs_plugins.config.codegen import to_code
from openhcs_plugins.config.lazy_types import explicitly_set_fields
from openhcs_plugins.config.settings import (
    _KEY_INFO,
    _NESTED_TWINS,
    LazySettings,
    SettingsError,
    SettingsFileError,
    _stored,
    _unknown_key,
    default_note,
)
from openhcs_plugins.config.user_code import (
    UserCodeError,
    exec_user_code,
    patch_lazy_constructors,
)

if TYPE_CHECKING:
    import filelock

__all__ = [
    "CONFIG_DIR_ENV",
    "SETTINGS_FILENAME",
    "change_settings",
    "read_settings_file",
    "save_settings",
    "save_settings_text",
    "settings_file_path",
    "settings_template",
    "update_setting",
    "with_setting",
]

#: Environment variable naming the directory that holds ``settings.py``.
CONFIG_DIR_ENV = "OPENHCS_PLUGINS_CONFIG_DIR"
SETTINGS_FILENAME = "settings.py"


def settings_file_path() -> Path:
    """``$OPENHCS_PLUGINS_CONFIG_DIR/settings.py``, else in the platform user config dir."""
    directory = os.environ.get(CONFIG_DIR_ENV) or platformdirs.user_config_dir("openhcs-plugins")
    return Path(directory).expanduser() / SETTINGS_FILENAME


def _settings_from_text(text: str, path: Path) -> Any:
    try:
        namespace = exec_user_code(text, filename=str(path))
    except UserCodeError as exc:
        raise SettingsFileError(exc.message, path=path, line_number=exc.line_number) from exc
    if "settings" not in namespace:
        raise SettingsFileError(
            "defines no `settings`; it must assign `settings = LazySettings(...)` "
            "(from openhcs_plugins.config.settings import LazySettings)",
            path=path,
        )
    value = namespace["settings"]
    if not isinstance(value, LazySettings):
        raise SettingsFileError(
            f"`settings` must be a LazySettings(...), not {type(value).__name__}",
            path=path,
        )
    return value


def read_settings_file(path: Path | None = None) -> Any | None:
    """The ``LazySettings`` the file defines, or None when there is no file.

    Raises :class:`SettingsFileError` (with the file and line) when the file cannot be used.
    """
    path = settings_file_path() if path is None else Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsFileError(f"cannot be read: {exc}", path=path) from exc
    return _settings_from_text(text, path)


# --------------------------------------------------------------------------------------------
# writing

_HEADER = """\
# openhcs-plugins settings: Python, run by every openhcs-plugins command.
# Change it with `openhcs-plugins settings set KEY VALUE` or `openhcs-plugins settings edit`.
# A field left out inherits: environment variables (OPENHCS_PLUGINS_*) and built-in defaults;
# `openhcs-plugins settings show` lists every value and where it comes from.
"""


def with_setting(settings: Any | None, key: str, value: Any) -> Any:
    """A copy of the ``LazySettings`` ``settings`` (None: empty) with ``key`` set to ``value``.

    ``value`` None unsets the key (it inherits again). Other fields keep exactly what was set.
    Raises :class:`SettingsError` for an unknown key or an invalid value.
    """
    if key not in _KEY_INFO:
        raise _unknown_key(key)
    current = LazySettings() if settings is None else settings
    head, _, rest = key.partition(".")
    try:
        with patch_lazy_constructors():
            if not rest:
                return _replace(current, head, value)
            child = _stored(current, head)
            child = _NESTED_TWINS[head]() if child is None else child
            return _replace(current, head, _replace(child, rest, value))
    except (ValueError, TypeError) as exc:
        raise SettingsError(f"invalid value for {key}: {exc}") from exc


def _replace(obj: Any, name: str, value: Any) -> Any:
    explicit = explicitly_set_fields(obj)
    kwargs = {n: _stored(obj, n) for n in explicit if n != name}
    if value is not None:
        kwargs[name] = value
    return type(obj)(**kwargs)


def _lock(path: Path) -> filelock.FileLock:
    import filelock  # only to write the settings: reading them (every listing) takes no lock

    path.parent.mkdir(parents=True, exist_ok=True)
    return filelock.FileLock(str(path.with_name(f".{path.name}.lock")), timeout=30)


def _save_text_unlocked(text: str, path: Path) -> Any:
    settings = _settings_from_text(text, path)
    atomic_write_text(path, text)
    return settings


def save_settings_text(text: str, path: Path | None = None) -> Any:
    """Validate settings-file source ``text`` and write it atomically; return its LazySettings.

    Raises :class:`SettingsFileError` (naming the file and line) and leaves the old file
    untouched when the text does not run or does not define a valid ``settings``.
    """
    path = settings_file_path() if path is None else Path(path)
    with _lock(path):
        return _save_text_unlocked(text, path)


def _generated(lazy_settings: Any) -> str:
    if not isinstance(lazy_settings, LazySettings):
        raise TypeError(f"save_settings() needs a LazySettings, got {lazy_settings!r}")
    return _HEADER + "\n" + to_code(lazy_settings, name="settings")


def save_settings(lazy_settings: Any, path: Path | None = None) -> Path:
    """Write ``lazy_settings`` (a ``LazySettings``) to the settings file; return the path.

    The file is generated with :func:`~openhcs_plugins.config.codegen.to_code`: only explicitly set
    fields are written, so unset fields keep inheriting (None stays None). Written atomically
    (temporary file in the same directory, fsync, ``os.replace``) under a file lock;
    hand-written comments in an existing file are not kept (``settings edit`` keeps them).
    """
    text = _generated(lazy_settings)
    path = settings_file_path() if path is None else Path(path)
    save_settings_text(text, path)
    return path


def update_setting(key: str, value: Any, path: Path | None = None) -> Any:
    """Set (``value`` None: unset) one dotted key in the settings file; return the new settings.

    Read, change and write happen under one file lock, so concurrent updates do not lose each
    other. Raises :class:`SettingsFileError` when the existing file is broken (it is left as it
    is: fix it with ``settings edit``) and :class:`SettingsError` for a bad key or value.
    """
    return change_settings(lambda current: with_setting(current, key, value), path)


def change_settings(change: Callable[[Any | None], Any], path: Path | None = None) -> Any:
    """Rewrite the settings file with ``change(current)``; return what it gave.

    ``current`` is the file's ``LazySettings`` (None when there is no file); ``change`` returns
    the new one, or ``current`` itself to leave the file untouched. Read, change and write
    happen under one file lock, so concurrent changes (two ``settings set`` or ``disable``
    commands) do not lose each other. Raises :class:`SettingsFileError` when the existing file
    is broken (it is left as it is).
    """
    path = settings_file_path() if path is None else Path(path)
    with _lock(path):
        current = read_settings_file(path)
        updated = change(current)
        if updated is not current:
            _save_text_unlocked(_generated(updated), path)
    return updated


def settings_template() -> str:
    """Source of a new settings file: every field, commented out, with its default."""
    lines = [
        _HEADER,
        "from openhcs_plugins.config.settings import (",
        "    LazyIsolationSettings,",
        "    LazyPolicySettings,",
        "    LazySettings,",
        "    LazyTrustSettings,",
        ")",
        "",
        "settings = LazySettings(",
    ]
    seen: set[str] = set()
    for key, (_, default) in _KEY_INFO.items():
        head, _, rest = key.partition(".")
        if not rest:
            note = default_note(key)
            lines.append(f"    # {key}={default!r},{'  # ' + note if note else ''}")
        elif head not in seen:
            seen.add(head)
            lines.append(f"    # {head}={_NESTED_TWINS[head].__name__}(")
            for sub_key, (_, sub_default) in _KEY_INFO.items():
                if sub_key.startswith(head + "."):
                    lines.append(f"    #     {sub_key.partition('.')[2]}={sub_default!r},")
            lines.append("    # ),")
    lines.append(")")
    return "\n".join(lines) + "\n"
