"""Saving editor code: which manager call a Save makes, decided before any work starts.

Save updates the function being edited when it is saved; otherwise it registers the code as a
new function, unless a function of that name is already saved: with one function, the user is
asked whether to replace it; with several, nothing is saved.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from openhcs_plugins.manager import CustomFunctionManager

__all__ = ["SaveRefused", "SaveWork", "is_saved", "plan_save"]

#: The work a Save runs in the worker thread; it returns the registered functions.
SaveWork = Callable[[], list[Callable[..., Any]]]


@dataclass(frozen=True)
class SaveRefused:
    """Save starts nothing; ``message`` is what the status line says."""

    message: str
    error: bool


def is_saved(manager: CustomFunctionManager, name: str) -> bool:
    """True when the functions folder holds a function ``name``."""
    try:
        manager.get_function_code(name)
    except (KeyError, ValueError, OSError):
        return False
    return True


def plan_save(
    manager: CustomFunctionManager,
    code: str,
    names: Sequence[str],
    editing: str | None,
    confirm: Callable[[str, str], bool],
) -> SaveWork | SaveRefused:
    """The work that saves ``code`` (defining ``names``; ``editing`` is the saved function the
    editor opened, or None), or why there is none. ``confirm(title, text)`` asks the user."""
    if editing is not None and is_saved(manager, editing):
        return functools.partial(manager.update_custom_function, editing, code)
    clashes = [name for name in names if is_saved(manager, name)]
    if clashes and len(names) == 1:
        name = clashes[0]
        if not confirm(
            "Replace the saved function?",
            f"A function named {name!r} is already saved in {manager.storage_dir}. "
            "Replace it with this code?",
        ):
            return SaveRefused("Not saved.", error=False)
        return functools.partial(manager.update_custom_function, name, code)
    if clashes:
        return SaveRefused(
            f"Not saved: {', '.join(clashes)} already exist in {manager.storage_dir}; "
            "open them from the function list to edit them.",
            error=True,
        )
    return functools.partial(manager.register_from_code, code, persist=True)
