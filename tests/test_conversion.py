"""Memory conversion between the frameworks, on real framework installs.

Sources are made and results read back with each framework's own calls (``torch.tensor``,
``jnp.asarray``, ``tf.constant``, ``cle.push``...), so the conversion under test never checks
itself. Zero-copy is checked, not assumed: by data pointers and by writing through one side.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import textwrap
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from _frameworks import CPU_FRAMEWORKS, framework_state, requires_framework

from openhcs_plugins import memory as mem
from openhcs_plugins._opencl import find_pocl_library
from openhcs_plugins._opencl import system_icds as _system_icds
from openhcs_plugins.memory.buffers import ALIGNMENT, empty_aligned
from openhcs_plugins.memory.convert import (
    STRICT_DTYPES_ENV,
    convert_memory,
    stack_planes,
    take_plane,
)
from openhcs_plugins.memory.detect import detect_memory_type
from openhcs_plugins.memory.errors import (
    DtypeChangeError,
    DtypeChangeWarning,
    FrameworkUnavailableError,
)
from openhcs_plugins.memory.status import framework_status
from openhcs_plugins.memory.types import MemoryType

REPO = Path(__file__).resolve().parents[1]
PAIRS = list(itertools.permutations(CPU_FRAMEWORKS, 2))

# What each framework stores a dtype as (written out here, not taken from the code under test).
STORED: dict[str, dict[str, str]] = {
    "jax": {"int64": "int32", "uint64": "uint32", "float64": "float32", "complex128": "complex64"},
    "pyclesperanto": {
        "int64": "int32",
        "uint64": "uint32",
        "float64": "float32",
        "bool": "uint8",
        "float16": "float32",
    },
}


def stored(framework: str, dtype: np.dtype) -> np.dtype:
    return np.dtype(STORED.get(framework, {}).get(np.dtype(dtype).name, np.dtype(dtype).name))


def make(framework: str, array: np.ndarray) -> Any:
    """An array of ``framework`` holding ``array``'s values, made with the framework's own API."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # jax and pyclesperanto narrowing 64-bit input
        if framework == "numpy":
            return array.copy()
        if framework == "torch":
            import torch

            return torch.tensor(array)
        if framework == "jax":
            import jax.numpy as jnp

            return jnp.asarray(array)
        if framework == "tensorflow":
            import tensorflow as tf

            return tf.constant(array)
        if framework == "pyclesperanto":
            import pyclesperanto as cle

            return cle.push(array)
    raise AssertionError(framework)


def read(obj: Any) -> np.ndarray:
    """The values of any framework's array as numpy, read with that framework's own API."""
    module = type(obj).__module__.split(".")[0]
    if isinstance(obj, np.ndarray):
        return obj
    if module == "torch":
        return obj.detach().cpu().numpy()
    if module in ("jax", "jaxlib"):
        return np.asarray(obj)
    if module == "tensorflow":
        return obj.numpy()
    if module.startswith("pyclesperanto"):
        return obj.get()
    raise AssertionError(f"not an array: {type(obj)}")


def is_native(framework: str, obj: Any) -> bool:
    if framework == "numpy":
        return isinstance(obj, np.ndarray)
    if framework == "torch":
        import torch

        return isinstance(obj, torch.Tensor)
    if framework == "jax":
        import jax

        return isinstance(obj, jax.Array)
    if framework == "tensorflow":
        import tensorflow as tf

        return isinstance(obj, tf.Tensor)
    import pyclesperanto as cle

    return isinstance(obj, cle.Array)


def pointer(obj: Any) -> int:
    """Address of the first element, read with each framework's own API."""
    if isinstance(obj, np.ndarray):
        return obj.ctypes.data
    module = type(obj).__module__.split(".")[0]
    if module == "torch":
        return obj.data_ptr()
    if module in ("jax", "jaxlib"):
        return obj.unsafe_buffer_pointer()
    if module == "tensorflow":
        return np.from_dlpack(obj).ctypes.data  # a view: DLPack exports tensorflow's buffer
    raise AssertionError(type(obj))


def stack(dtype: str = "float32", shape: tuple[int, ...] = (2, 3, 5)) -> np.ndarray:
    values = (np.arange(int(np.prod(shape))) % 200).reshape(shape)
    return values.astype(dtype)


def dtype_warnings(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in caught if issubclass(w.category, DtypeChangeWarning)]


# ------------------------------------------------------------------------------------------
# Every pair


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "float32", "float64", "int64", "bool"])
@pytest.mark.parametrize(("source", "target"), PAIRS, ids=[f"{a}-to-{b}" for a, b in PAIRS])
def test_every_pair_of_cpu_frameworks_converts_values_shape_and_dtype(
    source: str, target: str, dtype: str
) -> None:
    requires_framework(source)
    requires_framework(target)
    base = stack(dtype)
    src = make(source, base)
    held = stored(source, base.dtype)
    expected = stored(target, held)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = convert_memory(src, target)
    assert is_native(target, out)
    assert detect_memory_type(out) is MemoryType(target)
    values = read(out)
    assert values.shape == base.shape
    assert values.dtype == expected
    np.testing.assert_array_equal(values, base.astype(expected))
    lossy = not np.can_cast(held, expected, "safe")
    assert len(dtype_warnings(caught)) == (1 if lossy else 0), [str(w.message) for w in caught]


# ------------------------------------------------------------------------------------------
# Zero-copy where promised, one copy where not


def test_numpy_and_torch_share_memory_both_ways() -> None:
    requires_framework("torch")
    x = stack()
    t = convert_memory(x, "torch")
    assert pointer(t) == pointer(x)
    x[0, 0, 0] = 77.0
    assert float(t[0, 0, 0]) == 77.0
    back = convert_memory(t, "numpy")
    assert pointer(back) == pointer(t)
    t[1, 2, 3] = -5.0
    assert back[1, 2, 3] == -5.0


@pytest.mark.parametrize("target", ["jax", "tensorflow"])
def test_aligned_numpy_is_shared_with_jax_and_tensorflow(target: str) -> None:
    requires_framework(target)
    x = empty_aligned((2, 3, 5), "float32")
    x[...] = stack()
    out = convert_memory(x, target)
    assert pointer(out) == pointer(x)
    x[1, 1, 1] = 1234.0  # the target's buffer is numpy's: the write shows through
    assert read(out)[1, 1, 1] == 1234.0


@pytest.mark.parametrize("target", ["jax", "tensorflow"])
def test_unaligned_numpy_costs_one_copy_into_an_aligned_buffer_the_target_keeps(
    target: str,
) -> None:
    requires_framework(target)
    x = stack(shape=(4, 256, 256))
    raw = empty_aligned(x.nbytes + ALIGNMENT, np.uint8)
    view = raw[16 : 16 + x.nbytes].view(np.float32).reshape(x.shape)  # 16 bytes past a boundary
    view[...] = x
    assert view.ctypes.data % ALIGNMENT != 0
    convert_memory(stack(), target)  # import the framework outside the measurement
    tracemalloc.start()
    try:
        out = convert_memory(view, target)
        held, _ = tracemalloc.get_traced_memory()
        assert pointer(out) != pointer(view)
        assert pointer(out) % ALIGNMENT == 0
        np.testing.assert_array_equal(read(out), x)
        # One buffer of the array's size, alive as long as the result: the target shares it.
        assert x.nbytes <= held < 1.2 * x.nbytes
        del out
        freed, _ = tracemalloc.get_traced_memory()
        assert freed < 0.05 * x.nbytes
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("source", "target"),
    [("torch", "jax"), ("torch", "tensorflow"), ("jax", "tensorflow"), ("tensorflow", "jax")],
)
def test_cpu_frameworks_share_memory_with_immutable_targets(source: str, target: str) -> None:
    requires_framework(source)
    requires_framework(target)
    src = make(source, stack())
    out = convert_memory(src, target)
    assert pointer(out) == pointer(src)
    np.testing.assert_array_equal(read(out), stack())


@pytest.mark.parametrize("source", ["jax", "tensorflow"])
def test_immutable_to_numpy_copies_by_default_and_shares_read_only_on_request(source: str) -> None:
    requires_framework(source)
    src = make(source, stack())
    out = convert_memory(src, "numpy")
    assert out.flags.writeable
    assert pointer(out) != pointer(src)
    out[0, 0, 0] = 99.0  # the caller may write: the source does not change
    assert read(src)[0, 0, 0] == 0.0
    view = convert_memory(src, "numpy", writable=False)
    assert pointer(view) == pointer(src)
    assert not view.flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        view[0, 0, 0] = 1.0


@pytest.mark.parametrize("source", ["jax", "tensorflow"])
def test_immutable_to_torch_copies_by_default_and_shares_on_request(source: str) -> None:
    requires_framework("torch")
    requires_framework(source)
    src = make(source, stack())
    out = convert_memory(src, "torch")
    assert pointer(out) != pointer(src)
    out.add_(1.0)
    np.testing.assert_array_equal(read(src), stack())
    shared = convert_memory(src, "torch", writable=False)
    assert pointer(shared) == pointer(src)


def test_read_only_numpy_is_copied_for_a_writable_torch_result() -> None:
    requires_framework("torch")
    x = stack()
    x.flags.writeable = False
    out = convert_memory(x, "torch")
    assert pointer(out) != pointer(x)
    out.zero_()
    np.testing.assert_array_equal(x, stack())


@pytest.mark.parametrize("target", ["jax", "tensorflow"])
def test_read_only_numpy_converts_to_jax_and_tensorflow(target: str) -> None:
    requires_framework(target)
    x = empty_aligned((2, 3, 5), "float32")
    x[...] = stack()
    x.flags.writeable = False  # numpy refuses to export it through DLPack: one copy instead
    np.testing.assert_array_equal(read(convert_memory(x, target)), stack())


def test_non_contiguous_numpy_is_shared_with_torch_as_strides() -> None:
    requires_framework("torch")
    x = stack(shape=(2, 6, 8))
    view = x[:, ::2, 1::3]
    out = convert_memory(view, "torch")
    assert pointer(out) == pointer(view)
    np.testing.assert_array_equal(read(out), view)


@pytest.mark.parametrize("target", ["jax", "tensorflow", "pyclesperanto"])
def test_non_contiguous_numpy_is_made_contiguous_for_compact_targets(target: str) -> None:
    requires_framework(target)
    x = stack(shape=(2, 6, 8))
    view = x[:, ::2, 1::3].transpose(0, 2, 1)
    np.testing.assert_array_equal(read(convert_memory(view, target)), view)


def test_an_unaligned_torch_view_is_not_handed_to_tensorflow_unaligned() -> None:
    # tensorflow accepts an unaligned DLPack buffer and later aborts the process in its kernels.
    torch = requires_framework("torch")
    requires_framework("tensorflow")
    t = torch.arange(101, dtype=torch.float32)[1:]
    assert t.data_ptr() % ALIGNMENT != 0
    out = convert_memory(t, "tensorflow")
    assert pointer(out) % ALIGNMENT == 0
    np.testing.assert_array_equal(out.numpy(), np.arange(1, 101, dtype=np.float32))


def test_torch_tensors_that_require_grad_convert() -> None:
    torch = requires_framework("torch")
    t = torch.ones((2, 2), requires_grad=True)
    np.testing.assert_array_equal(convert_memory(t, "numpy"), np.ones((2, 2), np.float32))


def test_tensorflow_variables_convert() -> None:
    tf = requires_framework("tensorflow")
    v = tf.Variable(stack())
    assert detect_memory_type(v) is MemoryType.TENSORFLOW
    np.testing.assert_array_equal(convert_memory(v, "numpy"), stack())


def test_same_type_is_returned_unchanged() -> None:
    x = stack()
    assert convert_memory(x, "numpy") is x
    assert convert_memory(x, MemoryType.NUMPY) is x


def test_detect_memory_type_rejects_non_arrays_with_a_clear_message() -> None:
    with pytest.raises(TypeError, match=r"builtins\.list.*numpy, cupy, torch"):
        detect_memory_type([1, 2, 3])


@pytest.mark.parametrize(
    ("shape", "dtype"), [((2, 3), "float32"), ((0, 4), "uint16"), ((), "float64"), (7, "uint8")]
)
def test_empty_aligned_is_aligned_contiguous_and_writable(shape: Any, dtype: str) -> None:
    out = empty_aligned(shape, dtype)
    assert out.ctypes.data % ALIGNMENT == 0
    assert out.flags.c_contiguous and out.flags.writeable
    assert out.shape == ((shape,) if isinstance(shape, int) else shape)
    assert out.dtype == np.dtype(dtype)


# ------------------------------------------------------------------------------------------
# The dtype rule


def test_int64_to_jax_warns_at_the_callers_line() -> None:
    requires_framework("jax")
    with pytest.warns(DtypeChangeWarning, match="jax_enable_x64") as caught:
        out = convert_memory(np.arange(6, dtype=np.int64), "jax")
    assert out.dtype == np.int32
    assert caught[0].filename == __file__


def test_the_decorator_dtype_warning_points_at_the_caller_not_the_wrapper() -> None:
    requires_framework("jax")

    @mem.jax
    def identity(image):
        return image

    with pytest.warns(DtypeChangeWarning) as caught:
        identity(np.arange(6, dtype=np.float64))
    assert [w.filename for w in caught if w.category is DtypeChangeWarning] == [__file__]


def test_strict_dtypes_refuse_a_lossy_change(monkeypatch: pytest.MonkeyPatch) -> None:
    requires_framework("jax")
    data = np.arange(6, dtype=np.int64)
    with pytest.raises(DtypeChangeError, match=r"int64.*int32") as info:
        convert_memory(data, "jax", strict_dtypes=True)
    assert info.value.source == np.int64 and info.value.target == np.int32
    monkeypatch.setenv(STRICT_DTYPES_ENV, "1")
    with pytest.raises(DtypeChangeError, match=STRICT_DTYPES_ENV):
        convert_memory(data, "jax")
    with pytest.warns(DtypeChangeWarning):  # the keyword wins over the environment
        convert_memory(data, "jax", strict_dtypes=False)


def test_jax_with_x64_enabled_keeps_64_bit_types() -> None:
    requires_framework("jax")
    script = textwrap.dedent(
        """
        import warnings
        import numpy as np
        from openhcs_plugins.memory.convert import convert_memory
        warnings.simplefilter("error")
        out = convert_memory(np.arange(4, dtype=np.int64), "jax")
        print(out.dtype, convert_memory(np.ones(2), "jax").dtype)
        """
    )
    env = {**os.environ, "JAX_ENABLE_X64": "1", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["int64", "float64"]


def test_pyclesperanto_float64_warns_and_bool_becomes_uint8_silently() -> None:
    requires_framework("pyclesperanto")
    with pytest.warns(DtypeChangeWarning, match="pyclesperanto has no float64"):
        out = convert_memory(np.ones((2, 2)), "pyclesperanto")
    assert out.dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mask = convert_memory(np.array([[True, False]]), "pyclesperanto")
    assert mask.dtype == np.uint8
    np.testing.assert_array_equal(mask.get(), [[1, 0]])


def test_pyclesperanto_refuses_complex_data() -> None:
    requires_framework("pyclesperanto")
    with pytest.raises(TypeError, match="pyclesperanto has no complex64"):
        convert_memory(np.ones((2, 2), np.complex64), "pyclesperanto")


# ------------------------------------------------------------------------------------------
# Devices


def test_torch_device_request_uses_cuda_or_names_the_missing_device() -> None:
    torch = requires_framework("torch")
    x = stack()
    assert convert_memory(x, "torch", device="cpu").device.type == "cpu"
    if torch.cuda.is_available():
        out = convert_memory(x, "torch", device="cuda:0")
        assert out.device.type == "cuda"
        np.testing.assert_array_equal(convert_memory(out, "numpy"), x)
    else:
        with pytest.raises(FrameworkUnavailableError, match="no CUDA device 0") as info:
            convert_memory(x, "torch", device=0)
        assert info.value.installed
        assert "openhcs-plugins[torch]" in str(info.value)


@pytest.mark.parametrize(("framework", "device"), [("jax", "gpu:0"), ("tensorflow", "/GPU:0")])
def test_gpu_request_for_jax_and_tensorflow_uses_it_or_names_it(
    framework: str, device: str
) -> None:
    requires_framework(framework)
    x = stack()
    try:
        out = convert_memory(x, framework, device=device)
    except FrameworkUnavailableError as exc:
        assert "no GPU device 0" in str(exc)
        assert f"openhcs-plugins[{framework}]" in str(exc)
    else:
        assert out.__dlpack_device__()[0] != 1  # not kDLCPU
        np.testing.assert_array_equal(read(out), x)


def test_cpu_is_the_default_device() -> None:
    requires_framework("torch")
    requires_framework("jax")
    assert convert_memory(stack(), "torch").device.type == "cpu"
    assert {d.platform for d in convert_memory(stack(), "jax").devices()} == {"cpu"}


def test_impossible_devices_are_refused_with_what_to_use() -> None:
    with pytest.raises(ValueError, match="numpy arrays live on the CPU"):
        convert_memory(make_torch_or_skip(), "numpy", device=0)
    with pytest.raises(ValueError, match="'cuda:N'"):
        convert_memory(stack(), "torch", device="tpu:3")


def make_torch_or_skip() -> Any:
    requires_framework("torch")
    return make("torch", stack())


def test_cupy_without_a_gpu_names_the_missing_device_and_the_extra() -> None:
    status = framework_state("cupy")
    if status.state != "no-device":
        pytest.skip(f"cupy is {status.state} here ({status.detail})")
    assert status.detail.startswith("cupy installed but no CUDA device: ")
    with pytest.raises(FrameworkUnavailableError, match="no CUDA device") as info:
        convert_memory(stack(), "cupy")
    assert info.value.installed and info.value.memory_type is MemoryType.CUPY
    assert "openhcs-plugins[cupy]" in str(info.value)


def test_numpy_round_trips_through_cupy_on_the_gpu() -> None:
    cupy = requires_framework("cupy")
    x = stack()
    out = convert_memory(x, "cupy")
    assert isinstance(out, cupy.ndarray)
    np.testing.assert_array_equal(convert_memory(out, "numpy"), x)


def test_cuda_torch_and_cupy_share_gpu_memory() -> None:
    cupy = requires_framework("cupy")
    torch = requires_framework("torch")
    if not torch.cuda.is_available():
        pytest.skip("torch has no CUDA device here")
    t = torch.arange(12, dtype=torch.float32, device="cuda:0")
    out = convert_memory(t, "cupy")
    assert out.data.ptr == t.data_ptr()
    back = convert_memory(out, "torch")
    assert back.device.type == "cuda" and back.data_ptr() == t.data_ptr()
    assert isinstance(out, cupy.ndarray)


# ------------------------------------------------------------------------------------------
# stack_planes / take_plane


@pytest.mark.parametrize("framework", CPU_FRAMEWORKS)
def test_stack_planes_and_take_plane_stay_in_the_framework(framework: str) -> None:
    requires_framework(framework)
    planes = [make(framework, np.full((3, 4), i, np.float32)) for i in range(3)]
    stacked = stack_planes(planes, framework)
    assert detect_memory_type(stacked) is MemoryType(framework)
    expected = np.stack([np.full((3, 4), i, np.float32) for i in range(3)])
    np.testing.assert_array_equal(read(stacked), expected)
    plane = take_plane(stacked, 2)
    assert detect_memory_type(plane) is MemoryType(framework)
    np.testing.assert_array_equal(read(plane), expected[2])


def test_stack_planes_converts_planes_of_other_types() -> None:
    requires_framework("torch")
    planes = [np.zeros((2, 2), np.float32), make("torch", np.ones((2, 2), np.float32))]
    out = stack_planes(planes, "torch")
    np.testing.assert_array_equal(read(out), [np.zeros((2, 2)), np.ones((2, 2))])
    with pytest.raises(ValueError, match="no planes"):
        stack_planes([], "numpy")


# ------------------------------------------------------------------------------------------
# The decorators

DECORATED = ["numpy", "torch", "jax", "tensorflow", "pyclesperanto"]


def plus_one(framework: str) -> Any:
    """A per-plane operation in each framework; pyclesperanto's runs on the host (no kernel)."""
    if framework == "pyclesperanto":
        import pyclesperanto as cle

        return lambda image: cle.push(image.get() + 1)
    return lambda image: image + 1


@pytest.mark.parametrize("framework", DECORATED)
def test_decorator_converts_numpy_input_and_returns_the_declared_type(framework: str) -> None:
    requires_framework(framework)
    seen: list[Any] = []

    @mem.DECORATORS[framework]
    def record(image):
        seen.append(image)
        return image

    out = record(stack())
    assert is_native(framework, seen[0])
    assert is_native(framework, out)
    np.testing.assert_array_equal(read(out), stack())


@pytest.mark.parametrize("framework", DECORATED)
def test_decorator_output_type_numpy_returns_writable_numpy(framework: str) -> None:
    requires_framework(framework)

    @mem.DECORATORS[framework](output_type="numpy")
    def identity(image):
        return image

    out = identity(stack())
    assert isinstance(out, np.ndarray) and out.flags.writeable
    np.testing.assert_array_equal(out, stack())
    out += 1  # callers write into results


@pytest.mark.parametrize("framework", DECORATED)
def test_decorator_keeps_the_metadata_of_image_metadata_returns(framework: str) -> None:
    requires_framework(framework)
    metadata = {"labels": [1, 2], "array": np.arange(3)}

    @mem.DECORATORS[framework](output_type="numpy")
    def with_metadata(image):
        return image, metadata

    out, meta = with_metadata(stack())
    assert meta is metadata
    assert isinstance(out, np.ndarray)


@pytest.mark.parametrize("framework", DECORATED)
def test_decorator_passes_its_own_type_through_untouched(framework: str) -> None:
    requires_framework(framework)
    native = make(framework, stack())
    seen: list[Any] = []

    @mem.DECORATORS[framework]
    def record(image):
        seen.append(image)
        return image

    assert record(native) is native
    assert seen[0] is native


@pytest.mark.parametrize("framework", DECORATED)
def test_slice_by_slice_runs_per_plane_and_restacks_in_the_framework(framework: str) -> None:
    requires_framework(framework)
    shapes: list[tuple[int, ...]] = []
    op = plus_one(framework)

    @mem.DECORATORS[framework]
    def add_one(image):
        shapes.append(tuple(image.shape))
        return op(image)

    base = stack(shape=(3, 4, 5))
    out = add_one(base, slice_by_slice=True)
    assert shapes == [(4, 5)] * 3
    assert is_native(framework, out)
    np.testing.assert_array_equal(read(out), base + 1)


# ------------------------------------------------------------------------------------------
# Imports: only the frameworks whose data is involved

IMPORT_PROBE = textwrap.dedent(
    """
    import sys
    import numpy as np
    from openhcs_plugins.memory import convert_memory, detect_memory_type, torch, jax

    FRAMEWORKS = ("torch", "jax", "jaxlib", "tensorflow", "pyclesperanto", "cupy")

    @torch
    def f(image):
        return image

    detect_memory_type(np.zeros(2))
    assert not [m for m in FRAMEWORKS if m in sys.modules], "imported at start-up"
    if sys.argv[1] != "none":
        convert_memory(np.zeros((2, 4, 4), np.float32), sys.argv[1])
    print(" ".join(sorted(m for m in FRAMEWORKS if m in sys.modules)))
    """
)


# What importing a framework by itself brings in (tensorflow imports jax when it is installed).
FOOTPRINT_PROBE = textwrap.dedent(
    """
    import importlib, sys
    FRAMEWORKS = ("torch", "jax", "jaxlib", "tensorflow", "pyclesperanto", "cupy")
    importlib.import_module(sys.argv[1])
    print(" ".join(sorted(m for m in FRAMEWORKS if m in sys.modules)))
    """
)


def run_probe(script: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TF_CPP_MIN_LOG_LEVEL": "2"}
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_no_framework_is_imported_by_the_decorators_or_detection() -> None:
    assert run_probe(IMPORT_PROBE, "none") == ""


@pytest.mark.parametrize("target", ["torch", "jax", "tensorflow", "pyclesperanto"])
def test_only_the_framework_whose_data_is_involved_is_imported(target: str) -> None:
    requires_framework(target)
    imported = run_probe(IMPORT_PROBE, target)
    assert target in imported.split()
    assert imported == run_probe(FOOTPRINT_PROBE, target)


# ------------------------------------------------------------------------------------------
# Status for doctor, OpenCL set-up


def test_framework_status_reports_every_memory_type_with_versions() -> None:
    status = framework_status()
    assert set(status) == set(MemoryType)
    assert status[MemoryType.NUMPY] == (True, f"numpy {np.__version__}")
    for framework in ("torch", "jax", "tensorflow"):
        usable, detail = status[MemoryType(framework)]
        if framework_state(framework).state == "missing":
            assert not usable and f"openhcs-plugins[{framework}]" in detail
        else:
            module = requires_framework(framework)
            assert usable and module.__version__ in detail


def test_framework_status_for_cupy_follows_cuda_availability() -> None:
    if framework_state("cupy").state == "missing":
        pytest.skip("cupy is not installed")
    import cupy

    usable, detail = framework_status()[MemoryType.CUPY]
    assert usable is bool(cupy.cuda.is_available())
    if not usable:
        assert detail.startswith("cupy installed but no CUDA device: ")


def test_pyclesperanto_status_says_whether_kernels_build() -> None:
    requires_framework("pyclesperanto")
    usable, detail = framework_status()[MemoryType.PYCLESPERANTO]
    if usable:
        assert detail.endswith("kernels build")
    else:
        assert "arrays transfer but OpenCL kernels fail to build" in detail


OPENCL_PROBE = textwrap.dedent(
    """
    import os
    before = os.environ.get("OCL_ICD_FILENAMES", "")
    import openhcs_plugins
    import pyclesperanto  # as a user's module does, at top level, before any conversion
    import numpy as np
    from openhcs_plugins._opencl import find_pocl_library
    from openhcs_plugins.memory.convert import convert_memory
    out = convert_memory(np.arange(4, dtype=np.float32), "pyclesperanto")
    print(before)
    print(os.environ.get("OCL_ICD_FILENAMES", ""))
    print(find_pocl_library())
    print(out.get().tolist())
    """
)


def run_opencl_probe(env_value: str | None) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k != "OCL_ICD_FILENAMES"}
    env["PYTHONPATH"] = str(REPO)
    if env_value is not None:
        env["OCL_ICD_FILENAMES"] = env_value
    done = subprocess.run(
        [sys.executable, "-c", OPENCL_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.splitlines()


def test_importing_openhcs_plugins_points_opencl_at_pocl_when_unset() -> None:
    requires_framework("pyclesperanto")
    if _system_icds():
        pytest.skip(f"this system has its own OpenCL drivers ({_system_icds()}); left alone")
    before, after, pocl, values = run_opencl_probe(None)
    assert before == ""
    assert after == pocl
    assert Path(pocl).is_file() and Path(pocl).name.startswith("libpocl")
    assert values == "[0.0, 1.0, 2.0, 3.0]"


def test_a_preset_ocl_icd_filenames_is_left_alone() -> None:
    requires_framework("pyclesperanto")
    pocl = find_pocl_library()
    if pocl is None:
        pytest.skip("pocl-binary-distribution is not installed")
    # The same library written another way (pocl finds its kernel library next to itself, so
    # it must stay in place): the variable must come through unchanged.
    preset = os.path.join(os.path.dirname(pocl), ".", os.path.basename(pocl))
    before, after, _, values = run_opencl_probe(preset)
    assert before == after == preset
    assert values == "[0.0, 1.0, 2.0, 3.0]"


def test_a_bad_opencl_setting_gives_a_clear_error_not_a_missing_attribute() -> None:
    requires_framework("pyclesperanto")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OCL_ICD_FILENAMES": "/nonexistent/libpocl.so"}
    script = textwrap.dedent(
        """
        import numpy as np
        from openhcs_plugins.memory import FrameworkUnavailableError, convert_memory
        try:
            convert_memory(np.zeros(2, np.float32), "pyclesperanto")
        except FrameworkUnavailableError as exc:
            print(exc)
        """
    )
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "found no OpenCL device (OCL_ICD_FILENAMES=/nonexistent/libpocl.so)" in done.stdout
    assert "/nonexistent/libpocl.so does not exist; unset OCL_ICD_FILENAMES" in done.stdout
    # pyclesperanto is installed: installing it again fixes nothing
    assert "openhcs-plugins[pyclesperanto]" not in done.stdout
    assert "install it with" not in done.stdout


# ------------------------------------------------------------------------------------------
# A real environment without the frameworks

MISSING_PROBE = textwrap.dedent(
    """
    import sys
    import numpy as np
    from openhcs_plugins.memory import FrameworkUnavailableError, convert_memory
    from openhcs_plugins.memory.status import framework_status
    for memory_type, (usable, detail) in framework_status().items():
        print(memory_type.value, usable, detail)
    for target in ("torch", "jax", "tensorflow", "cupy", "pyclesperanto"):
        try:
            convert_memory(np.zeros(3), target)
        except FrameworkUnavailableError as exc:
            print("error", exc.memory_type.value, exc)
    frameworks = ("torch", "jax", "tensorflow", "cupy", "pyclesperanto")
    print("imported", [m for m in frameworks if m in sys.modules])
    """
)


@pytest.fixture(scope="module")
def bare_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with this package's dependencies, pytest, and no array framework."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: pytest depends on tomli there
        import tomli as tomllib

    where = tmp_path_factory.mktemp("bare-venv")
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=300)
    python = where / "bin" / "python"
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    deps.append("pytest")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *deps],
        check=True,
        timeout=600,
        capture_output=True,
    )
    return python


@pytest.mark.slow
def test_missing_frameworks_are_reported_without_import_and_name_their_extra(
    bare_venv: Path,
) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [str(bare_venv), "-c", MISSING_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines[0].startswith("numpy True numpy ")
    for framework in ("cupy", "torch", "tensorflow", "jax", "pyclesperanto"):
        assert (
            f"{framework} False not installed: pip install 'openhcs-plugins[{framework}]'" in lines
        )
        errors = [line for line in lines if line.startswith(f"error {framework} ")]
        assert len(errors) == 1 and f"pip install 'openhcs-plugins[{framework}]'" in errors[0]
    assert lines[-1] == "imported []"


NEEDS_TORCH = """
from _frameworks import requires_framework

def test_needs_torch():
    requires_framework("torch")
"""


@pytest.mark.slow
@pytest.mark.parametrize(("required", "outcome"), [("0", "1 skipped"), ("1", "1 failed")])
def test_requires_framework_skips_a_missing_framework_or_fails_when_backends_are_required(
    bare_venv: Path, tmp_path: Path, required: str, outcome: str
) -> None:
    (tmp_path / "test_needs_torch.py").write_text(NEEDS_TORCH)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
        "OPENHCS_PLUGINS_REQUIRE_BACKENDS": required,
    }
    done = subprocess.run(
        [str(bare_venv), "-m", "pytest", "-rsf", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert outcome in done.stdout, done.stdout[-2000:]
    assert "not installed: pip install 'openhcs-plugins[torch]'" in done.stdout
    if required == "1":
        assert "torch is missing but OPENHCS_PLUGINS_REQUIRE_BACKENDS=1 requires it" in done.stdout
