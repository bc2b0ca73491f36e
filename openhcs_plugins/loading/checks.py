"""Checks of one package: an installed distribution, or a built wheel or sdist not installed.

For ``openhcs-plugins validate DIST`` and ``validate FILE``. It imports
:mod:`openhcs_plugins.sources`, the registry, :mod:`.load`, :mod:`.examine`, :mod:`.register`
and :mod:`.rules`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from openhcs_plugins.loading.configured import current_settings, policy_for
from openhcs_plugins.loading.discovery import Discovery
from openhcs_plugins.loading.examine import examine
from openhcs_plugins.loading.load import load_plugins
from openhcs_plugins.loading.register import register_discoveries
from openhcs_plugins.loading.register import verify as verify_entries
from openhcs_plugins.loading.report import LoadReport
from openhcs_plugins.loading.rules import namespace_conflicts
from openhcs_plugins.registry import FunctionRegistry
from openhcs_plugins.registry.adapter import RegistryAdapter
from openhcs_plugins.sources.archive import ArchiveSource
from openhcs_plugins.sources.entry_points import ENTRY_POINT_GROUP
from openhcs_plugins.sources.problem import Problem

if TYPE_CHECKING:
    from openhcs_plugins.config import Settings

__all__ = ["validate_archive", "validate_distribution"]


def _canonical(name: str | None) -> str:
    import re

    return re.sub(r"[-_.]+", "-", name or "").lower()


def validate_distribution(
    name: str, *, settings: Settings | None = None, verify: bool = True
) -> LoadReport:
    """Check one installed distribution, for ``openhcs-plugins validate DIST``.

    Lists every installed package (so a namespace shared with another distribution is
    reported), keeps what concerns ``name``, and with ``verify`` imports its modules and runs
    the runtime checks on each function. Settings' ``disabled`` are ignored here. The report's
    ``registered`` holds the keys the distribution provides. A distribution that is not
    installed, or declares no ``openhcs.functions`` entry point, is a problem.
    """
    import importlib_metadata

    settings = current_settings() if settings is None else settings
    settings = replace(settings, disabled=())
    wanted = _canonical(name)
    try:
        dist = importlib_metadata.distribution(name)
    except importlib_metadata.PackageNotFoundError:
        problem = Problem(
            subject=name,
            message=f"no distribution {name!r} is installed in this environment ({sys.prefix})",
            hint=f"install it (`python -m pip install {name}`), or pass a wheel/sdist file or "
            "a folder",
            distribution=name,
            kind="not-installed",
        )
        return LoadReport(problems=(problem,))
    registry = FunctionRegistry()
    report = load_plugins(registry=registry, include_folder=False, settings=settings)
    mine = tuple(
        k
        for k in report.registered
        if _canonical(registry.info(k).provenance.distribution) == wanted
    )

    def concerns(problem: Problem) -> bool:
        return _canonical(problem.distribution) == wanted

    problems = tuple(p for p in report.problems if concerns(p))
    if not mine and not problems and not dist.entry_points.select(group=ENTRY_POINT_GROUP):
        problems = (
            Problem(
                subject=f"{dist.metadata['Name']} {dist.version}",
                message=f"it declares no `{ENTRY_POINT_GROUP}` entry point",
                hint='add [project.entry-points."openhcs.functions"] to its pyproject.toml',
                distribution=dist.metadata["Name"],
                version=dist.version,
                kind="no-entry-point",
            ),
        )
    result = LoadReport(
        registered=mine,
        problems=problems,
        warnings=tuple(w for w in report.warnings if concerns(w)),
        runtime_signatures=tuple(k for k in report.runtime_signatures if k in mine),
        cache=report.cache,
        seconds=report.seconds,
    )
    return verify_entries(registry, result) if verify else result


def validate_archive(
    path: str | os.PathLike[str], *, settings: Settings | None = None
) -> LoadReport:
    """Check a built wheel or sdist without installing it (``openhcs-plugins validate FILE``).

    Static checks only: every entry point's module is read from the archive and validated at the
    trust level of installed packages; nothing is imported or executed. Functions a module
    makes at import time are reported as a warning (install the package and validate the
    distribution to check them). ``registered`` holds the keys the package would provide.
    """
    settings = current_settings() if settings is None else settings
    trust = settings.trust.level_for("entry_point")
    policy = policy_for(settings)
    problems: list[Problem] = []
    discoveries: list[Discovery] = []
    for item in ArchiveSource(Path(path), trust).candidates():
        if isinstance(item, Problem):
            problems.append(item)
        else:
            discoveries.append(examine(item, policy, import_modules=False))
    kept, conflicts = namespace_conflicts(discoveries)
    problems += conflicts
    warnings: list[Problem] = []
    for discovery in discoveries:
        problems += discovery.problems
        warnings += discovery.warnings
    registered = register_discoveries(RegistryAdapter(FunctionRegistry()), kept)
    return LoadReport(
        registered=registered.registered,
        problems=tuple(problems) + registered.problems,
        warnings=tuple(warnings),
    )
