"""Sources: where candidates come from, read without importing or executing any plugin code.

This package owns the first stage of the flow (docs/architecture.md): the ``Candidate`` type
(:mod:`.candidate`: where code came from, its text and its trust level), the sources that yield
candidates (:mod:`.entry_points` for installed packages, :mod:`.folder` for the per-user functions
folder, :mod:`.archive` for a wheel or sdist not installed; editor code is
``Candidate.from_code``), the :class:`Problem` a candidate that cannot be read becomes
(:mod:`.problem`), and the discovery cache that remembers what was found (:mod:`.cache`,
internal). It may import the standard library, importlib-metadata and platformdirs, and nothing
of the later stages (validation, registry, loading, execution, manager, cli, gui): they import it.

Each source yields :class:`~openhcs_plugins.sources.candidate.Candidate` objects, or a
:class:`Problem` for a candidate that could not even be read; a problem never stops the other
candidates. The names below are imported from their module on first use, so importing this
package (or :mod:`.candidate` alone, as the validator does) costs nothing more.

>>> from pathlib import Path
>>> [type(c).__name__ for c in FolderSource(Path("/nonexistent")).candidates()]
[]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openhcs_plugins._exports import lazy_exports

if TYPE_CHECKING:
    from openhcs_plugins.sources.archive import ArchiveSource
    from openhcs_plugins.sources.candidate import (
        OPENHCS_NAMESPACE,
        Candidate,
        ParameterInfo,
        Provenance,
        SourceKind,
        StaticFunction,
        TrustLevel,
        sha256_text,
    )
    from openhcs_plugins.sources.entry_points import (
        ENTRY_POINT_GROUP,
        EntryPointSource,
        install_origin,
        locate_module,
        module_files,
        namespace_error,
    )
    from openhcs_plugins.sources.folder import FolderSource, read_source
    from openhcs_plugins.sources.problem import (
        Problem,
        default_hint,
        describe_origin,
        describe_subject,
    )

#: Each public name and the module of this package it lives in (imported on first use).
_LAZY: dict[str, str] = {
    "ArchiveSource": "archive",
    "ENTRY_POINT_GROUP": "entry_points",
    "EntryPointSource": "entry_points",
    "install_origin": "entry_points",
    "locate_module": "entry_points",
    "module_files": "entry_points",
    "namespace_error": "entry_points",
    "FolderSource": "folder",
    "read_source": "folder",
    "Problem": "problem",
    "default_hint": "problem",
    "describe_origin": "problem",
    "describe_subject": "problem",
    "Candidate": "candidate",
    "OPENHCS_NAMESPACE": "candidate",
    "ParameterInfo": "candidate",
    "Provenance": "candidate",
    "SourceKind": "candidate",
    "StaticFunction": "candidate",
    "TrustLevel": "candidate",
    "sha256_text": "candidate",
}

__all__ = [
    "ENTRY_POINT_GROUP",
    "OPENHCS_NAMESPACE",
    "ArchiveSource",
    "Candidate",
    "EntryPointSource",
    "FolderSource",
    "ParameterInfo",
    "Problem",
    "Provenance",
    "SourceKind",
    "StaticFunction",
    "TrustLevel",
    "default_hint",
    "describe_origin",
    "describe_subject",
    "install_origin",
    "locate_module",
    "module_files",
    "namespace_error",
    "read_source",
    "sha256_text",
]


__getattr__, __dir__ = lazy_exports(__name__, {k: f".{v}" for k, v in _LAZY.items()})
