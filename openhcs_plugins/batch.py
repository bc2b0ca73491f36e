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
(numpy, tifffile) and, with ``isolated``, the isolated runner; nothing imports it but the CLI,
the editor and the Dask workers (:mod:`openhcs_plugins.scaleout`), which run each input through
the same :func:`process_file`. With ``client=`` (a ``distributed.Client``) the inputs run on
that Dask cluster (docs/distributed.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from openhcs_plugins._batch_file import (
    TIFF_SUFFIXES,
    FileResult,
    declared_outputs,
    expand_inputs,
    output_paths,
    process_file,
    provenance_for,
)

__all__ = [
    "TIFF_SUFFIXES",
    "FileResult",
    "declared_outputs",
    "expand_inputs",
    "output_paths",
    "process_file",
    "provenance_for",
    "run_batch",
]


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
    client: Any = None,
    lock: dict[str, Any] | None = None,
    on_workers: Callable[[Any], None] | None = None,
) -> list[FileResult]:
    """Run ``key`` (registered in the default registry) on each TIFF in ``files``.

    Each result is written as a TIFF with :func:`provenance_for` in its metadata, and each
    artifact output the function declares beside it (CSV or JSON, as its spec says; listed
    with its sha256 under ``artifacts`` in the provenance); ``preview``
    gets a PNG (middle slice, before | after) of the first file that succeeds. One failing file
    is recorded and the rest run. Returns one :class:`FileResult` per file, in order. Every
    file appears complete or not at all (written under a temporary name, then renamed).

    With ``client`` (a ``distributed.Client``) each file is one task on that Dask cluster
    (:func:`openhcs_plugins.scaleout.run_on_cluster`: the workers' environments are checked
    first, against this one or the lock file data ``lock``; ``on_workers`` gets that
    :class:`~openhcs_plugins.scaleout.WorkerCheck`); ``progress`` is not used, ``on_result``
    is called as tasks finish. Without it, ``lock`` checks this environment.

    Raises ValueError before running anything when an output would overwrite an input or two
    inputs would write the same output, and RuntimeError when the isolated worker cannot load
    the function. With ``isolated``, one warm isolated worker runs every file (its start-up is
    paid once).
    """
    from openhcs_plugins._images import write_preview
    from openhcs_plugins.registry import get_default_registry

    if client is not None:
        from openhcs_plugins.scaleout import run_on_cluster

        return run_on_cluster(
            key,
            files,
            output,
            params,
            client,
            isolated=isolated,
            lock=lock,
            preview=preview,
            on_result=on_result,
            on_workers=on_workers,
        )
    if lock is not None:
        from openhcs_plugins.scaleout.environment import check_here

        check_here(key, lock)
    registry = get_default_registry()
    info = registry.info(key)
    targets = output_paths(files, output)
    outputs = declared_outputs(registry.entry(key), isolated)
    runner = None
    if isolated:
        from openhcs_plugins.execution.runner import runner_for

        runner = runner_for(info)

    def call(stack: Any) -> Any:
        if runner is not None:
            return runner.apply(stack, **params)
        return registry.call(key, stack, **params)

    def annotate() -> dict[str, Any]:
        return {"isolation": runner.report.to_dict()} if runner is not None else {}

    results: list[FileResult] = []
    previewed = False
    pairs = list(zip(files, targets, strict=True))
    try:
        for path, target in progress(pairs) if progress is not None else pairs:
            try:
                made = process_file(
                    info.key, info, call, outputs, params, path, target, annotate=annotate
                )
                if preview is not None and not previewed and made is not None:
                    write_preview(preview, *made)
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
