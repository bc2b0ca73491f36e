"""Problems: why a candidate (a package's entry point, a folder file) was not registered.

One :class:`Problem` type for everything a listing reports, with its subject (whose problem it
is) and a hint saying what to do. It imports only :mod:`.candidate`.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from openhcs_plugins.sources.candidate import Candidate, SourceKind

__all__ = ["Problem", "default_hint", "describe_origin", "describe_subject"]


@dataclass(frozen=True)
class Problem:
    """Why one candidate (a package's entry point, a folder file) was not registered.

    ``subject`` says whose problem it is (``lab-filters 0.2.0`` or a file path), as
    :attr:`OpenHCSPluginsError.subject <openhcs_plugins.errors.OpenHCSPluginsError>` names the
    failing object; ``hint`` says what to do about it. The one type for everything a listing
    reports: a validator finding becomes one field by field (:meth:`from_finding`; the quoted
    code is ``snippet``).
    """

    subject: str
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
        """The message with the quoted code: what a listing prints after the subject."""
        return f"{self.message} ({self.snippet})" if self.snippet else self.message

    @property
    def origin(self) -> str:
        """Deprecated (kept for one release): the :attr:`subject`. "Origin" now means only a
        distribution's install origin (:attr:`Provenance.origin`)."""
        warnings.warn(
            "Problem.origin is deprecated, use Problem.subject",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.subject

    def __str__(self) -> str:
        where = "" if self.file == self.subject else self.subject
        if self.entry_point:
            where += f" (entry point {self.entry_point})"
        if self.file:
            # A folder file is its own subject: its path is said once.
            where += (", " if where else "") + self.file + (f":{self.line}" if self.line else "")
        text = f"{where}: {self.text}"
        return f"{text} - {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``list --json``, ``doctor``, the discovery cache).

        ``origin`` repeats ``subject`` for readers of the old key (kept for one release)."""
        data = asdict(self)
        data["origin"] = self.subject
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """The problem :meth:`to_dict` wrote; a dict of the old form (``origin`` only) too."""
        data = dict(data)
        origin = data.pop("origin", None)
        data.setdefault("subject", origin)
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
        """A problem about ``candidate``, with its subject and a default hint for its source."""
        return cls(
            subject=describe_subject(candidate),
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


_generated_init = Problem.__init__


@functools.wraps(_generated_init)
def _init(self: Problem, *args: Any, origin: str | None = None, **kwargs: Any) -> None:
    # ``Problem(origin=...)``, the keyword before ``subject``, keeps working for one release.
    if origin is not None:
        warnings.warn(
            "Problem(origin=...) is deprecated, use Problem(subject=...)",
            DeprecationWarning,
            stacklevel=2,
        )
        kwargs["subject"] = origin
    _generated_init(self, *args, **kwargs)


Problem.__init__ = _init  # type: ignore[method-assign]


def describe_subject(candidate: Candidate) -> str:
    """``lab-filters 0.2.0`` for a package, the file path for folder code."""
    if candidate.source is SourceKind.ENTRY_POINT:
        return f"{candidate.distribution} {candidate.version}"
    return str(candidate.path) if candidate.path is not None else candidate.filename


def describe_origin(candidate: Candidate) -> str:
    """Deprecated (kept for one release): :func:`describe_subject`."""
    warnings.warn(
        "describe_origin is deprecated, use describe_subject", DeprecationWarning, stacklevel=2
    )
    return describe_subject(candidate)


def default_hint(candidate: Candidate) -> str:
    """What to run to see the full diagnosis of a candidate."""
    if candidate.source is SourceKind.ENTRY_POINT:
        return f"run `openhcs-plugins validate {candidate.distribution}`"
    if candidate.path is not None:
        return f"fix the file, then run `openhcs-plugins validate {candidate.path}`"
    return "fix the code and validate it again"
