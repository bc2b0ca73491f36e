"""``openhcs-plugins settings ...``: show, set and edit the settings file.

Mounted by :mod:`openhcs_plugins.cli`; also runs alone: ``python -m openhcs_plugins.cli._settings``.
Exit codes: 0 done, 1 the settings file is broken or the editor failed (nothing was written),
2 a bad key or value.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import click
from click.exceptions import Exit

from openhcs_plugins.cli._lazy import Argument, Group

__all__ = ["settings_app"]

settings_app = Group(
    "settings",
    help="Show and change openhcs-plugins settings (file < environment < per-call overrides).",
    short_help="Show and edit settings.",
    no_args_is_help=True,
)


def _fail(message: str, code: int) -> Exit:
    click.echo(f"error: {message}", err=True)
    return Exit(code)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


@settings_app.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option(
    "--override",
    "-o",
    multiple=True,
    metavar="KEY=VALUE",
    help="Apply a per-call override, as commands taking settings do (repeatable).",
)
def show(as_json: bool, override: tuple[str, ...]) -> None:
    """Print every setting, its value and where it comes from (file, env, override, default)."""
    from openhcs_plugins.config import (
        SETTINGS_KEYS,
        SettingsError,
        default_note,
        describe_settings,
        parse_setting_value,
    )

    overrides: dict[str, Any] = {}
    for item in override:
        key, sep, text = item.partition("=")
        if not sep:
            raise _fail(f"--override takes KEY=VALUE, got {item!r}", 2)
        try:
            overrides[key.strip().replace(".", "__")] = parse_setting_value(key.strip(), text)
        except SettingsError as exc:
            raise _fail(str(exc), 2) from None
    try:
        report = describe_settings(**overrides)
    except SettingsError as exc:
        raise _fail(str(exc), 2) from None
    for problem in report.problems:
        click.echo(f"warning: {problem}", err=True)
    if as_json:
        data = {
            "file": str(report.file),
            "file_exists": report.file_exists,
            "problems": list(report.problems),
            "settings": {
                e.key: {
                    "value": _jsonable(e.value),
                    "layer": e.layer,
                    # the old key (kept for one release): the same text
                    "origin": e.layer,
                    "default": _jsonable(e.default),
                    "env_var": e.env_var,
                }
                for e in report.entries
            },
        }
        click.echo(json.dumps(data, indent=2))
        return
    state = "" if report.file_exists else " (not created yet)"
    click.echo(f"settings file: {report.file}{state}")
    width = max(len(k) for k in SETTINGS_KEYS) + 2
    for e in report.entries:
        if e.layer == "default":
            note = default_note(e.key)
            click.echo(f"{e.key:<{width}}(default: {e.default!r}){'  ' + note if note else ''}")
        else:
            layer = f"env {e.env_var}" if e.layer == "env" else e.layer
            click.echo(f"{e.key:<{width}}{e.value!r}  [{layer}]")


@settings_app.command("set")
@click.argument("key", cls=Argument, help="Dotted key, e.g. trust.folder.")
@click.argument("value", cls=Argument, required=False, help="New value; lists are comma-separated.")
@click.option("--unset", is_flag=True, help="Remove the key from the file (it inherits again).")
def set_(key: str, value: str | None, unset: bool) -> None:
    """Set KEY to VALUE in the settings file (the value is checked first)."""
    from openhcs_plugins.config import (
        ENV_VARS,
        SETTINGS_KEYS,
        SettingsError,
        SettingsFileError,
        parse_setting_value,
        settings_file_path,
        update_setting,
    )

    if key not in SETTINGS_KEYS:
        raise _fail(f"unknown settings key {key!r}; the keys are: {', '.join(SETTINGS_KEYS)}", 2)
    if unset == (value is not None):
        raise _fail("give either a VALUE or --unset", 2)
    try:
        parsed = None if unset else parse_setting_value(key, value or "")
        updated = update_setting(key, parsed)
    except SettingsFileError as exc:
        raise _fail(
            f"{exc}\nThe file was not changed; fix it first with `openhcs-plugins settings edit`.",
            1,
        ) from None
    except SettingsError as exc:
        raise _fail(str(exc), 2) from None
    path = settings_file_path()
    if unset:
        click.echo(f"{key} unset in {path}")
    else:
        stored: Any = updated
        for part in key.split("."):
            stored = object.__getattribute__(stored, part)
        click.echo(f"{key} = {stored!r} written to {path}")
    env_var = ENV_VARS[key]
    if os.environ.get(env_var, "").strip():
        click.echo(f"note: {env_var} is set and takes precedence over the file", err=True)


def _editor_command() -> list[str]:
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
    if editor:
        return shlex.split(editor)
    return ["notepad"] if os.name == "nt" else ["vi"]


@settings_app.command("edit")
def edit() -> None:
    """Open the settings file in $VISUAL/$EDITOR; save it only if it runs and is valid."""
    from openhcs_plugins.config import (
        SettingsFileError,
        save_settings_text,
        settings_file_path,
        settings_template,
    )

    path = settings_file_path()
    try:
        original = path.read_text(encoding="utf-8") if path.exists() else settings_template()
    except UnicodeDecodeError as exc:
        raise _fail(
            f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); fix or delete it "
            "(`openhcs-plugins settings path` shows where it is)",
            1,
        ) from None
    workdir = Path(tempfile.mkdtemp(prefix="openhcs-plugins-settings-"))
    draft = workdir / "settings.py"
    text = original
    while True:
        draft.write_text(text, encoding="utf-8")
        command = [*_editor_command(), str(draft)]
        try:
            completed = subprocess.run(command, check=False)
        except OSError as exc:
            raise _fail(f"cannot start the editor {command[0]!r} ($EDITOR): {exc}", 1) from None
        if completed.returncode != 0:
            raise _fail(
                f"the editor exited with status {completed.returncode}; nothing was saved "
                f"(your draft: {draft})",
                1,
            )
        try:
            text = draft.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise _fail(
                f"the edited file is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                f"nothing was saved (your draft: {draft})",
                1,
            ) from None
        if text == original and path.exists():
            shutil.rmtree(workdir, ignore_errors=True)
            click.echo(f"no changes; {path} left as it was")
            return
        try:
            save_settings_text(text, path)
        except SettingsFileError as exc:
            click.echo(f"error: {exc}", err=True)
            if sys.stdin.isatty() and click.confirm("Edit again?", default=True):
                continue
            raise _fail(f"{path} was not changed; your edited copy is kept at {draft}", 1) from None
        shutil.rmtree(workdir, ignore_errors=True)
        click.echo(f"saved {path}")
        return


@settings_app.command("path")
def path() -> None:
    """Print the path of the settings file (it may not exist yet)."""
    from openhcs_plugins.config import settings_file_path

    click.echo(str(settings_file_path()))


if __name__ == "__main__":
    settings_app()
