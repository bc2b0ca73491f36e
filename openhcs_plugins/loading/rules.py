"""Rules applied across candidates: one distribution per namespace, disabled names.

Documented in docs/plugins.md: the entry-point name is the namespace; when two *distributions*
declare the same namespace, **both are refused** and each is reported naming the other (no package
can take over another package's functions by claiming its namespace). It imports
:mod:`openhcs_plugins.sources`, :mod:`.discovery` and the registry's ``make_key``.
"""

from __future__ import annotations

from dataclasses import replace

from openhcs_plugins.loading.discovery import Discovery
from openhcs_plugins.registry import make_key
from openhcs_plugins.sources.candidate import StaticFunction
from openhcs_plugins.sources.problem import Problem

__all__ = ["disabled_filter", "namespace_conflicts"]


def namespace_conflicts(discoveries: list[Discovery]) -> tuple[list[Discovery], list[Problem]]:
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


def disabled_filter(discovery: Discovery, disabled: frozenset[str]) -> tuple[Discovery, list[str]]:
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
