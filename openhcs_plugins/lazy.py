"""Lazy dataclasses: configs whose unset fields inherit from the enclosing context.

A *lazy twin* of a concrete dataclass ``X`` (``LazyX = make_lazy(X)``) has the same fields, all
defaulting to ``None``. ``None`` means "inherit": reading such a field resolves it, at read time,
through the stack of :func:`config_context` blocks (innermost first, e.g. step -> pipeline ->
global), then ``X``'s own class default. Matching is by type: a context object provides field
``f`` of ``X`` when it is an instance of ``X`` or of a dataclass in ``X``'s MRO that declares
``f`` (concrete, lazy twin or subclass), or holds one in a nested dataclass field (most specific
class first; the first stored non-None value wins).

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Paths:
...     output: str = "out"
...     workers: int = 4
>>> LazyPaths = make_lazy(Paths)
>>> step = LazyPaths(workers=8)
>>> step.output, step.workers
('out', 8)
>>> with config_context(Paths(output="/data")):
...     step.output
'/data'
>>> object.__getattribute__(step, "output") is None  # raw: what was really set
True

Code editors run user code that builds such configs. Inside :func:`patch_lazy_constructors` (or
:func:`exec_user_code`, which uses it) nothing resolves: a field left out stays ``None`` when it is
read and when ``__post_init__`` runs, so the editor can still tell "set by the user" from
"inherited". The block sets a :class:`contextvars.ContextVar`; no class attribute is swapped, so
other threads and asyncio tasks running during the block keep normal behaviour.
:func:`to_code` writes the explicitly set fields back as source.

This module is the public home of these names (a permanent re-export); the code lives in the
:mod:`openhcs_plugins.config` package, one job per module: :mod:`~openhcs_plugins.config.lazy_types`
(:func:`make_lazy`, discovery, the explicitly-set record), :mod:`~openhcs_plugins.config.resolution`
(:func:`resolve`, :func:`config_context`), :mod:`~openhcs_plugins.config.user_code`
(:func:`patch_lazy_constructors`, :func:`exec_user_code`) and
:mod:`~openhcs_plugins.config.codegen` (:func:`to_code`).
"""

from __future__ import annotations

from openhcs_plugins.config.codegen import to_code
from openhcs_plugins.config.lazy_types import (
    discover_lazy_dataclass_types,
    explicitly_set_fields,
    has_lazy_resolution,
    make_lazy,
)
from openhcs_plugins.config.resolution import (
    LazyResolutionError,
    config_context,
    resolve,
    to_base_config,
)
from openhcs_plugins.config.user_code import (
    UserCodeError,
    exec_user_code,
    patch_lazy_constructors,
)

__all__ = [
    "LazyResolutionError",
    "UserCodeError",
    "config_context",
    "discover_lazy_dataclass_types",
    "exec_user_code",
    "explicitly_set_fields",
    "has_lazy_resolution",
    "make_lazy",
    "patch_lazy_constructors",
    "resolve",
    "to_base_config",
    "to_code",
]
