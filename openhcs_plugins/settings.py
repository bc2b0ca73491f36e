"""The project's settings: a lazy dataclass hierarchy with four layers.

Precedence, lowest first: built-in defaults (the dataclass defaults below) <- the user settings
file <- environment variables <- per-call overrides (``load_settings(trust__folder="strict")``).

The settings file is ``settings.py`` in ``platformdirs.user_config_dir("openhcs-plugins")`` (or
in ``$OPENHCS_PLUGINS_CONFIG_DIR``). It is Python, run with
:func:`~openhcs_plugins.lazy.exec_user_code`, and must define ``settings = LazySettings(...)``;
every field it leaves out inherits::

    from openhcs_plugins.settings import LazySettings, LazyTrustSettings

    settings = LazySettings(
        trust=LazyTrustSettings(folder="strict"),
        disabled=("lab_filters:blur",),
    )

Each dotted key (``trust.folder``) has an environment variable (:data:`ENV_VARS`,
``OPENHCS_PLUGINS_TRUST_FOLDER``); list values are comma-separated; an empty variable counts as
unset.

A broken settings file (syntax error, exception, invalid value, no ``settings``) never stops a
command: :func:`load_settings` warns (:class:`SettingsWarning`, naming the file and line) and
ignores the whole file, so built-in defaults, environment variables and overrides still apply.
A bad environment variable is ignored the same way, on its own. Bad per-call overrides are the
caller's bug and raise :class:`SettingsError`. :func:`read_settings_file` raises instead of
warning, for code that must not fall back.
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import os
import re
import sys
import typing
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs

from openhcs_plugins._storage import atomic_write_text
from openhcs_plugins.candidate import TrustLevel
from openhcs_plugins.errors import OpenHCSPluginsError, OpenHCSPluginsWarning
from openhcs_plugins.lazy import (
    UserCodeError,
    config_context,
    exec_user_code,
    explicitly_set_fields,
    make_lazy,
    patch_lazy_constructors,
    resolve,
    to_code,
)
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES

if TYPE_CHECKING:
    import filelock

    from openhcs_plugins.validation import ImportPolicy

__all__ = [
    "CONFIG_DIR_ENV",
    "ENVIRONMENT_SEPARATOR",
    "ENV_VARS",
    "SETTINGS_KEYS",
    "IsolationSettings",
    "LazyIsolationSettings",
    "LazyPolicySettings",
    "LazySettings",
    "LazyTrustSettings",
    "PolicySettings",
    "SettingEntry",
    "Settings",
    "SettingsError",
    "SettingsFileError",
    "SettingsReport",
    "SettingsWarning",
    "TrustSettings",
    "change_settings",
    "default_note",
    "describe_settings",
    "environment_id",
    "load_settings",
    "parse_setting_value",
    "read_settings_file",
    "save_settings",
    "save_settings_text",
    "settings_file_path",
    "settings_origins",
    "settings_template",
    "update_setting",
    "with_setting",
]

#: Environment variable naming the directory that holds ``settings.py``.
CONFIG_DIR_ENV = "OPENHCS_PLUGINS_CONFIG_DIR"
SETTINGS_FILENAME = "settings.py"
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

    def __post_init__(self) -> None:
        for name in ("entry_point", "folder", "editor"):
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


# --------------------------------------------------------------------------------------------
# building layers


def _build_layer(values: dict[str, Any]) -> Any:
    """A LazySettings holding ``values`` (dotted key -> value); everything else None.

    Raises SettingsError naming the key for an unknown key or an invalid value.
    """
    top: dict[str, Any] = {}
    nested: dict[str, dict[str, Any]] = {}
    for key, value in values.items():
        head, _, rest = key.partition(".")
        if key not in _KEY_INFO and not (head in _NESTED_TWINS and not rest):
            raise _unknown_key(key)
        if rest:
            nested.setdefault(head, {})[rest] = value
        else:
            top[key] = value
    with patch_lazy_constructors():
        try:
            for head, sub in nested.items():
                if head in top:
                    raise SettingsError(f"{head} is given both whole and as {head}.<field>")
                top[head] = _NESTED_TWINS[head](**sub)
            return LazySettings(**top)
        except (ValueError, TypeError) as exc:
            keys = ", ".join(values)
            raise SettingsError(f"invalid value for {keys}: {exc}") from exc


def _override_values(overrides: dict[str, Any]) -> dict[str, Any]:
    """``trust__folder=...`` / ``trust={"folder": ...}`` -> dotted keys."""
    values: dict[str, Any] = {}
    for name, value in overrides.items():
        key = name.replace("__", ".")
        if key in _NESTED_TWINS and isinstance(value, dict):
            for sub, sub_value in value.items():
                values[f"{key}.{sub}"] = sub_value
        else:
            values[key] = value
    return values


def _env_layer(environ: typing.Mapping[str, str], problems: list[str]) -> Any:
    values: dict[str, Any] = {}
    for key, var in ENV_VARS.items():
        text = environ.get(var, "")
        if not text.strip():
            continue
        try:
            value = parse_setting_value(key, text)
            _build_layer({key: value})
        except SettingsError as exc:
            problems.append(f"environment variable {var} is ignored: {exc}")
            continue
        values[key] = value
    return _build_layer(values)


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
            "(from openhcs_plugins.settings import LazySettings)",
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
# loading


def _stored_at(layer: Any, key: str) -> Any:
    value = layer
    for part in key.split("."):
        if value is None:
            return None
        value = _stored(value, part)
    return value


@dataclass(frozen=True)
class SettingEntry:
    """One dotted setting: its value, where it came from, and its built-in default."""

    key: str
    value: Any
    #: ``"override"``, ``"env"``, ``"file"`` or ``"default"``.
    origin: str
    default: Any
    #: the environment variable that can set it.
    env_var: str


@dataclass(frozen=True)
class SettingsReport:
    """Everything :func:`describe_settings` found: values, origins, problems."""

    settings: Settings
    entries: tuple[SettingEntry, ...]
    file: Path
    file_exists: bool
    #: why a file or variable was ignored (empty when nothing was).
    problems: tuple[str, ...]

    def origins(self) -> dict[str, str]:
        """dotted key -> origin."""
        return {e.key: e.origin for e in self.entries}


def describe_settings(**overrides: Any) -> SettingsReport:
    """Load the settings (like :func:`load_settings`) and say where each value came from.

    Problems with the file or the environment are returned in ``problems``, not warned.
    """
    problems: list[str] = []
    override_layer = _build_layer(_override_values(overrides))
    path = settings_file_path()
    file_layer = None
    try:
        file_layer = read_settings_file(path)
    except SettingsFileError as exc:
        problems.append(
            f"{exc}. The file is ignored (built-in defaults, environment variables and "
            "overrides still apply); fix it with `openhcs-plugins settings edit`."
        )
    env_layer = _env_layer(os.environ, problems)
    layers = (
        ("override", override_layer),
        ("env", env_layer),
        ("file", file_layer if file_layer is not None else LazySettings()),
    )
    with config_context(layers[2][1]), config_context(env_layer):
        settings = resolve(override_layer)
    entries = []
    for key, (_, default) in _KEY_INFO.items():
        origin = next((n for n, layer in layers if _stored_at(layer, key) is not None), "default")
        value = settings
        for part in key.split("."):
            value = getattr(value, part)
        entries.append(SettingEntry(key, value, origin, default, ENV_VARS[key]))
    return SettingsReport(settings, tuple(entries), path, path.exists(), tuple(problems))


def load_settings(**overrides: Any) -> Settings:
    """The resolved settings (a concrete :class:`Settings`), read fresh on every call.

    ``overrides`` win over everything: a field name (``disabled=("x",)``), a nested field as
    ``trust__folder="strict"``, or a whole nested part (``trust={"folder": "strict"}`` or a
    ``LazyTrustSettings``). A broken settings file or environment variable is ignored with a
    :class:`SettingsWarning`; an invalid override raises :class:`SettingsError`.

    Under the default warning filters each problem is shown once, however many times the
    settings are read; the message names the file and line. The warning is attributed to the
    settings, not to a line of this package, so Python's display shows no internal source line.
    """
    report = describe_settings(**overrides)
    for problem in report.problems:
        warnings.warn_explicit(
            problem,
            SettingsWarning,
            filename=_WARNING_ORIGIN,
            lineno=0,
            module=__name__,
            registry=_WARNED,
        )
    return report.settings


#: Where :class:`SettingsWarning` says it comes from (no file of this package, so no source line).
_WARNING_ORIGIN = "<openhcs-plugins settings>"
#: The ``__warningregistry__`` of the settings warnings: the "default" action shows each once.
_WARNED: dict[Any, Any] = {}


def settings_origins(**overrides: Any) -> dict[str, str]:
    """dotted key -> ``"override"``, ``"env"``, ``"file"`` or ``"default"``."""
    return describe_settings(**overrides).origins()


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

    The file is generated with :func:`~openhcs_plugins.lazy.to_code`: only explicitly set
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


def default_note(key: str) -> str:
    """What a None default means for ``key`` (empty when None means nothing special)."""
    if key == "functions_dir":
        return f"None means {Settings().functions_path()}"
    if key == "cache_dir":
        return f"None means {Settings().cache_path()}"
    if key == "default_output_memory_type":
        return "None means each function's own declared output type"
    return ""


def settings_template() -> str:
    """Source of a new settings file: every field, commented out, with its default."""
    lines = [
        _HEADER,
        "from openhcs_plugins.settings import (",
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
