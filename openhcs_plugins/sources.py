"""Sources: where candidates come from (installed packages and the folder), read without importing.

Two sources feed the loader (:mod:`openhcs_plugins.loader`):

- :class:`EntryPointSource` reads the ``openhcs.functions`` entry points of every installed
  distribution. The entry-point *name* is the namespace of its functions; the *value* is a module
  (every decorated function defined in it) or ``module:attribute`` (one function). The module's
  source file is located from the distribution's files, or for editable installs through the
  import path finders, **without importing it or its parent packages** (a package ``__init__``
  may import torch).
- :class:`FolderSource` reads every ``*.py`` file of a folder (the per-user custom-function
  folder); its functions use the namespace ``openhcs``.

Both yield :class:`~openhcs_plugins.candidate.Candidate` objects, or a :class:`Problem` for a
candidate that could not even be read. A problem never stops the other candidates.

>>> from pathlib import Path
>>> [type(c).__name__ for c in FolderSource(Path("/nonexistent")).candidates()]
[]
"""

from __future__ import annotations

import configparser
import email.parser
import importlib.machinery
import importlib.util
import keyword
import os
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import importlib_metadata

from openhcs_plugins.candidate import OPENHCS_NAMESPACE, Candidate, SourceKind, TrustLevel

__all__ = [
    "ENTRY_POINT_GROUP",
    "ArchiveSource",
    "EntryPointSource",
    "FolderSource",
    "Problem",
    "install_origin",
    "locate_module",
    "module_files",
    "namespace_error",
    "read_source",
]

#: The entry-point group plugin packages declare their functions in.
ENTRY_POINT_GROUP = "openhcs.functions"


@dataclass(frozen=True)
class Problem:
    """Why one candidate (a package's entry point, a folder file) was not registered.

    ``origin`` says whose problem it is (``lab-filters 0.2.0`` or a file path); ``hint`` says
    what to do about it. The one type for everything a listing reports: a validator finding
    becomes one field by field (:meth:`from_finding`; the quoted code is ``snippet``).
    """

    origin: str
    message: str
    hint: str = ""
    file: str | None = None
    line: int | None = None
    #: ``name = value`` of the entry point, for packages.
    entry_point: str | None = None
    distribution: str | None = None
    version: str | None = None
    namespace: str | None = None
    #: the function's key, when the problem concerns one function.
    key: str | None = None
    #: a short reason code: ``module-not-found``, ``syntax``, ``collision``, ``import``, ...
    kind: str = "invalid"
    #: the line of code the problem is about, as a validator finding quotes it ("" when none).
    snippet: str = ""

    @property
    def text(self) -> str:
        """The message with the quoted code: what a listing prints after the origin."""
        return f"{self.message} ({self.snippet})" if self.snippet else self.message

    def __str__(self) -> str:
        where = "" if self.file == self.origin else self.origin
        if self.entry_point:
            where += f" (entry point {self.entry_point})"
        if self.file:
            # A folder file is its own origin: its path is said once.
            where += (", " if where else "") + self.file + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.text}"
        return f"{text} - {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``list --json``, ``doctor``, the discovery cache)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        return cls(**data)

    @classmethod
    def for_candidate(
        cls,
        candidate: Candidate,
        message: str,
        *,
        kind: str,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
        snippet: str = "",
    ) -> Problem:
        """A problem about ``candidate``, with its origin and a default hint for its source."""
        return cls(
            origin=describe_origin(candidate),
            message=message,
            hint=default_hint(candidate) if hint is None else hint,
            file=str(candidate.path) if candidate.path is not None else None,
            line=line,
            entry_point=candidate.entry_point,
            distribution=candidate.distribution,
            version=candidate.version,
            namespace=candidate.namespace,
            key=key,
            kind=kind,
            snippet=snippet,
        )

    @classmethod
    def from_finding(
        cls, candidate: Candidate, finding: Any, *, key: str | None = None, kind: str = ""
    ) -> Problem:
        """A validator finding (a :class:`~openhcs_plugins.validation.ValidationError`) about
        ``candidate``, field by field: message, line, quoted code, rule (``kind`` overrides it)
        and hint. The finding's hint speaks to whoever wrote the code: for a package, its
        author, so it follows the command that shows the package's diagnosis."""
        hint = default_hint(candidate)
        if finding.hint:
            if candidate.source is SourceKind.ENTRY_POINT:
                hint = f"{hint} (for its author: {finding.hint})"
            else:
                hint = finding.hint
        return cls.for_candidate(
            candidate,
            finding.message,
            kind=kind or finding.rule or "invalid",
            line=finding.line_number or None,
            key=key,
            hint=hint,
            snippet=finding.code_snippet.strip(),
        )


def describe_origin(candidate: Candidate) -> str:
    """``lab-filters 0.2.0`` for a package, the file path for folder code."""
    if candidate.source is SourceKind.ENTRY_POINT:
        return f"{candidate.distribution} {candidate.version}"
    return str(candidate.path) if candidate.path is not None else candidate.filename


def default_hint(candidate: Candidate) -> str:
    """What to run to see the full diagnosis of a candidate."""
    if candidate.source is SourceKind.ENTRY_POINT:
        return f"run `openhcs-plugins validate {candidate.distribution}`"
    if candidate.path is not None:
        return f"fix the file, then run `openhcs-plugins validate {candidate.path}`"
    return "fix the code and validate it again"


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


def _module_relpaths(module: str) -> tuple[str, str]:
    base = module.replace(".", "/")
    return (f"{base}.py", f"{base}/__init__.py")


def _locate_from_record(dist: importlib_metadata.Distribution, module: str) -> Path | None:
    files = dist.files
    if not files:
        return None
    wanted = _module_relpaths(module)
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


def _locate_from_direct_url(dist: importlib_metadata.Distribution, module: str) -> Path | None:
    """Editable install whose finder is not active: look in the project directory itself."""
    try:
        origin = dist.origin
    except ValueError:
        return None
    url = getattr(origin, "url", "") if origin is not None else ""
    if not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    project = Path(unquote(urlparse(url).path))
    for root in (project, project / "src"):
        for rel in _module_relpaths(module):
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
    try:
        origin = dist.origin
    except ValueError:
        return None
    url = getattr(origin, "url", "") if origin is not None else ""
    if not url.startswith("file://"):
        return None
    from urllib.parse import unquote, urlparse

    project = Path(unquote(urlparse(url).path))
    for root in (project, project / "src"):
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


def read_source(path: Path) -> str:
    """The text of a Python source file; UTF-8 only (with or without a BOM).

    Raises :class:`UnicodeDecodeError` for other encodings and :class:`OSError` when the file
    cannot be read. Validators and executors see exactly this text.
    """
    data = path.read_bytes()
    return data.decode("utf-8-sig")


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
            origin=f"{label} {version}" if version else label,
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
        base = _replace(base, module=module, attribute=attribute)
        path = locate_module(dist, module)
        if path is None:
            return Problem.for_candidate(
                base,
                f"module {module!r} is not installed by {name} {version}",
                kind="module-not-found",
                hint=f"reinstall {name} (`pip install --force-reinstall {name}`), or fix the "
                "entry point to name a module the package ships",
            )
        base = _replace(base, path=path)
        if path.suffix != ".py":
            # No source to read (a .pyc-only or compiled module): found by importing it.
            return base
        try:
            text = read_source(path)
        except (OSError, UnicodeDecodeError) as exc:
            return Problem.for_candidate(base, f"cannot read the source: {exc}", kind="unreadable")
        return _replace(base, text=text, sha256="")


class FolderSource:
    """Candidates for the ``*.py`` files of a folder (namespace ``openhcs``, trust ``user``).

    Hidden files (``.name.py``, editor lock files) are skipped; temporary files written by the
    manager do not end in ``.py``.
    """

    def __init__(self, path: Path | str, trust: TrustLevel = TrustLevel.USER) -> None:
        self.path = Path(path)
        self.trust = trust

    def files(self) -> list[Path]:
        """The folder's function files, sorted by name (the order collisions are resolved in)."""
        try:
            with os.scandir(self.path) as entries:
                names = sorted(
                    e.name
                    for e in entries
                    if e.name.endswith(".py") and not e.name.startswith(".") and e.is_file()
                )
        except (FileNotFoundError, NotADirectoryError):
            return []
        return [self.path / name for name in names]

    def candidate(self, file: Path) -> Candidate | Problem:
        """The candidate for one file, or a problem when it cannot be read as UTF-8 text."""
        try:
            text = read_source(file)
        except UnicodeDecodeError as exc:
            return Problem(
                origin=str(file),
                message=f"the file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                hint="save it as UTF-8 (without a `# coding:` cookie naming another encoding)",
                file=str(file),
                # The line of the first bad byte, as `validate` gives it.
                line=exc.object.count(b"\n", 0, exc.start) + 1,
                namespace=OPENHCS_NAMESPACE,
                kind="unreadable",
            )
        except OSError as exc:
            return Problem(
                origin=str(file),
                message=f"cannot read the file: {exc.strerror or exc}",
                hint="check the file's permissions",
                file=str(file),
                namespace=OPENHCS_NAMESPACE,
                kind="unreadable",
            )
        return Candidate.from_code(text, source=SourceKind.FOLDER, path=file, trust=self.trust)

    def candidates(self) -> Iterator[Candidate | Problem]:
        """One candidate (or problem) per file, in name order."""
        for file in self.files():
            yield self.candidate(file)


class ArchiveSource:
    """Candidates for the entry points of a built wheel or sdist, read without installing it.

    For ``openhcs-plugins validate dist/lab_filters-0.2.0-py3-none-any.whl``: the entry points
    come from the wheel's ``*.dist-info/entry_points.txt``, or from an sdist's
    ``pyproject.toml`` (``[project.entry-points."openhcs.functions"]``), ``*.egg-info`` or
    ``setup.cfg``; the modules are read from the archive (``src/`` layouts included). Nothing is
    extracted or executed. Candidate paths are ``<archive>/<member>``.
    """

    def __init__(self, path: Path | str, trust: TrustLevel = TrustLevel.TRUSTED) -> None:
        self.path = Path(path)
        self.trust = trust

    def candidates(self) -> Iterator[Candidate | Problem]:
        """One candidate (or problem) per ``openhcs.functions`` entry point of the archive."""
        try:
            members, metadata, entry_points = self._read()
        except (OSError, zipfile.BadZipFile, tarfile.TarError, ValueError) as exc:
            yield Problem(
                origin=str(self.path),
                message=f"cannot read the archive: {exc}",
                hint="build it again (`python -m build`) and pass the .whl or .tar.gz file",
                file=str(self.path),
                kind="unreadable",
            )
            return
        name, version = metadata
        if not entry_points:
            yield Problem(
                origin=f"{name} {version}",
                message=f"{self.path.name} declares no `{ENTRY_POINT_GROUP}` entry point",
                hint='add [project.entry-points."openhcs.functions"] to pyproject.toml, e.g. '
                'lab_filters = "lab_filters.filters"',
                file=str(self.path),
                distribution=name,
                version=version,
                kind="no-entry-point",
            )
            return
        for ep_name, value in entry_points:
            yield self._candidate(ep_name, value, name, version, members)

    def _candidate(
        self, ep_name: str, value: str, name: str, version: str, members: dict[str, bytes | None]
    ) -> Candidate | Problem:
        ep = importlib_metadata.EntryPoint(name=ep_name, value=value, group=ENTRY_POINT_GROUP)
        base = Candidate(
            source=SourceKind.ENTRY_POINT,
            namespace=ep_name,
            text="",
            trust=self.trust,
            distribution=name,
            version=version,
            origin=f"file:{self.path.resolve().as_uri()}",
            entry_point=f"{ep_name} = {value}",
        )
        error = namespace_error(ep_name)
        if error is not None:
            return Problem.for_candidate(base, error, kind="invalid-namespace", hint=_rename_hint())
        try:
            module, attribute = ep.module, ep.attr
        except ValueError:
            return Problem.for_candidate(
                base,
                f"the entry-point value {value!r} is not `module` or `module:function`",
                kind="invalid-value",
                hint=_rename_hint(),
            )
        base = _replace(base, module=module, attribute=attribute)
        for rel in _module_relpaths(module):
            for root in ("", "src/"):
                data = members.get(root + rel)
                if data is not None:
                    path = Path(str(self.path) + "/" + root + rel)
                    try:
                        text = data.decode("utf-8-sig")
                    except UnicodeDecodeError as exc:
                        return Problem.for_candidate(
                            _replace(base, path=path),
                            f"the module is not UTF-8 text ({exc.reason} at byte {exc.start})",
                            kind="unreadable",
                            hint="save it as UTF-8",
                        )
                    return _replace(base, path=path, text=text, sha256="")
        return Problem.for_candidate(
            base,
            f"module {module!r} is not in {self.path.name}",
            kind="module-not-found",
            hint="check the package list of the build (`[tool.setuptools] packages`) and the "
            "entry-point value",
        )

    def _read(self) -> tuple[dict[str, bytes | None], tuple[str, str], list[tuple[str, str]]]:
        """Python files (member -> bytes), (name, version), and the group's entry points."""
        name = self.path.name
        if name.endswith(".whl"):
            return self._read_wheel()
        if name.endswith((".tar.gz", ".tgz", ".tar")):
            return self._read_sdist()
        raise ValueError(f"{name} is neither a wheel (.whl) nor an sdist (.tar.gz)")

    def _read_wheel(self) -> tuple[dict[str, bytes | None], tuple[str, str], list[tuple[str, str]]]:
        with zipfile.ZipFile(self.path) as archive:
            names = archive.namelist()
            info = next((n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA")), None)
            if info is None:
                raise ValueError("no *.dist-info/METADATA in the wheel")
            meta = email.parser.Parser().parsestr(archive.read(f"{info}/METADATA").decode())
            eps_text = ""
            if f"{info}/entry_points.txt" in names:
                eps_text = archive.read(f"{info}/entry_points.txt").decode("utf-8")
            members = {n: archive.read(n) for n in names if n.endswith(".py")}
        return members, (meta["Name"], meta["Version"]), _group_from_ini(eps_text)

    def _read_sdist(self) -> tuple[dict[str, bytes | None], tuple[str, str], list[tuple[str, str]]]:
        with tarfile.open(self.path) as archive:
            files = {
                m.name.split("/", 1)[1]: m
                for m in archive.getmembers()
                if m.isfile() and "/" in m.name
            }

            def read(rel: str) -> bytes:
                handle = archive.extractfile(files[rel])
                assert handle is not None
                return handle.read()

            if "PKG-INFO" not in files:
                raise ValueError("no PKG-INFO in the sdist")
            meta = email.parser.Parser().parsestr(read("PKG-INFO").decode())
            entry_points: list[tuple[str, str]] = []
            egg_info = [r for r in files if r.endswith(".egg-info/entry_points.txt")]
            if egg_info:
                entry_points = _group_from_ini(read(egg_info[0]).decode("utf-8"))
            elif "pyproject.toml" in files:
                entry_points = _group_from_pyproject(read("pyproject.toml").decode("utf-8"))
            if not entry_points and "setup.cfg" in files:
                entry_points = _group_from_setup_cfg(read("setup.cfg").decode("utf-8"))
            members = {rel: read(rel) for rel in files if rel.endswith(".py")}
        return members, (meta["Name"], meta["Version"]), entry_points


def _rename_hint() -> str:
    return (
        "rename the entry point in pyproject.toml (a lower-case identifier such as "
        "`lab_filters`, not `openhcs`) with a value `module` or `module:function`"
    )


def _group_from_ini(text: str) -> list[tuple[str, str]]:
    parser = configparser.ConfigParser(delimiters=("=",), interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    if not parser.has_section(ENTRY_POINT_GROUP):
        return []
    return list(parser.items(ENTRY_POINT_GROUP))


def _group_from_pyproject(text: str) -> list[tuple[str, str]]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError:
            raise ValueError(
                "reading the sdist's pyproject.toml needs Python 3.11+ or `pip install tomli`"
            ) from None
    data = tomllib.loads(text)
    group = data.get("project", {}).get("entry-points", {}).get(ENTRY_POINT_GROUP, {})
    return [(str(k), str(v)) for k, v in group.items()]


def _group_from_setup_cfg(text: str) -> list[tuple[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    value = parser.get("options.entry_points", ENTRY_POINT_GROUP, fallback="")
    pairs = []
    for line in value.splitlines():
        name, sep, target = line.partition("=")
        if sep:
            pairs.append((name.strip(), target.strip()))
    return pairs


def _replace(candidate: Candidate, **changes: Any) -> Candidate:
    from dataclasses import replace

    return replace(candidate, **changes)
