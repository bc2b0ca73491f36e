"""Lock files: pin exactly which function code a deployment runs.

``freeze`` records what is registered: each plugin namespace's distribution, exact version,
install origin and the sha256 of the text of every source file of the distribution (editable
installs included: their files are read where they really are), and each folder file's sha256
with the functions it defines. ``check`` compares the running environment with a lock file and
lists every drift: missing, extra, other version or origin, a changed, added or removed file,
and a file that is present but does not parse, cannot be read, or was not loaded (and why).

The file is JSON (stable key order, one entry per line group) so it diffs well in git::

    {
      "format": 2,
      "packages": {"lab_filters": {"distribution": "lab-filters", "version": "0.2.0",
                                   "origin": "index", "functions": ["blur", "denoise"],
                                   "files": {"lab_filters/__init__.py": "...",
                                             "lab_filters/blur.py": "..."}}},
      "folder": {"blur.py": {"sha256": "...", "functions": ["blur"]}}
    }

Format 1 (no ``files``) is still read and checked without the per-file comparison;
:func:`upgrade_note` says how to re-freeze it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import importlib_metadata

from openhcs_plugins._storage import atomic_write_text
from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.registry import FunctionInfo
from openhcs_plugins.sources.candidate import SourceKind, sha256_text
from openhcs_plugins.sources.entry_points import module_files
from openhcs_plugins.sources.folder import read_source
from openhcs_plugins.sources.problem import Problem

__all__ = [
    "LOCK_FORMAT",
    "Drift",
    "LockFileError",
    "check_lock",
    "freeze",
    "installed_files",
    "read_lock",
    "upgrade_note",
    "write_lock",
]

LOCK_FORMAT = 2
#: Formats :func:`read_lock` accepts (older ones with :func:`upgrade_note`).
READABLE_FORMATS = (1, 2)

#: distribution name -> its source files (``package/module.py`` -> path), None if not installed.
FilesOf = Callable[[str], "dict[str, Path] | None"]


class LockFileError(OpenHCSPluginsError, ValueError):
    """A lock file that cannot be read (``subject`` and ``path``: the file; ``hint``: the
    command that writes a good one)."""


@dataclass(frozen=True)
class Drift:
    """One difference between a lock file and the running environment."""

    #: ``missing``, ``extra``, ``version``, ``origin``, ``functions``, ``changed``, ``added``,
    #: ``removed``, ``syntax`` (does not parse), ``unreadable`` or ``not-loaded``.
    kind: str
    #: ``package <namespace>`` or ``file <name>``.
    subject: str
    locked: str | None
    current: str | None
    #: the source file of a package a file drift is about (``lab_filters/blur.py``).
    file: str | None = None

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"- {self.subject}: locked {self.locked}, not present"
        if self.kind == "extra":
            return f"+ {self.subject}: {self.current} (not in the lock file)"
        if self.kind in ("added", "removed") or (self.kind == "changed" and self.file):
            return f"~ {self.subject}: {self.kind} {self.file}"
        if self.kind == "syntax":
            return f"! {self.subject}: does not parse: {self.current}"
        if self.kind == "unreadable":
            return f"! {self.subject}: cannot be read: {self.current}"
        if self.kind == "not-loaded":
            return f"! {self.subject}: present but not loaded: {self.current}"
        return f"~ {self.subject}: {self.kind} {self.locked} -> {self.current}"


def installed_files(distribution: str) -> dict[str, Path] | None:
    """The source files of the installed ``distribution``
    (:func:`~openhcs_plugins.sources.module_files`), or None when it is not installed."""
    try:
        dist = importlib_metadata.distribution(distribution)
    except importlib_metadata.PackageNotFoundError:
        return None
    return module_files(dist)


def _hash_file(path: Path) -> str | None:
    """The sha256 of a source file's text (None when it cannot be read)."""
    try:
        return sha256_text(read_source(path))
    except (OSError, UnicodeDecodeError):
        return None


def _hashes(files: Mapping[str, Path]) -> dict[str, str | None]:
    return {rel: _hash_file(path) for rel, path in sorted(files.items())}


def freeze(infos: list[FunctionInfo], *, files_of: FilesOf = installed_files) -> dict[str, Any]:
    """The lock data for the registered functions ``infos`` (entry points and folder files).

    ``files_of`` finds a distribution's source files (the installed ones by default).
    """
    packages: dict[str, dict[str, Any]] = {}
    folder: dict[str, dict[str, Any]] = {}
    for info in infos:
        prov = info.provenance
        if prov.source is SourceKind.ENTRY_POINT:
            entry = packages.get(info.namespace)
            if entry is None:
                files = files_of(prov.distribution) if prov.distribution else None
                entry = packages[info.namespace] = {
                    "distribution": prov.distribution,
                    "version": prov.version,
                    "origin": prov.origin,
                    "functions": [],
                    "files": _hashes(files or {}),
                }
            entry["functions"].append(info.name)
        elif prov.source is SourceKind.FOLDER and prov.file:
            entry = folder.setdefault(
                Path(prov.file).name, {"sha256": prov.sha256, "functions": []}
            )
            entry["functions"].append(info.name)
    for entry in (*packages.values(), *folder.values()):
        entry["functions"].sort()
    return {
        "format": LOCK_FORMAT,
        "packages": dict(sorted(packages.items())),
        "folder": dict(sorted(folder.items())),
    }


def write_lock(path: Path, data: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_lock(path: Path) -> dict[str, Any]:
    """Read and check the shape of a lock file; errors name the file and what is wrong."""
    command = f"openhcs-plugins freeze -o {path}"
    fix = f"regenerate it with `{command}`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockFileError(
            f"{path}: no such lock file (write one with `openhcs-plugins freeze -o {path}`)",
            subject=path,
            path=path,
            hint=command,
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LockFileError(
            f"{path}: not a lock file ({exc})", subject=path, path=path, hint=command
        ) from exc
    found = data.get("format") if isinstance(data, dict) else None
    if found not in READABLE_FORMATS:
        raise LockFileError(
            f"{path}: unknown lock file format {found!r} (this version writes format "
            f"{LOCK_FORMAT}); {fix}",
            subject=path,
            path=path,
            hint=command,
        )
    for section in ("packages", "folder"):
        if not isinstance(data.get(section), dict):
            raise LockFileError(
                f"{path}: missing or malformed {section!r} section; {fix}",
                subject=path,
                path=path,
                hint=command,
            )
        for name, entry in data[section].items():
            if not isinstance(entry, dict):
                raise LockFileError(
                    f"{path}: {section!r} entry {name!r} is not an object; {fix}",
                    subject=path,
                    path=path,
                    hint=command,
                )
            functions = entry.get("functions", [])
            if not isinstance(functions, list) or not all(isinstance(f, str) for f in functions):
                raise LockFileError(
                    f"{path}: 'functions' of {section!r} entry {name!r} is not a list of "
                    f"names; {fix}",
                    subject=path,
                    path=path,
                    hint=command,
                )
            files = entry.get("files", {})
            if not isinstance(files, dict) or not all(
                isinstance(h, str | None) for h in files.values()
            ):
                raise LockFileError(
                    f"{path}: 'files' of {section!r} entry {name!r} is not a mapping of file "
                    f"names to sha256s; {fix}",
                    subject=path,
                    path=path,
                    hint=command,
                )
    return data


def upgrade_note(data: dict[str, Any], freeze_command: str) -> str | None:
    """What to tell the user about a lock in an older format (None for the current one).

    ``freeze_command`` is the exact command that rewrites the file.
    """
    if data.get("format") == LOCK_FORMAT:
        return None
    return (
        f"this lock file is format {data.get('format')}: it records no package source files, "
        "so a package edited in place (an editable install) is not detected; re-freeze it "
        f"with `{freeze_command}`"
    )


def check_lock(
    locked: dict[str, Any],
    current: dict[str, Any],
    *,
    folder: Path | None = None,
    problems: Iterable[Problem] = (),
    disabled: Iterable[str] = (),
    files_of: FilesOf = installed_files,
) -> list[Drift]:
    """Every difference between ``locked`` and ``current`` (both from :func:`freeze`).

    A locked package or folder file that is not registered now is looked for where it would be
    (the installed distribution, the functions ``folder``), so that a present one is reported
    as changed, not parsing, unreadable, or not loaded (with the reason from ``problems`` and
    the ``disabled`` keys of the load report) instead of "not present".
    """
    problems = tuple(problems)
    disabled = frozenset(disabled)
    drifts: list[Drift] = []
    old, new = locked["packages"], current["packages"]
    for name in sorted(set(old) | set(new)):
        subject = f"package {name}"
        if name not in old:
            drifts.append(Drift("extra", subject, None, _describe(new[name])))
            continue
        if name not in new:
            drifts += _absent_package(name, old[name], problems, disabled, files_of)
            continue
        for field in ("distribution", "version", "origin"):
            if old[name].get(field) != new[name].get(field):
                drifts.append(
                    Drift(field, subject, str(old[name].get(field)), str(new[name].get(field)))
                )
        drifts += _function_drift(subject, old[name], new[name])
        if "files" in old[name]:
            files = files_of(new[name]["distribution"]) or {}
            drifts += _file_drifts(subject, old[name]["files"], new[name]["files"], files)
    old, new = locked["folder"], current["folder"]
    for name in sorted(set(old) | set(new)):
        subject = f"file {name}"
        if name not in old:
            drifts.append(Drift("extra", subject, None, _describe(new[name])))
        elif name not in new:
            path = folder / name if folder is not None else None
            drifts += _absent_file(subject, path, old[name], problems, disabled)
        else:
            if old[name].get("sha256") != new[name].get("sha256"):
                drifts.append(
                    Drift(
                        "changed",
                        subject,
                        str(old[name].get("sha256")),
                        str(new[name].get("sha256")),
                    )
                )
            drifts += _function_drift(subject, old[name], new[name])
    return drifts


def _function_drift(subject: str, old: dict[str, Any], new: dict[str, Any]) -> list[Drift]:
    before, after = old.get("functions", []), new.get("functions", [])
    if sorted(before) == sorted(after):
        return []
    return [Drift("functions", subject, ", ".join(before), ", ".join(after))]


def _syntax_error(path: Path) -> str | None:
    """``path:line: message`` when the file does not parse, else None (unreadable: None)."""
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError):
        return None
    try:
        compile(text, str(path), "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{path}:{exc.lineno}: {exc.msg}"
    except ValueError as exc:  # null bytes
        return f"{path}: {exc}"
    return None


def _file_drifts(
    subject: str,
    old: Mapping[str, str | None],
    new: Mapping[str, str | None],
    paths: Mapping[str, Path],
) -> list[Drift]:
    drifts: list[Drift] = []
    for rel in sorted(set(old) | set(new)):
        if rel not in new:
            drifts.append(Drift("removed", subject, old[rel], None, file=rel))
            continue
        if rel not in old:
            drifts.append(Drift("added", subject, None, new[rel], file=rel))
        elif old[rel] != new[rel]:
            drifts.append(Drift("changed", subject, old[rel], new[rel], file=rel))
        else:
            continue
        path = paths.get(rel)
        if path is None:
            continue
        if new[rel] is None:
            drifts.append(Drift("unreadable", subject, None, str(path), file=rel))
        elif (error := _syntax_error(path)) is not None:
            drifts.append(Drift("syntax", subject, None, error, file=rel))
    return drifts


def _reason(matching: list[Problem], is_disabled: bool, enable: str) -> str:
    if is_disabled:
        return f"disabled (`openhcs-plugins enable {enable}`)"
    if matching:
        return "; ".join(
            p.text + (f" ({p.file}:{p.line})" if p.file and p.line else "") for p in matching
        )
    return "no function of it is registered (see `openhcs-plugins list`)"


def _absent_package(
    namespace: str,
    entry: dict[str, Any],
    problems: tuple[Problem, ...],
    disabled: frozenset[str],
    files_of: FilesOf,
) -> list[Drift]:
    subject = f"package {namespace}"
    files = files_of(entry.get("distribution") or "")
    if files is None:
        return [Drift("missing", subject, _describe(entry), None)]
    drifts: list[Drift] = []
    if "files" in entry:
        drifts += _file_drifts(subject, entry["files"], _hashes(files), files)
    matching = [p for p in problems if p.namespace == namespace]
    # A disabled namespace reports each of its functions' keys as disabled.
    is_disabled = any(key.startswith(f"{namespace}:") for key in disabled)
    reason = _reason(matching, is_disabled, namespace)
    drifts.append(Drift("not-loaded", subject, _describe(entry), reason))
    return drifts


def _absent_file(
    subject: str,
    path: Path | None,
    entry: dict[str, Any],
    problems: tuple[Problem, ...],
    disabled: frozenset[str],
) -> list[Drift]:
    if path is None or not path.exists():
        return [Drift("missing", subject, _describe(entry), None)]
    try:
        text = read_source(path)
    except (OSError, UnicodeDecodeError) as exc:
        return [Drift("unreadable", subject, _describe(entry), f"{path}: {exc}")]
    error = _syntax_error(path)
    if error is not None:
        return [Drift("syntax", subject, _describe(entry), error)]
    drifts: list[Drift] = []
    if sha256_text(text) != entry.get("sha256"):
        drifts.append(Drift("changed", subject, str(entry.get("sha256")), sha256_text(text)))
    matching = [p for p in problems if p.file == str(path)]
    functions = entry.get("functions", [])
    keys = [f"openhcs:{f}" for f in functions]
    is_disabled = bool(keys) and all(key in disabled for key in keys)
    reason = _reason(matching, is_disabled, keys[0] if len(keys) == 1 else "openhcs:<name>")
    drifts.append(Drift("not-loaded", subject, _describe(entry), f"{path}: {reason}"))
    return drifts


def _describe(entry: dict[str, Any]) -> str:
    if "version" in entry:
        return f"{entry.get('distribution')} {entry.get('version')}"
    return f"sha256 {str(entry.get('sha256'))[:12]}"
