"""Small text helpers shared by the widgets."""

from __future__ import annotations

from pathlib import Path

__all__ = ["home_relative"]


def home_relative(path: str | Path) -> str:
    """``/home/me/x`` -> ``~/x``; other paths unchanged (tooltips keep the full path)."""
    text = str(path)
    home = str(Path.home()).rstrip("/")
    if home and (text == home or text.startswith(home + "/")):
        return "~" + text[len(home) :]
    return text
