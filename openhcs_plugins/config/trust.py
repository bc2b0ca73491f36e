"""The trust store: which folder files and editor texts the user trusted on this machine.

In the spirit of Jupyter's notebook trust and VS Code's workspace trust, trust is given to a
text, not to a file name: the store records the sha256 (:func:`~.candidate.sha256_text`) of every
text the user trusted, with the path it was trusted at, and keeps a copy of that text so that
``openhcs-plugins trust`` can show what changed since. A file that changes has another sha256 and
is untrusted until trusted again. Installed packages are not in the store: pip installs them,
they are trusted as such.

The store is ``trust.json`` in ``platformdirs.user_data_dir("openhcs-plugins")`` (or the folder
``OPENHCS_PLUGINS_DATA_DIR`` names), the copies in ``trusted/`` beside it. Every write holds a
file lock and replaces the file atomically; a damaged store is reported (a warning naming the
file and the fix) and read as empty, and the next write moves it aside instead of overwriting it.

:class:`TrustRule` turns the store into a trust level per text: what the settings give for the
source when the text is trusted, and the stricter of that and ``trust.untrusted`` (``strict`` by
default: an isolated worker) otherwise. It belongs with the settings (what the user decided
on this machine) and imports the standard library, :mod:`openhcs_plugins.sources.candidate`
and ``.folder`` (the folder's files), :mod:`openhcs_plugins._storage`,
:mod:`openhcs_plugins.errors` and the settings.
"""

from __future__ import annotations

import json
import os
import time
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsWarning
from openhcs_plugins.sources.candidate import TrustLevel, sha256_text

__all__ = [
    "DATA_DIR_ENV",
    "TrustRecord",
    "TrustRule",
    "TrustStore",
    "TrustStoreWarning",
    "data_dir",
    "stricter",
    "untrusted_files",
]

#: Environment variable naming the folder of the trust store (default: the user data folder).
DATA_DIR_ENV = "OPENHCS_PLUGINS_DATA_DIR"
_FORMAT = 1
_ORDER = {TrustLevel.TRUSTED: 0, TrustLevel.USER: 1, TrustLevel.STRICT: 2}


class TrustStoreWarning(OpenHCSPluginsWarning):
    """The trust store could not be read: everything counts as untrusted until trusted again."""


def data_dir() -> Path:
    """The folder of this machine's trust store."""
    configured = os.environ.get(DATA_DIR_ENV)
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("openhcs-plugins"))


def stricter(a: TrustLevel, b: TrustLevel) -> TrustLevel:
    """The stricter of two trust levels (``trusted`` < ``user`` < ``strict``)."""
    return a if _ORDER[a] >= _ORDER[b] else b


@dataclass(frozen=True)
class TrustRecord:
    """One trusted text: its sha256, the path it was trusted at (None: editor text), when."""

    sha256: str
    path: str | None
    trusted_at: float

    def to_dict(self) -> dict[str, object]:
        return {"sha256": self.sha256, "path": self.path, "trusted_at": self.trusted_at}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> TrustRecord:
        sha = data["sha256"]
        path = data.get("path")
        when = data.get("trusted_at", 0.0)
        if (
            not isinstance(sha, str)
            or len(sha) != 64
            or not all(c in "0123456789abcdef" for c in sha)
        ):
            raise ValueError(f"not a sha256: {sha!r}")
        if path is not None and not isinstance(path, str):
            raise ValueError(f"not a path: {path!r}")
        if not isinstance(when, (int, float)):
            raise ValueError(f"not a time: {when!r}")
        return cls(sha, path, float(when))


class TrustStore:
    """The sha256 of every text trusted on this machine (``trust.json``), with copies of them.

    Reads are cached on the file's stamp, so a listing pays one ``stat`` when nothing changed.
    """

    def __init__(self, folder: Path | str | None = None) -> None:
        self.folder = Path(folder) if folder is not None else data_dir()
        self.path = self.folder / "trust.json"
        self._stamp: tuple[int, int, int] | None = None
        self._records: dict[str, TrustRecord] = {}
        #: Why the last read found the file damaged (None: it was fine or missing).
        self.damage: str | None = None

    # -- reading -----------------------------------------------------------------------------
    def _read(self) -> dict[str, TrustRecord]:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._records, self.damage = None, {}, None
            return self._records
        except OSError as exc:
            return self._damaged(f"cannot read it: {exc.strerror or exc}")
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        if stamp == self._stamp:
            return self._records
        try:
            data = json.loads(self.path.read_bytes())
            if not isinstance(data, dict) or data.get("format") != _FORMAT:
                raise ValueError(
                    f"unknown format {data.get('format') if isinstance(data, dict) else data!r}"
                )
            items = data["trusted"]
            if not isinstance(items, list):
                raise ValueError("'trusted' is not a list")
            records = {r.sha256: r for r in map(TrustRecord.from_dict, items)}
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return self._damaged(str(exc))
        self._stamp, self._records, self.damage = stamp, records, None
        return records

    def _damaged(self, reason: str) -> dict[str, TrustRecord]:
        if self.damage != reason:
            warning = TrustStoreWarning(
                f"the trust store {self.path} is damaged ({reason}); every folder file "
                "counts as untrusted and runs isolated until you trust it again "
                "(`openhcs-plugins trust NAME`); the damaged file is kept as "
                f"{self.path.name}.damaged-* on the next change"
            )
            warning._locate(None, path=self.path)
            warnings.warn(warning, stacklevel=3)
        self._stamp, self._records, self.damage = None, {}, reason
        return self._records

    def hashes(self) -> frozenset[str]:
        """The sha256 of every trusted text."""
        return frozenset(self._read())

    def is_trusted(self, sha256: str) -> bool:
        return sha256 in self._read()

    def entries(self) -> list[TrustRecord]:
        """Every trusted text, oldest first."""
        return sorted(self._read().values(), key=lambda r: r.trusted_at)

    def last_trusted(self, path: Path | str) -> TrustRecord | None:
        """The most recently trusted text of ``path``."""
        key = str(Path(path).absolute())
        found = [r for r in self._read().values() if r.path == key]
        return max(found, key=lambda r: r.trusted_at) if found else None

    def trusted_text(self, sha256: str) -> str | None:
        """The copy of a trusted text (None when it was not kept or is gone)."""
        try:
            return (self.folder / "trusted" / f"{sha256}.py").read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    # -- writing -----------------------------------------------------------------------------
    def trust(self, text: str, path: Path | str | None = None) -> TrustRecord:
        """Trust ``text`` (found at ``path``); returns its record."""
        return self.trust_many([(text, path)])[0]

    def trust_many(self, items: Iterable[tuple[str, Path | str | None]]) -> list[TrustRecord]:
        """Trust several texts in one write."""
        from openhcs_plugins._storage import atomic_write_text

        now = time.time()
        added = []
        for text, path in items:
            where = str(Path(path).absolute()) if path is not None else None
            added.append((TrustRecord(sha256_text(text), where, now), text))
        with self._locked() as records:
            for record, text in added:
                copy = self.folder / "trusted" / f"{record.sha256}.py"
                if not copy.exists():
                    copy.parent.mkdir(parents=True, exist_ok=True)
                    atomic_write_text(copy, text.removeprefix("\ufeff"))
                records[record.sha256] = record
        return [record for record, _ in added]

    def untrust(self, sha256s: Iterable[str]) -> int:
        """Forget the given texts; returns how many were trusted."""
        wanted = set(sha256s)
        with self._locked() as records:
            gone = [sha for sha in wanted if sha in records]
            for sha in gone:
                del records[sha]
                try:
                    (self.folder / "trusted" / f"{sha}.py").unlink()
                except OSError:
                    pass
        return len(gone)

    class _Transaction:
        def __init__(self, store: TrustStore) -> None:
            self.store = store

        def __enter__(self) -> dict[str, TrustRecord]:
            from filelock import FileLock

            self.store.folder.mkdir(parents=True, exist_ok=True)
            self.lock = FileLock(str(self.store.path) + ".lock", timeout=30)
            self.lock.acquire()
            self.store._stamp = None  # read again under the lock
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", TrustStoreWarning)
                self.records = dict(self.store._read())
            return self.records

        def __exit__(self, kind: object, exc: object, tb: object) -> None:
            from openhcs_plugins._storage import atomic_write_text

            try:
                if kind is None:
                    store = self.store
                    if store.damage is not None and store.path.exists():
                        # never overwrite what could not be read: keep it for the user
                        aside = store.path.with_name(
                            f"{store.path.name}.damaged-{int(time.time())}"
                        )
                        os.replace(store.path, aside)
                    items = sorted(self.records.values(), key=lambda r: r.trusted_at)
                    data = {"format": _FORMAT, "trusted": [r.to_dict() for r in items]}
                    atomic_write_text(store.path, json.dumps(data, indent=1) + "\n")
                    store._stamp = None
                    store.damage = None
            finally:
                self.lock.release()

    def _locked(self) -> TrustStore._Transaction:
        return TrustStore._Transaction(self)


@dataclass(frozen=True)
class TrustRule:
    """The trust level of a folder file or editor text from the trust store.

    ``configured``: the settings' level for the source (``trust.folder``/``trust.editor``);
    ``untrusted``: the ``trust.untrusted`` setting. A trusted text gets ``configured``, any
    other the stricter of the two, so ``strict`` in the settings always stays strict.
    """

    configured: TrustLevel
    untrusted: TrustLevel
    hashes: frozenset[str]

    @classmethod
    def for_settings(cls, trust: Any, source: str, store: TrustStore | None = None) -> TrustRule:
        """The rule of ``"folder"`` or ``"editor"`` code under the settings' ``trust``
        (:class:`~openhcs_plugins.config.TrustSettings`)."""
        return cls.from_store(trust.level_for(source), TrustLevel(trust.untrusted), store)

    @classmethod
    def from_store(
        cls, configured: TrustLevel, untrusted: TrustLevel, store: TrustStore | None = None
    ) -> TrustRule:
        if stricter(configured, untrusted) is configured:
            return cls(configured, untrusted, frozenset())  # the store cannot change anything
        return cls(configured, untrusted, (store or TrustStore()).hashes())

    def level(self, sha256: str) -> TrustLevel:
        if sha256 in self.hashes:
            return self.configured
        return stricter(self.configured, self.untrusted)


def untrusted_files(folder: Path | None = None, store: TrustStore | None = None) -> list[Path]:
    """The ``*.py`` files of ``folder`` (default: the functions folder of the settings) whose
    current text is not trusted: what would run isolated here, and what OpenHCS would run
    unisolated."""
    from openhcs_plugins.sources.folder import FolderSource, read_source

    if folder is None:
        from openhcs_plugins.config.settings import load_settings

        folder = load_settings().functions_path()
    trusted = (store or TrustStore()).hashes()
    out = []
    for path in FolderSource(folder).files():
        try:
            sha = sha256_text(read_source(path))
        except (OSError, UnicodeDecodeError):
            out.append(path)
            continue
        if sha not in trusted:
            out.append(path)
    return out
