"""A :class:`Discovery`: what examining one candidate found, and its form in the discovery cache.

It imports :mod:`openhcs_plugins.sources` (the candidate, the problem, the cache's function
records) and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins.sources import cache as _cache
from openhcs_plugins.sources.candidate import (
    OPENHCS_NAMESPACE,
    Candidate,
    ParameterInfo,
    SourceKind,
    StaticFunction,
    TrustLevel,
)
from openhcs_plugins.sources.problem import Problem

__all__ = ["Discovery"]


@dataclass(frozen=True)
class Discovery:
    """What examining one candidate found: the functions to register, and what is wrong.

    Built by :func:`examine` or rebuilt from the cache (then ``candidate.text`` is empty for
    packages: their code is imported by module name, never executed from text; and for a folder
    file whose stamp is unchanged: its text is read and checked when it first runs).
    """

    candidate: Candidate
    functions: tuple[StaticFunction, ...] = ()
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Problem, ...] = ()
    #: the source file's stamp when it was read: ``(mtime_ns, size)`` for a package's module,
    #: :func:`~openhcs_plugins.sources.cache.folder_stamp` for a folder file (None: too recent).
    stamp: tuple[int, ...] | None = None

    def to_dict(self, table: _cache.ParameterTable) -> dict[str, Any]:
        """JSON-ready form, candidate included (the entry-point section of the cache); the
        parameters go into ``table``."""
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
            "functions": [_cache.function_to_dict(f, table) for f in self.functions],
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    def to_record(self, table: _cache.ParameterTable) -> dict[str, Any]:
        """The folder section's record: what :meth:`from_record` checks and reads, no more (the
        candidate itself is read from the file again, and the path is the record's key)."""
        return {
            "source": self.candidate.source.value,
            "trust": self.candidate.trust.value,
            "sha256": self.candidate.sha256,
            "stamp": list(self.stamp) if self.stamp is not None else None,
            "functions": [_cache.function_to_dict(f, table) for f in self.functions],
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [w.to_dict() for w in self.warnings],
        }

    @classmethod
    def from_record(
        cls,
        candidate: Candidate,
        data: dict[str, Any],
        parameters: list[ParameterInfo],
        stamp: tuple[int, ...] | None = None,
    ) -> Discovery:
        """What the cache recorded about ``candidate`` (same source, trust and sha256), or a
        ``ValueError``/``KeyError``/``TypeError``/``IndexError`` when the record does not
        match or is malformed. ``parameters``: the cache's parameter table; ``stamp``: the
        file's stamp now (kept for the next listing)."""
        if (
            data["source"] != candidate.source.value
            or data["trust"] != candidate.trust.value
            or data["sha256"] != candidate.sha256
        ):
            raise ValueError("the record is about other code")
        return cls(
            candidate=candidate,
            functions=tuple(_cache.function_from_dict(f, parameters) for f in data["functions"]),
            problems=tuple(map(Problem.from_dict, data["problems"])),
            warnings=tuple(map(Problem.from_dict, data["warnings"])),
            stamp=stamp,
        )

    @classmethod
    def from_stamped_record(
        cls,
        path: Path,
        trust: TrustLevel,
        data: dict[str, Any],
        parameters: list[ParameterInfo],
        stamp: tuple[int, ...],
    ) -> Discovery:
        """The cache's record of the folder file ``path`` when its stamp is still ``stamp``: the
        file is not read. Its candidate has no text, only the recorded sha256; the text is read
        and checked against it when a function of the file first runs
        (:func:`openhcs_plugins.loading.register.importer_for`)."""
        recorded = data["stamp"]
        if type(recorded) is not list or tuple(recorded) != stamp:
            raise ValueError("the file changed")
        sha256 = data["sha256"]
        if type(sha256) is not str or len(sha256) != 64:
            raise TypeError("malformed record")
        candidate = Candidate(
            source=SourceKind.FOLDER,
            namespace=OPENHCS_NAMESPACE,
            text="",
            trust=trust,
            path=path,
            sha256=sha256,
        )
        return cls.from_record(candidate, data, parameters, stamp)

    @classmethod
    def from_dict(
        cls, data: dict[str, Any], parameters: list[ParameterInfo], text: str = ""
    ) -> Discovery:
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
            functions=tuple(_cache.function_from_dict(f, parameters) for f in data["functions"]),
            problems=tuple(map(Problem.from_dict, data["problems"])),
            warnings=tuple(map(Problem.from_dict, data["warnings"])),
            stamp=(int(stamp[0]), int(stamp[1])) if stamp is not None else None,
        )
