"""The functions folder: every ``*.py`` file of a folder is a candidate (namespace ``openhcs``).

It imports only :mod:`.candidate` and :mod:`.problem`.

>>> from pathlib import Path
>>> [type(c).__name__ for c in FolderSource(Path("/nonexistent")).candidates()]
[]
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from openhcs_plugins.sources.candidate import OPENHCS_NAMESPACE, Candidate, SourceKind, TrustLevel
from openhcs_plugins.sources.problem import Problem

__all__ = ["FolderSource", "read_source"]

#: Bytes asked of each read: most function files fit in one.
_CHUNK = 1 << 16


def read_source(path: Path) -> str:
    """The text of a Python source file; UTF-8 only (with or without a BOM).

    Raises :class:`UnicodeDecodeError` for other encodings and :class:`OSError` when the file
    cannot be read. Validators and executors see exactly this text.
    """
    # os.read until an empty read, not Path.read_bytes: a listing reads every folder file, and
    # the buffered file object costs as much again as the read (10 ms per 1,000 files).
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    try:
        chunks = [os.read(fd, _CHUNK)]
        while chunks[-1]:
            chunks.append(os.read(fd, _CHUNK))
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 2 else b"".join(chunks)
    return data.decode("utf-8-sig")


class FolderSource:
    """Candidates for the ``*.py`` files of a folder (namespace ``openhcs``, trust ``user``).

    Hidden files (``.name.py``, editor lock files) are skipped; temporary files written by the
    manager do not end in ``.py``.
    """

    def __init__(self, path: Path | str, trust: TrustLevel = TrustLevel.USER) -> None:
        self.path = Path(path)
        self.trust = trust

    def files(self) -> list[Path]:
        """The folder's function files, sorted by name (the order collisions are resolved in)."""
        try:
            with os.scandir(self.path) as entries:
                names = sorted(
                    e.name
                    for e in entries
                    if e.name.endswith(".py") and not e.name.startswith(".") and e.is_file()
                )
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.path / name for name in names]

    def candidate(self, file: Path) -> Candidate | Problem:
        """The candidate for one file, or a problem when it cannot be read as UTF-8 text."""
        try:
            text = read_source(file)
        except UnicodeDecodeError as exc:
            return Problem(
                subject=str(file),
                message=f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                hint="save it as UTF-8 (without a `# coding:` cookie naming another encoding)",
                file=str(file),
                # The line of the first bad byte, as `validate` gives it.
                line=exc.object.count(b"\n", 0, exc.start) + 1,
                namespace=OPENHCS_NAMESPACE,
                kind="unreadable",
            )
        except OSError as exc:
            return Problem(
                subject=str(file),
                message=f"cannot read the file: {exc.strerror or exc}",
                hint="check the file's permissions",
                file=str(file),
                namespace=OPENHCS_NAMESPACE,
                kind="unreadable",
            )
        return Candidate.from_code(text, source=SourceKind.FOLDER, path=file, trust=self.trust)

    def candidates(self) -> Iterator[Candidate | Problem]:
        """One candidate (or problem) per file, in name order."""
        for file in self.files():
            yield self.candidate(file)
