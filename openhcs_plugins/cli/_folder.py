"""The functions folder and the switches: ``openhcs-plugins add``, ``remove``, ``template``
(starter code for a new file), ``disable`` and ``enable``."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from click.exceptions import Exit

from openhcs_plugins.cli._common import PATH, entry, functions_dir_option, load_registry, manager
from openhcs_plugins.cli._common import settings as load_settings
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, print_validation_errors, styled
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES

__all__ = ["add", "disable", "enable", "remove", "template"]


@click.command(cls=Command)
@click.argument(
    "path", cls=Argument, type=PATH, help="A function file to validate, register and save."
)
@click.option("--replace", is_flag=True, help="Replace a saved function of the same name.")
@click.option(
    "--trust",
    "trusted",
    is_flag=True,
    help="Trust the file's code on this machine: it then runs in this process "
    "(without it, it runs only in an isolated worker until `openhcs-plugins trust NAME`).",
)
@functions_dir_option
def add(path: Path, replace: bool, trusted: bool, functions_dir: Path | None) -> None:
    """Validate a file's functions and save them in the functions folder."""
    from openhcs_plugins.validation import ValidationError

    if not path.is_file():
        raise fail(f"{path}: no such file")
    try:
        code = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    folder = manager(functions_dir)
    try:
        funcs = folder.register_from_code(
            code, persist=True, replace=replace, filename=str(path), trusted=trusted
        )
    except ValidationError as exc:
        print_validation_errors(getattr(exc, "errors", [exc]), str(path))
        raise Exit(1) from exc
    except (FileExistsError, ValueError, KeyError) as exc:
        raise fail(f"{path}: {exc}") from exc
    state = "trusted" if trusted else "untrusted: runs isolated; `openhcs-plugins trust NAME`"
    for func in funcs:
        saved = folder.path_for(func.__name__)
        out.print(styled("green", "added", f" openhcs:{func.__name__} -> {saved} ({state})"))
    warn_openhcs_folder(folder.storage_dir)


def warn_openhcs_folder(storage_dir: Path) -> None:
    """Warn (stderr) about the folder files OpenHCS would refuse, with the file and the rule."""
    from openhcs_plugins.hosts.openhcs_folder import scan_folder

    for problem in scan_folder(storage_dir):
        err.print(styled("yellow", "warning:", f" {problem}"))


@click.command(cls=Command)
@click.argument("name", cls=Argument, help="Function name (or openhcs:name).")
@functions_dir_option
def remove(name: str, functions_dir: Path | None) -> None:
    """Delete a function from the functions folder."""
    from openhcs_plugins.registry import split_key

    namespace, bare = split_key(name)
    if namespace != "openhcs":
        key = f"{namespace}:{bare}"
        info_ = entry(key, load_registry(functions_dir=functions_dir)).info
        dist = info_.provenance.distribution
        uninstall = f"uninstall it with: python -m pip uninstall {dist}, or " if dist else ""
        raise fail(
            f"{key}: only folder functions (openhcs:...) can be removed; {key} comes from "
            f"{info_.provenance.describe()}: {uninstall}switch the function off with: "
            f"openhcs-plugins disable {key}"
        )
    folder = manager(functions_dir)
    try:
        path = folder.path_for(bare)
        had_file = path.is_file()
        removed = folder.delete_custom_function(bare)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if not removed:
        raise fail(f"no custom function {bare!r} in {folder.storage_dir}")
    deleted = f" (deleted {path})" if had_file and not path.exists() else ""
    out.print(styled("green", "removed", f" openhcs:{bare}{deleted}"))
    warn_openhcs_folder(folder.storage_dir)


@click.command(cls=Command)
@click.option(
    "--memory-type",
    "-m",
    "memory_type",
    default="numpy",
    show_default=True,
    help=f"One of {AVAILABLE_MEMORY_TYPES}.",
)
@click.option(
    "--analysis",
    is_flag=True,
    help="The analysis template: measurements returned beside the image, written as CSV.",
)
@click.option("--output", "-o", type=PATH, default=None, help="Write to this file.")
def template(memory_type: str, analysis: bool, output: Path | None) -> None:
    """Print a starter function for a memory type."""
    from openhcs_plugins.templates import get_analysis_template, get_template_for_memory_type

    try:
        if analysis:
            text = get_analysis_template(memory_type)
        else:
            text = get_template_for_memory_type(memory_type)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    if output is None:
        sys.stdout.write(text)
    else:
        if output.exists():
            raise fail(f"{output} exists; choose another name")
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")


@click.command(cls=Command)
@click.argument("name", cls=Argument, help="A namespace (lab_filters) or a key (lab:blur).")
@click.option("--everywhere", is_flag=True, help="In every environment, not only this one.")
@functions_dir_option
def disable(name: str, everywhere: bool, functions_dir: Path | None) -> None:
    """Switch a namespace or one function off (stored in your settings)."""
    from openhcs_plugins.loader import disable as disable_name

    try:
        change = disable_name(
            name, everywhere=everywhere, folder=load_settings(functions_dir).functions_path()
        )
    except ValueError as exc:
        raise fail(str(exc)) from exc
    out.print(str(change))


@click.command(cls=Command)
@click.argument("name", cls=Argument, help="A namespace or a key disabled before.")
def enable(name: str) -> None:
    """Switch a disabled namespace or function back on."""
    from openhcs_plugins.loader import enable as enable_name

    try:
        change = enable_name(name)
    except ValueError as exc:
        raise fail(str(exc)) from exc
    out.print(str(change))
