"""The memory-type decorators: ``@numpy``, ``@cupy``, ``@torch``, ``@tensorflow``, ``@jax``,
``@pyclesperanto`` and ``@memory_types(input, output)``.

This module owns the wrapper a decorated function runs in: it keeps the function's module, name,
docstring and signature (so OpenHCS can import it by module and name), adds the contract's
injected parameter (``slice_by_slice``, applied plane by plane here when the function does not
take it) and converts the ``image`` argument and the result only when their type differs from
the declared one. It imports ``types`` (the contract), ``detect`` and ``convert`` of this
package, none of which imports numpy or a framework; conversion imports them on first use.
"""

from __future__ import annotations

import functools
import inspect
import sys
import weakref
from collections.abc import Callable
from typing import Any, TypeVar, overload

from openhcs_plugins.memory.convert import convert_memory, stack_planes, take_plane
from openhcs_plugins.memory.detect import detect_memory_type, memory_type_of_type
from openhcs_plugins.memory.types import (
    CONTRACT_ATTRIBUTE,
    DECORATED_MARKER,
    OPENHCS_CONTRACT_ATTRIBUTE,
    OPENHCS_CONTRACT_MODULE,
    MemoryType,
    coerce_contract,
    coerce_memory_type,
    inject_parameters,
)

__all__ = [
    "DECORATORS",
    "cupy",
    "is_memory_decorated",
    "jax",
    "memory_types",
    "numpy",
    "pyclesperanto",
    "tensorflow",
    "torch",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Where the decorators say they live (their public home, as pickle and OpenHCS resolve them).
_PUBLIC_MODULE = "openhcs_plugins.memory"


def _split_result(result: Any) -> tuple[Any, tuple[Any, ...] | None]:
    """``(image, metadata...)`` returns keep everything after the image untouched."""
    if type(result) is tuple and result:
        return result[0], result[1:]
    return result, None


def _apply_per_plane(func: Callable[..., Any], image: Any, args: tuple, kwargs: dict) -> Any:
    """Run ``func`` on each plane along axis 0 and restack; metadata becomes a list per plane."""
    mtype = detect_memory_type(image)
    images: list[Any] = []
    extras: list[tuple[Any, ...]] = []
    for index in range(int(image.shape[0])):
        plane = take_plane(image, index)
        plane_image, plane_extra = _split_result(func(plane, *args, **kwargs))
        images.append(plane_image)
        if plane_extra is not None:
            extras.append(plane_extra)
    stacked = stack_planes(images, detect_memory_type(images[0]) if images else mtype)
    if not extras:
        return stacked
    # One list per extra value, in plane order: ``(stack, [meta_plane0, meta_plane1, ...])``.
    return (stacked, *[list(column) for column in zip(*extras, strict=True)])


def _decorate(
    func: F,
    input_type: MemoryType | str,
    output_type: MemoryType | str | None,
    contract: str | None,
    slice_by_slice_default: bool = False,
) -> F:
    if not callable(func):
        raise TypeError(f"memory-type decorators apply to functions, not {type(func).__name__}")
    in_mt = coerce_memory_type(input_type, "input_type")
    out_mt = coerce_memory_type(output_type if output_type is not None else in_mt, "output_type")
    contract_name = coerce_contract(contract)
    signature = inspect.signature(func)
    takes_slice_by_slice = "slice_by_slice" in signature.parameters

    type_cache: dict[type, MemoryType | None] = {}

    def _kind(value: Any) -> MemoryType | None:
        kind = type_cache.get(type(value), False)
        if kind is False:
            kind = type_cache[type(value)] = memory_type_of_type(type(value))
        return kind  # type: ignore[return-value]

    @functools.wraps(func)
    def wrapper(*args: Any, slice_by_slice: bool = slice_by_slice_default, **kwargs: Any) -> Any:
        try:
            return _body(args, slice_by_slice, kwargs)
        except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:
            # plugin code may not stop the host; a real Ctrl-C still does (_usercode)
            from openhcs_plugins._usercode import reraise

            where = getattr(getattr(func, "__code__", None), "co_filename", None)
            reraise(getattr(func, "__qualname__", repr(func)), exc, where)

    def _body(args: tuple[Any, ...], slice_by_slice: bool, kwargs: dict[str, Any]) -> Any:
        if args:
            image = args[0]
            kind = _kind(image)
            if kind is not None and kind is not in_mt:
                args = (convert_memory(image, in_mt), *args[1:])
        elif "image" in kwargs:
            kind = _kind(kwargs["image"])
            if kind is not None and kind is not in_mt:
                kwargs["image"] = convert_memory(kwargs["image"], in_mt)
        if takes_slice_by_slice:
            result = func(*args, slice_by_slice=slice_by_slice, **kwargs)
        elif slice_by_slice:
            if not args:
                args = (kwargs.pop("image"),)
            result = _apply_per_plane(func, args[0], args[1:], kwargs)
        else:
            result = func(*args, **kwargs)
        # Hot path: the declared output type is what came back (one dict lookup, no conversion).
        if type(result) is tuple:
            head = result[0] if result else None
            head_kind = _kind(head)
            if head_kind is not None and head_kind is not out_mt:
                return (convert_memory(head, out_mt), *result[1:])
            return result
        result_kind = _kind(result)
        if result_kind is not None and result_kind is not out_mt:
            return convert_memory(result, out_mt)
        return result

    if not takes_slice_by_slice:
        wrapper.__signature__ = inject_parameters(  # type: ignore[attr-defined]
            signature, bool(slice_by_slice_default)
        )
    wrapper.input_memory_type = in_mt.value  # type: ignore[attr-defined]
    wrapper.output_memory_type = out_mt.value  # type: ignore[attr-defined]
    wrapper.backend = in_mt.value  # type: ignore[attr-defined]
    setattr(wrapper, CONTRACT_ATTRIBUTE, contract_name)
    setattr(wrapper, DECORATED_MARKER, True)
    set_openhcs_contract(wrapper)
    return wrapper  # type: ignore[return-value]


#: Decorated functions made before OpenHCS's contract module was imported in this process.
_WAITING: weakref.WeakSet[Callable[..., Any]] = weakref.WeakSet()


def set_openhcs_contract(func: Callable[..., Any]) -> None:
    """Set OpenHCS's contract attribute (its enum member) on a decorated function, the way
    OpenHCS reads it, when OpenHCS's contract module is imported in this process; OpenHCS is
    never imported for it. A function made earlier waits (weakly) for
    :func:`set_waiting_openhcs_contracts`, which the OpenHCS host hook calls."""
    module = sys.modules.get(OPENHCS_CONTRACT_MODULE)
    enum = getattr(module, "ProcessingContract", None) if module is not None else None
    if enum is None:
        _WAITING.add(func)
        return
    try:
        member = enum[getattr(func, CONTRACT_ATTRIBUTE, "FLEXIBLE")]
    except KeyError:
        return
    vars(func)[OPENHCS_CONTRACT_ATTRIBUTE] = member


def set_waiting_openhcs_contracts() -> int:
    """:func:`set_openhcs_contract` for the functions made before OpenHCS was imported."""
    waiting = list(_WAITING)
    _WAITING.clear()
    for func in waiting:
        set_openhcs_contract(func)
    return len(waiting)


def memory_types(
    input_type: MemoryType | str,
    output_type: MemoryType | str | None = None,
    *,
    contract: str | None = None,
) -> Callable[[F], F]:
    """Declare input and output memory types explicitly.

    >>> @memory_types("torch", "numpy")
    ... def f(image):
    ...     return image
    >>> (f.input_memory_type, f.output_memory_type)
    ('torch', 'numpy')
    """

    def decorator(func: F) -> F:
        return _decorate(func, input_type, output_type, contract)

    return decorator


def _make_decorator(memory_type: MemoryType) -> Callable[..., Any]:
    @overload
    def decorator(func: F) -> F: ...

    @overload
    def decorator(
        func: None = None,
        *,
        input_type: MemoryType | str = ...,
        output_type: MemoryType | str | None = ...,
        oom_recovery: bool = ...,
        contract: str | None = ...,
        slice_by_slice_default: bool = ...,
    ) -> Callable[[F], F]: ...

    def decorator(
        func: Callable[..., Any] | None = None,
        *,
        input_type: MemoryType | str = memory_type,
        output_type: MemoryType | str | None = None,
        oom_recovery: bool = True,
        contract: str | None = None,
        slice_by_slice_default: bool = False,
    ) -> Any:
        # ``oom_recovery`` is accepted for OpenHCS compatibility; the host does the recovery.
        # ``slice_by_slice_default`` (OpenHCS's): the default of the injected slice_by_slice.
        del oom_recovery
        out = output_type if output_type is not None else input_type
        by_plane = bool(slice_by_slice_default)
        if func is None:
            return lambda f: _decorate(f, input_type, out, contract, by_plane)
        return _decorate(func, input_type, out, contract, by_plane)

    decorator.__name__ = decorator.__qualname__ = memory_type.value
    decorator.__module__ = _PUBLIC_MODULE
    decorator.__doc__ = (
        f"Declare a function that works on {memory_type.value} arrays.\n\n"
        f"Use bare (``@{memory_type.value}``) or with arguments "
        f'(``@{memory_type.value}(output_type="numpy", contract="PURE_2D")``). The ``image`` '
        "argument is converted to this type when it is not already; the result is converted "
        "to ``output_type``."
    )
    decorator.memory_type = memory_type.value  # type: ignore[attr-defined]
    return decorator


numpy = _make_decorator(MemoryType.NUMPY)
cupy = _make_decorator(MemoryType.CUPY)
torch = _make_decorator(MemoryType.TORCH)
tensorflow = _make_decorator(MemoryType.TENSORFLOW)
jax = _make_decorator(MemoryType.JAX)
pyclesperanto = _make_decorator(MemoryType.PYCLESPERANTO)

#: decorator name -> decorator, for code that resolves decorators by name.
DECORATORS: dict[str, Callable[..., Any]] = {
    "numpy": numpy,
    "cupy": cupy,
    "torch": torch,
    "tensorflow": tensorflow,
    "jax": jax,
    "pyclesperanto": pyclesperanto,
}


def is_memory_decorated(obj: object) -> bool:
    """True for a callable carrying the attributes a memory-type decorator sets."""
    return (
        callable(obj)
        and isinstance(getattr(obj, "input_memory_type", None), str)
        and (isinstance(getattr(obj, "output_memory_type", None), str))
    )
