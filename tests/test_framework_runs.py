"""Each framework's template function, run as a user runs it: `openhcs-plugins run` in a fresh
process (in-process and `--isolated`), and the Python API's isolated runner for all six memory
types. These start frameworks in new processes (seconds each): marked slow."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import tifffile

from openhcs_plugins._opencl import ICD_FILENAMES, find_pocl_library
from openhcs_plugins.execution import run_isolated
from openhcs_plugins.memory import MemoryType
from openhcs_plugins.memory.convert import convert_memory
from openhcs_plugins.templates import get_template_for_memory_type
from tests._frameworks import requires_framework

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "openhcs_plugins.cli"]
STACK = np.random.default_rng(0).random((2, 64, 64), dtype=np.float32)


def _user_env(home: Path) -> dict[str, str]:
    """A user's shell: no OpenCL variable unless the user set one. (This test process set
    OCL_ICD_FILENAMES when it imported openhcs_plugins; a new process must do it itself.)"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENHCS_PLUGINS_")}
    if env.get(ICD_FILENAMES) == find_pocl_library():
        del env[ICD_FILENAMES]
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[var] = str(home / var.lower())
    env["PYTHONPATH"] = str(REPO)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [*CLI, *args], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args}: {done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done


def _gaussian_reference(stack: np.ndarray, sigma: float) -> np.ndarray:
    from scipy import ndimage

    # per plane (sigma_z=0), edges repeated as pyclesperanto does
    return np.stack([ndimage.gaussian_filter(p, sigma, mode="nearest") for p in stack])


def _stretch_reference(stack: np.ndarray, strength: float) -> np.ndarray:
    mean = stack.mean(axis=(1, 2), keepdims=True)
    return (stack - mean) * (1.0 + strength) + mean


#: memory type -> (the function's name, what its template computes)
CLI_CASES = {
    "pyclesperanto": ("cle_blur", lambda stack: _gaussian_reference(stack, 2.0)),
    "tensorflow": ("tf_stretch", lambda stack: _stretch_reference(stack, 0.5)),
}


@pytest.fixture(scope="module")
def added() -> Iterator[Callable[[str], tuple[Path, dict[str, str]]]]:
    """``added(memory_type)``: a user's folder (and environment) where `openhcs-plugins add`
    saved the function `openhcs-plugins template -m memory_type` printed (once per type)."""
    done: dict[str, tuple[Path, dict[str, str]]] = {}
    with tempfile.TemporaryDirectory(prefix="openhcs-framework-runs-") as root:

        def add(memory_type: str) -> tuple[Path, dict[str, str]]:
            if memory_type not in done:
                home = Path(root) / memory_type
                home.mkdir()
                env = _user_env(home)
                code = _cli(env, "template", "-m", memory_type).stdout
                # the framework is imported at the top, before openhcs_plugins' own import
                assert code.startswith(f"import {memory_type}")
                source = home / f"{CLI_CASES[memory_type][0]}.py"
                source.write_text(code.replace("my_filter", source.stem), "utf-8")
                _cli(env, "add", str(source))
                tifffile.imwrite(home / "in.tif", STACK)
                done[memory_type] = home, env
            return done[memory_type]

        yield add


@pytest.mark.parametrize("isolated", [False, True], ids=["in-process", "isolated"])
@pytest.mark.parametrize("memory_type", list(CLI_CASES))
def test_run_writes_the_templates_result(
    memory_type: str,
    isolated: bool,
    tmp_path: Path,
    added: Callable[[str], tuple[Path, dict[str, str]]],
) -> None:
    """`template -m X` -> `add` -> `run [--isolated]`: a module that imports the framework at
    its top writes the right result (pyclesperanto used to find no OpenCL device; tensorflow
    and pocl had no writable temporary folder in the worker)."""
    requires_framework(memory_type, kernels=True)
    name, reference = CLI_CASES[memory_type]
    home, env = added(memory_type)
    out = tmp_path / "out.tif"
    started = time.perf_counter()
    flags = ["--isolated"] if isolated else []
    _cli(env, "run", f"openhcs:{name}", str(home / "in.tif"), "-o", str(out), *flags)
    print(f"{memory_type} run {' '.join(flags)}: {time.perf_counter() - started:.1f} s")
    result = tifffile.imread(out)
    assert result.shape == STACK.shape
    np.testing.assert_allclose(result, reference(STACK), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("memory_type", [mt.value for mt in MemoryType])
def test_every_memory_type_runs_isolated_as_in_process(memory_type: str) -> None:
    """The template of each memory type gives the same result in the worker as here."""
    requires_framework(memory_type, kernels=True)
    code = get_template_for_memory_type(memory_type)
    namespace: dict[str, object] = {}
    exec(compile(code, f"<{memory_type} template>", "exec"), namespace)
    here = convert_memory(namespace["my_filter"](STACK), "numpy")  # type: ignore[operator]
    there = run_isolated(code, "my_filter", STACK)
    assert isinstance(there, np.ndarray)
    np.testing.assert_allclose(there, np.asarray(here), rtol=1e-5, atol=1e-5)
