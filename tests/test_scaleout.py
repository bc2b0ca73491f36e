"""Scale-out pieces without a separate cluster: one input through ``process_file`` (written once,
complete or not at all), shipping folder and editor functions (checked again on arrival), the
environment comparison, and ``run --workers N`` on a real LocalCluster of worker processes.
The cluster of separate ``dask scheduler``/``dask worker`` processes: tests/e2e/test_distributed.py.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from openhcs_plugins._batch_file import process_file
from openhcs_plugins._images import read_provenance
from openhcs_plugins._storage import partial_files
from openhcs_plugins.batch import expand_inputs, run_batch
from openhcs_plugins.cli import app as main
from openhcs_plugins.config import load_settings
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import get_default_registry
from openhcs_plugins.scaleout.environment import (
    EnvironmentMismatch,
    check_here,
    differences,
    environment,
    function_drifts,
)
from openhcs_plugins.scaleout.shipping import (
    ShippedFunction,
    ShippingError,
    resolve,
    shipped_function,
)
from openhcs_plugins.sources.candidate import sha256_text

SCALE = '''from openhcs_plugins.decorators import numpy


@numpy
def scale(image, factor: float = 2.0):
    """Multiply by a factor."""
    return image * factor
'''


@pytest.fixture
def functions(tmp_path: Path) -> Path:
    folder = tmp_path / "functions"
    folder.mkdir()
    (folder / "scale.py").write_text(SCALE, encoding="utf-8")
    load_plugins(settings=load_settings(functions_dir=str(folder)), include_entry_points=False)
    return folder


@pytest.fixture
def inputs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    rng = np.random.default_rng(1)
    paths = []
    for index in range(6):
        path = folder / f"s{index}.tif"
        tifffile.imwrite(path, rng.random((2, 8, 8), dtype=np.float32))
        paths.append(path)
    return paths


def _scale_call(stack):
    return stack * 2.0


def test_a_retried_task_finds_its_batch_output_and_writes_nothing(tmp_path, functions, inputs):
    info = get_default_registry().info("openhcs:scale")
    target = tmp_path / "out" / "s0.tif"
    made = process_file(info.key, info, _scale_call, (), {}, inputs[0], target, batch="batch-1")
    assert made is not None
    first = target.stat().st_mtime_ns
    os.utime(target, ns=(first - 10**9, first - 10**9))
    again = process_file(info.key, info, _scale_call, (), {}, inputs[0], target, batch="batch-1")
    assert again is None
    assert target.stat().st_mtime_ns == first - 10**9  # not written again
    # another batch, or other input bytes under the same name, writes it again
    process_file(info.key, info, _scale_call, (), {}, inputs[0], target, batch="batch-2")
    assert read_provenance(target)["batch"] == "batch-2"
    assert target.stat().st_mtime_ns != first - 10**9


def test_an_output_that_fails_to_write_leaves_neither_a_file_nor_a_partial(
    tmp_path, functions, inputs, monkeypatch
):
    info = get_default_registry().info("openhcs:scale")
    target = tmp_path / "out" / "s0.tif"

    def half_then_full_disk(handle, *args, **kwargs):
        handle.write(b"II*\x00" + b"\x00" * 1000)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tifffile, "imwrite", half_then_full_disk)
    with pytest.raises(OSError, match="No space left"):
        process_file(info.key, info, _scale_call, (), {}, inputs[0], target)
    assert not target.exists()
    assert partial_files(target) == []
    assert list(target.parent.iterdir()) == []


def test_outputs_get_the_permissions_of_a_plain_new_file(tmp_path, functions, inputs):
    old = os.umask(0o022)
    try:
        run_batch("openhcs:scale", inputs[:1], tmp_path / "out", {})
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "out" / "s0.tif").stat().st_mode)
    assert mode == 0o644


def test_inputs_may_be_glob_patterns(tmp_path, inputs):
    assert expand_inputs([tmp_path / "in" / "s[0-2].tif"]) == inputs[:3]
    assert expand_inputs([tmp_path / "*" / "s5.tif"]) == [inputs[5]]
    with pytest.raises(ValueError, match=r"s9\*\.tif: the pattern matches no file"):
        expand_inputs([tmp_path / "in" / "s9*.tif"])


def test_a_folder_function_is_shipped_as_its_validated_text(functions):
    info = get_default_registry().info("openhcs:scale")
    shipped = shipped_function(info)
    assert shipped is not None
    assert shipped.text == SCALE and shipped.sha256 == sha256_text(SCALE)
    assert shipped.file == str(functions / "scale.py") and shipped.trust == info.provenance.trust
    (functions / "scale.py").write_text(SCALE.replace("2.0", "3.0"), encoding="utf-8")
    with pytest.raises(ShippingError, match="changed after it was listed") as caught:
        shipped_function(info)
    assert caught.value.hint == "openhcs-plugins list"


def test_a_function_registered_from_python_cannot_be_shipped():
    from openhcs_plugins.decorators import numpy
    from openhcs_plugins.registry import register_function

    @numpy
    def local(image):
        return image

    info = register_function(local)
    with pytest.raises(ShippingError, match="no source text to send") as caught:
        shipped_function(info)
    assert caught.value.hint == "openhcs-plugins add FILE"


def test_editor_code_is_shipped_from_the_text_it_was_validated_with():
    from openhcs_plugins.manager import CustomFunctionManager

    CustomFunctionManager().register_from_code(SCALE.replace("scale", "ed_scale"), persist=False)
    shipped = shipped_function(get_default_registry().info("openhcs:ed_scale"))
    assert shipped is not None and shipped.source == "editor" and "def ed_scale" in shipped.text


def _shipped(text: str, **changes: str) -> ShippedFunction:
    fields = {
        "key": "openhcs:scale",
        "name": "scale",
        "source": "folder",
        "text": text,
        "sha256": sha256_text(text),
        "trust": "user",
        "file": "/lab/functions/scale.py",
    }
    return ShippedFunction(**{**fields, **changes})


def test_a_worker_refuses_text_that_is_not_the_validated_one():
    tampered = _shipped(SCALE, sha256=sha256_text(SCALE.replace("2.0", "9.0")))
    with pytest.raises(ShippingError, match="the text received is not the one validated"):
        resolve("openhcs:scale", tampered, False)


def test_a_worker_validates_the_text_again_at_the_same_trust_level():
    evil = SCALE.replace("def scale", "import subprocess\n\n\n@numpy\ndef scale").replace(
        "@numpy\nimport", "import"
    )
    with pytest.raises(ShippingError, match="refused on this worker at trust level user") as caught:
        resolve("openhcs:scale", _shipped(evil), False)
    assert "subprocess" in str(caught.value) and "/lab/functions/scale.py" in str(caught.value)
    made = resolve("openhcs:scale", _shipped(SCALE), False)
    assert made.info.provenance.file == "/lab/functions/scale.py"
    assert made.info.provenance.sha256 == sha256_text(SCALE)
    assert np.array_equal(made.call(np.ones((1, 2, 2)), {"factor": 4.0}), np.full((1, 2, 2), 4.0))


def test_the_environment_comparison_lists_each_difference_as_check_does(functions):
    here = environment()
    assert differences(here, here) == []
    other = {
        "openhcs_plugins": "0.0.1",
        "packages": {
            "lab": {
                "distribution": "lab-filters",
                "version": "1.0",
                "origin": "index",
                "functions": ["blur"],
                "files": {},
            }
        },
    }
    lines = differences(other, here)
    assert lines[0] == f"~ package openhcs-plugins: version 0.0.1 -> {here['openhcs_plugins']}"
    assert "- package lab: locked lab-filters 1.0, not present" in lines


def test_with_a_lock_the_function_must_be_the_locked_one(functions, tmp_path):
    info = get_default_registry().info("openhcs:scale")
    lock = {"format": 2, "packages": environment()["packages"], "folder": {}}
    assert function_drifts(info, lock) == ["- file scale.py: not in the lock file"]
    lock["folder"]["scale.py"] = {"sha256": "0" * 64, "functions": ["scale"]}
    assert function_drifts(info, lock) == [
        f"~ file scale.py: changed {'0' * 64} -> {info.provenance.sha256}"
    ]
    with pytest.raises(EnvironmentMismatch, match="this machine: the plugin environment differs"):
        check_here(info.key, lock)
    lock["folder"]["scale.py"]["sha256"] = info.provenance.sha256
    check_here(info.key, lock)


def test_run_with_a_lock_refuses_a_function_that_changed_since_freeze(functions, inputs, tmp_path):
    runner = CliRunner()
    lock = tmp_path / "plugins.lock"
    args = ["--functions-dir", str(functions)]
    assert runner.invoke(main, ["freeze", "-o", str(lock), *args]).exit_code == 0
    ran = runner.invoke(
        main,
        ["run", "scale", str(inputs[0]), "-o", str(tmp_path / "a.tif"), "--lock", str(lock), *args],
    )
    assert ran.exit_code == 0, ran.output
    (functions / "scale.py").write_text(SCALE.replace("2.0", "5.0"), encoding="utf-8")
    refused = runner.invoke(
        main,
        ["run", "scale", str(inputs[0]), "-o", str(tmp_path / "b.tif"), "--lock", str(lock), *args],
    )
    assert refused.exit_code == 1
    assert "~ file scale.py: changed" in refused.output
    assert not (tmp_path / "b.tif").exists()


def test_workers_and_scheduler_are_exclusive_and_an_unreachable_scheduler_is_named(
    functions, inputs, tmp_path
):
    runner = CliRunner()
    args = [
        "run",
        "scale",
        str(inputs[0]),
        "-o",
        str(tmp_path / "o.tif"),
        "--functions-dir",
        str(functions),
    ]
    both = runner.invoke(main, [*args, "--workers", "1", "--scheduler", "tcp://127.0.0.1:1"])
    assert both.exit_code == 1 and "not both" in both.output
    assert both.output.count("error:") == 1  # said once, not again as "error: 1"
    none = runner.invoke(main, [*args, "--workers", "0"])
    assert none.exit_code == 1 and none.output.count("error:") == 1
    assert "--workers 0: give 1 or more" in none.output
    gone = runner.invoke(main, [*args, "--scheduler", "tcp://127.0.0.1:1"])
    assert gone.exit_code == 1
    assert "cannot reach the Dask scheduler tcp://127.0.0.1:1" in gone.output


@pytest.mark.slow
def test_run_workers_2_ships_a_folder_function_and_equals_the_serial_run(
    functions, inputs, tmp_path
):
    runner = CliRunner()
    common = ["scale", str(tmp_path / "in"), "-p", "factor=3", "--functions-dir", str(functions)]
    serial = runner.invoke(main, ["run", *common, "-o", str(tmp_path / "serial")])
    assert serial.exit_code == 0, serial.output
    spread = runner.invoke(
        main, ["run", *common, "-o", str(tmp_path / "dask"), "--workers", "2", "--isolated"]
    )
    assert spread.exit_code == 0, spread.output
    assert "2 worker(s) accepted; Dask dashboard: http://127.0.0.1:" in spread.output
    assert "6 done, 0 failed, 6 total" in spread.output
    pids = set()
    for path in inputs:
        ours, theirs = tmp_path / "dask" / path.name, tmp_path / "serial" / path.name
        np.testing.assert_array_equal(tifffile.imread(ours), tifffile.imread(theirs))
        mine = read_provenance(ours)
        assert mine["source"] == "folder"
        assert mine["file_sha256"] == read_provenance(theirs)["file_sha256"]
        assert mine["inputs"] == read_provenance(theirs)["inputs"]
        assert mine["isolation"]["rlimits"]  # it ran in the isolated runner, with its limits
        pids.add(mine["worker"]["pid"])
    assert os.getpid() not in pids


@pytest.mark.slow
def test_an_editor_function_runs_on_a_local_cluster_from_python(inputs, tmp_path):
    from openhcs_plugins.manager import CustomFunctionManager
    from openhcs_plugins.scaleout import local_client

    CustomFunctionManager().register_from_code(SCALE.replace("scale", "ed_scale"), persist=False)
    seen = []
    with local_client(1) as client:
        results = run_batch(
            "openhcs:ed_scale",
            inputs,
            tmp_path / "out",
            {"factor": 0.5},
            client=client,
            on_workers=seen.append,
            preview=tmp_path / "preview.png",
        )
    assert [r.error for r in results] == [None] * 6
    assert len(seen) == 1 and len(seen[0].accepted) == 1 and not seen[0].refused
    for path, result in zip(inputs, results, strict=True):
        assert result.output == tmp_path / "out" / path.name and result.written
        np.testing.assert_allclose(tifffile.imread(result.output), tifffile.imread(path) * 0.5)
        assert read_provenance(result.output)["source"] == "editor"
    assert (tmp_path / "preview.png").is_file()


def test_the_slurm_example_submits_jobs_that_check_the_lock_before_their_worker_starts(
    tmp_path,
):
    """Tested by configuration: the job script dask-jobqueue would submit (no SLURM here)."""
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "examples" / "slurm" / "run_on_slurm.py"
    spec = importlib.util.spec_from_file_location("run_on_slurm", path)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    lock = tmp_path / "plugins.lock"
    cluster = example.make_cluster(lock, cores=8, memory="32GB", queue="gpu", account="lab")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    lines = script.splitlines()
    assert lines[0] == "#!/usr/bin/env bash"
    for directive in ("-J openhcs-plugins", "-p gpu", "-A lab", "-n 1", "--cpus-per-task=8",
                      "-t 02:00:00"):  # fmt: skip
        assert f"#SBATCH {directive}" in lines, script
    assert any(line.startswith("#SBATCH --mem=") for line in lines)
    activate = f"source {Path(sys.prefix) / 'bin' / 'activate'}"
    check = f"openhcs-plugins check {lock} || exit 1"
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert lines.index(activate) < lines.index(check) < lines.index(worker)
    assert worker.startswith(
        f"{Path(sys.prefix) / 'bin' / 'python'} -m distributed.cli.dask_worker"
    )
    assert "--nthreads 8" in worker


def test_a_worker_whose_packages_changed_since_it_started_says_restart(monkeypatch):
    from openhcs_plugins.scaleout import environment as env

    monkeypatch.setattr(env, "_FIRST", [])
    here = environment()
    assert env.process_differences(here) == []
    changed = {**here, "packages": {"lab": {"version": "2"}}}
    monkeypatch.setattr(env, "environment", lambda registry=None: changed)
    lines = env.process_differences(changed)
    assert lines == [
        "! the plugin packages changed on disk since this worker started (it runs the code "
        "it imported then): restart the worker"
    ]
