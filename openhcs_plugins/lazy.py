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
"""

from __future__ import annotations

import builtins
import contextlib
import contextvars
import dataclasses
import enum
import functools
import itertools
import linecache
import math
import pathlib
import sys
import threading
import types
import typing
import weakref
from collections import deque
from collections.abc import Iterable, Iterator
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsError, source_line, traceback_line

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

# Instance attribute holding the frozenset of explicitly set field names (None while __init__
# runs, so assignments made by __post_init__ are not counted as the user's).
_EXPLICIT = "_lazy_explicit_fields_"


class _AllTypes:
    """Marker value of ``_PATCH``: every lazy type, including ones created inside the block."""

    def __repr__(self) -> str:
        return "<all lazy types>"


_ALL = _AllTypes()

#: None: normal behaviour; _ALL or a frozenset of lazy types: no resolution for those types.
_PATCH: contextvars.ContextVar[_AllTypes | frozenset[type] | None] = contextvars.ContextVar(
    "openhcs_plugins_lazy_patch", default=None
)
#: The config_context stack, outermost first.
_CONTEXT: contextvars.ContextVar[tuple[Any, ...]] = contextvars.ContextVar(
    "openhcs_plugins_lazy_context", default=()
)

_LOCK = threading.RLock()
#: concrete class -> weak reference to its lazy twin (one twin per class).
_TWINS: weakref.WeakKeyDictionary[type, weakref.ref[type]] = weakref.WeakKeyDictionary()
#: every lazy type created in this process, by anyone (weak: a discarded type drops out).
_ALL_LAZY: weakref.WeakSet[type] = weakref.WeakSet()
_SERIAL = itertools.count()


class LazyResolutionError(OpenHCSPluginsError, LookupError):
    """A field has no value: not set, not in any :func:`config_context`, and no class default."""


class UserCodeError(OpenHCSPluginsError):
    """User (config) code failed to compile or run; names the file and line.

    Attributes: ``message``, ``filename``, ``line_number`` (0 when unknown), ``code_snippet``
    (the offending source line) and ``original`` (the underlying exception).
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str,
        line_number: int = 0,
        code_snippet: str = "",
        original: BaseException | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line_number = line_number
        self.code_snippet = code_snippet
        self.original = original
        super().__init__(str(self), subject=filename, path=filename, line=line_number)

    def __str__(self) -> str:
        where = f"{self.filename}:{self.line_number}" if self.line_number else self.filename
        text = f"{where}: {self.message}"
        if self.code_snippet:
            text += f"\n    {self.code_snippet}"
        return text


@dataclasses.dataclass(frozen=True)
class _LazyInfo:
    """What the lazy machinery knows about one lazy type (stored as ``__lazy_info__``)."""

    base: type
    fields: frozenset[str]
    #: field name -> lazy twin type, for fields holding a nested dataclass.
    nested: dict[str, type]
    #: field name -> class default of ``base`` (dataclasses.MISSING when it has none).
    defaults: dict[str, Any]
    default_factories: dict[str, Any]
    #: field name -> the dataclasses of base's MRO that declare it, most specific first: a
    #: context object of any of them provides the field.
    providers: dict[str, tuple[type, ...]]
    serial: int
    #: modules the type belongs to: its base class's module and the module that called make_lazy.
    modules: frozenset[str]


# --------------------------------------------------------------------------------------------
# make_lazy


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


def _raw(obj: Any, name: str) -> Any:
    return object.__getattribute__(obj, name)


def _raw_mode(lazy: type) -> bool:
    mode = _PATCH.get()
    if mode is None:
        return False
    return mode is _ALL or lazy in mode  # type: ignore[operator]


def _info(obj_or_type: Any) -> _LazyInfo:
    cls = obj_or_type if isinstance(obj_or_type, type) else type(obj_or_type)
    return cls.__lazy_info__  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------------
# resolution


def _resolve_field(obj: Any, name: str, info: _LazyInfo) -> Any:
    twin = info.nested.get(name)
    if twin is not None and info.defaults[name] is not None:
        # A fresh, empty twin: each of its fields resolves on its own, by type.
        return twin()
    # An optional nested config (``foo: Foo | None = None``) is inherited whole, or stays None.
    for ctx in reversed(_CONTEXT.get()):
        for provider_type in info.providers[name]:
            for provider in _providers(ctx, provider_type):
                try:
                    value = object.__getattribute__(provider, name)
                except AttributeError:
                    continue
                if value is not None:
                    return value
    default = info.defaults[name]
    if default is not dataclasses.MISSING:
        return default
    factory = info.default_factories[name]
    if factory is not dataclasses.MISSING:
        return factory()
    return None


def _providers(root: Any, base: type) -> Iterator[Any]:
    """``root`` and the dataclasses nested in it that are instances of ``base``, breadth first."""
    queue = deque([root])
    seen: set[int] = set()
    while queue:
        item = queue.popleft()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, base):
            yield item
        for name in _field_names(type(item)):
            try:
                child = object.__getattribute__(item, name)
            except AttributeError:
                continue
            if hasattr(type(child), "__dataclass_fields__") and not isinstance(child, type):
                queue.append(child)


_FIELD_NAMES: weakref.WeakKeyDictionary[type, tuple[str, ...]] = weakref.WeakKeyDictionary()


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        _FIELD_NAMES[cls] = names
    return names


def _resolved(obj: Any, name: str) -> Any:
    """A field's value, resolved even inside patch_lazy_constructors."""
    value = object.__getattribute__(obj, name)
    if value is None:
        return _resolve_field(obj, name, _info(obj))
    return value


def resolve(obj: Any) -> Any:
    """A concrete instance of the base dataclass with every field resolved (recursively).

    Resolution uses the :func:`config_context` stack active now, and happens even inside
    :func:`patch_lazy_constructors` (asking for it is explicit). A concrete dataclass instance is
    returned unchanged. Raises :class:`LazyResolutionError` for a field that resolves to ``None``
    although the base class has no default for it.
    """
    if not has_lazy_resolution(obj) or isinstance(obj, type):
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return obj
        raise TypeError(f"resolve() needs a lazy dataclass instance, got {obj!r}")
    info = _info(obj)
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(info.base):
        if not f.init:
            continue
        value = _resolved(obj, f.name)
        if has_lazy_resolution(value) and not isinstance(value, type):
            value = resolve(value)
        if (
            value is None
            and f.default is dataclasses.MISSING
            and f.default_factory is dataclasses.MISSING
        ):
            raise LazyResolutionError(
                f"{type(obj).__qualname__}.{f.name} has no value: it is not set, no "
                f"config_context provides a {info.base.__qualname__}, and "
                f"{info.base.__qualname__}.{f.name} has no default; set it or enter a "
                "config_context that does",
                subject=f"{type(obj).__qualname__}.{f.name}",
            )
        kwargs[f.name] = value
    return info.base(**kwargs)


#: Alias of :func:`resolve` under the name OpenHCS uses.
to_base_config = resolve


@contextlib.contextmanager
def config_context(obj: Any) -> Iterator[Any]:
    """Push ``obj`` (a dataclass instance, lazy or concrete) onto the resolution stack.

    Inside the block, a lazy ``X`` reading a ``None`` field looks for an ``X`` in the innermost
    context first (the object itself or one nested in its fields), then outward. The stack is a
    :class:`contextvars.ContextVar`: each thread and asyncio task has its own.
    """
    if not dataclasses.is_dataclass(obj) or isinstance(obj, type):
        raise TypeError(f"config_context() needs a dataclass instance, got {obj!r}")
    token = _CONTEXT.set((*_CONTEXT.get(), obj))
    try:
        yield obj
    finally:
        _CONTEXT.reset(token)


# --------------------------------------------------------------------------------------------
# introspection and discovery


def has_lazy_resolution(x: Any) -> bool:
    """True for a lazy twin type made by :func:`make_lazy` and for its instances."""
    cls = x if isinstance(x, type) else type(x)
    return cls in _ALL_LAZY


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


# --------------------------------------------------------------------------------------------
# patching and user code


def _as_lazy_type(t: Any) -> type:
    if isinstance(t, type) and has_lazy_resolution(t):
        return t
    if isinstance(t, type) and dataclasses.is_dataclass(t):
        return make_lazy(t)
    raise TypeError(f"patch_lazy_constructors(types=...) takes dataclass types, got {t!r}")


def _with_nested(lazy_types: Iterable[type]) -> frozenset[type]:
    result: set[type] = set()
    todo = list(lazy_types)
    while todo:
        t = todo.pop()
        if t not in result:
            result.add(t)
            todo.extend(_info(t).nested.values())
    return frozenset(result)


@contextlib.contextmanager
def patch_lazy_constructors(types: Iterable[type] | None = None) -> Iterator[None]:
    """Inside the block, lazy dataclasses keep ``None`` as ``None``: nothing resolves.

    Constructing a lazy type stores only the arguments given, every other field stays ``None``,
    ``__post_init__`` runs and sees the stored values, explicitly set fields are recorded, and
    reading a field gives its stored value. ``types`` limits this to some lazy types (a concrete
    dataclass stands for its twin; nested twins are included); ``None`` means every lazy type,
    including types created inside the block.

    Copy a lazy config with ``dataclasses.replace`` inside the block: ``replace`` reads every
    field, so outside it the inherited ones resolve and become set in the copy.

    Nothing is swapped on any class: the block sets a :class:`contextvars.ContextVar`, reset on
    exit even when the block raises. Only code running in this context sees it: another thread
    (which starts with its own context) or an asyncio task created before the block keeps normal
    behaviour; a task created inside the block inherits it. Blocks nest (the inner one adds its
    types to the outer one's).
    """
    current = _PATCH.get()
    new: _AllTypes | frozenset[type]
    if types is None or current is _ALL:
        new = _ALL
    else:
        chosen = _with_nested(_as_lazy_type(t) for t in types)
        new = chosen if current is None else current | chosen  # type: ignore[operator]
    token = _PATCH.set(new)
    try:
        yield
    finally:
        _PATCH.reset(token)


def exec_user_code(
    code: str | bytes,
    namespace: dict[str, Any] | None = None,
    *,
    filename: str = "<user code>",
    types: Iterable[type] | None = None,
) -> dict[str, Any]:
    """Run trusted config code under :func:`patch_lazy_constructors`; return its namespace.

    The one helper every code editor and the settings file use: lazy configs built by the code
    keep ``None`` for what the code leaves out. ``namespace`` is used (and filled) when given.
    A syntax error or an exception raised by the code becomes :class:`UserCodeError` naming
    ``filename``, the line and the source text of that line (the original exception is
    ``__cause__``). This runs code with full rights: use it for configuration the user owns,
    never for plugin functions (those go through :mod:`openhcs_plugins.validation`).

    >>> ns = exec_user_code("x = 1 + 1")
    >>> ns["x"]
    2
    """
    text = code.decode("utf-8") if isinstance(code, bytes) else code
    ns: dict[str, Any] = {} if namespace is None else namespace
    ns.setdefault("__name__", "__openhcs_user_code__")
    ns.setdefault("__builtins__", builtins)
    try:
        compiled = compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 0
        raise UserCodeError(
            f"syntax error: {exc.msg}",
            filename=filename,
            line_number=line,
            code_snippet=(exc.text or "").strip() or source_line(text, line),
            original=exc,
        ) from exc
    if filename.startswith("<"):
        # Lets tracebacks of functions defined in the code show their source lines.
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    with patch_lazy_constructors(types):
        try:
            exec(compiled, ns)
        except (Exception, SystemExit) as exc:
            line = traceback_line(exc, filename)
            raise UserCodeError(
                f"{type(exc).__name__}: {exc}",
                filename=filename,
                line_number=line,
                code_snippet=source_line(text, line),
                original=exc,
            ) from exc
    return ns


# --------------------------------------------------------------------------------------------
# code generation

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
