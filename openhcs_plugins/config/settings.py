"""The project's settings: a lazy dataclass hierarchy with four layers.

Precedence, lowest first: built-in defaults (the dataclass defaults below) <- the user settings
file <- environment variables <- per-call overrides (``load_settings(trust__folder="strict")``).

The settings file is ``settings.py`` in ``platformdirs.user_config_dir("openhcs-plugins")`` (or
in ``$OPENHCS_PLUGINS_CONFIG_DIR``). It is Python, run with
:func:`~openhcs_plugins.config.user_code.exec_user_code`, and must define
``settings = LazySettings(...)``; every field it leaves out inherits::

    from openhcs_plugins.config.settings import LazySettings, LazyTrustSettings

    settings = LazySettings(
        trust=LazyTrustSettings(folder="strict"),
        disabled=("lab_filters:blur",),
    )

Each dotted key (``trust.folder``) has an environment variable (:data:`ENV_VARS`,
``OPENHCS_PLUGINS_TRUST_FOLDER``); list values are comma-separated; an empty variable counts as
unset.

A broken settings file (syntax error, exception, invalid value, no ``settings``) never stops a
command: :func:`~openhcs_plugins.config.layers.load_settings` warns (:class:`SettingsWarning`,
naming the file and line) and ignores the whole file, so built-in defaults, environment variables
and overrides still apply. A bad environment variable is ignored the same way, on its own. Bad
per-call overrides are the caller's bug and raise :class:`SettingsError`.
:func:`~openhcs_plugins.config.settings_file.read_settings_file` raises instead of warning, for
code that must not fall back.

This module is the model: the dataclasses, their checks, the dotted keys and their environment
variables. Reading and writing the file is :mod:`openhcs_plugins.config.settings_file`; stacking
the layers (:func:`~openhcs_plugins.config.layers.load_settings`) is
:mod:`openhcs_plugins.config.layers`.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import os
import re
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from openhcs_plugins.config.lazy_types import make_lazy
from openhcs_plugins.errors import OpenHCSPluginsError, OpenHCSPluginsWarning
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES
from openhcs_plugins.sources.candidate import TrustLevel

if TYPE_CHECKING:
    from openhcs_plugins.validation import ImportPolicy

__all__ = [
    "ENVIRONMENT_SEPARATOR",
    "ENV_VARS",
    "SETTINGS_KEYS",
    "IsolationSettings",
    "LazyIsolationSettings",
    "LazyPolicySettings",
    "LazySettings",
    "LazyTrustSettings",
    "PolicySettings",
    "Settings",
    "SettingsError",
    "SettingsFileError",
    "SettingsWarning",
    "TrustSettings",
    "default_note",
    "environment_id",
    "parse_setting_value",
]

_TRUST_LEVELS = tuple(level.value for level in TrustLevel)
_DOTTED = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


class SettingsError(OpenHCSPluginsError, ValueError):
    """A settings value, key or override is invalid; the message says which and why."""


class SettingsFileError(SettingsError):
    """The settings file cannot be used. ``path`` and ``line_number`` (0 when unknown) say where."""

    def __init__(self, message: str, *, path: Path, line_number: int = 0) -> None:
        self.path = path
        self.line_number = line_number
        self.message = message
        where = f"{path}:{line_number}" if line_number else str(path)
        super().__init__(f"{where}: {message}", subject=path, line=line_number)


class SettingsWarning(OpenHCSPluginsWarning):
    """A settings file or environment variable was ignored; the message says why."""


# --------------------------------------------------------------------------------------------
# validation helpers, used by __post_init__. They read stored values only (None = inherit), so
# they work the same on the concrete classes and on their lazy twins, inside and outside
# patch_lazy_constructors.


def _stored(obj: Any, name: str) -> Any:
    return object.__getattribute__(obj, name)


def _store(obj: Any, name: str, value: Any) -> None:
    object.__setattr__(obj, name, value)


def _where(obj: Any, name: str) -> str:
    return f"{type(obj).__name__}.{name}"


def _check_choice(obj: Any, name: str, choices: tuple[str, ...]) -> None:
    value = _stored(obj, name)
    if value is None:
        return
    if isinstance(value, enum.Enum):
        value = value.value
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise ValueError(
            f"{_where(obj, name)} must be one of {', '.join(map(repr, choices))}, not {value!r}"
        )
    _store(obj, name, value.strip().lower())


def _check_names(obj: Any, name: str, pattern: re.Pattern[str], what: str) -> None:
    value = _stored(obj, name)
    if value is None:
        return
    if isinstance(value, str):
        raise ValueError(
            f"{_where(obj, name)} must be a tuple of {what}, not the string {value!r} "
            f"(write ({value!r},) for one)"
        )
    try:
        items = tuple(value)
    except TypeError:
        raise ValueError(f"{_where(obj, name)} must be a tuple of {what}, not {value!r}") from None
    for item in items:
        if not isinstance(item, str) or not pattern.match(item):
            raise ValueError(f"{_where(obj, name)}: {item!r} is not a valid {what[:-1]}")
    _store(obj, name, items)


def _check_number(obj: Any, name: str, kind: type) -> None:
    value = _stored(obj, name)
    if value is None:
        return
    ok = isinstance(value, (int, float)) if kind is float else isinstance(value, int)
    if isinstance(value, bool) or not ok or not value > 0:
        raise ValueError(f"{_where(obj, name)} must be a positive {kind.__name__}, not {value!r}")
    _store(obj, name, kind(value))


def _check_dir(obj: Any, name: str) -> None:
    value = _stored(obj, name)
    if value is None:
        return
    if not isinstance(value, (str, os.PathLike)) or not os.fspath(value):
        raise ValueError(f"{_where(obj, name)} must be a non-empty path, not {value!r}")
    _store(obj, name, os.fspath(value))


def _check_nested(obj: Any, name: str, cls: type) -> None:
    value = _stored(obj, name)
    if value is not None and not isinstance(value, cls):
        raise ValueError(
            f"{_where(obj, name)} must be a {cls.__name__} (or Lazy{cls.__name__}), not {value!r}"
        )


# --------------------------------------------------------------------------------------------
# the settings


@dataclass(frozen=True)
class TrustSettings:
    """Trust level per source: ``"trusted"``, ``"user"`` or ``"strict"`` (DESIGN.md)."""

    #: installed packages (``openhcs.functions`` entry points).
    entry_point: str = "trusted"
    #: single-file functions in the functions folder.
    folder: str = "user"
    #: code typed into an editor.
    editor: str = "user"
    #: folder files and editor texts not in this machine's trust store (``openhcs-plugins
    #: trust``): ``strict`` runs them only in an isolated worker; ``user`` runs them here.
    untrusted: str = "strict"

    def __post_init__(self) -> None:
        for name in ("entry_point", "folder", "editor", "untrusted"):
            _check_choice(self, name, _TRUST_LEVELS)

    def level_for(self, source: str) -> TrustLevel:
        """The trust level of a source kind (``"entry_point"``, ``"folder"``, ``"editor"``)."""
        key = str(source)
        if key not in ("entry_point", "folder", "editor"):
            raise ValueError(f"no trust setting for source {source!r}")
        return TrustLevel(getattr(self, key))


@dataclass(frozen=True)
class PolicySettings:
    """Additions to the import/attribute policy (``ImportPolicy.with_additions``)."""

    #: modules user code may import, e.g. ``("skimage.filters",)``.
    allow_modules: tuple[str, ...] = ()
    #: attributes user code may use, e.g. ``("os.path.join",)``.
    allow_attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _check_names(self, "allow_modules", _DOTTED, "module names")
        _check_names(self, "allow_attributes", _DOTTED, "dotted names")


@dataclass(frozen=True)
class IsolationSettings:
    """Resource limits of the isolated worker that runs ``strict`` functions."""

    cpu_seconds: int = 60
    memory_mb: int = 4096
    wall_seconds: float = 120.0
    max_output_mb: int = 1024
    open_files: int = 64
    stdout_kb: int = 1024

    def __post_init__(self) -> None:
        for name in ("cpu_seconds", "memory_mb", "max_output_mb", "open_files", "stdout_kb"):
            _check_number(self, name, int)
        _check_number(self, "wall_seconds", float)


_DISABLED_ENTRY = re.compile(r"^[^\s:]+(:[^\s:]+)?$")
#: Separates a disabled name from the environment it is scoped to (``lab_filters@3f9c0a1b2c4d``).
ENVIRONMENT_SEPARATOR = "@"


def environment_id() -> str:
    """A short id of this Python environment (its ``sys.prefix``), scoping disabled names."""
    return hashlib.sha256(os.path.realpath(sys.prefix).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Settings:
    """All openhcs-plugins settings; read them with :func:`load_settings`."""

    #: folder of single-file functions;
    #: None: ``platformdirs.user_data_dir("openhcs")/custom_functions``.
    functions_dir: str | None = None
    #: discovery cache; None: ``platformdirs.user_cache_dir("openhcs-plugins")``.
    cache_dir: str | None = None
    trust: TrustSettings = field(default_factory=TrustSettings)
    policy: PolicySettings = field(default_factory=PolicySettings)
    #: switched-off namespaces (``"lab_filters"``) or functions (``"lab_filters:blur"``).
    disabled: tuple[str, ...] = ()
    #: memory type functions return by default; None: each function's own declaration.
    default_output_memory_type: str | None = None
    isolation: IsolationSettings = field(default_factory=IsolationSettings)

    def __post_init__(self) -> None:
        _check_dir(self, "functions_dir")
        _check_dir(self, "cache_dir")
        _check_nested(self, "trust", TrustSettings)
        _check_nested(self, "policy", PolicySettings)
        _check_nested(self, "isolation", IsolationSettings)
        _check_names(self, "disabled", _DISABLED_ENTRY, "namespaces or namespace:function keys")
        _check_choice(self, "default_output_memory_type", tuple(AVAILABLE_MEMORY_TYPES))

    def functions_path(self) -> Path:
        """The functions folder, with the platform default for None and ``~`` expanded."""
        if self.functions_dir is None:
            return Path(platformdirs.user_data_dir("openhcs")) / "custom_functions"
        return Path(self.functions_dir).expanduser()

    def cache_path(self) -> Path:
        """The cache folder, with the platform default for None and ``~`` expanded."""
        if self.cache_dir is None:
            return Path(platformdirs.user_cache_dir("openhcs-plugins"))
        return Path(self.cache_dir).expanduser()

    def import_policy(self) -> ImportPolicy | None:
        """The user-level import policy widened by ``policy.*``; None (the validator's default)
        when the settings add nothing."""
        additions = self.policy
        if not additions.allow_modules and not additions.allow_attributes:
            return None
        from openhcs_plugins.validation import ImportPolicy

        return ImportPolicy.default().with_additions(
            modules=additions.allow_modules, attributes=additions.allow_attributes
        )

    def disabled_names(self) -> frozenset[str]:
        """The namespaces and keys switched off in this environment.

        :attr:`disabled` holds plain names (off in every environment) and names scoped to one
        environment, ``name@<environment id>`` (what ``openhcs-plugins disable`` writes); other
        environments' scoped names do not apply here.
        """
        here = environment_id()
        names = set()
        for item in self.disabled:
            name, sep, where = item.partition(ENVIRONMENT_SEPARATOR)
            if not sep or where == here:
                names.add(name)
        return frozenset(names)

    def is_disabled(self, key: str) -> bool:
        """True when ``key`` (``"namespace:name"``) or its namespace is disabled here."""
        names = self.disabled_names()
        return key in names or key.partition(":")[0] in names


LazyTrustSettings = make_lazy(TrustSettings)
LazyPolicySettings = make_lazy(PolicySettings)
LazyIsolationSettings = make_lazy(IsolationSettings)
LazySettings = make_lazy(Settings)


# --------------------------------------------------------------------------------------------
# keys, types, environment variables


def _walk_keys(cls: type, prefix: str = "") -> Iterator[tuple[str, Any, Any]]:
    hints = typing.get_type_hints(cls)
    defaults = cls()
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            yield from _walk_keys(hint, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}", hint, getattr(defaults, f.name)


_KEY_INFO = {key: (hint, default) for key, hint, default in _walk_keys(Settings)}
#: Every dotted settings key, in declaration order.
SETTINGS_KEYS: tuple[str, ...] = tuple(_KEY_INFO)
#: dotted key -> environment variable that sets it.
ENV_VARS: dict[str, str] = {
    key: "OPENHCS_PLUGINS_" + key.replace(".", "_").upper() for key in SETTINGS_KEYS
}
ENV_VARS["default_output_memory_type"] = "OPENHCS_PLUGINS_DEFAULT_OUTPUT"
_NESTED_TWINS = {"trust": LazyTrustSettings, "policy": LazyPolicySettings}
_NESTED_TWINS["isolation"] = LazyIsolationSettings


def _unknown_key(key: str) -> SettingsError:
    return SettingsError(f"unknown settings key {key!r}; the keys are: {', '.join(SETTINGS_KEYS)}")


def parse_setting_value(key: str, text: str) -> Any:
    """Turn the text of a value (command line, environment) into the type of ``key``'s field.

    Integers and floats are parsed as such; tuples are comma-separated (blank items dropped);
    strings are taken as they are. The value is not validated here: building the settings
    object does that.
    """
    if key not in _KEY_INFO:
        raise _unknown_key(key)
    hint = _KEY_INFO[key][0]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    kind = hint if isinstance(hint, type) else (args[0] if args else str)
    if typing.get_origin(hint) is tuple:
        return tuple(item.strip() for item in text.split(",") if item.strip())
    if kind is int:
        try:
            return int(text.strip())
        except ValueError:
            raise SettingsError(f"{key} takes an integer, not {text!r}") from None
    if kind is float:
        try:
            return float(text.strip())
        except ValueError:
            raise SettingsError(f"{key} takes a number, not {text!r}") from None
    return text


def default_note(key: str) -> str:
    """What a None default means for ``key`` (empty when None means nothing special)."""
    if key == "functions_dir":
        return f"None means {Settings().functions_path()}"
    if key == "cache_dir":
        return f"None means {Settings().cache_path()}"
    if key == "default_output_memory_type":
        return "None means each function's own declared output type"
    return ""
