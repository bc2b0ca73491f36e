"""Per-function failures (issue 14): a function whose first parameter is not ``image`` is a
problem of its own, named with its line; the other functions of the file list and run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import FunctionRegistry, RegistryAdapter

MIXED = """from openhcs_plugins.decorators import numpy


@numpy
def good(image):
    return image + 1


@numpy
def bad(image_stack):
    return image_stack


@numpy
def also_good(image, k: float = 2.0):
    return image * k
"""


@pytest.mark.parametrize("untrusted", ["strict", "user"])
def test_a_bad_first_parameter_refuses_only_its_function(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, untrusted: str
) -> None:
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_UNTRUSTED", untrusted)
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "mixed.py").write_text(MIXED)
    adapter = RegistryAdapter(FunctionRegistry())
    report = load_plugins(adapter=adapter, include_entry_points=False, folder=folder)
    assert sorted(i.key for i in adapter.registry.infos()) == ["openhcs:also_good", "openhcs:good"]
    (problem,) = report.problems
    assert problem.key == "openhcs:bad" and problem.line == 10
    assert problem.file == str(folder / "mixed.py") and "image_stack" in problem.message
    image = np.zeros((1, 2, 2), np.float32)
    assert float(adapter.registry.call("openhcs:good", image).max()) == 1.0
    assert float(adapter.registry.call("openhcs:also_good", image + 1).max()) == 2.0


def test_any_other_finding_still_refuses_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "mixed.py").write_text(MIXED + "\nimport os\n")
    adapter = RegistryAdapter(FunctionRegistry())
    report = load_plugins(adapter=adapter, include_entry_points=False, folder=folder)
    assert adapter.registry.infos() == []
    assert {p.kind or "" for p in report.problems} and any(
        "os" in p.message for p in report.problems
    )
