"""Deprecated location of the registry adapter: use :mod:`openhcs_plugins.registry.adapter`.

Kept for one release so ``from openhcs_plugins.adapter import RegistryAdapter`` keeps working.
"""

from __future__ import annotations

from openhcs_plugins.registry.adapter import RegistryAdapter, register_function

__all__ = ["RegistryAdapter", "register_function"]
