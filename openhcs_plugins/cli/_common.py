"""What several commands share: the ``--functions-dir`` option, and the library calls behind
it (the settings, the registry loaded from packages and folder, one entry with the reason it
is missing, the folder's manager). The library modules are imported when a command calls.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from openhcs_plugins.cli._output import err, fail, styled

__all__ = [
    "PATH",
    "entry",
    "functions_dir_option",
    "load_registry",
    "manager",
    "registry",
    "settings",
    "switch_for",
]

#: A path argument or option, given to the command as a :class:`~pathlib.Path`.
PATH = click.Path(path_type=Path)

functions_dir_option = click.option(
    "--functions-dir",
    "functions_dir",
    type=PATH,
    default=None,
    help="Folder of single-file functions (default: OPENHCS_PLUGINS_FUNCTIONS_DIR, the "
    "functions_dir setting, or the XDG data dir openhcs/custom_functions).",
)


def registry() -> Any:
    from openhcs_plugins.registry import get_default_registry

    return get_default_registry()


def manager(functions_dir: Path | None = None) -> Any:
    from openhcs_plugins.manager import CustomFunctionManager

    return CustomFunctionManager(functions_dir)


def settings(functions_dir: Path | None = None) -> Any:
    """The settings, with ``--functions-dir`` (when given) overriding the folder."""
    from openhcs_plugins.config import load_settings

    if functions_dir is None:
        return load_settings()
    return load_settings(functions_dir=str(functions_dir))


def load_registry(
    *, refresh: bool = False, strict: bool = False, functions_dir: Path | None = None
) -> Any:
    """Register everything (packages and folder); returns the LoadReport (problems to show,
    keys the settings disabled)."""
    from openhcs_plugins.loader import PluginLoadError, load_plugins

    try:
        report = load_plugins(strict=strict, refresh=refresh, settings=settings(functions_dir))
    except PluginLoadError as exc:
        for problem in exc.report.problems:
            err.print(styled("red", str(problem)))
        raise fail(f"{len(exc.report.problems)} plugin problem(s) (--strict)") from exc
    return report


def entry(key: str, report: Any) -> Any:
    """The registry entry of ``key``, or a failure that says why there is none: disabled (and
    the command that enables it) or not registered (with close keys)."""
    from openhcs_plugins.loader import disabled_names

    try:
        return registry().entry(key)
    except KeyError as exc:
        if key in report.disabled:
            switch = switch_for(key, disabled_names())
            raise fail(
                f"function {key} is disabled; enable it with: openhcs-plugins enable {switch}"
            ) from exc
        raise fail(str(exc.args[0])) from exc


def switch_for(key: str, disabled: frozenset[str]) -> str:
    """What `enable` takes to switch ``key`` on again: the key, or its disabled namespace."""
    return key if key in disabled else key.partition(":")[0]
