"""Lock files: pin exactly which function code a deployment runs.

``freeze`` records what is registered: each plugin namespace's distribution, exact version and
install origin, and each folder file's sha256 with the functions it defines. ``check`` compares
the running environment with a lock file and lists every drift (missing, extra, other version,
other origin, changed file).

The file is JSON (stable key order, one entry per line group) so it diffs well in git::

    {
      "format": 1,
      "packages": {"lab_filters": {"distribution": "lab-filters", "version": "0.2.0",
                                   "origin": "index", "functions": ["blur", "denoise"]}},
      "folder": {"blur.py": {"sha256": "...", "functions": ["blur"]}}
    }
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins._storage import atomic_write_text
from openhcs_plugins.candidate import SourceKind
from openhcs_plugins.registry import FunctionInfo

__all__ = [
    "LOCK_FORMAT",
    "Drift",
    "LockFileError",
    "check_lock",
    "freeze",
    "read_lock",
    "write_lock",
]

LOCK_FORMAT = 1


class LockFileError(ValueError):
    """A lock file that cannot be read."""


@dataclass(frozen=True)
class Drift:
    """One difference between a lock file and the running environment."""

    #: ``missing``, ``extra``, ``version``, ``origin``, ``changed`` or ``functions``.
    kind: str
    #: ``package <namespace>`` or ``file <name>``.
    subject: str
    locked: str | None
    current: str | None

    def __str__(self) -> str:
        if self.kind == "missing":
            return f"- {self.subject}: locked {self.locked}, not present"
        if self.kind == "extra":
            return f"+ {self.subject}: {self.current} (not in the lock file)"
        return f"~ {self.subject}: {self.kind} {self.locked} -> {self.current}"


def freeze(infos: list[FunctionInfo]) -> dict[str, Any]:
    """The lock data for the registered functions ``infos`` (entry points and folder files)."""
    packages: dict[str, dict[str, Any]] = {}
    folder: dict[str, dict[str, Any]] = {}
    for info in infos:
        prov = info.provenance
        if prov.source is SourceKind.ENTRY_POINT:
            entry = packages.setdefault(
                info.namespace,
                {
                    "distribution": prov.distribution,
                    "version": prov.version,
                    "origin": prov.origin,
                    "functions": [],
                },
            )
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
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LockFileError(
            f"{path}: no such lock file (write one with `openhcs-plugins freeze`)"
        ) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LockFileError(f"{path}: not a lock file ({exc})") from exc
    found = data.get("format") if isinstance(data, dict) else None
    if found != LOCK_FORMAT:
        raise LockFileError(
            f"{path}: unknown lock file format {found!r} (this version writes format "
            f"{LOCK_FORMAT}); regenerate it with `openhcs-plugins freeze`"
        )
    fix = "regenerate it with `openhcs-plugins freeze`"
    for section in ("packages", "folder"):
        if not isinstance(data.get(section), dict):
            raise LockFileError(f"{path}: missing or malformed {section!r} section; {fix}")
        for name, entry in data[section].items():
            if not isinstance(entry, dict):
                raise LockFileError(f"{path}: {section!r} entry {name!r} is not an object; {fix}")
            functions = entry.get("functions", [])
            if not isinstance(functions, list) or not all(isinstance(f, str) for f in functions):
                raise LockFileError(
                    f"{path}: 'functions' of {section!r} entry {name!r} is not a list of "
                    f"names; {fix}"
                )
    return data


def check_lock(locked: dict[str, Any], current: dict[str, Any]) -> list[Drift]:
    """Every difference between ``locked`` and ``current`` (both from :func:`freeze`)."""
    drifts: list[Drift] = []
    for section, label in (("packages", "package"), ("folder", "file")):
        old, new = locked[section], current[section]
        for name in sorted(set(old) | set(new)):
            subject = f"{label} {name}"
            if name not in new:
                drifts.append(Drift("missing", subject, _describe(old[name]), None))
                continue
            if name not in old:
                drifts.append(Drift("extra", subject, None, _describe(new[name])))
                continue
            fields = ("distribution", "version", "origin") if section == "packages" else ("sha256",)
            for field in fields:
                if old[name].get(field) != new[name].get(field):
                    kind = "changed" if field == "sha256" else field
                    drifts.append(
                        Drift(kind, subject, str(old[name].get(field)), str(new[name].get(field)))
                    )
            if sorted(old[name].get("functions", [])) != sorted(new[name].get("functions", [])):
                drifts.append(
                    Drift(
                        "functions",
                        subject,
                        ", ".join(old[name].get("functions", [])),
                        ", ".join(new[name].get("functions", [])),
                    )
                )
    return drifts


def _describe(entry: dict[str, Any]) -> str:
    if "version" in entry:
        return f"{entry.get('distribution')} {entry.get('version')}"
    return f"sha256 {str(entry.get('sha256'))[:12]}"
