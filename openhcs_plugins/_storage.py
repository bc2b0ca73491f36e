"""Crash-safe, cross-process-safe writes: the functions folder, and each batch output.

A save writes a temporary file whose name does not end in ``.py`` (so no loader ever sees it) in
the same folder, fsyncs it, and renames it over the target with :func:`os.replace`: a process
killed at any moment leaves either the old file or the new one. A :class:`filelock.FileLock` on
``.lock`` in the folder serialises writers across processes.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:
    from filelock import FileLock

__all__ = [
    "TMP_SUFFIX",
    "atomic_delete",
    "atomic_write",
    "atomic_write_text",
    "folder_lock",
    "partial_files",
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


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def atomic_write(
    path: Path,
    write: Callable[[BinaryIO], object],
    *,
    sync: bool = True,
    shared: bool = False,
) -> None:
    """Replace ``path`` atomically with what ``write`` writes to a binary handle.

    The bytes go to a temporary file beside ``path`` (``.<name>.<random>.partial``, created
    exclusively), which is renamed over ``path`` only once ``write`` returned: a process
    killed at any moment leaves the old file or the new one, never half of it. ``sync`` also
    fsyncs the file and the folder (durable across a power loss; batch images are written
    without it). The file is private to its owner unless ``shared``: then it gets
    the permissions of a plain new file (``0o666`` less the umask).
    """
    folder = path.parent
    tmp = folder / f".{path.name}.{secrets.token_hex(6)}{TMP_SUFFIX}"
    opener = None if shared else _private
    try:
        handle = open(tmp, "xb", opener=opener)
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(tmp, "xb", opener=opener)
    try:
        with handle:
            write(handle)
            handle.flush()
            if sync:
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if sync:
        _fsync_dir(folder)


def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` (UTF-8) atomically and durably."""
    atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def partial_files(path: Path) -> list[Path]:
    """The temporary files :func:`atomic_write` left beside ``path`` when its writer was
    killed before the rename."""
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*{TMP_SUFFIX}"))


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
