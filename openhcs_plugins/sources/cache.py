"""The discovery cache: a persistent index of what the sources found; a warm start parses nothing.

One JSON file per Python environment in the user cache dir
(``platformdirs.user_cache_dir("openhcs-plugins")``, or ``OPENHCS_PLUGINS_CACHE_DIR``). It holds:

- the **entry-point section**, valid while the environment fingerprint matches: the interpreter
  (path, version, prefix), the ``sys.path`` entries, and the name and modification time of
  every ``*.dist-info`` / ``*.egg-info`` directory and ``*.pth`` file on them. Installing,
  upgrading or removing a package adds or removes one of those, so the section is rebuilt.
  Each entry also records its source file's ``(mtime_ns, size)``, so editing an editable
  install's module re-reads just that module.
- the **folder section**: per file, the sha256 of its text, its stamp (modification and change
  time, size, inode: :func:`folder_stamp`) and what validation found. A file whose stamp is
  unchanged is not read again; otherwise it is read, and validated again when its sha256
  differs.

Both sections also record the *validator key* (the package's location and the stamps of the
modules that decide discovery, the trust and policy settings): a cache written by other code or
other settings is not used.

The cache is a hint, never an authority: an unreadable, corrupt or stale file is rebuilt. It is
written atomically (temporary file, fsync, ``os.replace``). ``refresh=True`` on
:func:`openhcs_plugins.loader.load_plugins`, ``--refresh`` on the CLI, or
``OPENHCS_PLUGINS_NO_CACHE=1`` bypass it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from openhcs_plugins.sources.candidate import ParameterInfo, StaticFunction

__all__ = [
    "CACHE_DIR_ENV",
    "CACHE_FORMAT",
    "NO_CACHE_ENV",
    "CacheInfo",
    "CacheState",
    "ParameterTable",
    "cache_dir",
    "cache_disabled",
    "cache_file",
    "cache_info",
    "clear_cache",
    "environment_fingerprint",
    "file_stamp",
    "folder_stamp",
    "function_from_dict",
    "function_to_dict",
    "read_cache",
    "write_cache",
]

#: Environment variable naming another cache directory.
CACHE_DIR_ENV = "OPENHCS_PLUGINS_CACHE_DIR"
#: Set to ``1`` to bypass the cache (read nothing, write nothing).
NO_CACHE_ENV = "OPENHCS_PLUGINS_NO_CACHE"
#: Bumped whenever the file layout changes; other formats are ignored.
CACHE_FORMAT = 3


def cache_dir() -> Path:
    """The directory of discovery caches: ``OPENHCS_PLUGINS_CACHE_DIR`` or the XDG cache dir.

    The loader passes ``Settings.cache_path()`` instead, which also honours the ``cache_dir``
    setting of the settings file.
    """
    env = os.environ.get(CACHE_DIR_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_cache_dir("openhcs-plugins"))


def cache_disabled() -> bool:
    """True when ``OPENHCS_PLUGINS_NO_CACHE`` is set to a true value."""
    return os.environ.get(NO_CACHE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def cache_file(directory: Path | None = None) -> Path:
    """This environment's cache file in ``directory`` (default :func:`cache_dir`): one per
    interpreter and prefix, so environments never overwrite each other's index."""
    ident = hashlib.sha256(f"{sys.executable}\0{sys.prefix}".encode()).hexdigest()[:16]
    return (cache_dir() if directory is None else directory) / f"discovery-{ident}.json"


def file_stamp(path: str | os.PathLike[str]) -> list[int] | None:
    """``[mtime_ns, size]`` of a file, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_mtime_ns, st.st_size]


#: A file modified this recently (ns) may still change within the same timestamp tick.
_RACY_NS = 2_000_000_000


def folder_stamp(st: os.stat_result) -> tuple[int, int, int, int] | None:
    """``(mtime_ns, size, inode, ctime_ns)`` of a folder file, read *before* its text, or None
    while the file is too recent to trust its stamp.

    A warm listing takes a folder file's record from the cache while this stamp is unchanged,
    without reading or hashing the file (the text is read, and checked against the recorded
    sha256, when one of its functions first runs). A write after the stamp was taken changes
    the modification or change time, except within the same filesystem timestamp tick: so a
    file modified in the last two seconds gets no stamp, and is read and hashed on each listing
    until it is older (git's "racily clean" rule).
    """
    if max(st.st_mtime_ns, st.st_ctime_ns) > time.time_ns() - _RACY_NS:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino, st.st_ctime_ns)


def _launch_folders() -> set[str]:
    """The folders Python may have put first on ``sys.path`` for this launch: ``""`` and the
    current directory (``-c``, ``-m``, the REPL) and the folder of the script that runs
    (``openhcs-plugins`` itself lives in the environment's ``bin``)."""
    folders = {"", os.getcwd()}
    script = sys.argv[0] if sys.argv and sys.argv[0] not in ("", "-c", "-m") else ""
    if script:
        folders.add(os.path.dirname(os.path.abspath(script)))
        folders.add(os.path.dirname(os.path.realpath(script)))
    return folders


def _metadata_items(where: str) -> list[str] | None:
    """``name\0mtime`` of each ``*.dist-info``, ``*.egg-info``, ``*.pth``, ``*.egg-link`` in a
    directory (in listing order); None when it cannot be listed."""
    try:
        listing = os.scandir(where)
    except OSError:
        return None
    found = []
    with listing:
        for item in listing:
            if item.name.endswith((".dist-info", ".egg-info", ".pth", ".egg-link")):
                try:
                    mtime = item.stat().st_mtime_ns
                except OSError:
                    mtime = -1
                found.append(f"{item.name}\0{mtime}")
    return found


def environment_fingerprint(extra: Iterable[str] = ()) -> str:
    """A cheap digest of what decides which packages are installed (stat calls, no reads).

    Covers the interpreter, every ``sys.path`` entry (the modification time of zip and egg
    entries), and the name and modification time of each ``*.dist-info``, ``*.egg-info``,
    ``*.egg-link`` and ``*.pth`` in the directories on the path. ``extra`` adds strings (the
    validator key).

    The first entry is left out when it is the folder of this launch (the script's folder, or
    the current directory for ``python -c``) and holds no distribution metadata: no package is
    found there, and ``openhcs-plugins list`` (the ``bin`` folder first) and ``python -c
    "load_plugins()"`` (``""`` first) then share the cache instead of rebuilding it in turn.
    """
    digest = hashlib.sha256()
    digest.update(f"{sys.executable}\0{sys.version}\0{sys.prefix}\0".encode())
    for item in extra:
        digest.update(f"x\0{item}\0".encode())
    launch = _launch_folders() if sys.path else set()
    for index, entry in enumerate(sys.path):
        where = entry or os.getcwd()
        try:
            st = os.stat(where)
        except OSError:
            digest.update(f"p\0{entry}\0-\0".encode())
            continue
        if not stat.S_ISDIR(st.st_mode) or where.endswith(".egg"):
            # A zip file or an egg: it changes as a whole.
            digest.update(f"p\0{entry}\0{st.st_mtime_ns}\0".encode())
            continue
        # A directory: its own mtime changes whenever any file is created in it (a script's
        # folder, the current directory), so the metadata directories it holds stand for it.
        # Installing, upgrading or removing a distribution adds or removes one of them.
        items = _metadata_items(where)
        if index == 0 and not items and entry in launch:
            continue
        digest.update(f"p\0{entry}\0dir\0".encode())
        for item in items or ():
            digest.update(f"d\0{item}\0".encode())
    return digest.hexdigest()


class ParameterTable:
    """The cache file's table of parameters: each distinct parameter is written once, and
    function records name theirs by position in the table (``image`` is in every function; a
    warm start of 2,000 functions decodes a few hundred parameter rows, not 8,000).

    Writing: :meth:`index` gives a parameter's position, :attr:`rows` the table. Reading:
    :meth:`read` checks the rows and makes one :class:`ParameterInfo` per row.
    """

    def __init__(self) -> None:
        self._index: dict[tuple[str, str, str | None, str | None], int] = {}
        self.rows: list[list[str | None]] = []

    def index(self, name: str, kind: str, default: str | None, annotation: str | None) -> int:
        key = (name, kind, default, annotation)
        position = self._index.get(key)
        if position is None:
            position = self._index[key] = len(self.rows)
            self.rows.append([name, kind, default, annotation])
        return position

    def indices(self, parameters: Iterable[ParameterInfo]) -> list[int]:
        return [self.index(p.name, p.kind, p.default, p.annotation) for p in parameters]

    @staticmethod
    def read(rows: Any) -> list[ParameterInfo]:
        """The parameters of a table read from a file; ``TypeError``/``ValueError`` when a row
        is malformed (the caller then rebuilds the cache)."""
        if type(rows) is not list:
            raise TypeError("malformed parameter table")
        parameters = []
        for row in rows:
            name, kind, default, annotation = row
            if not (
                type(name) is str
                and type(kind) is str
                and (default is None or type(default) is str)
                and (annotation is None or type(annotation) is str)
            ):
                raise TypeError("malformed parameter record")
            parameters.append(ParameterInfo(name, kind, default, annotation))
        return parameters


def function_to_dict(function: StaticFunction, table: ParameterTable) -> list[Any]:
    """The cache's form of a :class:`StaticFunction`: one positional row (no key names, so a
    warm start decodes half the bytes): ``[name, line, input_memory_type, output_memory_type,
    contract, [parameter positions in table], doc, static_signature]``, then, only for a
    function that declares artifacts or has other decorators, ``{"o": [[name, spec], ...],
    "i": [name, ...], "d": [decorator, ...]}``."""
    row = [
        function.name,
        function.line,
        function.input_memory_type,
        function.output_memory_type,
        function.contract,
        table.indices(function.parameters),
        function.doc,
        function.static_signature,
    ]
    if function.artifact_outputs or function.artifact_inputs or function.outer_decorators:
        row.append(
            {
                "o": [list(o) for o in function.artifact_outputs],
                "i": list(function.artifact_inputs),
                "d": list(function.outer_decorators),
            }
        )
    return row


def _extras(
    data: Any,
) -> tuple[tuple[tuple[str, str | None], ...], tuple[str, ...], tuple[str, ...]]:
    if type(data) is not dict:
        raise TypeError("malformed function extras")
    outputs = tuple((str(name), spec) for name, spec in data["o"])
    if any(spec is not None and type(spec) is not str for _, spec in outputs):
        raise TypeError("malformed artifact output")
    inputs = tuple(data["i"])
    decorators = tuple(data["d"])
    if not all(type(x) is str for x in (*inputs, *decorators)):
        raise TypeError("malformed function extras")
    return outputs, inputs, decorators


def function_from_dict(data: Any, parameters: list[ParameterInfo]) -> StaticFunction:
    """Inverse of :func:`function_to_dict` (``parameters``: the table read by
    :meth:`ParameterTable.read`); raises ``KeyError``/``TypeError``/``ValueError``/
    ``IndexError`` on anything malformed (the caller then rebuilds the cache)."""
    if type(data) is not list or len(data) not in (8, 9):
        raise TypeError("malformed function record")
    name, line, input_type, output_type, contract, positions, doc, static = data[:8]
    outputs, inputs, decorators = _extras(data[8]) if len(data) == 9 else ((), (), ())
    if not (
        type(name) is str
        and type(input_type) is str
        and type(output_type) is str
        and type(contract) is str
        and type(doc) is str
        and type(line) is int
        and type(static) is bool
        and type(positions) is list
    ):
        raise TypeError("malformed function record")
    for position in positions:
        if type(position) is not int or position < 0:
            raise TypeError("malformed parameter position")
    return StaticFunction(
        name,
        line,
        input_type,
        output_type,
        contract,
        tuple([parameters[i] for i in positions]),
        doc,
        static,
        outputs,
        inputs,
        decorators,
    )


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


@dataclass
class CacheState:
    """The contents of a cache file (plain JSON-ready data; the loader gives it meaning)."""

    validator: str = ""
    fingerprint: str = ""
    #: entry-point discoveries (dicts written by the loader), valid for ``fingerprint``.
    entry_points: list[dict[str, Any]] = field(default_factory=list)
    #: problems of entry points that yielded no candidate (bad namespace, missing module).
    entry_point_problems: list[dict[str, Any]] = field(default_factory=list)
    #: folder file path -> discovery record (with its ``sha256``), valid for ``validator``.
    folder: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the :class:`ParameterTable` rows that the function records of both sections point into.
    parameters: list[Any] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": CACHE_FORMAT,
                "validator": self.validator,
                "fingerprint": self.fingerprint,
                "parameters": self.parameters,
                "entry_points": self.entry_points,
                "entry_point_problems": self.entry_point_problems,
                "folder": self.folder,
            },
            separators=(",", ":"),
        )


def read_cache(path: Path | None = None) -> CacheState | None:
    """The cache file's state, or None when it is missing, unreadable or malformed."""
    path = cache_file() if path is None else path
    try:
        data = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT:
        return None
    try:
        state = CacheState(
            validator=_str(data["validator"]),
            fingerprint=_str(data["fingerprint"]),
            entry_points=list(data["entry_points"]),
            entry_point_problems=list(data["entry_point_problems"]),
            folder=dict(data["folder"]),
            parameters=list(data["parameters"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
    if not all(isinstance(x, dict) for x in (*state.entry_points, *state.entry_point_problems)):
        return None
    if not all(isinstance(x, dict) for x in state.folder.values()):
        return None
    return state


def write_cache(state: CacheState, path: Path | None = None) -> bool:
    """Write ``state`` atomically; False (and no exception) when the directory is not writable,
    since a missing cache only costs time."""
    import tempfile  # ~5 ms to import, and only a cache miss writes

    path = cache_file() if path is None else path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError:
        return False
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(state.to_json().encode("utf-8"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return False
    return True


@dataclass(frozen=True)
class CacheInfo:
    """What ``openhcs-plugins doctor`` shows about the discovery cache."""

    path: Path
    exists: bool
    #: ``fresh`` (matches this environment), ``stale``, ``corrupt``, ``missing`` or ``disabled``.
    state: str
    size: int = 0
    entry_points: int = 0
    folder_files: int = 0

    def __str__(self) -> str:
        if not self.exists:
            return f"discovery cache {self.state}: {self.path}"
        return (
            f"discovery cache {self.state}: {self.path} ({self.size} bytes, "
            f"{self.entry_points} entry points, {self.folder_files} folder files)"
        )


def cache_info(validator: str | None = None, directory: Path | None = None) -> CacheInfo:
    """The state of this environment's cache file, for ``doctor``.

    ``validator`` is the loader's validator key; when given, a cache written for another one is
    reported ``stale``. :func:`openhcs_plugins.loader.discovery_cache_info` passes it and the
    configured directory.
    """
    path = cache_file(directory)
    if cache_disabled():
        return CacheInfo(path, path.exists(), "disabled")
    if not path.exists():
        return CacheInfo(path, False, "missing")
    size = path.stat().st_size
    state = read_cache(path)
    if state is None:
        return CacheInfo(path, True, "corrupt", size)
    fresh = state.fingerprint == environment_fingerprint([state.validator])
    if validator is not None and state.validator != validator:
        fresh = False
    return CacheInfo(
        path,
        True,
        "fresh" if fresh else "stale",
        size,
        len(state.entry_points),
        len(state.folder),
    )


def clear_cache(directory: Path | None = None) -> list[Path]:
    """Delete every discovery cache file (all environments) in ``directory`` (default
    :func:`cache_dir`); returns the deleted paths."""
    removed: list[Path] = []
    directory = cache_dir() if directory is None else directory
    try:
        files = sorted([*directory.glob("discovery-*.json"), *directory.glob(".discovery-*.tmp")])
    except OSError:
        return removed
    for file in files:
        try:
            file.unlink()
        except FileNotFoundError:
            continue
        removed.append(file)
    return removed
