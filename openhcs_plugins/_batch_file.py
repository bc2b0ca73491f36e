"""One input through a function: expanding the inputs, planning the outputs, and
:func:`process_file` (read once, hash the same bytes, run, write each output complete or not
at all, with provenance).

The serial batch (:mod:`openhcs_plugins.batch`, which re-exports these names) and each Dask
task (:mod:`openhcs_plugins.scaleout.task`) run every input through it, so a cluster's outputs
are the serial ones.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import io
import json
import mmap
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

__all__ = [
    "TIFF_SUFFIXES",
    "FileResult",
    "declared_outputs",
    "expand_inputs",
    "output_paths",
    "process_file",
    "provenance_for",
]

TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class FileResult:
    """What happened to one input: written to ``output``, or ``error`` (``"Type: message"``)."""

    input: Path
    output: Path
    error: str | None = None
    #: where it ran on a Dask cluster (``host (tcp://address)``); None in this process.
    worker: str | None = None
    #: False when a retried task (its first worker died after writing) found its output
    #: already complete from this batch and did not write it again.
    written: bool = True

    @property
    def ok(self) -> bool:
        return self.error is None


_GLOB_CHARACTERS = frozenset("*?[")


def _folder_tiffs(path: Path) -> list[Path]:
    return sorted(p for p in path.iterdir() if p.suffix.lower() in TIFF_SUFFIXES)


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """The files to run on: each file as given, each folder's TIFFs sorted by name, each glob
    pattern's matches (``plate1/*.tif``, ``plates/**/*.tif``) sorted, in the order given.

    Raises ValueError naming the path when a folder has no TIFF, a pattern matches nothing or
    a path does not exist.
    """
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found = _folder_tiffs(path)
            if not found:
                raise ValueError(f"{path}: no .tif/.tiff files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        elif _GLOB_CHARACTERS & set(str(path)):
            matches = [Path(m) for m in sorted(glob.glob(str(path), recursive=True))]
            found = [m for m in matches if m.is_file()]
            found += [t for m in matches if m.is_dir() for t in _folder_tiffs(m)]
            if not found:
                raise ValueError(f"{path}: the pattern matches no file")
            files.extend(sorted(found))
        else:
            raise ValueError(f"{path}: no such file or folder")
    return files


def _output_path(output: Path, source: Path, single: bool) -> Path:
    if single and output.suffix.lower() in TIFF_SUFFIXES:
        return output
    return output / f"{source.stem}.tif"


def output_paths(files: list[Path], output: Path) -> list[Path]:
    """The output file of each input (``output`` itself for one input named ``.tif``, else
    ``output/<stem>.tif``); refuses a plan that would overwrite an input or write two results
    to one file (``a/x.tif`` and ``b/x.tif`` into one folder) with a ValueError."""
    targets = [_output_path(output, path, len(files) == 1) for path in files]
    inputs = {path.resolve(): path for path in files}
    seen: dict[Path, Path] = {}
    for path, target in zip(files, targets, strict=True):
        resolved = target.resolve()
        if resolved in inputs:
            raise ValueError(
                f"{path}: the output {target} would overwrite its input {inputs[resolved]}; "
                "choose another --output"
            )
        if resolved in seen:
            raise ValueError(
                f"{seen[resolved]} and {path} would both write the same output {target}; "
                "run them with separate --output folders"
            )
        seen[resolved] = path
    return targets


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def provenance_for(
    info: Any,
    path: Path,
    params: dict[str, Any],
    extra: tuple[Any, ...] = (),
    *,
    input_sha256: str | None = None,
) -> dict[str, Any]:
    """The provenance written into an output TIFF: the function (key, origin, version, file
    sha256), its parameters, the input's path and sha256 (``input_sha256`` when the caller
    hashed the bytes it read, else the file is read again), this package's version and any
    metadata the function returned beside the image (``extra``)."""
    from openhcs_plugins import __version__
    from openhcs_plugins._images import sha256_file

    provenance = {
        "function": info.key,
        "source": info.provenance.source.value,
        "distribution": info.provenance.distribution,
        "version": info.provenance.version,
        "file_sha256": info.provenance.sha256,
        "parameters": _json_safe(params),
        "inputs": [{"path": str(path), "sha256": input_sha256 or sha256_file(path)}],
        "openhcs_plugins": __version__,
    }
    if extra:
        provenance["metadata"] = _json_safe(extra[0] if len(extra) == 1 else list(extra))
    return provenance


def declared_outputs(entry: Any, isolated: bool = False) -> tuple[Any, ...]:
    """The artifact outputs of a registry entry, as :class:`~openhcs_plugins.artifacts.
    ArtifactOutput`: the loaded callable's own declarations when it runs here, else what its
    listing read from source (the isolated worker's function is never loaded here)."""
    from openhcs_plugins.artifacts import listed_outputs, outputs_of

    if not isolated and entry.info.provenance.runs != "isolated":
        try:
            func = entry.load()
        except Exception:  # reported for each file when it is called
            func = None
        declared = outputs_of(func) if func is not None else ()
        if declared or (func is not None and not entry.info.artifact_outputs):
            return declared
    return listed_outputs(entry.info.artifact_outputs)


def _already_written(target: Path, batch: str, input_sha256: str) -> bool:
    """True when ``target`` (an existing file) is complete from batch ``batch`` for the same
    input bytes (a task run again after its worker died once it had written)."""
    from openhcs_plugins._images import read_provenance

    try:
        recorded = read_provenance(target)
        return recorded.get("batch") == batch and recorded["inputs"][0]["sha256"] == input_sha256
    except Exception:  # not ours, or unreadable: it is written again
        return False


def _sha256(data: bytes | mmap.mmap) -> str:
    return hashlib.sha256(data).hexdigest()


_HASHER: list[ThreadPoolExecutor] = []
_HASHER_LOCK = threading.Lock()


def _hasher() -> ThreadPoolExecutor:
    with _HASHER_LOCK:
        if not _HASHER:
            _HASHER.append(ThreadPoolExecutor(2, thread_name_prefix="openhcs-plugins-sha256"))
        return _HASHER[0]


@contextlib.contextmanager
def _opened(path: Path) -> Iterator[tuple[BinaryIO, bytes | mmap.mmap]]:
    """``path`` opened once: the handle (decoded from, straight into the array) and its bytes
    mapped (hashed in place, no copy), or read when the file cannot be mapped (empty, a
    pipe)."""
    with open(path, "rb") as handle:
        try:
            view = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError):
            data = handle.read()
            yield io.BytesIO(data), data
            return
        with view:
            yield handle, view


def process_file(
    key: str,
    info: Any,
    call: Callable[[Any], Any],
    outputs: tuple[Any, ...],
    params: dict[str, Any],
    path: Path,
    target: Path,
    *,
    annotate: Callable[[], dict[str, Any]] | None = None,
    batch: str | None = None,
) -> tuple[Any, Any] | None:
    """Run one input: open it once (decoded from the handle, its mapped bytes hashed in
    another thread while the function runs), ``call`` the function on the stack, write each
    declared artifact output and then the image, each under a temporary name renamed when
    complete, with :func:`provenance_for` (plus what ``annotate`` adds, asked after the call)
    in its metadata.

    Returns ``(stack, image)``; or None, writing nothing, when ``batch`` names a batch id and
    ``target`` already holds that batch's result for these input bytes. Raises what reading,
    the function or writing raised.
    """
    from openhcs_plugins._images import read_stack, write_stack
    from openhcs_plugins.artifacts import split_outputs
    from openhcs_plugins.artifacts.write import write_artifacts

    with _opened(path) as (handle, data):
        if batch is not None and target.is_file():
            digest = _sha256(data)
            if _already_written(target, batch, digest):
                return None
            hashing: Future[str] | None = None
        else:
            # hashed in another thread while the same bytes are decoded and the function runs
            # (hashlib releases the GIL): off the critical path where a core is free
            hashing = _hasher().submit(_sha256, data)
        try:
            stack = read_stack(path, handle)
            result = call(stack)
        finally:
            if hashing is not None:  # the map stays open until the hash is done with it
                digest = hashing.result()
    image, values, extra = split_outputs(key, outputs, result)
    provenance = provenance_for(info, path, params, extra, input_sha256=digest)
    if annotate is not None:
        provenance.update(annotate())
    if batch is not None:
        provenance["batch"] = batch
    if outputs:
        # each complete under its final name before the image names it
        provenance["artifacts"] = write_artifacts(target, outputs, values)
    write_stack(target, image, provenance)
    return stack, image
