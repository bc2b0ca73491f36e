"""Lazy twins: :func:`make_lazy` builds them; discovery and the explicitly-set record read them.

A twin subclasses its concrete dataclass, declares every field again with default ``None`` and
installs the methods (``__init__``, ``__getattribute__``, ``==``, ``hash``, ``repr``) that make
``None`` mean "inherit" (see :mod:`openhcs_plugins.lazy`).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import types
import typing
import weakref
from typing import Any

from openhcs_plugins.config._lazy_state import (
    _ALL_LAZY,
    _EXPLICIT,
    _LOCK,
    _SERIAL,
    _TWINS,
    _info,
    _LazyInfo,
    _raw,
    _raw_mode,
    has_lazy_resolution,
)
from openhcs_plugins.config.resolution import _resolve_field, resolve

__all__ = [
    "discover_lazy_dataclass_types",
    "explicitly_set_fields",
    "has_lazy_resolution",
    "make_lazy",
]


def make_lazy(cls: type, *, name: str | None = None) -> type:
    """Return the lazy twin of the dataclass ``cls`` (created once, then cached).

    The twin subclasses ``cls`` (so ``isinstance(LazyX(), X)`` holds and methods, properties and
    ``__post_init__`` are inherited), is frozen when ``cls`` is, and declares every field of
    ``cls`` again with default ``None``; fields holding a nested dataclass take the nested lazy
    twin. Its ``__module__`` is ``cls.__module__``, its name ``name`` or ``"Lazy" + cls.__name__``:
    assign it to that name at module level so :func:`to_code` can import it.

    Constructor (inside and outside :func:`patch_lazy_constructors` alike): arguments are stored
    as given, every field left out is ``None``; positional arguments map to the fields in
    declaration order (as for the concrete dataclass); an unknown keyword or too many positional
    arguments raise :class:`TypeError` naming the class and its fields. Fields passed a non-None
    value are recorded (:func:`explicitly_set_fields`). ``__post_init__`` runs.

    Reading: a field whose stored value is ``None`` resolves (see the module docstring), except
    inside :func:`patch_lazy_constructors`. ``object.__getattribute__(obj, name)`` always
    gives the stored value. ``==``, ``hash`` (frozen twins) and ``repr`` use stored values.
    """
    if not isinstance(cls, type) or not dataclasses.is_dataclass(cls):
        raise TypeError(f"make_lazy() needs a dataclass type, got {cls!r}")
    caller = sys._getframe(1).f_globals.get("__name__", "")
    with _LOCK:
        return _make_lazy(cls, name, caller)


def _make_lazy(cls: type, name: str | None, caller: str) -> type:
    if cls in _ALL_LAZY:
        return cls
    ref = _TWINS.get(cls)
    existing = ref() if ref is not None else None
    if existing is not None:
        return existing
    name = name or f"Lazy{cls.__name__}"
    hints = _type_hints(cls)
    specs: list[tuple[str, Any, Any]] = []
    nested: dict[str, type] = {}
    defaults: dict[str, Any] = {}
    factories: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        hint = hints.get(f.name, Any)
        nested_base = _nested_dataclass(f, hint)
        if nested_base is not None:
            twin = _make_lazy(nested_base, None, caller)
            nested[f.name] = twin
            annotation: Any = twin | None
        else:
            annotation = _optional(hint)
        defaults[f.name] = f.default
        factories[f.name] = f.default_factory
        spec = dataclasses.field(
            default=None,
            init=f.init,
            repr=f.repr,
            compare=f.compare,
            metadata=f.metadata,
            kw_only=f.kw_only,  # type: ignore[arg-type]
        )
        specs.append((f.name, annotation, spec))

    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    namespace = {
        "__module__": cls.__module__,
        "__qualname__": name,
        "__doc__": (
            f"Lazy twin of :class:`{cls.__module__}.{cls.__qualname__}`: every field defaults to "
            "None, which means 'inherit from the enclosing config_context, then the class "
            "default'."
        ),
    }
    lazy = dataclasses.make_dataclass(
        name,
        specs,
        bases=(cls,),
        namespace=namespace,
        frozen=params.frozen,
        eq=False,
        repr=False,
    )
    lazy.__module__ = cls.__module__  # make_dataclass (3.12+) would set the caller's module
    field_set = frozenset(defaults)
    info = _LazyInfo(
        base=cls,
        fields=field_set,
        nested=nested,
        defaults=defaults,
        default_factories=factories,
        providers={
            name: tuple(
                c
                for c in cls.__mro__
                if dataclasses.is_dataclass(c) and name in c.__dataclass_fields__
            )
            for name in defaults
        },
        serial=next(_SERIAL),
        modules=frozenset({cls.__module__, caller}),
    )
    _install_methods(lazy, cls, info, params.frozen)
    _TWINS[cls] = weakref.ref(lazy)
    _ALL_LAZY.add(lazy)
    return lazy


def _type_hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls)
    except Exception:  # unresolvable forward references (e.g. a class defined in a function)
        return {f.name: f.type for f in dataclasses.fields(cls) if not isinstance(f.type, str)}


def _optional(hint: Any) -> Any:
    if hint is Any:
        return Any
    try:
        return hint | None
    except TypeError:
        return Any


def _nested_dataclass(f: dataclasses.Field[Any], hint: Any) -> type | None:
    """The dataclass type a field holds (``X``, ``X | None``), else None."""
    candidates: list[Any] = [hint]
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        candidates = args if len(args) == 1 else []
    for candidate in candidates:
        if isinstance(candidate, type) and dataclasses.is_dataclass(candidate):
            return candidate
    # String annotations that could not be resolved: judge by the default.
    factory = f.default_factory
    if isinstance(factory, type) and dataclasses.is_dataclass(factory):
        return factory
    if dataclasses.is_dataclass(f.default) and not isinstance(f.default, type):
        return type(f.default)
    return None


def _install_methods(lazy: type, base: type, info: _LazyInfo, frozen: bool) -> None:
    generated_init = lazy.__init__
    lazy_fields = [f for f in dataclasses.fields(lazy)]
    positional = tuple(f.name for f in lazy_fields if f.init and not f.kw_only)
    init_names = frozenset(f.name for f in lazy_fields if f.init)
    repr_names = tuple(f.name for f in lazy_fields if f.repr)
    eq_names = tuple(f.name for f in lazy_fields if f.compare)
    field_set = info.fields
    cls_name = lazy.__name__

    @functools.wraps(generated_init)
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if len(args) > len(positional):
            raise TypeError(
                f"{cls_name}() takes at most {len(positional)} positional arguments "
                f"({', '.join(positional) or 'none'}), {len(args)} given"
            )
        unknown = sorted(set(kwargs) - init_names)
        if unknown:
            raise TypeError(
                f"{cls_name}() got an unexpected keyword argument {unknown[0]!r}; "
                f"its fields are: {', '.join(sorted(init_names))}"
            )
        given = dict(zip(positional, args, strict=False))
        twice = sorted(set(given) & set(kwargs))
        if twice:
            raise TypeError(f"{cls_name}() got multiple values for argument {twice[0]!r}")
        given.update(kwargs)
        object.__setattr__(self, _EXPLICIT, None)
        generated_init(self, *args, **kwargs)
        explicit = frozenset(k for k, v in given.items() if v is not None)
        object.__setattr__(self, _EXPLICIT, explicit)

    def __getattribute__(self: Any, attr: str) -> Any:
        value = object.__getattribute__(self, attr)
        if value is None and attr in field_set and not _raw_mode(lazy):
            return _resolve_field(self, attr, info)
        return value

    def __eq__(self: Any, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(_raw(self, n) == _raw(other, n) for n in eq_names)

    def __hash__(self: Any) -> int:
        return hash((type(self), *(_raw(self, n) for n in eq_names)))

    def __repr__(self: Any) -> str:
        shown = (f"{n}={_raw(self, n)!r}" for n in repr_names if _raw(self, n) is not None)
        return f"{type(self).__qualname__}({', '.join(shown)})"

    __init__.__qualname__ = f"{cls_name}.__init__"
    lazy.__init__ = __init__  # type: ignore[misc]
    lazy.__getattribute__ = __getattribute__  # type: ignore[method-assign]
    lazy.__eq__ = __eq__  # type: ignore[method-assign]
    lazy.__hash__ = __hash__ if frozen else None  # type: ignore[assignment]
    lazy.__repr__ = __repr__  # type: ignore[method-assign]
    lazy.__lazy_info__ = info  # type: ignore[attr-defined]

    if not frozen:
        parent_setattr = base.__setattr__

        def __setattr__(self: Any, attr: str, value: Any) -> None:
            parent_setattr(self, attr, value)
            if attr in field_set:
                explicit = self.__dict__.get(_EXPLICIT)
                if explicit is not None:  # None while __init__/__post_init__ run
                    changed = explicit | {attr} if value is not None else explicit - {attr}
                    object.__setattr__(self, _EXPLICIT, changed)

        lazy.__setattr__ = __setattr__  # type: ignore[method-assign]

    if "to_base_config" not in dir(base):

        def to_base_config(self: Any) -> Any:
            """A concrete copy of the base dataclass with every field resolved."""
            return resolve(self)

        lazy.to_base_config = to_base_config  # type: ignore[attr-defined]


def discover_lazy_dataclass_types(module: types.ModuleType | str | None = None) -> list[type]:
    """Lazy types, in creation order, found without any hand-kept list.

    With ``module`` (a module or its name): the lazy types that belong to it, that is, whose
    concrete class is defined there or that were created by a ``make_lazy`` call made there.
    With ``None``: every lazy type alive in the process, whoever made it (plugins included).
    """
    with _LOCK:
        found = list(_ALL_LAZY)
    if module is not None:
        name = module if isinstance(module, str) else module.__name__
        found = [t for t in found if name in _info(t).modules]
    return sorted(found, key=lambda t: _info(t).serial)


def explicitly_set_fields(obj: Any) -> frozenset[str]:
    """Names of the fields the constructor was given a non-None value for.

    Later assignments (non-frozen twins) count; assignments made by ``__post_init__`` do not.
    For a concrete dataclass instance every ``init`` field counts. An instance whose record is
    missing (a subclass with its own ``__init__``) falls back to its non-None fields.
    """
    if has_lazy_resolution(obj) and not isinstance(obj, type):
        explicit = vars(obj).get(_EXPLICIT)
        if explicit is not None:
            return explicit  # type: ignore[no-any-return]
        return frozenset(n for n in _info(obj).fields if _raw(obj, n) is not None)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return frozenset(f.name for f in dataclasses.fields(obj) if f.init)
    raise TypeError(f"explicitly_set_fields() needs a dataclass instance, got {obj!r}")
