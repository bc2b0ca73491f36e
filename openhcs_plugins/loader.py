"""One loader for every source: installed packages (entry points) and the functions folder.

:func:`load_plugins` asks each source for candidates (:mod:`openhcs_plugins.sources`), checks
each candidate with :func:`openhcs_plugins.validation.validate_code` at its source's trust level,
and registers what passes through the registry adapter. Listing is lazy: a package's module is
imported, and runtime checks run, on the first use of one of its functions. A warm start reads
the discovery cache (:mod:`openhcs_plugins.cache`) and parses nothing.

Failures are isolated: a package whose module is missing or has a syntax error, a function with
a bad signature, two packages claiming one namespace, a folder file that collides with another:
each becomes a :class:`Problem` in the :class:`LoadReport`, and everything else loads.
``strict=True`` turns any problem into a :class:`PluginLoadError` (for CI).

Rules (documented in docs/plugins.md):

- **namespaces**: the entry-point name is the namespace; it must be an ASCII identifier and not
  ``openhcs`` (folder and editor functions). When two *distributions* declare the same namespace,
  **both are refused** and each is reported naming the other; no package can take over another
  package's functions by claiming its namespace. Uninstall one, or disable the namespace.
- **keys**: within the ``openhcs`` namespace, folder files load in name order; a file defining a
  function that is already registered (by an earlier file, the editor or ``register_function``)
  is refused and reported with both origins.
- **functions made at import time** (``blur = make_filter(3)``) cannot be read statically. The
  loader imports that one module to find them when its source defines no decorated function,
  when a memory-type decorator is used there other than on a module-level ``def``, or when the
  entry point names the attribute (``module:blur``). Their info says ``signature_from:
  runtime``.
"""

from __future__ import annotations

import ast
import hashlib
import importlib
import inspect
import os
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openhcs_plugins import cache as _cache
from openhcs_plugins.candidate import (
    Candidate,
    SourceKind,
    StaticFunction,
    TrustLevel,
)
from openhcs_plugins.config import (
    ENVIRONMENT_SEPARATOR,
    Settings,
    environment_id,
    settings_file_path,
)
from openhcs_plugins.errors import OpenHCSPluginsError, traceback_line
from openhcs_plugins.registry import (
    FunctionLoadError,
    FunctionRegistry,
    Loader,
    RegistryCollisionError,
    make_key,
    parameters_of,
    split_key,
)
from openhcs_plugins.registry.adapter import RegistryAdapter
from openhcs_plugins.sources import (
    ENTRY_POINT_GROUP,
    ArchiveSource,
    EntryPointSource,
    FolderSource,
    Problem,
    default_hint,
    read_source,
)

if TYPE_CHECKING:
    from openhcs_plugins.validation import ModuleFacts

__all__ = [
    "ENVIRONMENT_SEPARATOR",
    "Discovery",
    "LoadReport",
    "PluginImportError",
    "PluginLoadError",
    "Problem",
    "SettingChange",
    "clear_discovery_cache",
    "disable",
    "disabled_names",
    "discovery_cache_info",
    "enable",
    "environment_id",
    "examine",
    "is_disabled",
    "load_plugins",
    "loader_for",
    "makes_functions_at_import",
    "module_loader",
    "policy_for",
    "register_discoveries",
    "validate_archive",
    "validate_distribution",
    "validator_key",
]


# ---------------------------------------------------------------------------------------------
# Values that cross module lines
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_plugins` registered and what it refused.

    ``registered`` holds the keys registered by this call; ``problems`` the candidates (or
    single functions) that were refused, each with its origin, file, line, message and hint;
    ``warnings`` findings that did not stop registration (policy findings in trusted packages);
    ``disabled`` the keys the settings switched off.
    """

    registered: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    disabled: tuple[str, ...] = ()
    #: keys whose signature was read from the imported callable (made by a factory).
    runtime_signatures: tuple[str, ...] = ()
    #: ``warm`` (everything from the cache), ``partial``, ``cold`` or ``off``.
    cache: str = "off"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        lines = [f"{len(self.registered)} functions registered, {len(self.problems)} problems"]
        lines += [f"  problem: {p}" for p in self.problems]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)


class PluginLoadError(OpenHCSPluginsError, RuntimeError):
    """Raised by ``load_plugins(strict=True)`` when there was any problem; carries the report
    (also as ``subject``), whose problems each name their candidate."""

    def __init__(self, report: LoadReport) -> None:
        self.report = report
        lines = [f"{len(report.problems)} plugin problem(s):"]
        lines += [f"  {p}" for p in report.problems]
        super().__init__("\n".join(lines), subject=report)


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


@dataclass(frozen=True)
class Discovery:
    """What examining one candidate found: the functions to register, and what is wrong.

    Built by :func:`examine` or rebuilt from the cache (then ``candidate.text`` is empty for
    packages: their code is imported by module name, never executed from text).
    """

    candidate: Candidate
    functions: tuple[StaticFunction, ...] = ()
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    #: ``(mtime_ns, size)`` of the source file when it was read (packages only).
    stamp: tuple[int, int] | None = None

    def to_dict(self) -> dict[str, Any]:
        c = self.candidate
        return {
            "source": c.source.value,
            "namespace": c.namespace,
            "trust": c.trust.value,
            "path": str(c.path) if c.path is not None else None,
            "module": c.module,
            "attribute": c.attribute,
            "distribution": c.distribution,
            "version": c.version,
            "origin": c.origin,
            "entry_point": c.entry_point,
            "sha256": c.sha256,
            "stamp": list(self.stamp) if self.stamp is not None else None,
            "functions": [_cache.function_to_dict(f) for f in self.functions],
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    @classmethod
    def from_record(cls, candidate: Candidate, data: dict[str, Any]) -> Discovery:
        """What the cache recorded about ``candidate`` (same source, trust and sha256), or a
        ``ValueError``/``KeyError``/``TypeError`` when the record does not match or is
        malformed."""
        if (
            data["source"] != candidate.source.value
            or data["trust"] != candidate.trust.value
            or data["sha256"] != candidate.sha256
        ):
            raise ValueError("the record is about other code")
        return cls(
            candidate=candidate,
            functions=tuple(_cache.function_from_dict(f) for f in data["functions"]),
            problems=tuple(Problem.from_dict(p) for p in data["problems"]),
            warnings=tuple(Problem.from_dict(w) for w in data["warnings"]),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any], text: str = "") -> Discovery:
        """Inverse of :meth:`to_dict`; raises on malformed data (the cache is then rebuilt)."""
        path = data["path"]
        candidate = Candidate(
            source=SourceKind(data["source"]),
            namespace=str(data["namespace"]),
            text=text,
            trust=TrustLevel(data["trust"]),
            path=Path(path) if path is not None else None,
            module=data["module"],
            attribute=data["attribute"],
            distribution=data["distribution"],
            version=data["version"],
            origin=data["origin"],
            entry_point=data["entry_point"],
            sha256=str(data["sha256"]),
        )
        stamp = data["stamp"]
        return cls(
            candidate=candidate,
            functions=tuple(_cache.function_from_dict(f) for f in data["functions"]),
            problems=tuple(Problem.from_dict(p) for p in data["problems"]),
            warnings=tuple(Problem.from_dict(w) for w in data["warnings"]),
            stamp=(int(stamp[0]), int(stamp[1])) if stamp is not None else None,
        )


# ---------------------------------------------------------------------------------------------
# Examining one candidate
# ---------------------------------------------------------------------------------------------


def makes_functions_at_import(tree: ast.Module, text: str | None = None) -> bool:
    """True when a memory-type decorator is used other than on a module-level ``def``.

    :func:`examine` reads this from the validating pass
    (``validate_code(..., module_facts=True)``); this is for a caller that holds a tree.
    """
    from openhcs_plugins.validation import makes_functions_at_import as read

    return read(tree, text)


def _runtime_function(name: str, obj: Any, line: int) -> StaticFunction:
    from openhcs_plugins.memory import CONTRACT_ATTRIBUTE

    return StaticFunction(
        name=name,
        line=line,
        input_memory_type=obj.input_memory_type,
        output_memory_type=obj.output_memory_type,
        contract=getattr(obj, CONTRACT_ATTRIBUTE, "FLEXIBLE"),
        parameters=parameters_of(obj),
        doc=inspect.getdoc(obj) or "",
        static_signature=False,
    )


def _discover_by_import(
    candidate: Candidate, module_facts: ModuleFacts, known: set[str]
) -> tuple[list[StaticFunction], list[Problem], list[Problem]]:
    """Import the candidate's module (only this one) and read the functions it made."""
    from openhcs_plugins.memory import is_memory_decorated

    assert candidate.module is not None
    try:
        module = importlib.import_module(candidate.module)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        line = _traceback_line(exc, candidate.path)
        return (
            [],
            [
                Problem.for_candidate(
                    candidate,
                    f"importing {candidate.module} raised {type(exc).__name__}: {exc}",
                    kind="import",
                    line=line,
                )
            ],
            [],
        )
    imported = module_facts.imported_names
    lines = module_facts.binding_lines
    if candidate.attribute is not None:
        names = [candidate.attribute]
    else:
        names = [
            name
            for name in vars(module)
            if not name.startswith("_") and name not in imported and name not in known
        ]
    functions: list[StaticFunction] = []
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for name in names:
        obj = getattr(module, name, None)
        if not is_memory_decorated(obj):
            if candidate.attribute is not None:
                problems.append(
                    Problem.for_candidate(
                        candidate,
                        f"{candidate.module}.{name} is "
                        + ("missing" if obj is None else "not a memory-decorated function"),
                        kind="not-decorated",
                        key=make_key(candidate.namespace, name),
                    )
                )
            continue
        code = getattr(inspect.unwrap(obj), "__code__", None)
        line = lines.get(name, 0)
        if not line and code is not None and code.co_filename == str(candidate.path):
            line = code.co_firstlineno
        try:
            functions.append(_runtime_function(name, obj, line))
        except (TypeError, ValueError) as exc:
            problems.append(
                Problem.for_candidate(
                    candidate,
                    f"cannot read the signature of {name}: {exc}",
                    kind="signature",
                    line=line or None,
                    key=make_key(candidate.namespace, name),
                )
            )
            continue
        if obj.__name__ != name:
            warnings.append(
                Problem.for_candidate(
                    candidate,
                    f"{name}.__name__ is {obj.__name__!r}; OpenHCS imports functions by module "
                    "and name, so the factory should set __name__ (and __qualname__) to "
                    f"{name!r}",
                    kind="name",
                    line=line or None,
                    key=make_key(candidate.namespace, name),
                    hint="set f.__name__ = f.__qualname__ = name in the factory",
                )
            )
    return functions, problems, warnings


def _traceback_line(exc: BaseException, path: Path | None) -> int | None:
    if isinstance(exc, SyntaxError):
        return exc.lineno
    if path is None:
        return None
    return traceback_line(exc, str(path)) or None


def _as_problem(
    candidate: Candidate, error: Any, names: set[str] | frozenset[str], kind: str = ""
) -> Problem:
    """A validator finding (a ``ValidationError``) as a problem of ``candidate``.

    ``names`` are the functions the validator found: a finding inside one of them names its key.
    """
    key = make_key(candidate.namespace, error.function) if error.function in names else None
    return Problem.from_finding(candidate, error, key=key, kind=kind)


def examine(candidate: Candidate, policy: Any = None, *, import_modules: bool = True) -> Discovery:
    """Validate one candidate and say which of its functions can be registered.

    Folder and editor files are all or nothing, as their code runs as one text. For packages
    (trusted by default) a finding about one function refuses only that function, and a
    finding about the module (syntax, encoding, size) refuses the module. Functions made at
    import time are found by importing the package's module (see the module docstring); the
    validator's "decorated function inside another function" and "no decorated function"
    findings then give way to what the import found. ``import_modules=False`` (archives that
    are not installed) never imports; those findings then stay.
    """
    from openhcs_plugins.validation import validate_code

    result = validate_code(
        candidate.text,
        trust=candidate.trust,
        policy=policy,
        filename=candidate.filename,
        module_facts=True,
    )
    names = frozenset(result.function_names)
    warnings = [_as_problem(candidate, w, names) for w in result.warnings]
    errors = list(result.errors)
    functions = list(result.functions)
    if candidate.source is not SourceKind.ENTRY_POINT:
        if errors:
            problems = tuple(_as_problem(candidate, e, names) for e in errors)
            return Discovery(candidate, (), problems, tuple(warnings))
        return Discovery(candidate, tuple(functions), (), tuple(warnings))

    # The same pass read the module facts; there are none when the text could not be read.
    module_facts = result.module
    if module_facts is None:
        problems = [_as_problem(candidate, e, names) for e in errors] or [
            Problem.for_candidate(candidate, "the module cannot be parsed", kind="syntax")
        ]
        return Discovery(candidate, (), tuple(problems), tuple(warnings))

    per_function = [e for e in errors if e.function in names]
    rest = [e for e in errors if e.function not in names]
    # Decorator findings outside the static functions: a nested decorated def, or none at all.
    dynamic = [e for e in rest if e.rule == "decorator"]
    blocking = [e for e in rest if e.rule != "decorator"]
    problems = [_as_problem(candidate, e, names) for e in per_function]
    refused = {e.function for e in per_function}
    functions = [f for f in functions if f.name not in refused]
    if candidate.attribute is not None:
        functions = [f for f in functions if f.name == candidate.attribute]

    wants_import = (
        (candidate.attribute is not None and candidate.attribute not in names)
        or (candidate.attribute is None and not names)
        or bool(dynamic)
        or module_facts.makes_functions_at_import
    )
    if wants_import and not blocking and import_modules:
        found, import_problems, import_warnings = _discover_by_import(
            candidate, module_facts, set(names)
        )
        warnings += import_warnings
        problems += import_problems
        functions += found
        if found or import_problems:
            # The import is the authority on what the module makes (or why it cannot say).
            dynamic = []
    elif wants_import and not blocking and functions:
        # Not installed (an archive): what the module makes at import time cannot be seen.
        warnings += [_as_problem(candidate, e, names) for e in dynamic]
        warnings.append(
            Problem.for_candidate(
                candidate,
                "the module may make functions at import time; they are checked only once "
                "the package is installed",
                kind="not-imported",
                hint=f"install it and run `openhcs-plugins validate {candidate.distribution}`",
            )
        )
        dynamic = []
    if blocking:
        problems += [_as_problem(candidate, e, names) for e in blocking]
        functions = []
    no_function = not functions and not problems
    problems += [
        _as_problem(candidate, e, names, "no-function" if no_function else "") for e in dynamic
    ]
    if not functions and not problems:
        what = (
            f"{candidate.module}:{candidate.attribute}"
            if candidate.attribute is not None
            else candidate.module
        )
        problems.append(
            Problem.for_candidate(
                candidate,
                f"{what} defines no memory-decorated function",
                kind="no-function",
                hint="decorate the functions with a memory type (`@numpy`, `@torch`, ...) or "
                "fix the entry point to name the module that defines them",
            )
        )
    return Discovery(candidate, tuple(functions), tuple(problems), tuple(warnings))


# ---------------------------------------------------------------------------------------------
# Loaders (what runs on first use)
# ---------------------------------------------------------------------------------------------


def module_loader(candidate: Candidate) -> Callable[[StaticFunction], Loader]:
    """A ``loader_for`` factory for packages: import the module on first use, take the function.

    The import goes through the normal import system (``importlib.import_module``), so the
    function keeps its module and name and pickles by reference (OpenHCS workers import it).
    """
    assert candidate.module is not None
    module_name = candidate.module

    def loader_for(function: StaticFunction) -> Loader:
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

    return loader_for


def _folder_loader_for(candidate: Candidate) -> Callable[[StaticFunction], Loader]:
    from openhcs_plugins.execution.dispatch import folder_loader

    return folder_loader(candidate)


def loader_for(candidate: Candidate) -> Callable[[StaticFunction], Loader]:
    """The ``loader_for`` factory for ``candidate``'s source."""
    if candidate.source is SourceKind.ENTRY_POINT:
        return module_loader(candidate)
    return _folder_loader_for(candidate)


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def _load_settings() -> Settings:
    from openhcs_plugins.config import load_settings

    return load_settings()


def disabled_names(settings: Settings | None = None) -> frozenset[str]:
    """The namespaces and keys switched off in this environment
    (:meth:`Settings.disabled_names`; the current settings by default)."""
    settings = _load_settings() if settings is None else settings
    return settings.disabled_names()


def is_disabled(key: str, settings: Settings | None = None) -> bool:
    """True when ``key`` (``namespace:name``) or its namespace is disabled in this environment."""
    settings = _load_settings() if settings is None else settings
    return settings.is_disabled(key)


def policy_for(settings: Settings) -> Any:
    """The import policy the settings ask for (:meth:`Settings.import_policy`)."""
    return settings.import_policy()


#: The modules whose code decides what discovery finds (the validator, the sources, this one).
_DISCOVERY_MODULES = (
    "memory/types.py",
    "cache.py",
    "candidate.py",
    "loader.py",
    "sources.py",
)


def validator_key(settings: Settings | None = None) -> str:
    """Identifies the validator and the settings that decide validation, for the cache.

    A cache written by another version of this package (its version, and the modification time
    and size of the modules that decide discovery: an editable install or a checkout changes
    without a new version) or with other trust or policy settings is not used.
    """
    from openhcs_plugins import __version__

    package = Path(__file__).parent
    parts = [__version__, str(package)]
    validation = sorted(f"validation/{p.name}" for p in (package / "validation").glob("*.py"))
    for name in (*_DISCOVERY_MODULES, *validation):
        parts.append(f"{name}:{_cache.file_stamp(package / name)}")
    if settings is not None:
        parts.append(repr(settings.trust))
        parts.append(repr(settings.policy))
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


# ---------------------------------------------------------------------------------------------
# Discovery (with the cache)
# ---------------------------------------------------------------------------------------------


@dataclass
class _Found:
    entry_points: list[Discovery] = field(default_factory=list)
    entry_point_problems: list[Problem] = field(default_factory=list)
    folder: list[Discovery] = field(default_factory=list)
    folder_problems: list[Problem] = field(default_factory=list)
    #: candidates read and validated now (not taken from the cache).
    misses: int = 0
    #: something was taken from the cache.
    reused: bool = False
    #: the cache must be written (something was re-read, or entries disappeared).
    changed: bool = False


def _entry_points_from_cache(
    state: _cache.CacheState, trust: TrustLevel, policy: Any, found: _Found
) -> bool:
    """Rebuild the entry-point discoveries from the cache; False when it cannot be used."""
    try:
        discoveries = [Discovery.from_dict(d) for d in state.entry_points]
        problems = [Problem.from_dict(p) for p in state.entry_point_problems]
    except (KeyError, TypeError, ValueError, IndexError):
        return False
    for discovery in discoveries:
        if discovery.candidate.trust is not trust:
            return False
        path = discovery.candidate.path
        stamp = _cache.file_stamp(path) if path is not None else None
        if path is not None and (stamp is None or tuple(stamp) != discovery.stamp):
            # The module file changed (an editable install was edited): read just this one.
            found.entry_points.append(_reexamine(discovery.candidate, policy))
            found.misses += 1
            found.changed = True
        else:
            found.entry_points.append(discovery)
    found.entry_point_problems.extend(problems)
    found.reused = True
    return True


def _reexamine(candidate: Candidate, policy: Any) -> Discovery:
    if candidate.path is None or candidate.path.suffix != ".py":
        return _examine_entry_point(candidate, policy)
    try:
        text = read_source(candidate.path)
    except (OSError, UnicodeDecodeError) as exc:
        problem = Problem.for_candidate(
            candidate, f"cannot read the source: {exc}", kind="unreadable"
        )
        return Discovery(candidate, (), (problem,), ())
    return _examine_entry_point(replace(candidate, text=text, sha256=""), policy)


def _examine_entry_point(candidate: Candidate, policy: Any) -> Discovery:
    stamp = _cache.file_stamp(candidate.path) if candidate.path is not None else None
    discovery = examine(candidate, policy)
    # The text is not kept: packages are imported by name, and the cache stays small.
    return replace(
        discovery,
        candidate=replace(candidate, text="", sha256=candidate.sha256),
        stamp=(stamp[0], stamp[1]) if stamp is not None else None,
    )


def _discover_entry_points(trust: TrustLevel, policy: Any, found: _Found) -> None:
    for item in EntryPointSource(trust).candidates():
        if isinstance(item, Problem):
            found.entry_point_problems.append(item)
        else:
            found.entry_points.append(_examine_entry_point(item, policy))
            found.misses += 1
    # Even an environment without any plugin left must record its new fingerprint.
    found.changed = True


def _discover_folder(
    folder: Path, trust: TrustLevel, policy: Any, state: _cache.CacheState | None, found: _Found
) -> None:
    cached = state.folder if state is not None else {}
    for item in FolderSource(folder, trust).candidates():
        if isinstance(item, Problem):
            found.folder_problems.append(item)
            continue
        record = cached.get(str(item.path))
        if record is not None:
            try:
                found.folder.append(Discovery.from_record(item, record))
            except (KeyError, TypeError, ValueError, IndexError):
                pass  # changed file, other trust level, or a malformed record: validate again
            else:
                found.reused = True
                continue
        found.folder.append(examine(item, policy))
        found.misses += 1
        found.changed = True
    prefix = str(folder) + os.sep
    current = {str(d.candidate.path) for d in found.folder} | {
        p.file for p in found.folder_problems if p.file
    }
    if any(path.startswith(prefix) and path not in current for path in cached):
        found.changed = True  # files were deleted: drop their records


# ---------------------------------------------------------------------------------------------
# Rules applied across candidates
# ---------------------------------------------------------------------------------------------


def _namespace_conflicts(discoveries: list[Discovery]) -> tuple[list[Discovery], list[Problem]]:
    """Apply the namespace rules: one distribution per namespace (else all refused), one entry
    point per namespace within a distribution (the first is used)."""
    by_namespace: dict[str, list[Discovery]] = {}
    for d in discoveries:
        by_namespace.setdefault(d.candidate.namespace, []).append(d)
    kept: list[Discovery] = []
    problems: list[Problem] = []
    for namespace in sorted(by_namespace):
        group = by_namespace[namespace]
        dists = sorted({d.candidate.distribution or "" for d in group})
        if len(dists) > 1:
            for d in group:
                others = sorted(
                    {
                        f"{o.candidate.distribution} {o.candidate.version}"
                        for o in group
                        if o.candidate.distribution != d.candidate.distribution
                    }
                )
                problems.append(
                    Problem.for_candidate(
                        d.candidate,
                        f"namespace {namespace!r} is also declared by {', '.join(others)}; "
                        "packages may not share a namespace, so none of them is loaded",
                        kind="namespace-collision",
                        hint=f"uninstall all but one of {', '.join(dists)}, or "
                        f"`openhcs-plugins disable {namespace}`; plugin authors: rename the "
                        "entry point",
                    )
                )
            continue
        first, *rest = group
        kept.append(first)
        for d in rest:
            problems.append(
                Problem.for_candidate(
                    d.candidate,
                    f"namespace {namespace!r} is declared twice by {d.candidate.distribution}; "
                    f"only {first.candidate.entry_point!r} is used",
                    kind="namespace-collision",
                    hint="declare one entry point per namespace (a module, or a package "
                    "module that imports the others' functions)",
                )
            )
    return kept, problems


def _disabled_filter(discovery: Discovery, disabled: frozenset[str]) -> tuple[Discovery, list[str]]:
    if not disabled:
        return discovery, []
    ns = discovery.candidate.namespace
    if ns in disabled:
        keys = [make_key(ns, f.name) for f in discovery.functions]
        return replace(discovery, functions=()), keys
    keep: list[StaticFunction] = []
    off: list[str] = []
    for f in discovery.functions:
        key = make_key(ns, f.name)
        if key in disabled:
            off.append(key)
        else:
            keep.append(f)
    if not off:
        return discovery, []
    return replace(discovery, functions=tuple(keep)), off


# ---------------------------------------------------------------------------------------------
# load_plugins
# ---------------------------------------------------------------------------------------------


def load_plugins(
    *,
    strict: bool = False,
    refresh: bool = False,
    registry: FunctionRegistry | None = None,
    adapter: RegistryAdapter | None = None,
    settings: Settings | None = None,
    include_folder: bool = True,
    folder: str | os.PathLike[str] | None = None,
    include_entry_points: bool = True,
    verify: bool = False,
) -> LoadReport:
    """Find every plugin function (installed packages and the folder) and register it lazily.

    No plugin module and no framework is imported (except a module whose functions are made at
    import time, see the module docstring). Problems are collected, not raised, unless
    ``strict`` is true. ``refresh`` ignores the discovery cache (and rewrites it). ``verify``
    also loads every registered function now (importing its module, running the runtime
    checks) and reports failures as problems; ``openhcs-plugins validate`` uses it.

    ``settings`` (default: :func:`~openhcs_plugins.config.load_settings`) decide trust levels,
    the import policy, disabled names, the cache and the folder: ``folder`` if given, else
    ``settings.functions_path()``.

    Entries a previous call registered from a package that is gone, disabled or now refused are
    removed, so calling it again after ``pip install``/``uninstall`` updates the registry.

    >>> report = load_plugins(include_folder=False, registry=FunctionRegistry())
    >>> isinstance(report.registered, tuple)
    True
    """
    started = time.perf_counter()
    if adapter is None:
        adapter = RegistryAdapter(registry)
    if settings is None:
        settings = _load_settings()
    ep_trust = settings.trust.level_for("entry_point")
    folder_trust = settings.trust.level_for("folder")
    policy = policy_for(settings)
    folder_path = Path(folder) if folder is not None else None
    if include_folder and folder_path is None:
        folder_path = settings.functions_path()

    use_cache = not _cache.cache_disabled()
    key = validator_key(settings)
    cache_path = _cache.cache_file(settings.cache_path())
    state = _cache.read_cache(cache_path) if use_cache and not refresh else None
    if state is not None and state.validator != key:
        state = None
    found = _Found()
    ep_state_valid = False
    fingerprint = ""
    if include_entry_points:
        fingerprint = _cache.environment_fingerprint([key])
        if state is not None and state.fingerprint == fingerprint:
            ep_state_valid = _entry_points_from_cache(state, ep_trust, policy, found)
            if not ep_state_valid:
                found.entry_points.clear()
                found.entry_point_problems.clear()
        if not ep_state_valid:
            _discover_entry_points(ep_trust, policy, found)
    if include_folder:
        _discover_folder(folder_path, folder_trust, policy, state, found)

    if use_cache and found.changed:
        new_state = _cache.CacheState(validator=key)
        if state is not None:
            new_state.folder = dict(state.folder)
            new_state.fingerprint = state.fingerprint
            new_state.entry_points = list(state.entry_points)
            new_state.entry_point_problems = list(state.entry_point_problems)
        if include_entry_points:
            new_state.fingerprint = fingerprint
            new_state.entry_points = [d.to_dict() for d in found.entry_points]
            new_state.entry_point_problems = [p.to_dict() for p in found.entry_point_problems]
        if include_folder:
            folder_prefix = str(folder_path) + os.sep
            new_state.folder = {
                path: record
                for path, record in new_state.folder.items()
                if not path.startswith(folder_prefix)
            }
            for d in found.folder:
                new_state.folder[str(d.candidate.path)] = d.to_dict()
        _cache.write_cache(new_state, cache_path)

    report = _register(
        adapter,
        found,
        disabled_names(settings),
        folder_path if include_folder else None,
        include_entry_points,
    )
    if verify:
        report = _verify(adapter.registry, report)
    if not use_cache:
        cache_state = "off"
    elif state is None:  # missing, unreadable, written by another validator, or refresh
        cache_state = "cold"
    elif not found.misses and (ep_state_valid or not include_entry_points):
        cache_state = "warm"
    else:
        cache_state = "partial" if found.reused else "cold"
    report = replace(report, cache=cache_state, seconds=time.perf_counter() - started)
    if strict and report.problems:
        raise PluginLoadError(report)
    return report


def register_discoveries(adapter: RegistryAdapter, discoveries: Iterable[Discovery]) -> LoadReport:
    """Register the functions of examined candidates through ``adapter``, one candidate at a
    time (all or nothing per candidate: ``adapter.check`` first, then ``adapter.add``);
    collisions become problems naming both origins.

    The discoveries' own problems are not repeated in the report. An entry of the same origin
    and key is replaced; nothing else in the registry is touched (:func:`load_plugins` also
    removes the entries of candidates that are gone or no longer define them).
    """
    problems: list[Problem] = []
    registered: list[str] = []
    runtime: list[str] = []
    for discovery in discoveries:
        candidate = discovery.candidate
        try:
            entries = adapter.register_candidate(
                candidate, discovery.functions, loader_for(candidate)
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


def _register(
    adapter: RegistryAdapter,
    found: _Found,
    disabled: frozenset[str],
    folder: Path | None,
    include_entry_points: bool,
) -> LoadReport:
    problems: list[Problem] = [*found.entry_point_problems]
    warnings: list[Problem] = []
    off: list[str] = []
    entry_points, namespace_problems = _namespace_conflicts(found.entry_points)
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
        discovery, disabled_keys = _disabled_filter(discovery, disabled)
        off += disabled_keys
        if discovery.functions:
            to_register.append(discovery)

    def ours(info: Any) -> bool:
        prov = info.provenance
        if prov.source is SourceKind.ENTRY_POINT:
            return include_entry_points
        if prov.source is SourceKind.FOLDER and folder is not None and prov.file is not None:
            return Path(prov.file).parent == folder
        return False

    # Entries of candidates that are gone or refused now are removed before registering, so a
    # stale entry never blocks its replacement.
    keep_origins = {d.candidate.provenance().origin_id for d in to_register}
    adapter.remove_where(lambda info: ours(info) and info.provenance.origin_id not in keep_origins)

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


def _verify(registry: FunctionRegistry, report: LoadReport) -> LoadReport:
    problems = list(report.problems)
    for key in report.registered:
        entry = registry.entry(key)
        try:
            entry.load()
        except FunctionLoadError as exc:
            prov = entry.info.provenance
            origin = (
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
                    origin=origin,
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

    settings = _load_settings() if settings is None else settings
    settings = replace(settings, disabled=())
    wanted = _canonical(name)
    try:
        dist = importlib_metadata.distribution(name)
    except importlib_metadata.PackageNotFoundError:
        problem = Problem(
            origin=name,
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
                origin=f"{dist.metadata['Name']} {dist.version}",
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
    return _verify(registry, result) if verify else result


def validate_archive(
    path: str | os.PathLike[str], *, settings: Settings | None = None
) -> LoadReport:
    """Check a built wheel or sdist without installing it (``openhcs-plugins validate FILE``).

    Static checks only: every entry point's module is read from the archive and validated at the
    trust level of installed packages; nothing is imported or executed. Functions a module
    makes at import time are reported as a warning (install the package and validate the
    distribution to check them). ``registered`` holds the keys the package would provide.
    """
    settings = _load_settings() if settings is None else settings
    trust = settings.trust.level_for("entry_point")
    policy = policy_for(settings)
    problems: list[Problem] = []
    discoveries: list[Discovery] = []
    for item in ArchiveSource(Path(path), trust).candidates():
        if isinstance(item, Problem):
            problems.append(item)
        else:
            discoveries.append(examine(item, policy, import_modules=False))
    kept, conflicts = _namespace_conflicts(discoveries)
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


def discovery_cache_info(settings: Settings | None = None) -> _cache.CacheInfo:
    """The cache's state for ``doctor`` (stale when written by another validator or settings)."""
    settings = _load_settings() if settings is None else settings
    return _cache.cache_info(validator_key(settings), settings.cache_path())


def clear_discovery_cache(settings: Settings | None = None) -> list[Path]:
    """Delete the discovery cache files (``openhcs-plugins cache clear``); returns them."""
    settings = _load_settings() if settings is None else settings
    return _cache.clear_cache(settings.cache_path())


# ---------------------------------------------------------------------------------------------
# Enable / disable
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    """What :func:`enable` or :func:`disable` did: ``changed`` is False for a no-op."""

    name: str
    changed: bool
    message: str
    #: the settings file written, when one was.
    path: Path | None = None

    def __str__(self) -> str:
        return self.message


def _check_name(name: str) -> None:
    namespace, sep, function = name.partition(":")
    if not namespace.isidentifier() or (sep and not function.isidentifier()):
        raise ValueError(
            f"{name!r} is not a namespace (`lab_filters`) or a function key (`lab_filters:blur`)"
        )


def _known(name: str, folder: Path | None) -> bool:
    """Whether ``name`` is a namespace or key found here (installed or in the folder)."""
    from openhcs_plugins.config import load_settings

    everything = load_settings(disabled=())
    registry = FunctionRegistry()
    report = load_plugins(registry=registry, settings=everything, folder=folder)
    keys = set(registry.keys())
    namespaces = {split_key(k)[0] for k in keys}
    namespaces.update(p.namespace for p in report.problems if p.namespace)
    return name in keys if ":" in name else name in namespaces


def _change_disabled(change: Callable[[tuple[str, ...]], tuple[str, ...] | None]) -> bool:
    """Rewrite ``disabled`` in the settings file with ``change(current)`` under the file's lock
    (concurrent ``disable`` commands keep each other's names); ``change`` returns None to
    leave the file untouched. True when the file was written."""
    from openhcs_plugins.config import change_settings, with_setting

    written = False

    def edit(lazy: Any) -> Any:
        nonlocal written
        stored = object.__getattribute__(lazy, "disabled") if lazy is not None else None
        new = change(tuple(stored or ()))
        if new is None:
            return lazy
        written = True
        return with_setting(lazy, "disabled", new or None)

    change_settings(edit)
    return written


def _env_override_note() -> str:
    from openhcs_plugins.config import ENV_VARS

    var = ENV_VARS["disabled"]
    if os.environ.get(var, "").strip():
        return f" Note: {var} is set and overrides the settings file's list."
    return ""


def disable(
    name: str, *, everywhere: bool = False, folder: str | os.PathLike[str] | None = None
) -> SettingChange:
    """Switch off a namespace (``lab_filters``) or one function (``lab_filters:blur``).

    Written to the user's settings file (``disabled``), scoped to this Python environment
    (``name@<environment id>``) unless ``everywhere``. Disabled functions are not registered by
    :func:`load_plugins`. Disabling a name that is neither installed nor in the folder changes
    nothing and says so. Raises :class:`ValueError` for a malformed name and
    :class:`openhcs_plugins.config.SettingsFileError` when the settings file is broken (it is
    then left untouched). ``folder`` is the functions folder to look in (default: the
    ``functions_dir`` setting).
    """
    _check_name(name)
    if not _known(name, Path(folder) if folder is not None else None):
        return SettingChange(
            name,
            False,
            f"{name!r} is not installed or in the functions folder here; nothing was "
            "disabled (see `openhcs-plugins list`).",
        )
    entry = name if everywhere else f"{name}{ENVIRONMENT_SEPARATOR}{environment_id()}"
    scope = "every environment" if everywhere else f"this environment ({sys.prefix})"

    def add(current: tuple[str, ...]) -> tuple[str, ...] | None:
        if entry in current or (name in current and not everywhere):
            return None
        return (*current, entry)

    if not _change_disabled(add):
        return SettingChange(name, False, f"{name} is already disabled in {scope}.")
    path = settings_file_path()
    return SettingChange(
        name, True, f"disabled {name} in {scope}; saved in {path}.{_env_override_note()}", path
    )


def enable(name: str) -> SettingChange:
    """Switch a disabled namespace or function on again (in this environment and, when it was
    disabled everywhere, everywhere). Enabling something that is not disabled changes
    nothing and says so."""
    _check_name(name)
    here = f"{name}{ENVIRONMENT_SEPARATOR}{environment_id()}"
    everywhere = ""

    def remove(current: tuple[str, ...]) -> tuple[str, ...] | None:
        nonlocal everywhere
        remaining = tuple(item for item in current if item not in (name, here))
        if remaining == current:
            return None
        if name in current:
            everywhere = " (it was disabled in every environment)"
        return remaining

    if not _change_disabled(remove):
        return SettingChange(
            name,
            False,
            f"{name} is not disabled in the settings file; nothing changed.{_env_override_note()}",
        )
    path = settings_file_path()
    return SettingChange(
        name, True, f"enabled {name}{everywhere}; saved in {path}.{_env_override_note()}", path
    )
