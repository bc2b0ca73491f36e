"""What a load says: :class:`LoadReport` and the :class:`PluginLoadError` ``strict`` raises.

Plain values; it imports only :mod:`openhcs_plugins.errors` (the base error) and
:mod:`openhcs_plugins.sources.problem` (for types).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from openhcs_plugins.errors import OpenHCSPluginsError

if TYPE_CHECKING:
    from openhcs_plugins.sources.problem import Problem

__all__ = ["LoadReport", "PluginLoadError"]


@dataclass(frozen=True)
class LoadReport:
    """What :func:`load_plugins` registered and what it refused.

    ``registered`` holds the keys registered by this call; ``problems`` the candidates (or
    single functions) that were refused, each with its subject, file, line, message and hint;
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
