"""Configuration: the lazy-dataclass framework and the project's settings built on it.

This package owns configuration, from the bottom up: :mod:`._lazy_state` (the context variables
and the record of lazy types), :mod:`.resolution` (``resolve``, ``config_context``),
:mod:`.lazy_types` (``make_lazy``, discovery), :mod:`.user_code` (``patch_lazy_constructors``,
``exec_user_code``), :mod:`.codegen` (``to_code``), then the settings: :mod:`.settings` (the
dataclasses, their keys and environment variables), :mod:`.settings_file` (reading and writing
the file) and :mod:`.layers` (``load_settings``: defaults <- file <- environment <- overrides).
Each imports only modules listed before it. The lazy names are public as
:mod:`openhcs_plugins.lazy`; the settings names are public here (imported from their module on
first use, PEP 562, so this file imports nothing). Outside the standard library it may import
platformdirs, filelock (to write), :mod:`openhcs_plugins.sources.candidate`,
:mod:`openhcs_plugins.memory.types`, :mod:`openhcs_plugins._storage` and, for the policy a
setting widens, :mod:`openhcs_plugins.validation`; nothing from the sources, loader, registry,
manager, execution, CLI or GUI (``tests/test_architecture.py`` checks it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openhcs_plugins._exports import lazy_exports

if TYPE_CHECKING:  # the names as a type checker sees them; imported on first use below
    from openhcs_plugins.config.layers import SettingEntry as SettingEntry
    from openhcs_plugins.config.layers import SettingsReport as SettingsReport
    from openhcs_plugins.config.layers import describe_settings as describe_settings
    from openhcs_plugins.config.layers import load_settings as load_settings
    from openhcs_plugins.config.layers import settings_layers as settings_layers
    from openhcs_plugins.config.layers import settings_origins as settings_origins
    from openhcs_plugins.config.settings import ENV_VARS as ENV_VARS
    from openhcs_plugins.config.settings import ENVIRONMENT_SEPARATOR as ENVIRONMENT_SEPARATOR
    from openhcs_plugins.config.settings import SETTINGS_KEYS as SETTINGS_KEYS
    from openhcs_plugins.config.settings import IsolationSettings as IsolationSettings
    from openhcs_plugins.config.settings import LazyIsolationSettings as LazyIsolationSettings
    from openhcs_plugins.config.settings import LazyPolicySettings as LazyPolicySettings
    from openhcs_plugins.config.settings import LazySettings as LazySettings
    from openhcs_plugins.config.settings import LazyTrustSettings as LazyTrustSettings
    from openhcs_plugins.config.settings import PolicySettings as PolicySettings
    from openhcs_plugins.config.settings import Settings as Settings
    from openhcs_plugins.config.settings import SettingsError as SettingsError
    from openhcs_plugins.config.settings import SettingsFileError as SettingsFileError
    from openhcs_plugins.config.settings import SettingsWarning as SettingsWarning
    from openhcs_plugins.config.settings import TrustSettings as TrustSettings
    from openhcs_plugins.config.settings import default_note as default_note
    from openhcs_plugins.config.settings import environment_id as environment_id
    from openhcs_plugins.config.settings import parse_setting_value as parse_setting_value
    from openhcs_plugins.config.settings_file import CONFIG_DIR_ENV as CONFIG_DIR_ENV
    from openhcs_plugins.config.settings_file import change_settings as change_settings
    from openhcs_plugins.config.settings_file import read_settings_file as read_settings_file
    from openhcs_plugins.config.settings_file import save_settings as save_settings
    from openhcs_plugins.config.settings_file import save_settings_text as save_settings_text
    from openhcs_plugins.config.settings_file import settings_file_path as settings_file_path
    from openhcs_plugins.config.settings_file import settings_template as settings_template
    from openhcs_plugins.config.settings_file import update_setting as update_setting
    from openhcs_plugins.config.settings_file import with_setting as with_setting

_MODEL = "openhcs_plugins.config.settings"
_FILE = "openhcs_plugins.config.settings_file"
_LAYERS = "openhcs_plugins.config.layers"

#: Each public name and the module it lives in; the module is imported on first use.
_LAZY: dict[str, str] = {
    **dict.fromkeys(
        (
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
        ),
        _MODEL,
    ),
    **dict.fromkeys(
        (
            "CONFIG_DIR_ENV",
            "change_settings",
            "read_settings_file",
            "save_settings",
            "save_settings_text",
            "settings_file_path",
            "settings_template",
            "update_setting",
            "with_setting",
        ),
        _FILE,
    ),
    **dict.fromkeys(
        (
            "SettingEntry",
            "SettingsReport",
            "describe_settings",
            "load_settings",
            "settings_layers",
            "settings_origins",
        ),
        _LAYERS,
    ),
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
