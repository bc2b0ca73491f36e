"""Candidates: what a source yields before it is validated and registered.

A :class:`Candidate` knows where a function's code came from (source kind, distribution and
version or file path, sha256 of the text) and at which trust level it is checked. It knows
nothing about *how* it is checked: every candidate goes through the same validators and the same
registry adapter (DESIGN.md).
"""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

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

#: Namespace of folder and editor functions (``openhcs:my_function``, as in OpenHCS).
OPENHCS_NAMESPACE = "openhcs"


class SourceKind(str, Enum):
    """Where a function came from."""

    ENTRY_POINT = "entry_point"
    FOLDER = "folder"
    EDITOR = "editor"
    #: registered from Python with :func:`openhcs_plugins.registry.register_function`.
    API = "api"

    def __str__(self) -> str:
        return self.value


class TrustLevel(str, Enum):
    """How strictly a source's code is checked (DESIGN.md, "Trust levels")."""

    #: installed packages: policy findings are warnings.
    TRUSTED = "trusted"
    #: folder and editor code: the import/attribute policy is enforced.
    USER = "user"
    #: policy enforced and functions run in an isolated worker process.
    STRICT = "strict"

    def __str__(self) -> str:
        return self.value


def sha256_text(text: str) -> str:
    """sha256 of the UTF-8 bytes of ``text``: the one hash of a source file's text.

    The registry, the discovery cache, the isolated runner and lock files all record this. A
    leading byte-order mark is not part of the text (:func:`~openhcs_plugins.sources.read_source`
    drops it), so a file hashes the same however it was read.

    >>> sha256_text("\ufeffx = 1\n") == sha256_text("x = 1\n")
    True
    """
    return hashlib.sha256(text.removeprefix("\ufeff").encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ParameterInfo:
    """One parameter of a function, as a listing shows it (source text, not live objects)."""

    name: str
    #: ``inspect.Parameter`` kind name: POSITIONAL_OR_KEYWORD, KEYWORD_ONLY, VAR_POSITIONAL, ...
    kind: str = "POSITIONAL_OR_KEYWORD"
    #: source text of the default (``"1.0"``), or None when the parameter has none.
    default: str | None = None
    #: source text of the annotation, or None.
    annotation: str | None = None

    def render(self) -> str:
        """``name: annotation = default`` as in a signature (made once per object: equal
        parameters read from the cache share one object)."""
        text = self.__dict__.get("_rendered")
        if text is None:
            text = {"VAR_POSITIONAL": "*", "VAR_KEYWORD": "**"}.get(self.kind, "") + self.name
            if self.annotation is not None:
                text += f": {self.annotation}"
            if self.default is not None:
                text += f" = {self.default}" if self.annotation is not None else f"={self.default}"
            self.__dict__["_rendered"] = text  # not a field: equality and hashing ignore it
        return text


@dataclass(frozen=True)
class StaticFunction:
    """A decorated function found by reading source text with ``ast`` (nothing executed)."""

    name: str
    line: int
    input_memory_type: str
    output_memory_type: str
    contract: str = "FLEXIBLE"
    parameters: tuple[ParameterInfo, ...] = ()
    doc: str = ""
    #: False when the signature could not be read statically (e.g. made by a factory).
    static_signature: bool = True
    #: declared artifact outputs, in order: (name, spec as JSON text, or None when it is not
    #: declared or cannot be read without running the code).
    artifact_outputs: tuple[tuple[str, str | None], ...] = ()
    #: declared artifact inputs (parameters a host passes by keyword).
    artifact_inputs: tuple[str, ...] = ()
    #: decorators other than the memory-type and artifact ones, outermost first (a trusted
    #: package's own): the signature was read from source and is checked when the code loads.
    outer_decorators: tuple[str, ...] = ()


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"{old} is deprecated, use {new}", DeprecationWarning, stacklevel=3)


def _identity(
    source: SourceKind, distribution: str | None, file: str | None
) -> tuple[str, str | None]:
    # A package is one identity whatever its files; folder and editor code is its file.
    if source is SourceKind.ENTRY_POINT:
        return (source.value, distribution)
    return (source.value, file)


@dataclass(frozen=True)
class Provenance:
    """Where a registry entry came from; shown by ``info`` and written by ``freeze``."""

    source: SourceKind
    file: str | None = None
    line: int | None = None
    distribution: str | None = None
    version: str | None = None
    #: install origin of a distribution: ``index``, ``editable:<url>`` or ``vcs:<url>@<commit>``.
    origin: str | None = None
    #: ``name = value`` of the entry point.
    entry_point: str | None = None
    sha256: str | None = None
    #: the level the code is checked and run at (``strict``: only in an isolated worker).
    trust: TrustLevel | None = None

    @property
    def runs(self) -> str:
        """Where the code runs: ``"isolated"`` (``strict``) or ``"in process"``."""
        return "isolated" if self.trust is TrustLevel.STRICT else "in process"

    @property
    def identity(self) -> tuple[str, str | None]:
        """What the collision rule compares: ``(source, distribution)`` for a package,
        ``(source, file)`` otherwise. The same identity replaces its entry, another collides."""
        return _identity(self.source, self.distribution, self.file)

    @property
    def origin_id(self) -> tuple[str, str | None]:
        """Deprecated (kept for one release): :attr:`identity`."""
        _deprecated("Provenance.origin_id", "Provenance.identity")
        return self.identity

    def describe(self) -> str:
        """One line for messages: ``folder file /x/blur.py`` or ``package lab-filters 0.2.0``."""
        if self.source is SourceKind.ENTRY_POINT:
            text = f"package {self.distribution} {self.version}"
            if self.entry_point:
                text += f" (entry point {self.entry_point})"
            return text
        if self.source is SourceKind.FOLDER:
            return f"folder file {self.file}"
        if self.source is SourceKind.API:
            return f"register_function() from {self.file or 'Python'}"
        return "editor code" + (f" ({self.file})" if self.file else "")


@dataclass(frozen=True)
class Candidate:
    """Code a source found, with where it came from and how much it is trusted."""

    source: SourceKind
    namespace: str
    #: the exact text that is validated (and, for folder and editor code, executed).
    text: str
    trust: TrustLevel = TrustLevel.USER
    path: Path | None = None
    #: for entry points: the module to import and, for ``module:attr`` values, the attribute.
    module: str | None = None
    attribute: str | None = None
    distribution: str | None = None
    version: str | None = None
    origin: str | None = None
    entry_point: str | None = None
    sha256: str = field(default="")

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", sha256_text(self.text))

    @property
    def filename(self) -> str:
        """What tracebacks and messages call this code."""
        if self.path is not None:
            return str(self.path)
        if self.module is not None:
            return f"<{self.module}>"
        return "<editor>"

    @property
    def identity(self) -> tuple[str, str | None]:
        """The :attr:`Provenance.identity` of this candidate's entries, without making one."""
        return _identity(self.source, self.distribution, str(self.path) if self.path else None)

    @property
    def origin_id(self) -> tuple[str, str | None]:
        """Deprecated (kept for one release): :attr:`identity`."""
        _deprecated("Candidate.origin_id", "Candidate.identity")
        return self.identity

    def provenance(self, line: int | None = None) -> Provenance:
        return Provenance(
            source=self.source,
            file=str(self.path) if self.path is not None else None,
            line=line,
            distribution=self.distribution,
            version=self.version,
            origin=self.origin,
            entry_point=self.entry_point,
            sha256=self.sha256,
            trust=self.trust,
        )

    @classmethod
    def from_code(
        cls,
        code: str,
        *,
        source: SourceKind = SourceKind.EDITOR,
        path: Path | None = None,
        trust: TrustLevel = TrustLevel.USER,
        namespace: str = OPENHCS_NAMESPACE,
    ) -> Candidate:
        """A candidate for code typed in an editor or read from a folder file."""
        return cls(source=source, namespace=namespace, text=code, trust=trust, path=path)
