"""``run`` on a real Dask cluster: a ``dask scheduler`` and ``dask worker`` processes started
here on 127.0.0.1 (separate processes), a plugin package built into real wheels and installed
with pip into each worker's own site folder, the client as the real CLI or the Python API.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import tifffile
from plugin_packages import Package, build_wheels, install_target, on_sys_path, src

from openhcs_plugins._images import read_provenance

pytestmark = pytest.mark.slow

FUNCTION = '''
import time

@numpy
def slow_scale(image, factor: float = 2.0, delay: float = 0.0):
    """Multiply by a factor, taking ``delay`` seconds."""
    time.sleep(delay)
    return image * factor
'''


def _package(version: str) -> Package:
    return Package(
        "oplab-dask",
        version,
        {"oplab_dask/__init__.py": src(FUNCTION)},
        {"oplab_dask": "oplab_dask"},
        packages=("oplab_dask",),
    )


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{"0.1.0": site, "0.2.0": site}``: the package installed by pip into two folders."""
    root = tmp_path_factory.mktemp("dask-packages")
    wheels = build_wheels([_package("0.1.0"), _package("0.2.0")], root)
    return {
        version: install_target([wheels[("oplab-dask", version)]], root / f"site-{version}")
        for version in ("0.1.0", "0.2.0")
    }


def _env(site: Path | None, home: Path) -> dict[str, str]:
    env = dict(os.environ)
    repo = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([*([str(site)] if site else []), repo])
    for var, sub in (("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config")):
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    env["XDG_CACHE_HOME"] = str(home / "cache")
    return env


class Cluster:
    """A scheduler and named workers, each its own process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.file = root / "scheduler.json"
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.logs: list[Path] = []

    def _start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.root / f"{name}.log"
        self.logs.append(log)
        handle = open(log, "wb")
        process = subprocess.Popen(cmd, stdout=handle, stderr=subprocess.STDOUT, env=env)
        self.processes[name] = process
        return process

    def start_scheduler(self) -> str:
        self._start(
            "scheduler",
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(self.file),
            ],
            _env(None, self.root / "scheduler-home"),
        )
        deadline = time.monotonic() + 60
        while not self.file.exists() or not self.file.read_text():
            if time.monotonic() > deadline:
                raise RuntimeError(self.describe())
            time.sleep(0.1)
        return str(json.loads(self.file.read_text())["address"])

    @property
    def address(self) -> str:
        return str(json.loads(self.file.read_text())["address"])

    def start_worker(self, name: str, site: Path, prefix: list[str] = ()) -> None:
        self._start(
            name,
            [
                *prefix,
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                self.address,
                "--name",
                name,
                "--nthreads",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--host",
                "127.0.0.1",
            ],
            _env(site, self.root / f"{name}-home"),
        )

    def client(self, n_workers: int) -> object:
        from distributed import Client

        client = Client(self.address, timeout="30s")
        if n_workers:
            client.wait_for_workers(n_workers, timeout=60)
        return client

    def worker_addresses(self) -> dict[str, str]:
        """name -> address of the workers connected now."""
        with self.client(0) as client:  # type: ignore[attr-defined]
            workers = client.scheduler_info(n_workers=-1)["workers"]
        return {info["name"]: address for address, info in workers.items()}

    def describe(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')}" for log in self.logs)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
            process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    root = tmp_path / "cluster"
    root.mkdir()
    running = Cluster(root)
    running.start_scheduler()
    yield running
    running.stop()


def _inputs(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    paths = []
    for index in range(count):
        path = folder / f"img{index:03d}.tif"
        tifffile.imwrite(path, rng.random((2, 16, 16), dtype=np.float32))
        paths.append(path)
    return paths


def _cli(
    args: list[str], site: Path, home: Path, **kwargs: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", *args],
        capture_output=True,
        text=True,
        env=_env(site, home),
        timeout=240,
        **kwargs,  # type: ignore[arg-type]
    )


def _run_cli(
    tmp_path: Path, out: Path | str, site: Path, *extra: str
) -> subprocess.CompletedProcess[str]:
    """``run oplab_dask:slow_scale tmp_path/in -o OUT EXTRA...`` as the CLI, with ``site``."""
    args = ["run", "oplab_dask:slow_scale", str(tmp_path / "in"), "-o", str(out), *extra]
    return _cli(args, site, tmp_path / "client-home")


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_forty_inputs_on_two_worker_processes_equal_the_serial_run_and_a_poisoned_input_fails_alone(
    cluster, sites, tmp_path
):
    site = sites["0.1.0"]
    cluster.start_worker("w1", site)
    cluster.start_worker("w2", site)
    inputs = _inputs(tmp_path / "in", 40)
    (tmp_path / "in" / "img017.tif").write_bytes(b"not a tiff at all")  # poisoned
    serial = _run_cli(tmp_path, str(tmp_path / "serial"), site, "-p", "factor=3")
    assert serial.returncode == 1, serial.stderr
    cluster.client(2).close()
    result = _run_cli(
        tmp_path, str(tmp_path / "out"), site, "-p", "factor=3", "--scheduler", cluster.address
    )
    assert result.returncode == 1, result.stderr + cluster.describe()
    assert "img017.tif: ValueError" in result.stderr and "cannot read as TIFF" in result.stderr
    assert "1 of 40 input(s) failed" in result.stderr
    assert "2 worker(s) accepted" in result.stderr
    written = sorted(p.name for p in (tmp_path / "out").glob("*.tif"))
    assert written == sorted(p.name for p in inputs if p.name != "img017.tif")
    assert result.stdout.count("wrote ") == 39
    assert _leftovers(tmp_path / "out") == []
    workers_used = set()
    batches = set()
    for name in written:
        ours, theirs = tmp_path / "out" / name, tmp_path / "serial" / name
        np.testing.assert_array_equal(tifffile.imread(ours), tifffile.imread(theirs))
        mine, serial_prov = read_provenance(ours), read_provenance(theirs)
        for field in ("function", "distribution", "version", "parameters", "inputs"):
            assert mine[field] == serial_prov[field]
        assert mine["version"] == "0.1.0" and mine["distribution"] == "oplab-dask"
        workers_used.add(mine["worker"]["address"])
        batches.add(mine["batch"])
    assert len(workers_used) == 2  # both worker processes took tasks
    assert len(batches) == 1


def test_a_worker_killed_mid_run_loses_nothing_and_writes_nothing_twice(
    cluster, sites, tmp_path, monkeypatch
):
    from openhcs_plugins.batch import run_batch
    from openhcs_plugins.loader import load_plugins

    site = sites["0.1.0"]
    cluster.start_worker("w1", site)
    cluster.start_worker("victim", site)
    inputs = _inputs(tmp_path / "in", 40)
    client = cluster.client(2)
    victim = cluster.processes["victim"]
    killed = []

    def on_result(done):
        if len(killed) == 0 and done.ok and "victim" not in killed:
            finished.append(done)
            if len(finished) == 6:
                victim.send_signal(signal.SIGKILL)
                killed.append(time.monotonic())

    finished: list = []
    with on_sys_path(site, monkeypatch):
        load_plugins(include_folder=False)
        try:
            results = run_batch(
                "oplab_dask:slow_scale",
                inputs,
                tmp_path / "out",
                {"factor": 2.0, "delay": 0.15},
                client=client,
                on_result=on_result,
            )
        finally:
            client.close()
    assert killed and victim.wait(timeout=10) == -signal.SIGKILL
    assert [r.error for r in results] == [None] * 40, cluster.describe()
    assert all(r.ok for r in results)
    outputs = sorted((tmp_path / "out").glob("*.tif"))
    assert [p.name for p in outputs] == [p.name for p in inputs]
    assert _leftovers(tmp_path / "out") == []
    for source, out in zip(inputs, outputs, strict=True):
        np.testing.assert_array_equal(tifffile.imread(out), tifffile.imread(source) * 2.0)
    late = {read_provenance(out)["worker"]["pid"] for out in outputs}
    assert victim.pid in late  # it did write some before it died
    assert len(late) == 2


def test_a_worker_with_another_version_of_the_package_is_refused_with_the_diff(
    cluster, sites, tmp_path
):
    cluster.start_worker("good", sites["0.1.0"])
    cluster.start_worker("other", sites["0.2.0"])
    cluster.client(2).close()
    addresses = cluster.worker_addresses()
    _inputs(tmp_path / "in", 6)
    home = tmp_path / "client-home"
    result = _run_cli(
        tmp_path, str(tmp_path / "out"), sites["0.1.0"], "--scheduler", cluster.address
    )
    assert result.returncode == 0, result.stderr + cluster.describe()
    assert f"worker {addresses['other']}" in result.stderr
    assert "~ package oplab_dask: version 0.1.0 -> 0.2.0" in result.stderr
    assert "~ package oplab_dask: changed oplab_dask/__init__.py" not in result.stderr
    workers = {read_provenance(p)["worker"]["address"] for p in (tmp_path / "out").glob("*.tif")}
    assert workers == {addresses["good"]}
    assert {read_provenance(p)["version"] for p in (tmp_path / "out").glob("*.tif")} == {"0.1.0"}
    # With a lock file (written where 0.2.0 is installed) the workers are compared with the
    # lock, not with this client: the 0.1.0 worker is the one refused.
    lock = tmp_path / "plugins.lock"
    frozen = _cli(["freeze", "-o", str(lock)], sites["0.2.0"], home)
    assert frozen.returncode == 0, frozen.stderr
    locked = _run_cli(
        tmp_path,
        str(tmp_path / "out2"),
        sites["0.1.0"],
        "--scheduler",
        cluster.address,
        "--lock",
        str(lock),
    )
    assert locked.returncode == 0, locked.stderr
    assert f"worker {addresses['good']}" in locked.stderr
    assert "~ package oplab_dask: version 0.2.0 -> 0.1.0" in locked.stderr
    outputs = list((tmp_path / "out2").glob("*.tif"))
    assert len(outputs) == 6
    assert {read_provenance(p)["version"] for p in outputs} == {"0.2.0"}
    assert {read_provenance(p)["worker"]["address"] for p in outputs} == {addresses["other"]}


def test_only_refused_workers_stop_the_batch_before_any_output(cluster, sites, tmp_path):
    cluster.start_worker("other", sites["0.2.0"])
    cluster.client(1).close()
    _inputs(tmp_path / "in", 3)
    result = _run_cli(
        tmp_path, str(tmp_path / "out"), sites["0.1.0"], "--scheduler", cluster.address
    )
    assert result.returncode == 1
    assert "no worker can run this batch" in result.stderr
    assert "version 0.1.0 -> 0.2.0" in result.stderr
    assert "openhcs-plugins check plugins.lock" in result.stderr
    assert list((tmp_path / "out").glob("*.tif")) == []


def test_a_worker_that_cannot_see_the_output_folder_is_refused_with_a_clear_message(
    cluster, sites, tmp_path
):
    shared = tmp_path / "shared"
    shared.mkdir()
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True
    )
    if probe.returncode != 0:
        pytest.skip(f"needs unshare --mount (root) to give a worker its own view: {probe.stderr}")
    site = sites["0.1.0"]
    # This worker has its own, empty filesystem at the shared folder's path.
    cluster.start_worker(
        "elsewhere",
        site,
        prefix=[
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            f'mount -t tmpfs none {shared} && exec "$0" "$@"',
        ],
    )
    cluster.start_worker("here", site)
    cluster.client(2).close()
    addresses = cluster.worker_addresses()
    _inputs(tmp_path / "in", 4)
    result = _run_cli(tmp_path, str(shared / "out"), site, "--scheduler", cluster.address)
    assert result.returncode == 0, result.stderr + cluster.describe()
    assert f"worker {addresses['elsewhere']}" in result.stderr
    assert "must be on a filesystem every worker mounts at the same path" in result.stderr
    outs = list((shared / "out").glob("*.tif"))
    assert len(outs) == 4
    assert {read_provenance(p)["worker"]["address"] for p in outs} == {addresses["here"]}


def test_ctrl_c_cancels_the_tasks_not_run_and_leaves_only_complete_outputs(
    cluster, sites, tmp_path
):
    site = sites["0.1.0"]
    cluster.start_worker("w1", site)
    cluster.start_worker("w2", site)
    cluster.client(2).close()
    _inputs(tmp_path / "in", 40)
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openhcs_plugins.cli",
            "run",
            "oplab_dask:slow_scale",
            str(tmp_path / "in"),
            "-o",
            str(out),
            "-p",
            "delay=0.3",
            "--scheduler",
            cluster.address,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(site, tmp_path / "client-home"),
    )
    deadline = time.monotonic() + 120
    while not (out.exists() and len(list(out.glob("*.tif"))) >= 4):
        assert time.monotonic() < deadline and process.poll() is None, process.communicate()
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "cancelled:" in stderr and "of 40 input(s) finished" in stderr
    time.sleep(1.5)  # a task that was running when Ctrl-C came finishes; nothing new starts
    settled = sorted(p.name for p in out.glob("*.tif"))
    assert 4 <= len(settled) < 40
    time.sleep(1.5)
    assert sorted(p.name for p in out.glob("*.tif")) == settled
    assert _leftovers(out) == []
    for name in settled:
        assert tifffile.imread(out / name).shape == (2, 16, 16)
    with cluster.client(2) as client:  # type: ignore[attr-defined]
        left = client.run_on_scheduler(
            lambda dask_scheduler: [k for k in dask_scheduler.tasks if "openhcs-plugins" in str(k)]
        )
    assert left == []


def test_when_every_accepted_worker_is_gone_the_inputs_not_run_fail_and_the_batch_ends(
    cluster, sites, tmp_path, monkeypatch
):
    from openhcs_plugins.batch import run_batch
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.scaleout import client as client_module

    monkeypatch.setattr(client_module, "WORKER_WAIT_SECONDS", 2.0)
    monkeypatch.setattr(client_module, "REFRESH_SECONDS", 0.2)
    site = sites["0.1.0"]
    cluster.start_worker("only", site)
    inputs = _inputs(tmp_path / "in", 20)
    client = cluster.client(1)
    only = cluster.processes["only"]
    seen = []

    def on_result(done):
        seen.append(done)
        if len(seen) == 3:
            only.send_signal(signal.SIGKILL)

    with on_sys_path(site, monkeypatch):
        load_plugins(include_folder=False)
        started = time.monotonic()
        try:
            results = run_batch(
                "oplab_dask:slow_scale",
                inputs,
                tmp_path / "out",
                {"delay": 0.2},
                client=client,
                on_result=on_result,
            )
        finally:
            client.close()
    assert time.monotonic() - started < 60
    done = [r for r in results if r.ok]
    failed = [r for r in results if not r.ok]
    assert len(done) >= 3 and failed
    assert all("no accepted worker was left on the cluster" in r.error for r in failed)
    # every input reported done has its complete output; the others have none
    for result in done:
        assert tifffile.imread(result.output).shape == (2, 16, 16)
    assert {p.name for p in (tmp_path / "out").glob("*.tif")} == {r.output.name for r in done}
    assert _leftovers(tmp_path / "out") == []
