"""What the static pass reads about a module besides findings: the facts the loader needs.

This module owns :class:`ModuleFacts`, the answer of
``validate_code(..., module_facts=True).module``: whether the module makes memory-decorated
functions at import time (a factory, a ``numpy(f)`` call), the names its top-level imports
bind, and the line of each top-level assignment. They come out of the one pass that checks
the policy, so nothing parses or walks the text again. It imports only the standard library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

__all__ = ["ModuleFacts"]


@dataclass(frozen=True)
class ModuleFacts:
    """Module-level facts read statically (nothing was executed)."""

    #: a memory-type decorator is used other than on a top-level ``def`` (a factory, a
    #: ``numpy(f)`` call): importing the module may make functions the static reader cannot see.
    makes_functions_at_import: bool = False
    #: names bound by top-level imports (re-exports are not this module's functions).
    imported_names: frozenset[str] = frozenset()
    #: name -> line of the first top-level assignment that binds it.
    binding_lines: Mapping[str, int] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    #: names of the top-level ``def`` statements that carry decorators (a decorator finding
    #: about one of them is that function's problem, not the module's).
    decorated_functions: frozenset[str] = frozenset()
