"""Code generation: :func:`to_code` writes a config back as Python source.

Only explicitly set fields are written, so what was left to inherit keeps inheriting when the
source runs again (:func:`~openhcs_plugins.config.user_code.exec_user_code`).
"""

from __future__ import annotations

import dataclasses
import enum
import itertools
import math
import pathlib
import sys
from typing import Any

from openhcs_plugins.config._lazy_state import _info, _raw, has_lazy_resolution
from openhcs_plugins.config.lazy_types import explicitly_set_fields, make_lazy

__all__ = ["to_code"]

_LINE_WIDTH = 88


class _Imports:
    def __init__(self) -> None:
        self._names: dict[tuple[str, str], str] = {}
        self._used: set[str] = set()

    def name_for(self, cls: Any, module: str | None = None) -> str | None:
        """Expression naming ``cls`` (its import recorded), or None when it is not importable.

        ``module`` overrides ``cls.__module__`` (pathlib's classes live in ``pathlib._local``
        on Python 3.13 but are imported from ``pathlib``).
        """
        module, qualname = module or cls.__module__, cls.__qualname__
        if "<locals>" in qualname:
            return None
        if module == "builtins":
            return qualname
        target: Any = sys.modules.get(module)
        for part in qualname.split("."):
            target = getattr(target, part, None)
        if target is not cls:
            return None
        top = qualname.split(".")[0]
        key = (module, top)
        if key not in self._names:
            local = top
            for n in itertools.count(2):
                if local not in self._used:
                    break
                local = f"{top}_{n}"
            self._names[key] = local
            self._used.add(local)
        return self._names[key] + qualname[len(top) :]

    def render(self) -> str:
        by_module: dict[str, list[str]] = {}
        for (module, top), local in self._names.items():
            by_module.setdefault(module, []).append(top if top == local else f"{top} as {local}")
        return "\n".join(
            f"from {module} import {', '.join(sorted(names))}"
            for module, names in sorted(by_module.items())
        )


def _layout(head: str, parts: list[str], tail: str, indent: int) -> str:
    inline = head + ", ".join(parts) + tail
    if not parts or ("\n" not in inline and indent + len(inline) <= _LINE_WIDTH):
        return inline
    pad = " " * (indent + 4)
    body = "".join(f"{pad}{p},\n" for p in parts)
    return f"{head}\n{body}{' ' * indent}{tail}"


def _render(value: Any, imports: _Imports, indent: int, path: str) -> str:
    if isinstance(value, enum.Enum):  # before str/int: str and int enums are both
        cls_name = imports.name_for(type(value))
        if cls_name is None or value.name is None:
            raise TypeError(
                f"to_code cannot write {path} = {value!r}: the enum must be importable by its "
                "module and name, and the value a single member"
            )
        return f"{cls_name}.{value.name}"
    if value is None or isinstance(value, (bool, int, str, bytes)):
        return repr(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else f"float({str(value)!r})"
    if isinstance(value, pathlib.PurePath):
        path_cls = pathlib.Path if isinstance(value, pathlib.Path) else type(value)
        public = getattr(pathlib, path_cls.__name__, None) is path_cls
        cls_name = imports.name_for(path_cls, "pathlib" if public else None)
        return f"{cls_name}({str(value)!r})"
    if isinstance(value, (tuple, list, set, frozenset)):
        parts = [_render(v, imports, indent + 4, f"{path}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, tuple):
            if len(parts) == 1:
                return f"({parts[0]},)"
            return _layout("(", parts, ")", indent)
        if isinstance(value, list):
            return _layout("[", parts, "]", indent)
        if not parts:
            return "set()" if isinstance(value, set) else "frozenset()"
        text = _layout("{", sorted(parts), "}", indent)
        return text if isinstance(value, set) else f"frozenset({text})"
    if isinstance(value, dict):
        parts = [
            f"{_render(k, imports, indent + 4, path)}: "
            f"{_render(v, imports, indent + 4, f'{path}[{k!r}]')}"
            for k, v in value.items()
        ]
        return _layout("{", parts, "}", indent)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _render_dataclass(value, imports, indent, path)
    raise TypeError(
        f"to_code cannot write {path} = {value!r} ({type(value).__qualname__}); it writes None, "
        "bool, int, float, str, bytes, enums, paths, tuples, lists, sets, dicts and dataclasses"
    )


def _render_dataclass(obj: Any, imports: _Imports, indent: int, path: str) -> str:
    cls = type(obj)
    head = imports.name_for(cls)
    lazy = has_lazy_resolution(obj)
    if head is None and lazy:
        # A twin not bound to its name in a module: make_lazy(Base) gives the same type back.
        base_name = imports.name_for(_info(obj).base)
        if base_name is not None:
            head = f"{imports.name_for(make_lazy)}({base_name})"
    if head is None:
        raise TypeError(
            f"to_code cannot write {path}: {cls.__qualname__} cannot be imported as "
            f"{cls.__module__}.{cls.__qualname__}; define (or assign) it at module level"
        )
    explicit = explicitly_set_fields(obj)
    parts = []
    for f in dataclasses.fields(obj):
        if not f.init or f.name not in explicit:
            continue
        value = _raw(obj, f.name)
        parts.append(f"{f.name}={_render(value, imports, indent + 4, f'{path}.{f.name}')}")
    return _layout(f"{head}(", parts, ")", indent)


def to_code(obj: Any, name: str = "config") -> str:
    """Python source that rebuilds ``obj`` as ``name = ...``, imports included.

    Only explicitly set fields are written (:func:`explicitly_set_fields`); nested configs become
    nested constructor calls and enums ``Enum.MEMBER``. A field left unset stays unset, so
    ``exec_user_code(to_code(cfg))["config"] == cfg`` and ``None`` stays ``None``. For a concrete
    dataclass every ``init`` field is written. Raises :class:`TypeError` for a value it cannot
    write (naming the field) and for a class that cannot be imported by its module and name.
    """
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"to_code() needs a dataclass instance, got {obj!r}")
    if not name.isidentifier():
        raise ValueError(f"to_code(name=...) must be a Python identifier, got {name!r}")
    imports = _Imports()
    expression = _render_dataclass(obj, imports, 0, name)
    return f"{imports.render()}\n\n{name} = {expression}\n"
