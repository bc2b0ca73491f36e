"""Crash-safe, cross-process-safe writes to the functions folder.

A save writes a temporary file whose name does not end in ``.py`` (so no loader ever sees it) in
the same folder, fsyncs it, and renames it over the target with :func:`os.replace`: a process
killed at any moment leaves either the old file or the new one. A :class:`filelock.FileLock` on
``.lock`` in the folder serialises writers across processes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from filelock import FileLock

__all__ = [
    "TMP_SUFFIX",
    "atomic_delete",
    "atomic_write_text",
    "folder_lock",
    "remove_stale_temp_files",
]

#: Suffix of in-flight writes; never ``.py``.
TMP_SUFFIX = ".partial"
LOCK_NAME = ".lock"


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every platform lets a directory be opened.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(folder)


def atomic_delete(path: Path) -> bool:
    """Remove ``path``; False when it did not exist."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    _fsync_dir(path.parent)
    return True


# One FileLock per lock file: a FileLock object is re-entrant in the thread that holds it (its
# state is thread-local, so other threads still wait); two objects on one file would deadlock.
_LOCKS: dict[str, FileLock] = {}
_LOCKS_GUARD = threading.Lock()


@contextlib.contextmanager
def folder_lock(folder: Path, timeout: float = 30.0) -> Iterator[None]:
    """Hold the folder's cross-process write lock (re-entrant within a thread)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = str((folder / LOCK_NAME).resolve())
    with _LOCKS_GUARD:
        from filelock import FileLock  # writers only: listing the folder takes no lock

        lock = _LOCKS.setdefault(path, FileLock(path))
    with lock.acquire(timeout=timeout):
        yield


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Delete temp files left by a killed writer. Call with :func:`folder_lock` held."""
    removed = []
    for stale in folder.glob(f".*{TMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
            removed.append(stale)
    return removed
