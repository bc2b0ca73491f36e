"""Archives: the entry points of a built wheel or sdist, read without installing it.

It imports :mod:`.entry_points` (the group, the namespace rule), :mod:`.candidate` and
:mod:`.problem`; the archive libraries of the standard library are imported only here.
"""

from __future__ import annotations

import configparser
import email.parser
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import importlib_metadata

from openhcs_plugins.sources.candidate import Candidate, SourceKind, TrustLevel
from openhcs_plugins.sources.entry_points import (
    ENTRY_POINT_GROUP,
    module_relpaths,
    namespace_error,
)
from openhcs_plugins.sources.problem import Problem

__all__ = ["ArchiveSource"]


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
                subject=str(self.path),
                message=f"cannot read the archive: {exc}",
                hint="build it again (`python -m build`) and pass the .whl or .tar.gz file",
                file=str(self.path),
                kind="unreadable",
            )
            return
        name, version = metadata
        if not entry_points:
            yield Problem(
                subject=f"{name} {version}",
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
        base = replace(base, module=module, attribute=attribute)
        for rel in module_relpaths(module):
            for root in ("", "src/"):
                data = members.get(root + rel)
                if data is not None:
                    path = Path(str(self.path) + "/" + root + rel)
                    try:
                        text = data.decode("utf-8-sig")
                    except UnicodeDecodeError as exc:
                        return Problem.for_candidate(
                            replace(base, path=path),
                            f"the module is not UTF-8 text ({exc.reason} at byte {exc.start})",
                            kind="unreadable",
                            hint="save it as UTF-8",
                        )
                    return replace(base, path=path, text=text, sha256="")
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
