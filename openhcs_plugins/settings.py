"""Deprecated re-export of the settings, kept for one release.

The settings moved into the package :mod:`openhcs_plugins.config`: the dataclasses, keys and
environment variables to :mod:`openhcs_plugins.config.settings`, reading and writing the file to
:mod:`openhcs_plugins.config.settings_file`, ``load_settings``/``describe_settings`` to
:mod:`openhcs_plugins.config.layers`. Import the names from :mod:`openhcs_plugins.config`
(``from openhcs_plugins.config import load_settings``); a settings file imports its classes from
:mod:`openhcs_plugins.config.settings`. Settings files that still import from here keep loading
for this release.
"""

from __future__ import annotations

from openhcs_plugins.config.layers import (
    SettingEntry,
    SettingsReport,
    describe_settings,
    load_settings,
    settings_layers,
    settings_origins,
)
from openhcs_plugins.config.settings import (
    ENV_VARS,
    ENVIRONMENT_SEPARATOR,
    SETTINGS_KEYS,
    IsolationSettings,
    LazyIsolationSettings,
    LazyPolicySettings,
    LazySettings,
    LazyTrustSettings,
    PolicySettings,
    Settings,
    SettingsError,
    SettingsFileError,
    SettingsWarning,
    TrustSettings,
    default_note,
    environment_id,
    parse_setting_value,
)
from openhcs_plugins.config.settings_file import (
    CONFIG_DIR_ENV,
    SETTINGS_FILENAME,
    change_settings,
    read_settings_file,
    save_settings,
    save_settings_text,
    settings_file_path,
    settings_template,
    update_setting,
    with_setting,
)

__all__ = [
    "CONFIG_DIR_ENV",
    "ENVIRONMENT_SEPARATOR",
    "ENV_VARS",
    "SETTINGS_FILENAME",
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
    "settings_layers",
    "settings_origins",
    "settings_template",
    "update_setting",
    "with_setting",
]
