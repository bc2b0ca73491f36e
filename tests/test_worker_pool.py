"""Shared warm workers (issue 13): untrusted files of one memory type share one isolated worker.

Each file is loaded under its own slot, so module-level names stay apart; a worker that dies is
replaced and every file loaded into the new one; nothing of it runs in this process.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins.execution import pool
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import FunctionRegistry, RegistryAdapter

IMAGE = np.ones((2, 16, 16), np.float32)


def _file(folder: Path, name: str, constant: int) -> None:
    (folder / f"{name}.py").write_text(
        "from openhcs_plugins.decorators import numpy\n\n"
        f"K = {constant}\n\n\n@numpy\ndef {name}(image):\n    return image + K\n"
    )


@pytest.fixture
def registry(tmp_path: Path):
    pool.close_shared_workers()
    folder = tmp_path / "functions"
    folder.mkdir()
    for index in range(4):
        _file(folder, f"add_{index}", index)
    adapter = RegistryAdapter(FunctionRegistry())
    report = load_plugins(adapter=adapter, include_entry_points=False, folder=folder)
    assert not report.problems
    yield adapter.registry
    pool.close_shared_workers()


def _shared() -> list[pool.SharedWorker]:
    return list(pool._POOL.values())


def test_files_of_one_memory_type_share_one_worker_and_keep_their_names_apart(registry):
    results = [float(registry.call(f"openhcs:add_{i}", IMAGE).max()) for i in range(4)]
    assert results == [1.0, 2.0, 3.0, 4.0]  # each file's own K, though all define K
    (shared,) = _shared()
    assert shared.key[0] == "numpy" and shared.worker.alive
    assert not [m for m in sys.modules if m.startswith("openhcs_plugins_custom.add_")]
    # called again, in any order: the same worker, no reload
    assert float(registry.call("openhcs:add_2", IMAGE).max()) == 3.0
    assert _shared() == [shared]


def test_a_dead_shared_worker_is_replaced_and_the_files_loaded_again(registry):
    assert float(registry.call("openhcs:add_1", IMAGE).max()) == 2.0
    (first,) = _shared()
    first.worker.kill()  # as a crash would leave it
    assert float(registry.call("openhcs:add_3", IMAGE).max()) == 4.0
    assert float(registry.call("openhcs:add_1", IMAGE).max()) == 2.0
    (second,) = _shared()
    assert second is not first and second.worker.alive and not first.worker.alive


def test_close_shared_workers_stops_them(registry):
    registry.call("openhcs:add_0", IMAGE)
    worker = _shared()[0].worker
    assert pool.close_shared_workers() == 1
    assert not worker.alive and _shared() == []
    assert float(registry.call("openhcs:add_0", IMAGE).max()) == 1.0  # started again on use
