"""``openhcs-plugins trust`` and ``untrust``: the trust store of folder files (docs/security.md).

``trust NAME|FILE`` shows the code, or its diff against the last version trusted at that path,
and asks; ``--yes`` trusts without asking (scripts). Without a target it lists the folder's
untrusted files. ``untrust NAME|FILE`` forgets the file's current text.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

import click

from openhcs_plugins.cli._common import functions_dir_option, manager
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, styled

__all__ = ["trust", "untrust"]


def _file_for(target: str, functions_dir: Path | None) -> Path:
    """The folder file a target names: a path, or a function name (``openhcs:NAME``)."""
    path = Path(target)
    if path.suffix == ".py" and path.is_file():
        return path
    from openhcs_plugins.registry import split_key

    namespace, name = split_key(target)
    if namespace != "openhcs":
        raise fail(
            f"{target}: functions of installed packages are trusted as pip installed them; "
            "only folder files are trusted here"
        )
    folder = manager(functions_dir)
    try:
        found = folder._defining_file(name)
    except ValueError as exc:
        raise fail(f"{target}: {exc}") from exc
    if found is not None:
        return found[0]
    own = folder.path_for(name)
    if own.is_file():  # a file the validator refuses can still be looked at and trusted
        return own
    raise fail(
        f"{target}: no function or file of that name in {folder.storage_dir}; "
        "`openhcs-plugins list --source folder` shows the folder's functions"
    )


def _read(path: Path) -> str:
    from openhcs_plugins.sources.folder import read_source

    try:
        return read_source(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise fail(f"{path}: cannot read it ({exc})") from exc


def _show(path: Path, text: str, previous: str | None) -> None:
    if previous is None:
        out.print(styled("bold", f"{path}", " (never trusted on this machine):"))
        width = len(str(text.count("\n") + 1))
        for number, line in enumerate(text.splitlines(), 1):
            out.print(f"{number:>{width}} | {line}", markup=False, highlight=False)
        return
    out.print(styled("bold", f"{path}", " changed since you last trusted it:"))
    diff = difflib.unified_diff(
        previous.splitlines(),
        text.splitlines(),
        fromfile=f"{path} (trusted)",
        tofile=f"{path} (now)",
        lineterm="",
    )
    for line in diff:
        out.print(line, markup=False, highlight=False)


@click.command(cls=Command)
@click.argument(
    "target", cls=Argument, required=False, help="A folder function's name or a file's path."
)
@click.option("--yes", "-y", is_flag=True, help="Trust without showing the code or asking.")
@functions_dir_option
def trust(target: str | None, yes: bool, functions_dir: Path | None) -> None:
    """Trust a folder file's code on this machine, so that it runs in this process."""
    from openhcs_plugins.config.trust import TrustStore, untrusted_files
    from openhcs_plugins.sources.candidate import sha256_text

    store = TrustStore()
    if target is None:
        folder = manager(functions_dir).storage_dir
        files = untrusted_files(folder, store)
        if not files:
            out.print(f"every file in {folder} is trusted")
            return
        out.print(f"{len(files)} untrusted file(s) in {folder} (they run only isolated):")
        for path in files:
            out.print(f"  {path}   trust with: openhcs-plugins trust {path.stem}")
        return
    path = _file_for(target, functions_dir)
    text = _read(path)
    sha = sha256_text(text)
    if store.is_trusted(sha):
        out.print(f"{path} is already trusted (sha256 {sha[:12]})")
        return
    if not yes:
        last = store.last_trusted(path)
        previous = store.trusted_text(last.sha256) if last is not None else None
        _show(path, text, previous)
        if not sys.stdin or not sys.stdin.isatty():
            raise fail(
                f"{path}: not trusted: there is no terminal to ask on; after reading the code, "
                f"run `openhcs-plugins trust {target} --yes`"
            )
        if not click.confirm(f"Trust {path} and run it in this process?", default=False):
            err.print("not trusted")
            raise click.exceptions.Exit(1)
    store.trust(text, path)
    out.print(styled("green", "trusted", f" {path} (sha256 {sha[:12]}); it now runs in process"))


@click.command(cls=Command)
@click.argument("target", cls=Argument, help="A folder function's name or a file's path.")
@functions_dir_option
def untrust(target: str, functions_dir: Path | None) -> None:
    """Forget that a folder file was trusted: it then runs only in an isolated worker."""
    from openhcs_plugins.config.trust import TrustStore
    from openhcs_plugins.sources.candidate import sha256_text

    path = _file_for(target, functions_dir)
    store = TrustStore()
    key = str(path.absolute())
    shas = {r.sha256 for r in store.entries() if r.path == key}
    from openhcs_plugins.sources.folder import read_source

    try:
        shas.add(sha256_text(read_source(path)))
    except (OSError, UnicodeDecodeError):
        pass  # unreadable now: forget what was trusted at that path
    removed = store.untrust(shas)
    if removed:
        out.print(f"untrusted {path}: it now runs only in an isolated worker")
    else:
        out.print(f"{path} was not trusted")
