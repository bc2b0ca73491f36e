"""Entry points: the ``openhcs.functions`` entry points of the installed distributions.

The entry-point *name* is the namespace of its functions; the *value* is a module (every decorated
function defined in it) or ``module:attribute`` (one function). The module's source file is
located from the distribution's files, or for editable installs through the import path finders,
**without importing it or its parent packages** (a package ``__init__`` may import torch).

It imports importlib-metadata, :mod:`.candidate`, :mod:`.problem` and :mod:`.folder`
(``read_source``).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import keyword
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import importlib_metadata

from openhcs_plugins.sources.candidate import OPENHCS_NAMESPACE, Candidate, SourceKind, TrustLevel
from openhcs_plugins.sources.folder import read_source
from openhcs_plugins.sources.problem import Problem

__all__ = [
    "ENTRY_POINT_GROUP",
    "EntryPointSource",
    "install_origin",
    "locate_module",
    "module_files",
    "namespace_error",
]

#: The entry-point group plugin packages declare their functions in.
ENTRY_POINT_GROUP = "openhcs.functions"


def namespace_error(name: str) -> str | None:
    """Why ``name`` cannot be an entry-point namespace, or None when it can.

    >>> namespace_error("lab_filters") is None
    True
    >>> namespace_error("openhcs")
    "the namespace 'openhcs' is reserved for folder and editor functions"
    """
    # ASCII only: NFKC normalisation would let fullwidth letters spell a reserved name.
    if not (name.isascii() and name.isidentifier()) or keyword.iskeyword(name):
        return (
            f"the entry-point name {name!r} is not a valid namespace (an ASCII Python identifier)"
        )
    if name.lower() == OPENHCS_NAMESPACE:
        return f"the namespace {name!r} is reserved for folder and editor functions"
    return None


def install_origin(dist: importlib_metadata.Distribution) -> str:
    """How ``dist`` was installed, from ``Distribution.origin`` (PEP 610 ``direct_url.json``).

    ``editable:<url>``, ``vcs:<url>@<commit>``, ``file:<url>`` (a local wheel, sdist or
    directory) or ``index`` (no direct URL: installed from a package index).
    """
    try:
        origin = dist.origin
    except ValueError:  # a corrupt direct_url.json says nothing reliable
        origin = None
    if origin is None:
        return "index"
    url = getattr(origin, "url", "")
    dir_info = getattr(origin, "dir_info", None)
    if dir_info is not None and getattr(dir_info, "editable", False):
        return f"editable:{url}"
    vcs_info = getattr(origin, "vcs_info", None)
    if vcs_info is not None:
        commit = getattr(vcs_info, "commit_id", "")
        return f"vcs:{url}@{commit}" if commit else f"vcs:{url}"
    return f"file:{url}"


def module_relpaths(module: str) -> tuple[str, str]:
    base = module.replace(".", "/")
    return (f"{base}.py", f"{base}/__init__.py")


def _locate_from_record(dist: importlib_metadata.Distribution, module: str) -> Path | None:
    files = dist.files
    if not files:
        return None
    wanted = module_relpaths(module)
    for package_path in files:
        if package_path.as_posix() in wanted:
            located = Path(os.fspath(dist.locate_file(package_path)))
            if located.is_file():
                return located
    return None


def _locate_with_finders(module: str) -> Path | None:
    """Walk the import finders one component at a time, so no parent package is imported.

    ``importlib.util.find_spec("a.b")`` would import ``a``; asking the finders for ``a``, then
    the path finder for ``a.b`` inside ``a``'s search locations, does not. This covers editable
    installs (setuptools' editable finders and ``.pth`` path entries).
    """
    parts = module.split(".")
    try:
        spec = importlib.util.find_spec(parts[0])
    except (ImportError, ValueError):
        return None
    for depth in range(1, len(parts)):
        if spec is None or not spec.submodule_search_locations:
            return None
        name = ".".join(parts[: depth + 1])
        spec = importlib.machinery.PathFinder.find_spec(name, list(spec.submodule_search_locations))
    if spec is None or not spec.origin or not spec.has_location:
        return None
    return Path(spec.origin)


def _editable_project_roots(dist: importlib_metadata.Distribution) -> tuple[Path, ...]:
    """The project directory of an editable install (``direct_url.json``), and its ``src``."""
    try:
        origin = dist.origin
    except ValueError:
        return ()
    url = getattr(origin, "url", "") if origin is not None else ""
    if not url.startswith("file://"):
        return ()
    from urllib.parse import unquote, urlparse

    project = Path(unquote(urlparse(url).path))
    return (project, project / "src")


def _locate_from_direct_url(dist: importlib_metadata.Distribution, module: str) -> Path | None:
    """Editable install whose finder is not active: look in the project directory itself."""
    for root in _editable_project_roots(dist):
        for rel in module_relpaths(module):
            if (root / rel).is_file():
                return root / rel
    return None


def locate_module(dist: importlib_metadata.Distribution, module: str) -> Path | None:
    """The file of ``module`` as installed by ``dist``, found without importing anything.

    Tried in order: the distribution's RECORD (regular installs), the import finders walked
    component by component (editable installs, ``.pth`` entries), the project directory named
    by ``direct_url.json`` (editable installs). None when there is no such file; the path may
    be a ``.pyc`` or an extension module when the distribution ships no source.
    """
    return (
        _locate_from_record(dist, module)
        or _locate_with_finders(module)
        or _locate_from_direct_url(dist, module)
    )


def _is_editable(dist: importlib_metadata.Distribution) -> bool:
    return install_origin(dist).startswith("editable:")


def _top_level_names(dist: importlib_metadata.Distribution) -> list[str]:
    """The top-level modules and packages ``dist`` provides: ``top_level.txt`` (setuptools
    writes it, editable installs included), else the modules its entry points name."""
    text = dist.read_text("top_level.txt") or ""
    names = [line.strip() for line in text.splitlines() if line.strip()]
    if not names:
        names = [ep.module.partition(".")[0] for ep in dist.entry_points]
    return sorted(set(names))


def _top_level_location(dist: importlib_metadata.Distribution, name: str) -> Path | None:
    """The folder of top-level package ``name`` (or its ``.py`` file), found without importing
    it: the import finders (a ``.pth`` path entry, setuptools' editable finder mapping), else
    the project folder ``direct_url.json`` names."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is not None:
        if spec.submodule_search_locations:
            return Path(next(iter(spec.submodule_search_locations)))
        if spec.origin and spec.has_location:
            return Path(spec.origin)
    for root in _editable_project_roots(dist):
        if (root / name).is_dir():
            return root / name
        if (root / f"{name}.py").is_file():
            return root / f"{name}.py"
    return None


def module_files(dist: importlib_metadata.Distribution) -> dict[str, Path]:
    """Every Python source file ``dist`` provides: ``package/module.py`` -> its path.

    A regular install lists them in its RECORD. An editable install records only a ``.pth``
    or finder file, so its top-level packages are found where they really are (the import
    finders, else the project folder of ``direct_url.json``) and walked. The names are the
    same either way, so a lock file written against one compares with the other. Nothing is
    imported.
    """
    found: dict[str, Path] = {}
    if _is_editable(dist):
        for name in _top_level_names(dist):
            location = _top_level_location(dist, name)
            if location is None:
                continue
            if location.is_file():
                found[location.name] = location
                continue
            for path in sorted(location.rglob("*.py")):
                rel = path.relative_to(location)
                if any(part == "__pycache__" or part.startswith(".") for part in rel.parts):
                    continue
                found[f"{name}/{rel.as_posix()}"] = path
        return found
    for package_path in dist.files or ():
        rel = package_path.as_posix()
        if not rel.endswith(".py") or rel.startswith("../") or "__pycache__" in rel:
            continue
        found[rel] = Path(os.fspath(dist.locate_file(package_path)))
    return dict(sorted(found.items()))


class EntryPointSource:
    """Candidates for the ``openhcs.functions`` entry points of the installed distributions.

    >>> src = EntryPointSource()
    >>> all(isinstance(c, (Candidate, Problem)) for c in src.candidates())
    True
    """

    def __init__(self, trust: TrustLevel = TrustLevel.TRUSTED) -> None:
        self.trust = trust

    def entry_points(self) -> importlib_metadata.EntryPoints:
        """The declared entry points, one distribution per name (the first on ``sys.path``)."""
        return importlib_metadata.entry_points(group=ENTRY_POINT_GROUP)

    def candidates(self) -> Iterator[Candidate | Problem]:
        """One candidate per entry point, or a problem saying why it cannot be read."""
        metadata_cache: dict[int, tuple[str, str, str]] = {}
        for ep in self.entry_points():
            dist = ep.dist
            assert dist is not None  # entry_points() always attaches the distribution
            key = id(dist)
            item: Candidate | Problem
            try:
                if key not in metadata_cache:
                    meta = dist.metadata
                    metadata_cache[key] = (meta["Name"], meta["Version"], install_origin(dist))
                name, version, origin = metadata_cache[key]
                item = self.candidate(ep, dist, name, version, origin)
            except Exception as exc:
                # Installed metadata is foreign data (a hand-edited or half-written RECORD,
                # METADATA, direct_url.json): one broken distribution must not stop the others.
                item = self._unreadable(ep, dist, metadata_cache.get(key), exc)
            yield item

    def _unreadable(
        self,
        ep: importlib_metadata.EntryPoint,
        dist: importlib_metadata.Distribution,
        meta: tuple[str, str, str] | None,
        exc: Exception,
    ) -> Problem:
        name, version = (meta[0], meta[1]) if meta is not None else (None, None)
        where = getattr(dist, "_path", None)  # PathDistribution: its *.dist-info directory
        label = name or (str(where) if where is not None else ep.name)
        return Problem(
            subject=f"{label} {version}" if version else label,
            message=f"cannot read its installed metadata: {type(exc).__name__}: {exc}",
            hint=f"reinstall it (`pip install --force-reinstall {name or '<distribution>'}`) "
            "or uninstall it",
            file=str(where) if where is not None else None,
            entry_point=f"{ep.name} = {ep.value}",
            distribution=name,
            version=version,
            namespace=ep.name,
            kind="unreadable",
        )

    def candidate(
        self,
        ep: importlib_metadata.EntryPoint,
        dist: importlib_metadata.Distribution,
        name: str,
        version: str,
        origin: str,
    ) -> Candidate | Problem:
        """Read the source of one entry point into a candidate."""
        declaration = f"{ep.name} = {ep.value}"
        base = Candidate(
            source=SourceKind.ENTRY_POINT,
            namespace=ep.name,
            text="",
            trust=self.trust,
            distribution=name,
            version=version,
            origin=origin,
            entry_point=declaration,
        )
        error = namespace_error(ep.name)
        if error is not None:
            return Problem.for_candidate(
                base,
                error,
                kind="invalid-namespace",
                hint=f"ask the author of {name} to rename the entry point in its pyproject.toml "
                "(a lower-case identifier such as `lab_filters`, not `openhcs`)",
            )
        try:
            module, attribute = ep.module, ep.attr
        except ValueError:
            return Problem.for_candidate(
                base,
                f"the entry-point value {ep.value!r} is not `module` or `module:function`",
                kind="invalid-value",
            )
        if attribute is not None and not attribute.isidentifier():
            return Problem.for_candidate(
                base,
                f"the entry-point value {ep.value!r} names {attribute!r}; only a module-level "
                "function can be named (`module:function`)",
                kind="invalid-value",
            )
        base = replace(base, module=module, attribute=attribute)
        path = locate_module(dist, module)
        if path is None:
            return Problem.for_candidate(
                base,
                f"module {module!r} is not installed by {name} {version}",
                kind="module-not-found",
                hint=f"reinstall {name} (`pip install --force-reinstall {name}`), or fix the "
                "entry point to name a module the package ships",
            )
        base = replace(base, path=path)
        if path.suffix != ".py":
            # No source to read (a .pyc-only or compiled module): found by importing it.
            return base
        try:
            text = read_source(path)
        except (OSError, UnicodeDecodeError) as exc:
            return Problem.for_candidate(base, f"cannot read the source: {exc}", kind="unreadable")
        return replace(base, text=text, sha256="")
