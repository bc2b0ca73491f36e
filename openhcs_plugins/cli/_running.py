"""``openhcs-plugins run`` (a function on TIFF stacks, through
:func:`openhcs_plugins.batch.run_batch`) and ``demo`` (the bundled examples, listed and run on
a synthetic image)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from openhcs_plugins.cli._common import PATH, entry, functions_dir_option, load_registry, registry
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, styled

__all__ = ["demo", "run", "run_on_files"]


def run_on_files(
    key: str,
    files: list[Path],
    output: Path,
    params: dict[str, Any],
    *,
    preview: Path | None = None,
    show_progress: bool = True,
    isolated: bool = False,
) -> list[tuple[Path, str]]:
    """:func:`openhcs_plugins.batch.run_batch`, printing each file's outcome and a progress
    bar; returns the failures as ``(file, reason)``."""
    from rich.progress import track

    from openhcs_plugins.batch import FileResult, run_batch

    def show(done: FileResult) -> None:
        if done.ok:
            out.print(styled("green", "wrote", f" {done.output}"))
        else:
            err.print(styled("red", "failed", f" {done.input}: {done.error}"))

    results = run_batch(
        key,
        files,
        output,
        params,
        preview=preview,
        isolated=isolated,
        on_result=show,
        progress=lambda pairs: track(
            pairs, description=key, console=err.console(), disable=not show_progress
        ),
    )
    return [(done.input, done.error) for done in results if done.error is not None]


@click.command(cls=Command)
@click.argument("key", cls=Argument, help="Function key, e.g. openhcs:blur or lab:denoise.")
@click.argument(
    "inputs",
    cls=Argument,
    nargs=-1,
    required=True,
    type=PATH,
    help="TIFF files or folders of TIFFs.",
)
@click.option("--output", "-o", type=PATH, required=True, help="Output .tif (one input) or folder.")
@click.option("--param", "-p", multiple=True, help="name=value, repeatable.")
@click.option("--preview", type=PATH, default=None, help="PNG of the middle slice, before | after.")
@click.option(
    "--isolated",
    is_flag=True,
    help="Run in an isolated worker process with resource limits (docs/security.md).",
)
@functions_dir_option
def run(
    key: str,
    inputs: tuple[Path, ...],
    output: Path,
    param: tuple[str, ...],
    preview: Path | None,
    isolated: bool,
    functions_dir: Path | None,
) -> None:
    """Run a function on TIFF stacks and write TIFFs with provenance in their metadata.

    2D images are promoted to (1, Y, X). One failing file is reported and the rest run; the
    exit status is 1 if any failed.
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
    try:
        failures = run_on_files(full_key, files, output, params, preview=preview, isolated=isolated)
    except ValueError as exc:  # outputs that would overwrite an input or each other
        raise fail(str(exc)) from exc
    except RuntimeError as exc:  # the isolated worker could not load the function
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
