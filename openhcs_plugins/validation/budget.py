"""The validator's time budget: every input is checked in bounded CPU time, or refused.

The size limits (bytes, syntax-tree nodes, nesting depth) bound what the pass keeps; the budget
bounds what it spends: :class:`Budget` starts before the text is decoded and parsed, and the
walk and each whole-module check ask it, between chunks of nodes, whether the policy's
``max_seconds`` of CPU time (``time.process_time``) are spent. A file that needs more is
refused as ``too-complex`` with the line the pass had reached, at every trust level, listing
included. It imports only the standard library and :mod:`.findings`.
"""

from __future__ import annotations

import time

from openhcs_plugins.validation.findings import TooComplex

__all__ = ["Budget"]


class Budget:
    """``seconds`` of CPU time from now."""

    __slots__ = ("deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.process_time() + seconds

    def check(self, line: int | None) -> None:
        """Raise :class:`TooComplex` (at ``line``) when the time is spent."""
        if time.process_time() > self.deadline:
            where = f"the check had reached line {line}" if line else "parsing it alone did"
            raise TooComplex(
                f"Code is too large or too complex to validate: checking it took more than "
                f"{self.seconds:g} s of CPU time ({where}).",
                line or 1,
            )
