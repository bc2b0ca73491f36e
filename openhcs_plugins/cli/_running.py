"""``openhcs-plugins run`` (a function on TIFF stacks, through
:func:`openhcs_plugins.batch.run_batch`) and ``demo`` (the bundled examples, listed and run on
a synthetic image)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from openhcs_plugins.cli._common import PATH, entry, functions_dir_option, load_registry, registry
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, styled

__all__ = ["demo", "run", "run_on_files"]


class _Progress:
    """A progress bar with done/failed/total (and the Dask dashboard link), fed by each
    file's outcome as it is written."""

    def __init__(self, description: str, total: int, show: bool) -> None:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.failed = 0
        self.done = 0
        self.total = total
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[counts]}"),
            TimeElapsedColumn(),
            console=err.console(),
            disable=not show,
        )
        self.task = self.bar.add_task(description, total=total, counts=self._counts())

    def _counts(self) -> str:
        return f"{self.done} done, {self.failed} failed, {self.total} total"

    def __enter__(self) -> _Progress:
        self.bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bar.__exit__(*exc)  # type: ignore[arg-type]

    def __call__(self, done: Any) -> None:
        if done.ok:
            self.done += 1
            out.print(styled("green", "wrote", f" {done.output}"))
        else:
            self.failed += 1
            err.print(styled("red", "failed", f" {done.input}: {done.error}"))
        self.bar.update(self.task, advance=1, counts=self._counts())


def _show_workers(shown: set[str]) -> Any:
    """An ``on_workers`` callback printing the dashboard once and each refused worker once."""

    def show(check: Any) -> None:
        if "dashboard" not in shown:
            shown.add("dashboard")
            link = check.dashboard or "not available (pip install bokeh)"
            err.print(f"{len(check.accepted)} worker(s) accepted; Dask dashboard: {link}")
        for address in sorted(set(check.refused) - shown):
            shown.add(address)
            err.print(styled("yellow", check.describe(address)))

    return show


def run_on_files(
    key: str,
    files: list[Path],
    output: Path,
    params: dict[str, Any],
    *,
    preview: Path | None = None,
    show_progress: bool = True,
    isolated: bool = False,
    client: Any = None,
    lock: dict[str, Any] | None = None,
) -> list[tuple[Path, str]]:
    """:func:`openhcs_plugins.batch.run_batch`, printing each file's outcome and a progress
    bar (with ``client``: on that Dask cluster, printing refused workers and the dashboard
    link); returns the failures as ``(file, reason)``."""
    from openhcs_plugins.batch import run_batch

    with _Progress(key, len(files), show_progress) as progress:
        results = run_batch(
            key,
            files,
            output,
            params,
            preview=preview,
            isolated=isolated,
            on_result=progress,
            client=client,
            lock=lock,
            on_workers=_show_workers(set()),
        )
    return [(done.input, done.error) for done in results if done.error is not None]


@contextlib.contextmanager
def _cluster(workers: int | None, scheduler: str | None) -> Iterator[Any]:
    """A Dask client for ``--workers N`` (a local cluster) or ``--scheduler ADDRESS``; None
    for neither."""
    if workers is None and scheduler is None:
        yield None
        return
    if workers is not None and scheduler is not None:
        raise fail("give --workers N (a cluster on this machine) or --scheduler ADDRESS, not both")
    try:
        from distributed import Client
    except ImportError as exc:
        raise fail(
            "running on Dask needs the distributed extra: "
            "pip install 'openhcs-plugins[distributed]'"
        ) from exc
    if workers is not None:
        if workers < 1:
            raise fail(f"--workers {workers}: give 1 or more")
        from openhcs_plugins.scaleout import local_client

        with local_client(workers) as client:
            yield client
        return
    try:
        client = Client(scheduler, timeout="10s")
    except (OSError, TimeoutError) as exc:
        raise fail(
            f"cannot reach the Dask scheduler {scheduler}: {exc} (is `dask scheduler` "
            "running there, and is the address tcp://HOST:PORT?)"
        ) from exc
    with client:
        yield client


@click.command(cls=Command)
@click.argument("key", cls=Argument, help="Function key, e.g. openhcs:blur or lab:denoise.")
@click.argument(
    "inputs",
    cls=Argument,
    nargs=-1,
    required=True,
    type=PATH,
    help="TIFF files, folders of TIFFs, or glob patterns.",
)
@click.option("--output", "-o", type=PATH, required=True, help="Output .tif (one input) or folder.")
@click.option("--param", "-p", multiple=True, help="name=value, repeatable.")
@click.option("--preview", type=PATH, default=None, help="PNG of the middle slice, before | after.")
@click.option(
    "--isolated",
    is_flag=True,
    help="Run in an isolated worker process with resource limits (docs/security.md).",
)
@click.option(
    "--workers",
    type=int,
    default=None,
    help="Run on a Dask cluster of N worker processes on this machine (docs/distributed.md).",
)
@click.option(
    "--scheduler",
    default=None,
    metavar="ADDRESS",
    help="Run on an existing Dask cluster (tcp://host:8786); OUTPUT must be reachable there.",
)
@click.option(
    "--lock",
    "lock_file",
    type=PATH,
    default=None,
    help="A lock file (`freeze`): workers and the function must match it.",
)
@functions_dir_option
def run(
    key: str,
    inputs: tuple[Path, ...],
    output: Path,
    param: tuple[str, ...],
    preview: Path | None,
    isolated: bool,
    workers: int | None,
    scheduler: str | None,
    lock_file: Path | None,
    functions_dir: Path | None,
) -> None:
    """Run a function on TIFF stacks and write TIFFs with provenance in their metadata.

    INPUTS are files, folders and glob patterns. 2D images are promoted to (1, Y, X). One
    failing file is reported and the rest run; the exit status is 1 if any failed, 130 when
    interrupted. With --workers or --scheduler each file is a task on Dask; every worker's
    plugin environment is checked first.
    """
    from openhcs_plugins._params import ParameterError, parse_params
    from openhcs_plugins.batch import expand_inputs
    from openhcs_plugins.registry import split_key

    report = load_registry(functions_dir=functions_dir)
    namespace, name = split_key(key)
    full_key = f"{namespace}:{name}"
    info_ = entry(full_key, report).info
    try:
        params = parse_params(info_, list(param))
    except ParameterError as exc:
        raise fail(str(exc)) from exc
    try:
        files = expand_inputs(list(inputs))
    except ValueError as exc:  # a folder without TIFFs, a path that does not exist
        raise fail(str(exc)) from exc
    lock = None
    if lock_file is not None:
        from openhcs_plugins.lockfile import LockFileError, read_lock

        try:
            lock = read_lock(lock_file)
        except LockFileError as exc:
            raise fail(str(exc)) from exc
    from openhcs_plugins.scaleout import BatchCancelled

    try:
        with _cluster(workers, scheduler) as client:
            failures = run_on_files(
                full_key,
                files,
                output,
                params,
                preview=preview,
                isolated=isolated,
                client=client,
                lock=lock,
            )
    except click.exceptions.Exit:  # already reported (a RuntimeError too, in click)
        raise
    except BatchCancelled as exc:
        err.print(styled("yellow", str(exc)))
        raise SystemExit(130) from exc
    except ValueError as exc:  # outputs that would overwrite an input or each other
        raise fail(str(exc)) from exc
    except RuntimeError as exc:  # isolated worker failed; workers or environment refused
        raise fail(str(exc)) from exc
    if failures:
        raise fail(f"{len(failures)} of {len(files)} input(s) failed")


@click.command(cls=Command)
@click.option(
    "--output-dir",
    "-o",
    "output_dir",
    type=PATH,
    default="demo-output",
    show_default=True,
    help="Where the demo writes its files.",
)
@click.option(
    "--into-user-folder", is_flag=True, help="Also save the example functions in your folder."
)
def demo(output_dir: Path, into_user_folder: bool) -> None:
    """Register the bundled example functions, list them, and run one on a synthetic image."""
    from importlib import resources

    from openhcs_plugins._images import synthetic_cells, write_stack
    from openhcs_plugins.cli._listing import print_table
    from openhcs_plugins.manager import CustomFunctionManager

    functions_dir = None if into_user_folder else output_dir / "functions"
    manager = CustomFunctionManager(functions_dir)
    bundled = resources.files("openhcs_plugins") / "data" / "demo_functions"
    for item in sorted(bundled.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".py"):
            continue
        code = item.read_text(encoding="utf-8")
        name = item.name[: -len(".py")]
        if manager.path_for(name).exists():
            manager.update_custom_function(name, code)
        else:
            manager.register_from_code(code, persist=True)
    manager.load_all_custom_functions()
    out.print(styled("", "example functions saved in ") + styled("bold", str(manager.storage_dir)))
    print_table(registry().infos(namespace="openhcs"))
    image_path = output_dir / "cells.tif"
    write_stack(
        image_path, synthetic_cells(), {"synthetic": "openhcs_plugins._images.synthetic_cells"}
    )
    result_path = output_dir / "cells_subtract_background.tif"
    preview_path = output_dir / "preview.png"
    failures = run_on_files(
        "openhcs:subtract_background",
        [image_path],
        result_path,
        {"radius": 20},
        preview=preview_path,
        show_progress=False,
    )
    if failures:
        raise fail(f"the demo run failed: {failures[0][1]}")
    out.print(
        styled(
            "bold green",
            "demo done",
            f": input {image_path}, output {result_path}, preview {preview_path} "
            f"(all in {output_dir.resolve()})",
        )
    )
