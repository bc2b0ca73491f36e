"""The batch runner: a registered function on TIFF stacks, each result written with provenance.

``openhcs-plugins run`` and ``openhcs-plugins demo`` call it; a script or a host does the same::

    from openhcs_plugins import load_plugins
    from openhcs_plugins.batch import expand_inputs, run_batch

    load_plugins()
    files = expand_inputs([Path("plates/")])
    results = run_batch("openhcs:subtract_background", files, Path("out/"), {"radius": 20})
    failed = [r for r in results if not r.ok]

It prints nothing: each file's outcome goes to ``on_result`` as it is written, and ``progress``
may wrap the loop (the CLI passes a progress bar). It imports the registry, the image helpers
(numpy, tifffile) and, with ``isolated``, the isolated runner; nothing imports it but the CLI.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = [
    "TIFF_SUFFIXES",
    "FileResult",
    "declared_outputs",
    "expand_inputs",
    "output_paths",
    "provenance_for",
    "run_batch",
]

TIFF_SUFFIXES = (".tif", ".tiff")


@dataclass(frozen=True)
class FileResult:
    """What happened to one input: written to ``output``, or ``error`` (``"Type: message"``)."""

    input: Path
    output: Path
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def expand_inputs(inputs: Iterable[Path]) -> list[Path]:
    """The files to run on: each file as given, each folder's TIFFs sorted by name.

    Raises ValueError naming the path when a folder has no TIFF or a path does not exist.
    """
    files: list[Path] = []
    for path in inputs:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in TIFF_SUFFIXES)
            if not found:
                raise ValueError(f"{path}: no .tif/.tiff files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
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
    info: Any, path: Path, params: dict[str, Any], extra: tuple[Any, ...] = ()
) -> dict[str, Any]:
    """The provenance written into an output TIFF: the function (key, origin, version, file
    sha256), its parameters, the input's path and sha256, this package's version and any
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
        "inputs": [{"path": str(path), "sha256": sha256_file(path)}],
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


def run_batch(
    key: str,
    files: list[Path],
    output: Path,
    params: dict[str, Any],
    *,
    preview: Path | None = None,
    isolated: bool = False,
    on_result: Callable[[FileResult], None] | None = None,
    progress: Callable[[list[tuple[Path, Path]]], Iterable[tuple[Path, Path]]] | None = None,
) -> list[FileResult]:
    """Run ``key`` (registered in the default registry) on each TIFF in ``files``.

    Each result is written as a TIFF with :func:`provenance_for` in its metadata, and each
    artifact output the function declares beside it (CSV or JSON, as its spec says; listed
    with its sha256 under ``artifacts`` in the provenance); ``preview``
    gets a PNG (middle slice, before | after) of the first file that succeeds. One failing file
    is recorded and the rest run. Returns one :class:`FileResult` per file, in order.

    Raises ValueError before running anything when an output would overwrite an input or two
    inputs would write the same output, and RuntimeError when the isolated worker cannot load
    the function. With ``isolated``, one warm isolated worker runs every file (its start-up is
    paid once).
    """
    from openhcs_plugins._images import read_stack, write_preview, write_stack
    from openhcs_plugins.artifacts import split_outputs
    from openhcs_plugins.artifacts.write import write_artifacts
    from openhcs_plugins.registry import get_default_registry

    registry = get_default_registry()
    info = registry.info(key)
    targets = output_paths(files, output)
    outputs = declared_outputs(registry.entry(key), isolated)
    runner = None
    if isolated:
        from openhcs_plugins.execution.runner import runner_for

        runner = runner_for(info)
    results: list[FileResult] = []
    previewed = False
    pairs = list(zip(files, targets, strict=True))
    try:
        for path, target in progress(pairs) if progress is not None else pairs:
            try:
                stack = read_stack(path)
                if runner is not None:
                    result = runner.apply(stack, **params)
                else:
                    result = registry.call(key, stack, **params)
                image, values, extra = split_outputs(info.key, outputs, result)
                provenance = provenance_for(info, path, params, extra)
                if outputs:
                    # each complete under its final name before the image names it
                    provenance["artifacts"] = write_artifacts(target, outputs, values)
                if runner is not None:
                    provenance["isolation"] = runner.report.to_dict()
                write_stack(target, image, provenance)
                if preview is not None and not previewed:
                    write_preview(preview, stack, image)
                    previewed = True
                done = FileResult(path, target)
            except Exception as exc:
                done = FileResult(path, target, f"{type(exc).__name__}: {exc}")
            results.append(done)
            if on_result is not None:
                on_result(done)
    finally:
        if runner is not None:
            runner.close()
    return results
