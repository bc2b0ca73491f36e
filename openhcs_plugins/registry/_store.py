"""The function registry's store: thread-safe, keyed ``"namespace:name"``, lazy entries.

Entries are registered through the adapter (:mod:`openhcs_plugins.registry.adapter`); this
module holds the store itself and imports nothing from the adapter (the adapter imports it). An
entry's code loads on first use (:meth:`FunctionRegistry.get`), and runtime checks run then.
It may import ``candidate``, ``memory`` and (when an entry loads) ``validation``.
"""

from __future__ import annotations

import inspect
import threading
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.sources.candidate import (
    OPENHCS_NAMESPACE,
    ParameterInfo,
    Provenance,
    SourceKind,
    StaticFunction,
)

if TYPE_CHECKING:
    from openhcs_plugins.memory import MemoryType

__all__ = [
    "ContractError",
    "FunctionInfo",
    "FunctionLoadError",
    "FunctionRegistry",
    "Importer",
    "RegistryCollisionError",
    "RegistryEntry",
    "UnknownFunctionError",
    "check_result",
    "get_default_registry",
    "info_from_callable",
    "info_from_static",
    "make_key",
    "split_key",
]


def make_key(namespace: str, name: str) -> str:
    return f"{namespace}:{name}"


def split_key(key: str) -> tuple[str, str]:
    """``"ns:name"`` -> ``("ns", "name")``; a bare name means the ``openhcs`` namespace."""
    namespace, sep, name = key.partition(":")
    return (namespace, name) if sep else (OPENHCS_NAMESPACE, namespace)


@dataclass(frozen=True)
class FunctionInfo:
    """What a listing shows about a function; built without importing its code."""

    key: str
    name: str
    namespace: str
    input_memory_type: str
    output_memory_type: str
    parameters: tuple[ParameterInfo, ...]
    doc: str
    provenance: Provenance
    contract: str = "FLEXIBLE"
    #: ``static`` (read from source with ast) or ``runtime`` (read from the imported callable).
    signature_from: str = "static"
    #: declared artifact outputs in order: (name, materialization spec as JSON text or None).
    artifact_outputs: tuple[tuple[str, str | None], ...] = ()
    #: declared artifact inputs: parameters a host passes by keyword.
    artifact_inputs: tuple[str, ...] = ()
    #: other decorators of a package's function (outermost first), checked when it loads.
    outer_decorators: tuple[str, ...] = ()

    @property
    def output_names(self) -> tuple[str, ...]:
        """The declared artifact outputs' names."""
        return tuple(name for name, _spec in self.artifact_outputs)

    def outputs_summary(self) -> str:
        """``counts (csv), cells (json+csv)``: the outputs and the formats they are written in."""
        from openhcs_plugins.artifacts import listed_outputs

        return ", ".join(
            f"{o.name} ({'+'.join(o.spec.formats) if o.spec is not None else 'json'})"
            for o in listed_outputs(self.artifact_outputs)
        )

    @property
    def memory_types(self) -> tuple[str, str]:
        return (self.input_memory_type, self.output_memory_type)

    @property
    def source(self) -> SourceKind:
        return self.provenance.source

    @property
    def signature(self) -> str:
        """Signature summary without the decorator's injected parameters: ``(image, sigma=1.0)``."""
        return "(" + ", ".join(p.render() for p in self.parameters) + ")"

    @property
    def summary(self) -> str:
        """First line of the docstring."""
        return self.doc.strip().splitlines()[0] if self.doc.strip() else ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form used by ``openhcs-plugins list --json``."""
        import json

        prov = self.provenance
        return {
            "key": self.key,
            "namespace": self.namespace,
            "name": self.name,
            "input_memory_type": self.input_memory_type,
            "output_memory_type": self.output_memory_type,
            "contract": self.contract,
            "signature": self.signature,
            "parameters": [
                {"name": p.name, "kind": p.kind, "default": p.default, "annotation": p.annotation}
                for p in self.parameters
            ],
            "doc": self.summary,
            "source": prov.source.value,
            "file": prov.file,
            "line": prov.line,
            "distribution": prov.distribution,
            "version": prov.version,
            "origin": prov.origin,
            "entry_point": prov.entry_point,
            "sha256": prov.sha256,
            "signature_from": self.signature_from,
            "trust": prov.trust.value if prov.trust is not None else None,
            "runs": prov.runs,
            "artifact_outputs": [
                {"name": name, "spec": json.loads(spec) if spec is not None else None}
                for name, spec in self.artifact_outputs
            ],
            "artifact_inputs": list(self.artifact_inputs),
            "outer_decorators": list(self.outer_decorators),
        }


class RegistryCollisionError(OpenHCSPluginsError, ValueError):
    """A different function is already registered under the key (``subject``)."""

    def __init__(self, key: str, existing: Provenance, new: Provenance) -> None:
        self.key = key
        self.existing = existing
        self.new = new
        super().__init__(
            f"{key!r} is already registered from {existing.describe()}; "
            f"refusing the one from {new.describe()}. Rename one of the functions, or remove "
            f"the other first (openhcs-plugins remove / disable).",
            subject=key,
            path=new.file,
            line=new.line,
        )


class FunctionLoadError(OpenHCSPluginsError, RuntimeError):
    """The code of a registered function (``subject``: its key) could not be loaded, or failed
    its runtime checks."""

    def __init__(self, info: FunctionInfo, reason: str) -> None:
        self.info = info
        self.reason = reason
        where = info.provenance.file or info.provenance.describe()
        if info.provenance.line:
            where += f":{info.provenance.line}"
        super().__init__(
            f"cannot load {info.key} ({where}): {reason}",
            subject=info.key,
            path=info.provenance.file,
            line=info.provenance.line,
        )


class ContractError(OpenHCSPluginsError, ValueError):
    """A function (``subject``: its key) returned what its processing contract does not allow
    (a ``(Y, X)`` plane for a ``(C, Y, X)`` stack, or no array at all)."""

    def __init__(self, key: str, contract: str, message: str) -> None:
        self.key = key
        self.contract = contract
        #: what is wrong, without the key and contract.
        self.reason = message
        super().__init__(f"{key} (contract {contract}) {message}", subject=key)


class UnknownFunctionError(OpenHCSPluginsError, KeyError):
    """No function is registered under the key (``subject``); the message suggests close
    keys. A ``KeyError``, as a missing key always was."""


def check_result(key: str, contract: str, image: Any, result: Any) -> None:
    """Raise :class:`ContractError` unless ``result`` (or the image of an ``(image,
    metadata...)`` tuple) is an array with as many dimensions as ``image`` (``image``'s or one
    fewer for ``VOLUMETRIC_TO_SLICE``: a stack to one plane).

    Every way of running a function checks here: :meth:`FunctionRegistry.call` (the Python
    API and ``openhcs-plugins run``), the isolated runner and the ``openhcs_contract`` fixture.
    """
    head = result[0] if type(result) is tuple and result else result
    shape = getattr(head, "shape", None)
    if shape is None:
        raise ContractError(key, contract, f"returned {type(head).__name__}, not an array")
    got, given = tuple(int(n) for n in shape), tuple(int(n) for n in image.shape)
    wanted = [len(given)]
    if contract == "VOLUMETRIC_TO_SLICE":
        wanted.insert(0, len(given) - 1)
    if len(got) in wanted:
        return
    expected = " or ".join(map(str, wanted))
    message = f"returned shape {got} for a {given} input; expected {expected} dimensions"
    if len(given) == 3:
        message += " (a (C, Y, X) stack in gives a (C, Y, X) stack out"
        if len(got) == 2:
            message += "; keep the channel axis, e.g. `image.max(axis=0, keepdims=True)`, "
            message += 'or declare contract="VOLUMETRIC_TO_SLICE"'
        message += ")"
    raise ContractError(key, contract, message)


#: What produces an entry's callable on first use: imports a package's module and takes the
#: function, or executes a folder file's validated text (in process or in a worker). Made by the
#: ``importer_for`` factories of :mod:`openhcs_plugins.loading.register`.
Importer = Callable[[], Callable[..., Any]]


#: Guards the making of an entry's own lock on its first load.
_ENTRY_LOCKS = threading.Lock()


class RegistryEntry:
    """A registered function: its info, and its code once loaded (by its :data:`Importer`)."""

    __slots__ = ("_func", "_importer", "_lock", "error", "info")

    def __init__(
        self,
        info: FunctionInfo,
        importer: Importer | None = None,
        func: Callable[..., Any] | None = None,
        *,
        loader: Importer | None = None,
    ) -> None:
        if loader is not None:
            # The keyword's old name, kept for one release.
            warnings.warn(
                "RegistryEntry(loader=...) is deprecated, use RegistryEntry(importer=...)",
                DeprecationWarning,
                stacklevel=2,
            )
            importer = loader
        if importer is None and func is None:
            raise ValueError("an entry needs an importer or a function")
        self.info = info
        self._importer = importer
        self._func = func
        self._lock: threading.Lock | None = None  # made on first load (a listing makes 1,000s)
        self.error: str | None = None

    @property
    def loaded(self) -> bool:
        return self._func is not None

    @property
    def state(self) -> str:
        """``loaded``, ``failed`` or ``not loaded`` (listing never loads)."""
        if self._func is not None:
            return "loaded"
        return "failed" if self.error is not None else "not loaded"

    def load(self) -> Callable[..., Any]:
        """Import the code (first call only) and run the runtime checks on the callable."""
        func = self._func
        if func is not None:
            return func
        if self._lock is None:
            with _ENTRY_LOCKS:
                if self._lock is None:
                    self._lock = threading.Lock()
        with self._lock:
            if self._func is not None:
                return self._func
            assert self._importer is not None
            try:
                try:
                    func = self._importer()
                except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:
                    from openhcs_plugins._usercode import reraise

                    reraise(self.info.key, exc, self.info.provenance.file)
            except FunctionLoadError:
                raise
            except Exception as exc:  # ControlFlowEscape included
                self.error = f"{type(exc).__name__}: {exc}"
                raise FunctionLoadError(self.info, self.error) from exc
            from openhcs_plugins.validation import validate_function

            result = validate_function(func)
            if not result.is_valid:
                self.error = "; ".join(str(e) for e in result.errors)
                raise FunctionLoadError(self.info, self.error)
            declared = (func.input_memory_type, func.output_memory_type)
            if declared != self.info.memory_types:
                self.error = (
                    f"the loaded function declares {declared[0]} -> {declared[1]}, but its source "
                    f"was read as {self.info.input_memory_type} -> {self.info.output_memory_type}"
                )
                raise FunctionLoadError(self.info, self.error)
            if self.info.outer_decorators:
                self.error = _signature_mismatch(self.info, func)
                if self.error is not None:
                    raise FunctionLoadError(self.info, self.error)
            self._func = func
            self.error = None
            return func


def _signature_mismatch(info: FunctionInfo, func: Callable[..., Any]) -> str | None:
    """What differs between the parameters read from source and the loaded callable's, for a
    function whose other decorators could have changed them (None when they agree)."""
    listed = [p.name for p in info.parameters]
    try:
        real = [p.name for p in parameters_of(func)]
    except (TypeError, ValueError):
        return None  # no signature to compare (a C callable): the memory types were compared
    if real == listed:
        return None
    outer = ", ".join(f"@{d}" for d in info.outer_decorators)
    return (
        f"its decorators ({outer}) change its signature: the source was read as "
        f"({', '.join(listed)}), the loaded function takes ({', '.join(real)}); the listing "
        "and hosts would pass the wrong parameters"
    )


class FunctionRegistry:
    """Thread-safe store of function entries keyed ``"namespace:name"``.

    Collisions are never silent: registering a function under a key held by another package or
    file (another :attr:`Provenance.identity`) raises :class:`RegistryCollisionError` naming
    both; the same identity replaces its entry.
    """

    def __init__(self) -> None:
        self._entries: dict[str, RegistryEntry] = {}
        self._lock = threading.RLock()

    # -- changing -----------------------------------------------------------------------------
    def add_entry(self, entry: RegistryEntry) -> RegistryEntry:
        key = entry.info.key
        with self._lock:
            existing = self._entries.get(key)
            if existing is not None:
                old, new = existing.info.provenance, entry.info.provenance
                if old.identity != new.identity:
                    raise RegistryCollisionError(key, old, new)
            self._entries[key] = entry
        return entry

    def check_free(self, info: FunctionInfo) -> None:
        """Raise :class:`RegistryCollisionError` if ``info`` could not be added."""
        with self._lock:
            existing = self._entries.get(info.key)
            if existing is not None and (
                existing.info.provenance.identity != info.provenance.identity
            ):
                raise RegistryCollisionError(info.key, existing.info.provenance, info.provenance)

    def unregister(self, key: str) -> bool:
        """Remove ``key``; False when it was not registered."""
        with self._lock:
            return self._entries.pop(key, None) is not None

    def unregister_where(self, predicate: Callable[[FunctionInfo], bool]) -> list[str]:
        """Remove every entry whose info matches; returns the removed keys."""
        with self._lock:
            keys = [k for k, e in self._entries.items() if predicate(e.info)]
            for key in keys:
                del self._entries[key]
            return keys

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    # -- reading ------------------------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(sorted(self._entries))

    def keys(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    def entry(self, key: str) -> RegistryEntry:
        try:
            return self._entries[key]
        except KeyError:
            raise UnknownFunctionError(self._unknown(key), subject=key) from None

    def info(self, key: str) -> FunctionInfo:
        return self.entry(key).info

    def infos(
        self,
        *,
        memory_type: MemoryType | str | None = None,
        namespace: str | None = None,
        source: SourceKind | str | None = None,
    ) -> list[FunctionInfo]:
        """Infos sorted by key, filtered by memory type (input or output), namespace, source."""
        with self._lock:
            entries = [self._entries[k] for k in sorted(self._entries)]
        # Listing reads only the memory-type names (memory.types): the memory module and numpy load
        # when a function runs.
        from openhcs_plugins.memory.types import MemoryType

        wanted_mt = MemoryType(memory_type).value if memory_type is not None else None
        wanted_src = SourceKind(source) if source is not None else None
        out = []
        for e in entries:
            info = e.info
            if wanted_mt is not None and wanted_mt not in info.memory_types:
                continue
            if namespace is not None and info.namespace != namespace:
                continue
            if wanted_src is not None and info.source is not wanted_src:
                continue
            out.append(info)
        return out

    def get(self, key: str) -> Callable[..., Any]:
        """The callable for ``key``, loading its code on first use."""
        return self.entry(key).load()

    def call(
        self, key: str, image: Any, *, output: MemoryType | str | None = None, **params: Any
    ) -> Any:
        """Run ``key`` on ``image``; the result comes back in the caller's memory type.

        ``output`` asks for another type. ``PURE_2D`` functions run plane by plane on a
        ``(C, Y, X)`` stack and are restacked. ``(image, metadata)`` returns keep the metadata.
        A result that breaks the function's contract raises :class:`ContractError`
        (:func:`check_result`).
        """
        from openhcs_plugins.memory import (
            CONTRACT_ATTRIBUTE,
            MemoryType,
            convert_memory,
            detect_memory_type,
        )

        func = self.get(key)
        caller_type = detect_memory_type(image)
        target = MemoryType(output) if output is not None else caller_type
        contract = getattr(func, CONTRACT_ATTRIBUTE, "FLEXIBLE")
        try:
            if contract == "PURE_2D" and len(image.shape) == 3:
                result = func(image, slice_by_slice=True, **params)
            else:
                result = func(image, **params)
        except (KeyboardInterrupt, SystemExit, GeneratorExit) as exc:
            from openhcs_plugins._usercode import reraise

            where = getattr(getattr(func, "__wrapped__", func), "__code__", None)
            reraise(key, exc, where.co_filename if where is not None else None)
        check_result(key, contract, image, result)
        if type(result) is tuple and result:
            return (convert_memory(result[0], target), *result[1:])
        return convert_memory(result, target)

    def _unknown(self, key: str) -> str:
        import difflib

        close = difflib.get_close_matches(key, list(self._entries), n=3)
        hint = f" Did you mean: {', '.join(close)}?" if close else ""
        return f"no function {key!r} is registered.{hint} See `openhcs-plugins list`."


def parameters_of(func: Callable[..., Any]) -> tuple[ParameterInfo, ...]:
    """Parameters of a live callable, without the decorator's injected ones."""
    from openhcs_plugins.memory.types import INJECTED_PARAMETERS

    out = []
    for p in inspect.signature(func).parameters.values():
        if p.name in INJECTED_PARAMETERS:
            continue
        annotation = None
        if p.annotation is not inspect.Parameter.empty:
            annotation = (
                p.annotation
                if isinstance(p.annotation, str)
                else inspect.formatannotation(p.annotation)
            )
        default = None if p.default is inspect.Parameter.empty else repr(p.default)
        out.append(ParameterInfo(p.name, p.kind.name, default, annotation))
    return tuple(out)


def info_from_callable(
    func: Callable[..., Any], namespace: str, provenance: Provenance
) -> FunctionInfo:
    """Build an entry's info from a loaded, decorated callable."""
    from openhcs_plugins.memory.types import CONTRACT_ATTRIBUTE

    outputs, inputs = declared_artifacts(func)

    return FunctionInfo(
        key=make_key(namespace, func.__name__),
        name=func.__name__,
        namespace=namespace,
        input_memory_type=func.input_memory_type,
        output_memory_type=func.output_memory_type,
        parameters=parameters_of(func),
        doc=inspect.getdoc(func) or "",
        provenance=provenance,
        contract=getattr(func, CONTRACT_ATTRIBUTE, "FLEXIBLE"),
        signature_from="runtime",
        artifact_outputs=outputs,
        artifact_inputs=inputs,
    )


def declared_artifacts(
    func: Callable[..., Any],
) -> tuple[tuple[tuple[str, str | None], ...], tuple[str, ...]]:
    """The artifact outputs (name, spec as JSON text) and inputs a loaded callable declares."""
    from openhcs_plugins.artifacts import inputs_of, listing_of, outputs_of

    return listing_of(outputs_of(func)), inputs_of(func)


def info_from_static(
    function: StaticFunction, namespace: str, provenance: Provenance
) -> FunctionInfo:
    """Build an entry's info from a function read statically from source."""
    return FunctionInfo(
        key=make_key(namespace, function.name),
        name=function.name,
        namespace=namespace,
        input_memory_type=function.input_memory_type,
        output_memory_type=function.output_memory_type,
        parameters=function.parameters,
        doc=function.doc,
        provenance=provenance,
        contract=function.contract,
        signature_from="static" if function.static_signature else "runtime",
        artifact_outputs=function.artifact_outputs,
        artifact_inputs=function.artifact_inputs,
        outer_decorators=function.outer_decorators,
    )


_default_registry = FunctionRegistry()


def get_default_registry() -> FunctionRegistry:
    """The process-wide registry that the CLI, the manager and the loader use by default."""
    return _default_registry
