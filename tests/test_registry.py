from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from openhcs_plugins.memory import numpy, torch
from openhcs_plugins.registry import (
    FunctionInfo,
    FunctionLoadError,
    FunctionRegistry,
    RegistryCollisionError,
    get_default_registry,
    register_function,
    split_key,
)
from openhcs_plugins.registry.adapter import RegistryAdapter
from openhcs_plugins.sources.candidate import ParameterInfo, Provenance, SourceKind


def _info(
    name: str,
    *,
    namespace="lab",
    source=SourceKind.ENTRY_POINT,
    dist="lab-filters",
    file=None,
    mt=("numpy", "numpy"),
) -> FunctionInfo:
    return FunctionInfo(
        key=f"{namespace}:{name}",
        name=name,
        namespace=namespace,
        input_memory_type=mt[0],
        output_memory_type=mt[1],
        parameters=(ParameterInfo("image"),),
        doc="",
        provenance=Provenance(source=source, distribution=dist, version="1.0", file=file),
    )


@numpy
def double(image):
    """Double the image."""
    return image * 2


def test_register_function_uses_openhcs_namespace_by_default():
    reg = FunctionRegistry()
    info = register_function(double, registry=reg)
    assert info.key == "openhcs:double"
    assert reg.get("openhcs:double") is double
    assert info.signature == "(image)"
    assert info.doc == "Double the image."


def test_register_function_with_backend_like_openhcs():
    info = register_function(double, backend="openhcs")
    assert info.key in get_default_registry()


def test_register_function_refuses_undecorated_function():
    def plain(image):
        return image

    with pytest.raises(ValueError, match="input_memory_type"):
        register_function(plain, registry=FunctionRegistry())


def test_same_key_from_another_identity_is_a_collision_naming_both():
    reg = FunctionRegistry()
    adapter = RegistryAdapter(reg)
    adapter.add_loaded(_info("blur", dist="lab-filters"), double)
    with pytest.raises(RegistryCollisionError) as caught:
        adapter.add_loaded(_info("blur", dist="other-filters"), double)
    message = str(caught.value)
    assert "lab:blur" in message
    assert "lab-filters" in message and "other-filters" in message
    assert reg.get("lab:blur") is double


def test_same_origin_replaces_its_entry():
    reg = FunctionRegistry()
    adapter = RegistryAdapter(reg)

    @numpy
    def blur(image):
        return image

    adapter.add_loaded(_info("blur"), double)
    adapter.add_loaded(_info("blur"), blur)
    assert len(reg) == 1
    assert reg.get("lab:blur") is blur


def test_entries_load_lazily_once_even_with_concurrent_first_use():
    reg = FunctionRegistry()
    calls = []

    def importer():
        calls.append(1)
        time.sleep(0.05)
        return double

    RegistryAdapter(reg).add(_info("double"), importer)
    assert calls == []
    assert reg.entry("lab:double").state == "not loaded"
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(reg.get("lab:double"))) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [1]
    assert results == [double] * 8
    assert reg.entry("lab:double").state == "loaded"


def test_importer_failure_is_reported_with_key_and_file_and_entry_stays_failed():
    reg = FunctionRegistry()

    def importer():
        raise ImportError("No module named 'lab_filters'")

    RegistryAdapter(reg).add(_info("blur", file="/x/lab_filters/f.py"), importer)
    with pytest.raises(FunctionLoadError, match=r"lab:blur \(/x/lab_filters/f.py\).*No module"):
        reg.get("lab:blur")
    assert reg.entry("lab:blur").state == "failed"


def test_loaded_function_must_match_the_statically_read_memory_types():
    reg = FunctionRegistry()
    RegistryAdapter(reg).add(_info("double", mt=("torch", "torch")), lambda: double)
    with pytest.raises(FunctionLoadError, match="declares numpy -> numpy"):
        reg.get("lab:double")


def test_filter_by_memory_type_namespace_and_source():
    reg = FunctionRegistry()
    adapter = RegistryAdapter(reg)
    adapter.add_loaded(_info("a"), double)
    adapter.add_loaded(_info("b", mt=("torch", "numpy")), double)
    adapter.add_loaded(
        _info("c", namespace="openhcs", source=SourceKind.FOLDER, file="/f/c.py"), double
    )
    assert [i.key for i in reg.infos(memory_type="torch")] == ["lab:b"]
    assert [i.key for i in reg.infos(memory_type="numpy")] == ["lab:a", "lab:b", "openhcs:c"]
    assert [i.key for i in reg.infos(namespace="openhcs")] == ["openhcs:c"]
    assert [i.key for i in reg.infos(source="folder")] == ["openhcs:c"]


def test_unknown_key_suggests_close_matches():
    reg = FunctionRegistry()
    register_function(double, registry=reg)
    with pytest.raises(KeyError, match="Did you mean: openhcs:double"):
        reg.get("openhcs:doubel")


def test_unregister_removes_and_reports():
    reg = FunctionRegistry()
    register_function(double, registry=reg)
    assert reg.unregister("openhcs:double") is True
    assert reg.unregister("openhcs:double") is False
    assert "openhcs:double" not in reg


def test_call_returns_callers_type_and_runs_pure_2d_per_plane():
    reg = FunctionRegistry()
    shapes = []

    @numpy(contract="PURE_2D")
    def plane_only(image, gain=1.0):
        shapes.append(image.shape)
        assert image.ndim == 2
        return image * gain

    register_function(plane_only, registry=reg)
    stack = np.ones((3, 4, 4), dtype=np.float32)
    out = reg.call("openhcs:plane_only", stack, gain=3.0)
    assert isinstance(out, np.ndarray) and out.shape == (3, 4, 4)
    assert np.all(out == 3.0)
    assert shapes == [(4, 4)] * 3


def test_call_keeps_metadata():
    reg = FunctionRegistry()

    @numpy
    def count(image):
        return image, {"n": int(image.size)}

    register_function(count, registry=reg)
    _image, meta = reg.call("openhcs:count", np.zeros((1, 2, 3)))
    assert meta == {"n": 6}


def test_split_key_defaults_to_openhcs_namespace():
    assert split_key("blur") == ("openhcs", "blur")
    assert split_key("lab:blur") == ("lab", "blur")


def test_function_info_json_has_documented_fields():
    data = _info("blur").to_dict()
    for field in (
        "key",
        "namespace",
        "name",
        "input_memory_type",
        "output_memory_type",
        "source",
        "distribution",
        "version",
    ):
        assert field in data
    assert data["source"] == "entry_point"


def test_registry_is_thread_safe_under_concurrent_registration():
    reg = FunctionRegistry()
    adapter = RegistryAdapter(reg)

    def worker(n):
        for i in range(50):
            adapter.add_loaded(_info(f"f{n}_{i}", dist=f"d{n}"), double)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(reg) == 300


def test_torch_decorated_function_registers_with_its_memory_type():
    @torch(output_type="numpy")
    def t(image):
        return image

    info = register_function(t, registry=FunctionRegistry())
    assert info.memory_types == ("torch", "numpy")


def test_register_function_emits_functions_changed():
    from openhcs_plugins.signals import custom_function_signals

    seen = []
    slot = lambda: seen.append(1)  # noqa: E731
    custom_function_signals.functions_changed.connect(slot)
    try:
        register_function(double, registry=FunctionRegistry())
    finally:
        custom_function_signals.functions_changed.disconnect(slot)
    assert seen == [1]
