"""What the settings decide for loading: the current settings, the policy, disabled names.

Pass-throughs to :class:`openhcs_plugins.settings.Settings`, imported when first asked (reading
the settings file is the settings module's job).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openhcs_plugins.config import Settings

__all__ = ["current_settings", "disabled_names", "is_disabled", "policy_for"]


def current_settings() -> Settings:
    from openhcs_plugins.config import load_settings

    return load_settings()


def disabled_names(settings: Settings | None = None) -> frozenset[str]:
    """The namespaces and keys switched off in this environment
    (:meth:`Settings.disabled_names`; the current settings by default)."""
    settings = current_settings() if settings is None else settings
    return settings.disabled_names()


def is_disabled(key: str, settings: Settings | None = None) -> bool:
    """True when ``key`` (``namespace:name``) or its namespace is disabled in this environment."""
    settings = current_settings() if settings is None else settings
    return settings.is_disabled(key)


def policy_for(settings: Settings) -> Any:
    """The import policy the settings ask for (:meth:`Settings.import_policy`)."""
    return settings.import_policy()
