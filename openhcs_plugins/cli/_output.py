"""How the commands print: rich consoles made on first use, coloured labels, errors that end
a command, validation findings, and settings warnings as one ``warning:`` line each.

Imports click; rich only when something is printed through it (importing rich costs tens of
ms: ``--help``, ``list --json`` and ``template`` never print through it).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from click.exceptions import Exit

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

__all__ = [
    "err",
    "fail",
    "out",
    "print_settings_warnings",
    "print_validation_errors",
    "styled",
]

# Not a terminal (pipes, CI logs): wide enough that keys and signatures are not folded.
_WIDTH = None if sys.stdout.isatty() else 200


class _LazyConsole:
    """A rich Console made on first use."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def console(self) -> Console:
        """The rich Console itself (for rich's own helpers: progress bars)."""
        if self._console is None:
            from rich.console import Console

            # No markup: paths, messages and hints (`pip install 'openhcs-plugins[gui]'`)
            # print as they are; the few coloured labels are styled with styled().
            self._console = Console(
                stderr=self._stderr, soft_wrap=True, width=_WIDTH, markup=False, highlight=False
            )
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console(), name)


out: Any = _LazyConsole(stderr=False)
err: Any = _LazyConsole(stderr=True)


def styled(style: str, label: str, text: str = "") -> Text:
    """``label`` in ``style``, then ``text`` exactly as it is."""
    from rich.text import Text

    return Text.assemble((label, style), text)


def fail(message: str, code: int = 1) -> Exit:
    """Print ``error: message`` and return the exit to raise."""
    err.print(styled("bold red", "error:", f" {message}"))
    return Exit(code)


def print_validation_errors(errors: Any, filename: str) -> None:
    """One ``file:line: message`` per finding, with its code and hint below."""
    for error in errors:
        where = error.filename or filename
        if error.line_number:
            where += f":{error.line_number}"
        err.print(styled("red", where, f": {error.message}"))
        if error.code_snippet:
            err.print(f"    {error.code_snippet.strip()}")
        if error.hint:
            err.print(styled("dim", f"    hint: {error.hint}"))


def print_settings_warnings() -> None:
    """Show each :class:`~openhcs_plugins.config.SettingsWarning` once, as one ``warning:``
    line (its message names the settings file and line), not in Python's warning format."""
    import warnings

    python_display = warnings.showwarning
    # Importing a framework resets Python's once-per-location record; the message is the key.
    shown: set[str] = set()

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        # Not imported for this: only a process that loaded the settings can warn about them.
        settings = sys.modules.get("openhcs_plugins.config.settings")
        if settings is not None and issubclass(category, settings.SettingsWarning):
            if str(message) not in shown:
                shown.add(str(message))
                err.print(styled("yellow", "warning:", f" {message}"))
        else:
            python_display(message, category, *args, **kwargs)

    warnings.showwarning = show
