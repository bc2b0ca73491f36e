"""Deprecated alias of :mod:`openhcs_plugins.sources.candidate`, kept for one release.

``from openhcs_plugins.candidate import Candidate`` keeps working; new code imports from
``openhcs_plugins.sources.candidate`` (or the package root: ``from openhcs_plugins import
Candidate``).
"""

from __future__ import annotations

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

__all__ = [
    "OPENHCS_NAMESPACE",
    "Candidate",
    "ParameterInfo",
    "Provenance",
    "SourceKind",
    "StaticFunction",
    "TrustLevel",
    "sha256_text",
]
