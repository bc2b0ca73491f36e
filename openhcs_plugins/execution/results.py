"""What leaves the worker: a function's result as protocol values (standard library at import).

:class:`ResultEncoder` turns a result into the JSON-ready values of
:mod:`openhcs_plugins.execution.protocol` and a list of plain arrays, refusing (:class:`Reject`)
what cannot cross safely: objects, subclasses, object or structured dtypes, results larger than
``max_output_mb``. Framework arrays are converted to numpy first. The job
(:mod:`openhcs_plugins.execution.job`) passes numpy in; the worker script loads this module
before any limit is set, so it imports the standard library only.
"""

from __future__ import annotations

from openhcs_plugins.execution.protocol import ARRAY_KINDS, MAX_DEPTH

__all__ = ["Reject", "ResultEncoder"]


class Reject(Exception):
    """A value that cannot cross the process boundary."""


class ResultEncoder:
    """Encodes one result: ``np`` is the numpy module, ``max_bytes`` the arrays' total cap."""

    # (``np`` is untyped: importing typing would cost every worker start ~5 ms)
    def __init__(self, np, max_bytes: int) -> None:  # type: ignore[no-untyped-def]
        self.np = np
        self.max_bytes = max_bytes

    def encode(self, value, arrays: list, where: str, depth: int):  # type: ignore[no-untyped-def]
        """A JSON-ready form of ``value``; arrays are appended to ``arrays`` and referenced."""
        import dataclasses
        import enum

        np = self.np
        if depth > MAX_DEPTH:
            raise Reject(f"{where} is nested deeper than {MAX_DEPTH} levels")
        if value is None or type(value) in (bool, str, float):
            return value
        if type(value) is int:
            if abs(value) > 2**63:
                raise Reject(f"{where} is an integer of {value.bit_length()} bits, too large")
            return value
        if isinstance(value, np.ndarray) or _framework_array(value):
            return {"$array": self.add_array(value, arrays, where)}
        if isinstance(value, np.generic):
            if value.dtype.kind not in ARRAY_KINDS:
                raise Reject(f"{where} is a numpy {value.dtype} scalar; return numbers")
            return self.encode(value.item(), arrays, where, depth + 1)
        if isinstance(value, enum.Enum):
            return self.encode(value.value, arrays, where, depth + 1)
        if isinstance(value, (bool, int, float, str)):
            base = next(t for t in (bool, int, float, str) if isinstance(value, t))
            return self.encode(base(value), arrays, where, depth + 1)
        if isinstance(value, complex):
            return {"$complex": [value.real, value.imag]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self.encode(fields, arrays, where, depth + 1)
        if isinstance(value, tuple) and hasattr(type(value), "_fields"):
            named = dict(zip(type(value)._fields, tuple(value), strict=False))
            return self.encode(named, arrays, where, depth + 1)
        if isinstance(value, tuple):
            items = [
                self.encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
            ]
            return {"$tuple": items}
        if isinstance(value, list):
            return [self.encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        if isinstance(value, dict):
            pairs = [
                [
                    self.encode(k, arrays, f"{where} key", depth + 1),
                    self.encode(v, arrays, f"{where}[{k!r}]", depth + 1),
                ]
                for k, v in value.items()
            ]
            return {"$dict": pairs}
        raise Reject(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot "
            "leave the isolated worker; return arrays, numbers, strings, lists, tuples and dicts "
            "(dataclasses, enums and named tuples arrive as dicts and values)"
        )

    def add_array(self, value, arrays: list, where: str) -> int:  # type: ignore[no-untyped-def]
        np = self.np
        if not isinstance(value, np.ndarray):
            from openhcs_plugins.memory.convert import convert_memory

            value = convert_memory(value, "numpy", device="cpu", writable=False)
        # A plain ndarray (a subclass's own code never runs in the parent), checked by size
        # before anything is copied: a broadcast view can claim far more than it holds.
        value = np.asarray(value).view(np.ndarray)
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise Reject(
                f"{where} has dtype {value.dtype}; only bool, integer, float and "
                "complex arrays can leave the isolated worker"
            )
        limit = self.max_bytes
        total = value.nbytes + sum(a.nbytes for a in arrays)
        if total > limit:
            raise Reject(
                f"{where} is {value.nbytes / 2**20:.1f} MiB (shape {value.shape}); the "
                f"result may be at most {limit // 2**20} MiB (isolation.max_output_mb)"
            )
        arrays.append(np.ascontiguousarray(value))
        return len(arrays) - 1


def _framework_array(value) -> bool:  # type: ignore[no-untyped-def]
    module = type(value).__module__.split(".")[0]
    # pyclesperanto's arrays live in its backend's module (pyclesperanto_opencl, ...).
    frameworks = ("torch", "cupy", "jax", "jaxlib", "tensorflow", "pyclesperanto", "pyopencl")
    if module not in frameworks and not module.startswith("pyclesperanto_"):
        return False
    from openhcs_plugins.memory.detect import memory_type_of_type

    return memory_type_of_type(type(value)) is not None
