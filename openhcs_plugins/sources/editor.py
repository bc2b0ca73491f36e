"""The text of functions registered from editor code that is not saved (``persist=False``).

A Dask worker cannot read such a function from a file, so the batch sends the validated text,
found here by the sha256 its entry records (:mod:`openhcs_plugins.scaleout.shipping`).
"""

from __future__ import annotations

import threading

from openhcs_plugins.sources.candidate import sha256_text

__all__ = ["editor_text", "remember_editor_text"]

_TEXTS: dict[str, str] = {}
_LOCK = threading.Lock()


def remember_editor_text(text: str) -> str:
    """Keep ``text``; returns its sha256 (:func:`sha256_text`)."""
    digest = sha256_text(text)
    with _LOCK:
        _TEXTS[digest] = text
    return digest


def editor_text(sha256: str) -> str | None:
    """The remembered text with this sha256, or None."""
    with _LOCK:
        return _TEXTS.get(sha256)
