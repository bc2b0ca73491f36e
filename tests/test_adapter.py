"""Every registration, removal and change signal goes through the registry adapter.

A host adapter (OpenHCS) mirrors entries by overriding ``publish`` and ``retract``; these tests
use such an adapter and check that it sees every change the manager and the loader make.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.memory import numpy
from openhcs_plugins.registry import (
    FunctionRegistry,
    RegistryAdapter,
    RegistryCollisionError,
    RegistryEntry,
    register_function,
)
from openhcs_plugins.signals import custom_function_signals


def code_for(name: str, body: str = "return image * 2") -> str:
    return (
        "from openhcs_plugins.decorators import numpy\n\n\n"
        f'@numpy\ndef {name}(image):\n    """{name}."""\n    {body}\n'
    )


class MirroringAdapter(RegistryAdapter):
    """A host adapter that records what it is told, as a host registry would mirror it."""

    def __init__(self, registry: FunctionRegistry) -> None:
        super().__init__(registry)
        self.log: list[tuple[str, str]] = []
        self.mirror: dict[str, RegistryEntry] = {}
        self.changes = 0

    def publish(self, entry: RegistryEntry) -> None:
        self.log.append(("publish", entry.info.key))
        self.mirror[entry.info.key] = entry

    def retract(self, key: str) -> None:
        self.log.append(("retract", key))
        self.mirror.pop(key, None)

    def changed(self) -> None:
        # Not calling super(): any functions_changed seen now was emitted around the adapter.
        self.changes += 1


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "custom_functions"


@pytest.fixture
def adapter() -> MirroringAdapter:
    return MirroringAdapter(FunctionRegistry())


@pytest.fixture
def manager(folder: Path, adapter: MirroringAdapter) -> CustomFunctionManager:
    return CustomFunctionManager(folder, adapter=adapter)


@pytest.fixture
def signals_emitted():
    seen: list[int] = []
    slot = lambda: seen.append(1)  # noqa: E731
    custom_function_signals.functions_changed.connect(slot)
    yield seen
    custom_function_signals.functions_changed.disconnect(slot)


def in_sync(adapter: MirroringAdapter) -> bool:
    return sorted(adapter.mirror) == adapter.registry.keys()


def test_register_publishes_and_signals_through_the_adapter(manager, adapter, signals_emitted):
    manager.register_from_code(code_for("blur"))
    assert adapter.log == [("publish", "openhcs:blur")]
    assert adapter.changes == 1 and signals_emitted == []
    assert in_sync(adapter)


def test_update_retracts_and_publishes(manager, adapter, signals_emitted):
    manager.register_from_code(code_for("blur"))
    adapter.log.clear()
    manager.update_custom_function("blur", code_for("smooth"))
    assert adapter.log == [("retract", "openhcs:blur"), ("publish", "openhcs:smooth")]
    manager.update_custom_function("smooth", code_for("smooth", "return image * 3"))
    assert adapter.log[-1] == ("publish", "openhcs:smooth")
    assert adapter.changes == 3 and signals_emitted == []
    assert in_sync(adapter)
    assert adapter.mirror["openhcs:smooth"].info.provenance.sha256


def test_delete_retracts(manager, adapter, signals_emitted):
    manager.register_from_code(code_for("blur"))
    manager.register_from_code(code_for("draft"), persist=False)
    adapter.log.clear()
    assert manager.delete_custom_function("blur") is True
    assert manager.delete_custom_function("draft") is True
    assert adapter.log == [("retract", "openhcs:blur"), ("retract", "openhcs:draft")]
    assert adapter.changes == 4 and signals_emitted == []
    assert adapter.mirror == {}


def test_load_publishes_each_file_and_retracts_a_file_that_is_gone(folder, adapter):
    folder.mkdir(parents=True)
    (folder / "blur.py").write_text(code_for("blur"), encoding="utf-8")
    (folder / "sharpen.py").write_text(code_for("sharpen"), encoding="utf-8")
    manager = CustomFunctionManager(folder, adapter=adapter)
    assert manager.load_all_custom_functions() == 2
    assert sorted(adapter.log) == [("publish", "openhcs:blur"), ("publish", "openhcs:sharpen")]
    (folder / "sharpen.py").unlink()
    manager.load_all_custom_functions()
    assert ("retract", "openhcs:sharpen") in adapter.log
    assert in_sync(adapter) and list(adapter.mirror) == ["openhcs:blur"]
    assert adapter.changes == 2


def test_a_failed_rename_retracts_then_publishes_the_old_entry_again(manager, adapter):
    manager.register_from_code(code_for("blur"))

    @numpy
    def smooth(image):
        return image

    register_function(smooth, adapter=adapter)
    adapter.log.clear()
    old = manager.registry.entry("openhcs:blur")
    with pytest.raises(RegistryCollisionError):
        manager.update_custom_function("blur", code_for("smooth"))
    assert adapter.log == [("retract", "openhcs:blur"), ("publish", "openhcs:blur")]
    assert manager.registry.entry("openhcs:blur") is old
    assert in_sync(adapter)
    assert manager.registry.get("openhcs:blur")(np.ones((1, 1, 1)))[0, 0, 0] == 2


def test_register_function_goes_through_the_given_adapter(adapter, signals_emitted):
    @numpy
    def double(image):
        return image * 2

    info = register_function(double, adapter=adapter)
    assert info.key == "openhcs:double"
    assert adapter.log == [("publish", "openhcs:double")]
    assert adapter.changes == 1 and signals_emitted == []


def test_take_and_restore_put_an_entry_back_unless_its_key_was_taken_again(adapter):
    @numpy
    def double(image):
        return image * 2

    register_function(double, adapter=adapter)
    entry = adapter.take("openhcs:double")
    assert entry is not None and "openhcs:double" not in adapter.registry
    assert adapter.take("openhcs:double") is None
    assert adapter.restore([entry]) == [entry]
    assert adapter.registry.entry("openhcs:double") is entry
    assert adapter.restore([entry]) == []  # the key is in use: left as it is
    assert adapter.log == [
        ("publish", "openhcs:double"),
        ("retract", "openhcs:double"),
        ("publish", "openhcs:double"),
    ]


def test_the_built_in_adapter_emits_functions_changed(signals_emitted):
    RegistryAdapter(FunctionRegistry()).changed()
    assert signals_emitted == [1]
