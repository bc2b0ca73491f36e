"""The isolated runner: every runtime route of SECURITY-NOTES.md is contained, results equal
in-process results, and ``strict`` code never runs in this process.

``tests/corpus/runtime`` holds one snippet per route. The static policy would refuse most of
them (they use ``os``, ``threading``, ``atexit``...), so they run through the runner directly,
at the trusted level: this proves the runner contains them even if the static layer were
bypassed. Each snippet tries to create a marker file (a path the test gives) at a point it
must never reach, or, for result payloads, only when its code runs in this process.

Routes run under three protection sets: everything the kernel allows (``full``), namespaces
without the filesystem protection (``shared-filesystem``, so a marker *could* be written if the
process survived) and rlimits plus process-group killing only (``no-namespaces``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import os
import pickle
import re
import socket
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins.config import load_settings
from openhcs_plugins.execution import (
    IsolatedFunctionError,
    IsolatedRunner,
    IsolationError,
    IsolationLimits,
    LoadFailed,
    ResultRejected,
    WorkerCrashed,
    errors,
    is_isolated,
    probe_protections,
    protocol,
    run_isolated,
    runner_for,
    validate_in_worker,
)
from openhcs_plugins.execution.channel import FrameReader, Refused
from openhcs_plugins.execution.dispatch import CodeExecutionError, exec_candidate, module_name_for
from openhcs_plugins.registry import parameters_of
from openhcs_plugins.sources.candidate import Candidate, SourceKind, TrustLevel
from openhcs_plugins.validation import validate_code, validate_function

CORPUS = Path(__file__).parent / "corpus"
RUNTIME = sorted((CORPUS / "runtime").glob("*.py"))
IMAGE = np.arange(2 * 16 * 16, dtype=np.float32).reshape(2, 16, 16)

#: Short limits so the whole module stays fast on 2 cores.
LIMITS = IsolationLimits(
    cpu_seconds=2,
    memory_mb=512,
    wall_seconds=5,
    max_output_mb=64,
    open_files=64,
    stdout_kb=256,
)
MODES = {
    "full": {},
    "shared-filesystem": {"filesystem": False},
    "no-namespaces": {"namespaces": False},
}
#: Routes that run until a CPU or wall-clock limit: tested with limits of their own, under
#: ``full`` only (rlimits and the parent's clock do not depend on namespaces; this keeps the
#: module fast).
SLOW_ROUTES = {
    "r01_busy_loop": {"cpu_seconds": 1, "wall_seconds": 15},
    "r02_sleep": {"wall_seconds": 1.5},
    "r05_bigint_power": {"cpu_seconds": 1, "wall_seconds": 15},
    "r06_catastrophic_regex": {"cpu_seconds": 1, "wall_seconds": 15},
}
#: Routes whose code would act later (a thread, a grandchild): wait past that, then check.
DELAYED_ROUTES = {"r11_thread_outlives_call", "r12_grandchild_double_fork"}

SIMPLE = """\
import numpy as np
from openhcs_plugins.memory import numpy


@numpy
def scale(image, factor: float = 2.0, *, offset: int = 0):
    \"\"\"Multiply and shift.\"\"\"
    print("scaling", image.shape)
    return image * factor + offset, {"mean": float(image.mean()), "shape": image.shape}
"""


def header(path: Path, key: str) -> str:
    match = re.search(rf"^# {key}: (.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} has no '# {key}:' line"
    return match.group(1).strip()


def worker_processes(dirs: list[str]) -> list[int]:
    """Processes on this machine whose command line names one of these workers' folders
    (the job, its supervisor and anything they forked, even after setsid)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{name}/cmdline").read_bytes()
        except OSError:
            continue
        if any(d.encode() in cmdline for d in dirs):
            found.append(int(name))
    return found


def route_cases() -> list:
    cases = []
    for path in RUNTIME:
        for mode in MODES:
            if path.stem in SLOW_ROUTES and mode != "full":
                continue
            cases.append(pytest.param(path, mode, id=f"{path.stem}-{mode}"))
    return cases


def test_every_runtime_route_of_the_issue_has_a_snippet():
    routes = " | ".join(header(p, "route") for p in RUNTIME)
    for route in (
        "busy loop",
        "sleep",
        "memory bomb",
        "big-int power",
        "catastrophic regex",
        "segfault through as_strided",
        "SystemExit",
        "os._exit",
        "stdout flood",
        "thread outliving the call",
        "grandchild process outliving the call",
        "pickle payload",
        "ndarray subclass",
        "broadcast view claiming 48 GB",
        "process-global state",
    ):
        assert route in routes, route


@pytest.mark.parametrize(("path", "mode"), route_cases())
def test_runtime_route_is_contained(path: Path, mode: str, tmp_path: Path):
    marker = tmp_path / "marker"
    limits = replace(LIMITS, **MODES[mode], **SLOW_ROUTES.get(path.stem, {}))
    expect = header(path, "expect")
    settings_before = (np.geterr(), np.get_printoptions()["precision"], np.linalg.norm)
    runner = IsolatedRunner(
        path.read_text(encoding="utf-8"), "attack", filename=str(path), limits=limits
    )
    with runner:
        call = lambda: runner.call(IMAGE, marker=str(marker), host_pid=os.getpid())  # noqa: E731
        if expect == "plain ndarray":
            result = call()
            # what would run the payload in this process: arithmetic, ufuncs, pickling
            assert type(result) is np.ndarray
            np.testing.assert_array_equal(result + 1, IMAGE + 1)
            np.add(result, 1, out=np.empty_like(result))
            pickle.loads(pickle.dumps(result))
        elif expect == "host unchanged":
            call()
        else:
            wanted = tuple(getattr(errors, name) for name in expect.split("|"))
            with pytest.raises(wanted) as info:
                call()
            error = info.value
            assert error.function == "attack"
            assert str(path) in str(error) and error.hint
            if not isinstance(error, ResultRejected) or path.stem == "r16_forged_frame":
                assert not runner.running, "a failed worker must be replaced, not reused"
    if path.stem in DELAYED_ROUTES:
        time.sleep(0.7)  # the snippet acts after 0.5 s
    assert (np.geterr(), np.get_printoptions()["precision"], np.linalg.norm) == settings_before
    assert not marker.exists(), f"{path.name} ran past its containment ({mode})"
    assert worker_processes(runner.worker_dirs) == [], "a worker process outlived the runner"
    assert not any(Path(d).exists() for d in runner.worker_dirs)


def test_the_process_keeps_working_after_a_crash():
    code = (CORPUS / "runtime" / "r07_segfault_as_strided.py").read_text(encoding="utf-8")
    code += (
        "\n\n@numpy\ndef fine(image, marker: str = '', host_pid: int = 0):\n    return image * 2\n"
    )
    with IsolatedRunner(code, "attack", limits=LIMITS) as runner:
        with pytest.raises(WorkerCrashed) as info:
            runner.call(IMAGE)
        assert info.value.signal_name == "SIGSEGV"
        np.testing.assert_array_equal(runner.call_function("fine", IMAGE), IMAGE * 2)
        assert runner.workers_started == 2


HOST_PROGRAM = """
import sys
import numpy as np
from openhcs_plugins.execution import IsolatedRunner, IsolationLimits

limits = IsolationLimits(cpu_seconds=30, memory_mb=512, wall_seconds=60,
                         namespaces=sys.argv[2] == "namespaces")
runner = IsolatedRunner(open(sys.argv[1]).read(), "attack", limits=limits).start()
print(runner.worker_dirs[0], flush=True)
runner.call(np.ones((1, 4, 4), np.float32))
"""


@pytest.mark.parametrize("mode", ["namespaces", "no-namespaces"])
def test_a_worker_does_not_outlive_the_program_that_started_it(mode, tmp_path):
    import signal
    import subprocess

    host = subprocess.Popen(
        [sys.executable, "-c", HOST_PROGRAM, str(CORPUS / "runtime" / "r02_sleep.py"), mode],
        stdout=subprocess.PIPE,
    )
    try:
        assert host.stdout is not None
        workdir = host.stdout.readline().decode().strip()
        assert workdir and worker_processes([workdir])
        time.sleep(0.3)  # the call (a long sleep) is running
    finally:
        host.send_signal(signal.SIGKILL)  # no atexit, no close(): the host just disappears
        host.wait()
    deadline = time.monotonic() + 5
    while worker_processes([workdir]) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert worker_processes([workdir]) == []


# -- the worker script and the old module path ------------------------------------------------


def test_the_worker_script_loads_only_its_standard_library_siblings_before_the_limits():
    """The runner starts ``python -I -B <script>``: before the limits, neither numpy nor the
    package's ``__init__`` may be imported, only the script's own standard-library modules."""
    import subprocess

    from openhcs_plugins.execution import worker
    from openhcs_plugins.execution.process import WORKER_SCRIPT

    assert Path(WORKER_SCRIPT) == Path(worker.__file__).resolve()
    probe = (
        "import runpy, sys\n"
        f"ns = runpy.run_path({WORKER_SCRIPT!r}, run_name='not_main')\n"
        "ns['load_siblings']()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('openhcs_plugins', 'numpy')))"
    )
    out = subprocess.run(
        [sys.executable, "-I", "-B", "-c", probe], capture_output=True, text=True, check=True
    )
    assert eval(out.stdout) == sorted(f"openhcs_plugins.execution.{m}" for m in worker.SIBLINGS)


def test_execution_imports_nothing_from_the_loader_manager_cli_or_gui():
    """Imports run one way: the loader, the manager, the CLI and the GUI use execution, never
    the reverse (imports inside functions count; read from the source)."""
    from test_architecture import PACKAGE, imports_of, modules

    names = [name for name in modules() if name.startswith(f"{PACKAGE}.execution")]
    assert len(names) > 10
    above = ("loader", "manager", "cli", "gui", "batch", "pytest_plugin", "isolation")
    for name in names:
        internal, _ = imports_of(name)
        up = sorted(t for t in internal if t.removeprefix(f"{PACKAGE}.").split(".")[0] in above)
        assert not up, f"{name} imports {up}"


def test_the_old_isolation_module_re_exports_the_same_names():
    from openhcs_plugins import execution, isolation

    assert isolation.__all__
    for name in isolation.__all__:
        assert getattr(isolation, name) is getattr(execution, name), name


# -- the protocol: what the parent accepts ---------------------------------------------------------


def frame(header: dict) -> bytes:
    return protocol.encode_frame(header)


@pytest.mark.parametrize(
    ("desc", "reason"),
    [
        ({"dtype": "<f8", "shape": [6 << 30], "nbytes": 48 << 30}, "MiB of arrays"),
        ({"dtype": "|O", "shape": [4], "nbytes": 32}, "not allowed"),
        ({"dtype": "<f4", "shape": [4], "nbytes": 1 << 40}, "declares"),
        ({"dtype": "[('a', '<f4')]", "shape": [4], "nbytes": 16}, "not allowed"),
        ({"dtype": "<f4", "shape": [-4], "nbytes": 16}, "malformed"),
    ],
)
def test_parent_refuses_an_array_by_its_header_before_reading_it(desc, reason):
    reader = FrameReader(1 << 20, 64 << 20)
    with pytest.raises(Refused, match=reason):
        reader.feed_bytes(frame({"op": "result", "value": {"$array": 0}, "arrays": [desc]}))
    assert reader.arrays == []


def test_parent_refuses_metadata_over_its_cap():
    reader = FrameReader(1024, 64 << 20)
    with pytest.raises(Refused, match="metadata"):
        reader.feed_bytes(frame({"op": "result", "value": "x" * 4096}))


def test_parent_reads_a_well_formed_frame():
    array = np.arange(6, dtype=np.int16).reshape(2, 3)
    desc = {"dtype": array.dtype.str, "shape": [2, 3], "nbytes": array.nbytes}
    reader = FrameReader(1 << 20, 1 << 20)
    reader.feed_bytes(
        frame({"op": "result", "value": {"$array": 0}, "arrays": [desc]}) + array.tobytes()
    )
    assert reader.done
    value = protocol.decode(reader.header["value"], reader.arrays)
    np.testing.assert_array_equal(value, array)
    with pytest.raises(ValueError):
        protocol.decode({"$array": 3}, reader.arrays)


# -- protections -----------------------------------------------------------------------------------


def test_report_says_which_protections_were_active():
    report = probe_protections(LIMITS)
    for name in ("RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_NOFILE", "RLIMIT_CORE"):
        assert name in report.rlimits, report.rlimit_failures
    assert report.rlimits["RLIMIT_CORE"] == 0
    assert report.rlimits["RLIMIT_FSIZE"] == LIMITS.scratch_mb * 2**20  # the scratch folder's size
    assert report.rlimits["RLIMIT_DATA"] == 512 * 2**20
    assert report.namespaces == ("user", "pid", "net", "ipc", "mount") or report.namespace_failures
    assert any("RLIMIT_CPU" in line for line in report.lines())
    json.dumps(report.to_dict())
    off = probe_protections(replace(LIMITS, namespaces=False))
    assert off.namespaces == () and "switched off" in off.namespace_failures["all"]
    assert off.subreaper and not off.filesystem_protected


PROBE = """\
import os
import socket
from openhcs_plugins.memory import numpy


@numpy
def probe(
    image, port: int = 0, outside: str = "", secret_file: str = "", visible: str = "",
    repo: str = "",
):
    found = {}
    try:
        open(repo, "w").close()
        found["write_repo"] = "written"
    except OSError as exc:
        found["write_repo"] = type(exc).__name__
    try:
        open(os.path.join(visible, "new.txt"), "w").close()
        found["write_visible"] = "written"
    except OSError as exc:
        found["write_visible"] = type(exc).__name__
    found["visible_listing"] = sorted(os.listdir(visible)) if os.path.isdir(visible) else None
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        found["network"] = "connected"
    except OSError as exc:
        found["network"] = type(exc).__name__
    try:
        open(outside, "w").close()
        found["write_outside"] = "written"
    except OSError as exc:
        found["write_outside"] = type(exc).__name__
    try:
        with open("scratch.txt", "w") as handle:
            pass
        found["write_scratch"] = "created"
    except OSError as exc:
        found["write_scratch"] = type(exc).__name__
    found["secret_visible"] = os.path.exists(secret_file)
    found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
    found["env"] = sorted(os.environ)
    return image, found
"""


def test_worker_has_no_network_no_host_files_and_no_secrets(tmp_path, monkeypatch):
    report = probe_protections(LIMITS)
    if not report.filesystem_protected or not report.network_isolated:
        pytest.skip(f"namespaces unavailable here: {report.namespace_failures} {report.notes}")
    monkeypatch.setenv("OPENHCS_TEST_SECRET_TOKEN", "hunter2")
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    outside = tmp_path.parent / f"{tmp_path.name}-outside" / "outside.txt"
    outside.parent.mkdir()
    repo = Path(__file__).parent / f".isolation-probe-{os.getpid()}"
    package = tmp_path / "venv" / "site-packages"  # a path the worker needs, inside /tmp
    package.mkdir(parents=True)
    (package / "plugin.py").write_text("")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        _, found = run_isolated(
            PROBE,
            "probe",
            IMAGE,
            port=port,
            outside=str(outside),
            secret_file=str(secret),
            visible=str(package),
            repo=str(repo),
            limits=replace(LIMITS, visible_paths=(str(package),)),
        )
    assert found["write_repo"] == "OSError" and not repo.exists()  # read-only (EROFS)
    assert found["visible_listing"] == ["plugin.py"]
    assert found["write_visible"] != "written" and not (package / "new.txt").exists()
    assert found["network"] != "connected"
    assert found["write_outside"] == "FileNotFoundError" and not outside.exists()  # hidden
    assert found["write_scratch"] == "created"
    assert found["secret_visible"] is False
    assert os.getpid() not in found["pids"] and len(found["pids"]) < 10
    assert "OPENHCS_TEST_SECRET_TOKEN" not in found["env"]


def test_without_namespaces_the_report_says_so_and_limits_still_hold(tmp_path):
    outside = tmp_path / "outside.txt"
    with IsolatedRunner(PROBE, "probe", limits=replace(LIMITS, namespaces=False)) as runner:
        runner.call(IMAGE, port=1, outside=str(outside))
        assert runner.report is not None and runner.report.namespaces == ()
    # without a mount namespace nothing hides the host's files (docs/security.md says so)
    assert not outside.exists() or outside.stat().st_size == 0


SCRATCH = """\
import os
import tempfile

from openhcs_plugins.memory import numpy


@numpy
def scratch(image, big_mb: int = 0):
    found = {
        "tempdir": tempfile.gettempdir(),
        "cwd": os.getcwd(),
        "env": {k: os.environ.get(k) for k in ("HOME", "TMPDIR", "POCL_CACHE_DIR")},
    }
    with tempfile.NamedTemporaryFile(delete=False) as handle:  # what tensorflow does on import
        handle.write(b"x" * 2**20)
    found["small"] = os.path.getsize(handle.name)
    try:
        with open(os.path.join(found["tempdir"], "big.bin"), "wb") as big:
            for _ in range(big_mb):
                big.write(b"x" * 2**20)
                big.flush()
        found["big"] = "written"
    except OSError as exc:
        found["big"] = exc.strerror
    return image, found
"""


@pytest.mark.parametrize("mode", list(MODES))
def test_worker_writes_temporary_files_in_a_private_size_capped_folder_removed_afterwards(mode):
    limits = replace(LIMITS, scratch_mb=4, **MODES[mode])
    with IsolatedRunner(SCRATCH, limits=limits) as runner:
        _, found = runner.call(IMAGE, big_mb=5)
        report = runner.report
        folders = list(runner.worker_dirs)
    assert report is not None and report.scratch
    assert found["tempdir"] == found["cwd"] == report.scratch
    assert found["env"] == dict.fromkeys(found["env"], report.scratch)
    assert found["small"] == 2**20
    # past the cap: the tmpfs is full, or the file-size limit (4 MiB) stops the write
    assert found["big"] in ("No space left on device", "File too large"), found["big"]
    assert report.rlimits["RLIMIT_FSIZE"] == 4 * 2**20
    assert folders and not any(Path(folder).exists() for folder in folders)


# -- warm workers, errors, limits ------------------------------------------------------------------


def test_warm_runner_pays_start_up_once_per_batch():
    with IsolatedRunner(SIMPLE, "scale", limits=LIMITS) as runner:
        for factor in (1.0, 2.0, 3.0, 4.0):
            out, meta = runner.call(IMAGE, factor=factor, offset=1)
            np.testing.assert_array_equal(out, IMAGE * factor + 1)
            assert meta == {"mean": float(IMAGE.mean()), "shape": (2, 16, 16)}
        assert runner.workers_started == 1
        assert runner.last_output.stdout == "scaling (2, 16, 16)\n"
    assert np.geterr()["all" if "all" in np.geterr() else "divide"] != "ignore"


def test_an_idle_warm_worker_is_shut_down_and_restarted_on_demand():
    with IsolatedRunner(SIMPLE, "scale", limits=replace(LIMITS, idle_seconds=0.3)) as runner:
        runner.call(IMAGE)
        assert runner.running
        time.sleep(0.8)
        assert not runner.running
        assert worker_processes(runner.worker_dirs) == []
        runner.call(IMAGE)
        assert runner.running and runner.workers_started == 2


def test_cpu_limit_applies_to_each_call_not_to_the_whole_batch():
    code = (
        "import time\nfrom openhcs_plugins.memory import numpy\n\n\n@numpy\n"
        "def spin(image, seconds: float = 0.6):\n"
        "    end = time.process_time() + seconds\n"
        "    while time.process_time() < end:\n        pass\n    return image\n"
    )
    with IsolatedRunner(
        code, "spin", limits=replace(LIMITS, cpu_seconds=1, wall_seconds=10)
    ) as runner:
        for _ in range(3):  # 1.8 s of CPU in all, 0.6 s per call
            runner.call(IMAGE)
        assert runner.workers_started == 1


def test_function_exception_comes_back_with_its_line_and_the_worker_stays():
    code = (
        SIMPLE + "\n\n@numpy\ndef broken(image):\n    raise ValueError('sigma must be positive')\n"
    )
    with IsolatedRunner(code, "broken", filename="/lab/broken.py", limits=LIMITS) as runner:
        with pytest.raises(IsolatedFunctionError) as info:
            runner.call(IMAGE)
        error = info.value
        line = code.splitlines().index("    raise ValueError('sigma must be positive')") + 1
        assert error.exc_type == "ValueError" and error.line_number == line
        assert "sigma must be positive" in str(error) and f"/lab/broken.py:{line}" in str(error)
        assert runner.running
        runner.call_function("scale", IMAGE)
        assert runner.workers_started == 1


def test_load_error_names_the_file_and_line():
    code = "from openhcs_plugins.memory import numpy\n\nVALUE = 1 // 0\n"
    with pytest.raises(LoadFailed) as info:
        run_isolated(code, "f", IMAGE, filename="/lab/bad.py", limits=LIMITS)
    assert info.value.line_number == 3 and "ZeroDivisionError" in str(info.value)


def test_an_input_larger_than_the_memory_limit_is_a_memory_error():
    from openhcs_plugins.execution import WorkerMemoryError

    big = np.zeros((3, 8192, 8192), np.float32)  # 768 MiB of untouched zero pages
    with IsolatedRunner(SIMPLE, "scale", limits=LIMITS) as runner:
        with pytest.raises(WorkerMemoryError, match="input arrays do not fit"):
            runner.call(big)
        out, _ = runner.call(IMAGE)  # a new worker
        assert runner.workers_started == 2
    np.testing.assert_array_equal(out, IMAGE * 2)


def test_arguments_that_cannot_cross_are_refused_in_the_caller():
    with IsolatedRunner(SIMPLE, "scale", limits=LIMITS) as runner:
        with pytest.raises(TypeError, match="isolated functions take"):
            runner.call(IMAGE, factor=object())
        with pytest.raises(TypeError, match="dtype object"):
            runner.call(np.array([None, 1], dtype=object))


def test_limits_come_from_the_settings_with_overrides():
    settings = load_settings(isolation__cpu_seconds=7, isolation__stdout_kb=3)
    limits = IsolationLimits.from_settings(settings, wall_seconds=9.0)
    assert (limits.cpu_seconds, limits.stdout_kb, limits.wall_seconds) == (7, 3, 9.0)
    assert IsolationLimits.from_settings().memory_mb == settings.isolation.memory_mb
    runner = IsolatedRunner(SIMPLE, "scale", limits=LIMITS, stdout_kb=1)
    assert runner.limits.stdout_kb == 1 and runner.limits.cpu_seconds == 2


def test_validate_in_worker_reports_each_function_and_survives_a_crash():
    code = (
        "import numpy as np\nfrom numpy.lib.stride_tricks import as_strided\n"
        "from openhcs_plugins.memory import numpy\n\n\n"
        "@numpy\ndef good(image):\n    return image + 1\n\n\n"
        "@numpy\ndef crash(image):\n"
        "    return image + as_strided(image, shape=(4,), strides=(1 << 46,)).sum()\n\n\n"
        "@numpy\ndef needs(image, radius):\n    return image\n\n\n"
        "@numpy\ndef raises(image):\n    raise KeyError('channel')\n\n\n"
        "@numpy\ndef last(image):\n    return image[:1], {'n': 1}\n"
    )
    check = validate_in_worker(code, "/lab/mixed.py", limits=LIMITS)
    status = {f.name: (f.status, f.error_type) for f in check.functions}
    assert status == {
        "good": ("ok", ""),
        "crash": ("failed", "WorkerCrashed"),
        "needs": ("skipped", ""),
        "raises": ("failed", "KeyError"),
        "last": ("ok", ""),
    }
    assert not check.ok and check.report is not None
    assert "(1, 32, 32) float32" in str(check)
    assert json.loads(json.dumps(check.to_dict()))["functions"][1]["error_type"] == "WorkerCrashed"
    broken = validate_in_worker(
        "import numpy as np\nx = np.zeros(3)[5]\n", "/lab/b.py", limits=LIMITS
    )
    assert broken.load_error and broken.line_number == 2 and "/lab/b.py:2" in str(broken)


# -- the benign corpus: the same results in a worker as in this process ----------------------------

#: A representative subset (the whole corpus takes ~25 s): scipy.ndimage, measurements as
#: metadata, np.fft, np.linalg, dataclasses, enums, typing, __future__ annotations, a
#: __main__ block, OpenHCS import paths, collections, named tuples, match, two functions, and
#: one torch function (torch imported in the worker).
BENIGN_SUBSET = [
    "b01_gaussian_blur",
    "b07_count_objects",
    "b08_region_measurements",
    "b09_fft_bandpass",
    "b10_phase_correlation",
    "b11_svd_denoise",
    "b13_dataclass_params",
    "b14_enum_method",
    "b15_typing_annotations",
    "b16_future_annotations",
    "b17_main_demo",
    "b23_memory_types",
    "b24_openhcs_decorators_module",
    "b36_collections_label_stats",
    "b41_two_functions",
    "b43_namedtuple_result",
    "b44_match_mode",
    "b52_linalg_lstsq_background",
]


def plain(value):
    """What a value looks like after crossing: dataclasses, named tuples and enums as data,
    numpy scalars as Python numbers, framework arrays as numpy."""
    if isinstance(value, enum.Enum):
        return plain(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return {k: plain(v) for k, v in zip(type(value)._fields, value, strict=True)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value
    if type(value).__module__.startswith("torch"):
        return value.numpy()
    if isinstance(value, tuple):
        return tuple(plain(v) for v in value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    return value


def assert_same(a, b, where="result"):
    """Equal, floating-point values up to rounding (rtol 1e-9 for float64, 1e-5 for float32):
    BLAS and LAPACK results can change in the last bits with the alignment of a buffer."""
    if isinstance(a, np.ndarray):
        assert type(b) is np.ndarray, where
        assert a.dtype == b.dtype and a.shape == b.shape, where
        if a.dtype.kind in "fc":
            # BLAS and LAPACK may take another path for another buffer alignment
            rtol = 1e-9 if a.dtype.itemsize >= 8 else 1e-5
            np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-12, err_msg=where)
        else:
            np.testing.assert_array_equal(a, b, err_msg=where)
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys(), where
        for key in a:
            assert_same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, float):
        assert type(b) is float, where
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (a != a and b != b), where
    else:
        assert a == b and type(a) is type(b), where


@pytest.mark.parametrize("stem", BENIGN_SUBSET)
def test_benign_function_gives_the_same_result_isolated_as_in_process(stem, tmp_path):
    path = CORPUS / "benign" / f"{stem}.py"
    text = path.read_text(encoding="utf-8")
    static = validate_code(text, trust=TrustLevel.STRICT, filename=str(path))
    assert static.is_valid
    candidate = Candidate.from_code(text, source=SourceKind.FOLDER, path=tmp_path / path.name)
    module = exec_candidate(candidate)
    stack = (np.random.default_rng(0).random((2, 32, 32), dtype=np.float32) * 100).astype(
        np.float32
    )
    with IsolatedRunner(
        text, filename=str(path), limits=replace(LIMITS, wall_seconds=30)
    ) as runner:
        assert set(runner.functions) == set(static.function_names)
        for function in static.functions:
            local = getattr(module, function.name)(stack.copy())
            isolated = runner.call_function(function.name, stack.copy())
            assert_same(plain(local), isolated, function.name)
        assert runner.workers_started == 1


# -- strict: the host never executes the code ------------------------------------------------

_EXECUTED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    if event == "exec" and args and hasattr(args[0], "co_filename"):
        _EXECUTED.append(args[0].co_filename)


sys.addaudithook(_audit)


def test_strict_code_never_runs_in_this_process(tmp_path, capfd):
    path = tmp_path / "strict_scale_never_in_host.py"
    candidate = Candidate.from_code(
        SIMPLE, source=SourceKind.FOLDER, path=path, trust=TrustLevel.STRICT
    )
    sys.modules.pop(module_name_for(candidate), None)  # another test may have used the name
    errors_before = np.geterr()
    _EXECUTED.clear()
    module = exec_candidate(candidate)
    func = module.scale
    out, meta = func(IMAGE, 3.0, offset=2)
    np.testing.assert_array_equal(out, IMAGE * 3 + 2)
    assert meta["shape"] == (2, 16, 16)
    assert str(path) not in _EXECUTED, "the strict file was executed in the host"
    assert module_name_for(candidate) not in sys.modules
    assert np.geterr() == errors_before
    assert "scaling" not in capfd.readouterr().out
    assert is_isolated(func)
    assert func.__openhcs_isolated_runner__.limits.idle_seconds == 60
    func.__openhcs_isolated_runner__.close()


def test_strict_proxy_looks_like_the_function_it_stands_for(tmp_path):
    static = validate_code(SIMPLE, trust=TrustLevel.STRICT)
    (function,) = static.functions
    candidate = Candidate.from_code(SIMPLE, source=SourceKind.EDITOR, trust=TrustLevel.STRICT)
    module = exec_candidate(candidate)
    proxy = module.scale
    try:
        assert proxy.__name__ == "scale" and proxy.__doc__ == "Multiply and shift."
        assert (proxy.input_memory_type, proxy.output_memory_type) == ("numpy", "numpy")
        assert parameters_of(proxy) == function.parameters
        assert "slice_by_slice" in str(__import__("inspect").signature(proxy))
        assert validate_function(proxy).is_valid
        with pytest.raises(TypeError):
            proxy(IMAGE, 1.0, 2.0, 3.0)  # checked against the static signature, in the host
    finally:
        proxy.__openhcs_isolated_runner__.close()


def test_strict_load_error_is_reported_like_a_host_execution_error():
    code = (
        "from openhcs_plugins.memory import numpy\n\n\n"
        "@numpy\ndef f(image, k=1 // 0):\n    return image\n"
    )
    assert validate_code(code, trust=TrustLevel.STRICT).is_valid
    candidate = Candidate.from_code(code, source=SourceKind.EDITOR, trust=TrustLevel.STRICT)
    with pytest.raises(CodeExecutionError) as info:
        exec_candidate(candidate)
    assert info.value.line_number == 5 and "ZeroDivisionError" in info.value.message
    assert "def f" in info.value.code_snippet


def test_manager_registers_and_loads_strict_functions_as_isolated(tmp_path):
    from openhcs_plugins.manager import CustomFunctionManager
    from openhcs_plugins.registry import FunctionRegistry

    registry = FunctionRegistry()
    manager = CustomFunctionManager(tmp_path / "functions", registry=registry, trust="strict")
    (func,) = manager.register_from_code(SIMPLE)
    assert is_isolated(func)
    out, _ = registry.call("openhcs:scale", IMAGE, factor=2.0)
    np.testing.assert_array_equal(out, IMAGE * 2)
    func.__openhcs_isolated_runner__.close()

    fresh = FunctionRegistry()
    loader = CustomFunctionManager(tmp_path / "functions", registry=fresh, trust="strict")
    assert loader.load_all_custom_functions() == 1
    loaded = fresh.get("openhcs:scale")
    assert is_isolated(loaded)
    with runner_for(fresh.info("openhcs:scale"), limits=LIMITS) as runner:
        out, _ = runner.apply(IMAGE, factor=0.5)
    np.testing.assert_array_equal(out, IMAGE * 0.5)
    loaded.__openhcs_isolated_runner__.close()


def test_an_importable_module_runs_in_the_worker_by_name(tmp_path):
    # what runner_for does for an installed package: the worker imports the module itself
    path = CORPUS / "benign" / "b01_gaussian_blur.py"
    candidate = Candidate.from_code(path.read_text(encoding="utf-8"), path=tmp_path / path.name)
    expected = exec_candidate(candidate).gaussian_blur(IMAGE)
    module = "tests.corpus.benign.b01_gaussian_blur"  # found through the repository root
    with IsolatedRunner(module=module, function_name="gaussian_blur", limits=LIMITS) as runner:
        np.testing.assert_allclose(runner.call(IMAGE), expected, rtol=1e-6)
        assert runner.filename == f"<{module}>"


def test_runner_for_refuses_a_file_changed_since_it_was_listed(tmp_path):
    from openhcs_plugins.manager import CustomFunctionManager
    from openhcs_plugins.registry import FunctionRegistry

    registry = FunctionRegistry()
    manager = CustomFunctionManager(tmp_path / "functions", registry=registry, trust="user")
    manager.register_from_code(SIMPLE)
    (tmp_path / "functions" / "scale.py").write_text(SIMPLE.replace("2.0", "3.0"))
    with pytest.raises(LoadFailed, match="changed since"):
        runner_for(registry.info("openhcs:scale"), limits=LIMITS)


def test_calling_a_function_the_code_does_not_define_is_a_load_error():
    with pytest.raises(LoadFailed, match="'missing'") as info:
        run_isolated(SIMPLE, "missing", IMAGE, filename="/lab/scale.py", limits=LIMITS)
    assert isinstance(info.value, IsolationError) and isinstance(info.value, RuntimeError)
    assert info.value.hint and "/lab/scale.py" in str(info.value)


# -- forged or malformed answers: always an IsolationError, never a worker left behind ----------

FORGER = """\
import json
import os
import struct
import time

from openhcs_plugins.memory import numpy

HEADER = {header!r}


def _forge():
    with open("/proc/self/cmdline", "rb") as handle:
        config = json.loads(handle.read().split(b"\\0")[-2])
    data = HEADER.encode()
    os.write(config["response_fd"], b"OHW1" + struct.pack(">I", len(data)) + data)
    time.sleep(60)


if {at_load!r}:
    _forge()


@numpy
def attack(image):
    _forge()
    return image
"""
_HUGE = "1" + "0" * 400  # a JSON integer no float can hold


@pytest.mark.parametrize(
    ("at_load", "header"),
    [
        (True, '{"op":"loaded","functions":{"attack":{"parameters":5}}}'),
        (True, '{"op":"loaded","functions":{"attack":{"parameters":null}}}'),
        (False, '{"op":"result","value":null,"usage":{"maxrss_kb":[1]}}'),
        (False, '{"op":"result","value":null,"usage":{"cpu":' + _HUGE + "}}"),
        (False, '{"op":"result","value":{"$complex":[' + _HUGE + ",0]}}"),
        (False, '{"op":"result","value":' + "[" * 300 + "]" * 300 + "}"),
        (False, '{"op":"result","value":{"$tuple":5}}'),
        (
            False,
            '{"op":"result","value":{"$array":0},'
            '"arrays":[{"dtype":"<f4","shape":[0,18446744073709551616],"nbytes":0}]}',
        ),
    ],
    ids=[
        "load-parameters-not-a-list",
        "load-parameters-null",
        "usage-not-a-number",
        "usage-cpu-overflows",
        "complex-overflows",
        "nested-deeper-than-max-depth",
        "tuple-not-a-list",
        "zero-size-shape-numpy-cannot-make",
    ],
)
def test_a_forged_answer_is_refused_and_the_worker_killed(at_load, header):
    code = FORGER.format(header=header, at_load=at_load)
    runner = IsolatedRunner(code, "attack", filename="/lab/forger.py", limits=LIMITS)
    try:
        with pytest.raises(ResultRejected) as info:
            runner.call(IMAGE)  # starts the worker: a forged load answer comes here too
        assert info.value.function == "attack" and "/lab/forger.py" in str(info.value)
        assert not runner.running
    finally:
        runner.close()
    assert worker_processes(runner.worker_dirs) == [], "a worker process outlived the runner"
    assert not any(Path(d).exists() for d in runner.worker_dirs)


EXITS_AFTER_ANSWERING = """\
import os
import sys

from openhcs_plugins.memory import numpy


@numpy
def answer_then_exit(image):
    job = sys.modules["openhcs_plugins.execution.job"].Job
    send = job.send

    def send_then_exit(self, header, arrays=None):
        send(self, header, arrays)
        os._exit(0)

    job.send = send_then_exit
    return image * 2
"""


def test_a_worker_that_ended_right_after_its_answer_is_cleaned_up(monkeypatch):
    from openhcs_plugins.execution.process import WorkerProcess

    exchange = WorkerProcess._exchange

    def status_first(self, header, arrays, what):
        # the order the parent sees when the end status arrives with the last bytes
        out = exchange(self, header, arrays, what)
        if header.get("op") == "call":
            self._wait_status(5.0)
        return out

    monkeypatch.setattr(WorkerProcess, "_exchange", status_first)
    runner = IsolatedRunner(EXITS_AFTER_ANSWERING, limits=LIMITS)
    try:
        np.testing.assert_array_equal(runner.call(IMAGE), IMAGE * 2)
        assert not runner.running
        # dropped, so it must be cleaned up now, not when the runner is closed
        assert not any(Path(d).exists() for d in runner.worker_dirs)
        np.testing.assert_array_equal(runner.call(IMAGE), IMAGE * 2)  # a new worker
        assert runner.workers_started == 2
        assert len([d for d in runner.worker_dirs if Path(d).exists()]) == 0
    finally:
        runner.close()


READ_BACK = """\
import os
import resource

from openhcs_plugins.memory import numpy


@numpy
def read_back(image):
    names = [n for n in dir(resource) if n.startswith("RLIMIT_")]
    limits = {n: list(resource.getrlimit(getattr(resource, n))) for n in names}
    fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
    return image, {"limits": limits, "fds": fds, "env": sorted(os.environ)}
"""


@pytest.mark.parametrize("mode", list(MODES))
def test_every_limit_the_report_names_is_in_force_in_the_job(mode, monkeypatch):
    from openhcs_plugins.execution.process import ENV_PASSED, WORKER_ENVIRONMENT

    monkeypatch.setenv("OPENHCS_TEST_SECRET_TOKEN", "hunter2")
    read, write = os.pipe()  # inheritable descriptors of the host must not reach the job
    os.set_inheritable(read, True)
    os.set_inheritable(write, True)
    try:
        with IsolatedRunner(READ_BACK, limits=replace(LIMITS, **MODES[mode])) as runner:
            _, found = runner.call(IMAGE)
            report = runner.report
    finally:
        os.close(read)
        os.close(write)
    assert report is not None and report.rlimits
    for name, hard in report.rlimits.items():
        assert found["limits"][name][1] == hard, name
    assert found["limits"]["RLIMIT_CPU"][0] <= LIMITS.cpu_seconds + 1  # per call
    assert found["limits"]["RLIMIT_DATA"] == [512 * 2**20] * 2
    assert found["limits"]["RLIMIT_FSIZE"] == [LIMITS.scratch_mb * 2**20] * 2
    assert found["limits"]["RLIMIT_NOFILE"] == [64, 64]
    # stdin, stdout, stderr, the request and response pipes, and the listing's own
    assert len(found["fds"]) == 6, found["fds"]
    allowed = {
        *ENV_PASSED,
        *WORKER_ENVIRONMENT,
        *protocol.SCRATCH_VARIABLES,
        "PYTHONDONTWRITEBYTECODE",
    }
    assert set(found["env"]) <= allowed, set(found["env"]) - allowed


def test_packages_a_pth_file_puts_under_a_hidden_folder_are_visible_to_the_worker(tmp_path):
    """A layered venv, a user site or an editable install can put packages under a folder the
    worker hides (/tmp, home): the worker still imports them (read-only), as the host does."""
    import subprocess

    from tests.plugin_packages import make_venv

    python = make_venv(tmp_path / "venv")
    hidden = tmp_path / "packages"  # under /tmp (pytest's tmp_path): hidden in the worker
    hidden.mkdir()
    (hidden / "lab_constants_for_worker.py").write_text("VALUE = 42\n")
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    Path(site, "zz_lab.pth").write_text(f"{hidden}\n")
    code = (
        "import numpy as np\n"
        "from openhcs_plugins.execution import IsolatedRunner\n"
        "src = 'from openhcs_plugins.memory import numpy\\nimport lab_constants_for_worker as c\\n"
        "\\n@numpy\\ndef f(image):\\n    return image + c.VALUE\\n'\n"
        "with IsolatedRunner(src, 'f') as runner:\n"
        "    print(float(runner.call(np.zeros((1, 2, 2), np.float32)).max()))\n"
    )
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "42.0"
