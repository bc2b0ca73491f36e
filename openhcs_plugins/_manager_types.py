"""What the functions-folder manager returns and raises to OpenHCS's host dialog.

:class:`UpdatedFunction` (the new name ``update_custom_function`` returns, a ``str`` as
OpenHCS's manager returns it, with the callables) and :class:`UnknownCustomFunctionError` (a
``ValueError`` as OpenHCS raises it, and a ``KeyError`` as this manager always did). Both are
re-exported by :mod:`openhcs_plugins.manager`. It imports only the standard library and
:mod:`openhcs_plugins.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = ["UnknownCustomFunctionError", "UpdatedFunction"]


class UnknownCustomFunctionError(OpenHCSPluginsError, KeyError, ValueError):
    """No saved function of that name: a ``ValueError`` as OpenHCS's manager raises it, and a
    ``KeyError`` as this one always did."""

    def __init__(self, name: str, folder: Path) -> None:
        super().__init__(
            f"no custom function {name!r} in {folder}",
            subject=name,
            path=folder,
            hint="`openhcs-plugins list --source folder` shows the saved functions",
        )

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class UpdatedFunction(str):
    """What :meth:`CustomFunctionManager.update_custom_function` returns: the new function's
    name (OpenHCS's dialog reads it as a ``str``), with ``functions`` the callables
    registered."""

    functions: list[Callable[..., Any]]

    def __new__(cls, name: str, functions: list[Callable[..., Any]]) -> UpdatedFunction:
        self = super().__new__(cls, name)
        self.functions = list(functions)
        return self
