"""``openhcs-plugins freeze`` (a lock file of what is registered) and ``check`` (the
environment against a lock file); the work is :mod:`openhcs_plugins.lockfile`'s."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from openhcs_plugins.cli._common import PATH, functions_dir_option, load_registry, registry
from openhcs_plugins.cli._common import settings as load_settings
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, styled

__all__ = ["check", "freeze"]


@click.command(cls=Command)
@click.option("--output", "-o", type=PATH, default=None, help="Write here instead of stdout.")
@functions_dir_option
def freeze(output: Path | None, functions_dir: Path | None) -> None:
    """Write a lock file of what is registered: package versions, origins and source-file
    sha256s, folder-file sha256s."""
    from openhcs_plugins.lockfile import freeze as freeze_infos
    from openhcs_plugins.lockfile import write_lock

    problems = load_registry(functions_dir=functions_dir).problems
    data = freeze_infos(registry().infos())
    if output is None:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        write_lock(output, data)
        counts = f"{len(data['packages'])} package(s), {len(data['folder'])} folder file(s)"
        out.print(f"wrote {output}: {counts}")
    for problem in problems:
        err.print(styled("yellow", "not locked (skipped):", f" {problem}"))


@click.command(cls=Command)
@click.argument("lockfile", cls=Argument, type=PATH, help="A lock file written by `freeze`.")
@functions_dir_option
def check(lockfile: Path, functions_dir: Path | None) -> None:
    """Verify the environment against a lock file; exit 1 with a diff on any drift."""
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.lockfile import LockFileError, check_lock, read_lock, upgrade_note
    from openhcs_plugins.lockfile import freeze as freeze_infos

    try:
        locked = read_lock(lockfile)
    except LockFileError as exc:
        raise fail(str(exc)) from exc
    command = f"openhcs-plugins freeze -o {shlex.quote(str(lockfile))}"
    if functions_dir is not None:
        command += f" --functions-dir {shlex.quote(str(functions_dir))}"
    note = upgrade_note(locked, command)
    if note is not None:
        err.print(styled("yellow", "note:", f" {note}"))
    settings = load_settings(functions_dir)
    report = load_plugins(settings=settings)
    drifts = check_lock(
        locked,
        freeze_infos(registry().infos()),
        folder=settings.functions_path(),
        problems=report.problems,
        disabled=report.disabled,
    )
    # A package or file that fails to load is missing from the registry: say why.
    for problem in report.problems:
        err.print(styled("yellow", "skipped:", f" {problem}"))
    if not drifts:
        out.print(styled("green", "ok", f": the environment matches {lockfile}"))
        return
    for drift in drifts:
        colour = {"missing": "red", "extra": "yellow"}.get(drift.kind, "magenta")
        out.print(styled(colour, str(drift)))
    raise fail(f"{len(drifts)} difference(s) from {lockfile}")
