"""The four settings layers stacked: built-in defaults <- file <- environment <- overrides.

:func:`load_settings` gives the resolved :class:`~openhcs_plugins.config.settings.Settings`;
:func:`describe_settings` also says which layer each value came from (``override``, ``env``,
``file`` or ``default``: the word is *layer*; *origin* is a distribution's install origin). A
broken file or environment variable is ignored with a
:class:`~openhcs_plugins.config.settings.SettingsWarning`.
"""

from __future__ import annotations

import os
import typing
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins.config.resolution import config_context, resolve
from openhcs_plugins.config.settings import (
    _KEY_INFO,
    _NESTED_TWINS,
    ENV_VARS,
    LazySettings,
    Settings,
    SettingsError,
    SettingsFileError,
    SettingsWarning,
    _stored,
    _unknown_key,
    parse_setting_value,
)
from openhcs_plugins.config.settings_file import read_settings_file, settings_file_path
from openhcs_plugins.config.user_code import patch_lazy_constructors

__all__ = [
    "SettingEntry",
    "SettingsReport",
    "describe_settings",
    "load_settings",
    "settings_layers",
    "settings_origins",
]

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
    """One dotted setting: its value, the layer it came from, and its built-in default."""

    key: str
    value: Any
    #: ``"override"``, ``"env"``, ``"file"`` or ``"default"``.
    layer: str
    default: Any
    #: the environment variable that can set it.
    env_var: str

    @property
    def origin(self) -> str:
        """Deprecated (kept for one release): the :attr:`layer`."""
        _deprecated("SettingEntry.origin", "SettingEntry.layer")
        return self.layer


@dataclass(frozen=True)
class SettingsReport:
    """Everything :func:`describe_settings` found: values, their layers, problems."""

    settings: Settings
    entries: tuple[SettingEntry, ...]
    file: Path
    file_exists: bool
    #: why a file or variable was ignored (empty when nothing was).
    problems: tuple[str, ...]

    def layers(self) -> dict[str, str]:
        """dotted key -> layer (``"override"``, ``"env"``, ``"file"`` or ``"default"``)."""
        return {e.key: e.layer for e in self.entries}

    def origins(self) -> dict[str, str]:
        """Deprecated (kept for one release): :meth:`layers`."""
        _deprecated("SettingsReport.origins()", "SettingsReport.layers()")
        return self.layers()


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
        found = next((n for n, layer in layers if _stored_at(layer, key) is not None), "default")
        value = settings
        for part in key.split("."):
            value = getattr(value, part)
        entries.append(SettingEntry(key, value, found, default, ENV_VARS[key]))
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
            filename=_WARNING_FILENAME,
            lineno=0,
            module=__name__,
            registry=_WARNED,
        )
    return report.settings


#: Where :class:`SettingsWarning` says it comes from (no file of this package, so no source line).
_WARNING_FILENAME = "<openhcs-plugins settings>"
#: The ``__warningregistry__`` of the settings warnings: the "default" action shows each once.
_WARNED: dict[Any, Any] = {}


def settings_layers(**overrides: Any) -> dict[str, str]:
    """dotted key -> the layer its value comes from: ``"override"``, ``"env"``, ``"file"`` or
    ``"default"``."""
    return describe_settings(**overrides).layers()


def settings_origins(**overrides: Any) -> dict[str, str]:
    """Deprecated (kept for one release): :func:`settings_layers`."""
    _deprecated("settings_origins()", "settings_layers()")
    return settings_layers(**overrides)


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated, use {new}", DeprecationWarning, stacklevel=3)
