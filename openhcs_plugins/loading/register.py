"""Registration: examined candidates become lazy registry entries through the adapter.

:func:`importer_for` gives each candidate the factory of its functions' importers (the registry's
:data:`~openhcs_plugins.registry.Importer`: what produces an entry's callable on first use): a
package's module is imported by name, a folder file's validated text is executed.
:func:`register_discoveries` registers one candidate at a time (collisions become problems naming
both candidates); :func:`register_found` also removes the entries of candidates that are gone;
:func:`verify` loads every entry now. It imports :mod:`openhcs_plugins.sources`,
the registry and its adapter, :mod:`.discovery`, :mod:`.report`, :mod:`.rules` and, when a folder
function loads, the executor.
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.loading.discovery import Discovery
from openhcs_plugins.loading.report import LoadReport
from openhcs_plugins.loading.rules import disabled_filter, namespace_conflicts
from openhcs_plugins.registry import (
    FunctionLoadError,
    FunctionRegistry,
    Importer,
    RegistryCollisionError,
    make_key,
)
from openhcs_plugins.registry.adapter import RegistryAdapter
from openhcs_plugins.sources.candidate import Candidate, SourceKind, StaticFunction
from openhcs_plugins.sources.problem import Problem, default_hint

if TYPE_CHECKING:
    from openhcs_plugins.loading.cached import Found

__all__ = [
    "PluginImportError",
    "SourceChangedError",
    "importer_for",
    "module_importer",
    "register_discoveries",
    "register_found",
    "validated_text",
    "verify",
]


class PluginImportError(ImportError, OpenHCSPluginsError):
    """A package's module could not be imported when one of its functions was first used
    (``subject``: the candidate; ``ImportError`` first, so ``path`` is its own)."""

    def __init__(self, candidate: Candidate, detail: str) -> None:
        self.candidate = candidate
        self.detail = detail
        self.subject = candidate
        self.hint = default_hint(candidate)
        where = f"{candidate.distribution} {candidate.version}, entry point {candidate.entry_point}"
        super().__init__(
            f"importing {candidate.module} ({where}) failed: {detail} - {default_hint(candidate)}",
            name=candidate.module,
            path=str(candidate.path) if candidate.path is not None else None,
        )


def module_importer(candidate: Candidate) -> Callable[[StaticFunction], Importer]:
    """An ``importer_for`` factory for packages: import the module on first use, take the function.

    The import goes through the normal import system (``importlib.import_module``), so the
    function keeps its module and name and pickles by reference (OpenHCS workers import it).
    """
    assert candidate.module is not None
    module_name = candidate.module

    def importer_for(function: StaticFunction) -> Importer:
        def load() -> Callable[..., Any]:
            try:
                module = importlib.import_module(module_name)
            except BaseException as exc:
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raise PluginImportError(candidate, f"{type(exc).__name__}: {exc}") from exc
            try:
                return getattr(module, function.name)
            except AttributeError:
                raise PluginImportError(
                    candidate, f"the module has no attribute {function.name!r} after import"
                ) from None

        return load

    return importer_for


class SourceChangedError(OpenHCSPluginsError, RuntimeError):
    """A folder file changed between the listing that validated it and the first use of one of
    its functions (``subject``: the file). Its new text is not run before it is validated."""

    def __init__(self, candidate: Candidate, sha256: str) -> None:
        self.subject = str(candidate.path)
        self.path = str(candidate.path)
        self.hint = "list the functions again (`openhcs-plugins list`), then call it again"
        super().__init__(
            f"{candidate.path} changed after it was listed (sha256 {candidate.sha256[:12]} when "
            f"validated, {sha256[:12]} now), so its new text has not been validated; "
            f"{self.hint}"
        )


def validated_text(candidate: Candidate) -> Candidate:
    """``candidate`` with its text: a folder file listed from the cache by its stamp was not
    read; read it now and check that it is the text the cache recorded as validated
    (:class:`SourceChangedError` otherwise)."""
    if candidate.text or candidate.path is None:
        return candidate
    from openhcs_plugins.sources.candidate import sha256_text
    from openhcs_plugins.sources.folder import read_source

    text = read_source(candidate.path)
    sha256 = sha256_text(text)
    if sha256 != candidate.sha256:
        raise SourceChangedError(candidate, sha256)
    return replace(candidate, text=text)


#: Guards the first use of every folder file (made lazily: a listing makes one per file).
_FIRST_USE = threading.Lock()


def _folder_importer_for(candidate: Candidate) -> Callable[[StaticFunction], Importer]:
    """The executor's ``folder_importer``, made on the first use of one of the file's functions
    (a listing never runs folder code, so it does not import the executor)."""
    made: list[Callable[[StaticFunction], Importer]] = []

    def factory() -> Callable[[StaticFunction], Importer]:
        with _FIRST_USE:  # one factory per file: it executes the file once for all its functions
            if not made:
                from openhcs_plugins.execution.dispatch import folder_importer

                made.append(folder_importer(validated_text(candidate)))
            return made[0]

    def importer_for(function: StaticFunction) -> Importer:
        def load() -> Callable[..., Any]:
            return factory()(function)()

        return load

    return importer_for


def importer_for(candidate: Candidate) -> Callable[[StaticFunction], Importer]:
    """The ``importer_for`` factory for ``candidate``'s source."""
    if candidate.source is SourceKind.ENTRY_POINT:
        return module_importer(candidate)
    return _folder_importer_for(candidate)


def register_discoveries(adapter: RegistryAdapter, discoveries: Iterable[Discovery]) -> LoadReport:
    """Register the functions of examined candidates through ``adapter``, one candidate at a
    time (all or nothing per candidate: ``adapter.check`` first, then ``adapter.add``);
    collisions become problems naming both candidates.

    The discoveries' own problems are not repeated in the report. An entry of the same identity
    (:attr:`~openhcs_plugins.sources.Provenance.identity`) and key is replaced; nothing else in
    the registry is touched (:func:`load_plugins` also removes the entries of candidates that are
    gone or no longer define them).
    """
    problems: list[Problem] = []
    registered: list[str] = []
    runtime: list[str] = []
    for discovery in discoveries:
        candidate = discovery.candidate
        try:
            entries = adapter.register_candidate(
                candidate, discovery.functions, importer_for(candidate)
            )
        except RegistryCollisionError as exc:
            function = next(
                (
                    f
                    for f in discovery.functions
                    if make_key(candidate.namespace, f.name) == exc.key
                ),
                None,
            )
            problems.append(
                Problem.for_candidate(
                    candidate,
                    f"{exc.key} is already registered from {exc.existing.describe()}; "
                    f"this one ({exc.new.describe()}) is refused",
                    kind="collision",
                    line=function.line if function is not None else None,
                    key=exc.key,
                    hint=f"rename one of the two functions, or remove/disable the other "
                    f"(`openhcs-plugins disable {exc.key}`)",
                )
            )
            continue
        except ValueError as exc:
            problems.append(Problem.for_candidate(candidate, str(exc), kind="duplicate"))
            continue
        for entry in entries:
            registered.append(entry.info.key)
            if entry.info.signature_from == "runtime":
                runtime.append(entry.info.key)
    return LoadReport(
        registered=tuple(registered), problems=tuple(problems), runtime_signatures=tuple(runtime)
    )


def register_found(
    adapter: RegistryAdapter,
    found: Found,
    disabled: frozenset[str],
    folder: Path | None,
    include_entry_points: bool,
) -> LoadReport:
    """Register what :func:`~openhcs_plugins.loading.cached.discover` found: the namespace rule,
    then the disabled names, then each candidate (:func:`register_discoveries`). Entries this
    load owns (packages, and files of ``folder``) that are not registered again are removed."""
    problems: list[Problem] = [*found.entry_point_problems]
    warnings: list[Problem] = []
    off: list[str] = []
    entry_points, namespace_problems = namespace_conflicts(found.entry_points)
    problems += namespace_problems
    kept = {id(d) for d in entry_points} | {id(d) for d in found.folder}
    ordered = sorted(found.entry_points, key=lambda d: d.candidate.namespace) + found.folder
    problems += found.folder_problems
    to_register: list[Discovery] = []
    for discovery in ordered:
        problems += discovery.problems
        warnings += discovery.warnings
        if id(discovery) not in kept:  # refused by the namespace rule
            continue
        discovery, disabled_keys = disabled_filter(discovery, disabled)
        off += disabled_keys
        if discovery.functions:
            to_register.append(discovery)

    # ``prov.file`` is ``str(folder / name)``: comparing strings spares a Path per entry.
    folder_text = os.path.normcase(str(folder)) if folder is not None else None

    def ours(info: Any) -> bool:
        prov = info.provenance
        if prov.source is SourceKind.ENTRY_POINT:
            return include_entry_points
        if prov.source is SourceKind.FOLDER and folder_text is not None and prov.file is not None:
            return os.path.normcase(os.path.dirname(prov.file) or ".") == folder_text
        return False

    # Entries of candidates that are gone or refused now are removed before registering, so a
    # stale entry never blocks its replacement.
    keep = {d.candidate.identity for d in to_register}
    adapter.remove_where(lambda info: ours(info) and info.provenance.identity not in keep)

    done_report = register_discoveries(adapter, to_register)
    problems += done_report.problems
    done = set(done_report.registered)
    adapter.remove_where(lambda info: ours(info) and info.key not in done)
    adapter.changed()
    return replace(
        done_report,
        problems=tuple(problems),
        warnings=tuple(warnings),
        disabled=tuple(sorted(off)),
    )


def verify(registry: FunctionRegistry, report: LoadReport) -> LoadReport:
    """Load every registered entry of ``report`` now; a failure becomes a ``load`` problem."""
    problems = list(report.problems)
    for key in report.registered:
        entry = registry.entry(key)
        try:
            entry.load()
        except FunctionLoadError as exc:
            prov = entry.info.provenance
            subject = (
                f"{prov.distribution} {prov.version}"
                if prov.source is SourceKind.ENTRY_POINT
                else str(prov.file)
            )
            hint = (
                f"run `openhcs-plugins validate {prov.distribution}`"
                if prov.source is SourceKind.ENTRY_POINT
                else f"run `openhcs-plugins validate {prov.file}`"
            )
            problems.append(
                Problem(
                    subject=subject,
                    message=f"cannot load {key}: {exc.reason}",
                    hint=hint,
                    file=prov.file,
                    line=prov.line,
                    entry_point=prov.entry_point,
                    distribution=prov.distribution,
                    version=prov.version,
                    namespace=entry.info.namespace,
                    key=key,
                    kind="load",
                )
            )
    return replace(report, problems=tuple(problems))
