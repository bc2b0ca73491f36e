"""Containment at default settings (issue 13, "Must show").

Files the static policy accepts but that would change the host if they ran here, dropped into
the functions folder as a downloaded file would be (nobody trusted them), then listed, called
and followed by another registration: the host is unchanged (no marker, no changed library
state, no secret in the result) and alive. Every adversarial file of the corpus is also dropped
in: refused by the policy, it is reported and never runs.

The same harmful files, trusted, run in process: there, what reaches the host's control flow
(KeyboardInterrupt, SystemExit, GeneratorExit) is an error of the function.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from openhcs_plugins._usercode import ControlFlowEscape
from openhcs_plugins.config.trust import TrustStore
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.registry import FunctionRegistry, RegistryAdapter
from openhcs_plugins.sources.candidate import TrustLevel

CORPUS = Path(__file__).parent / "corpus" / "adversarial"
HEAD = (
    "from openhcs_plugins.decorators import numpy\n"
    "import numpy as np\nimport warnings\nimport enum\nimport scipy.fft\n\n"
)


def _function(name: str, body: str, module_level: str = "") -> str:
    lines = "".join(f"    {line}\n" for line in body.splitlines())
    return f"{HEAD}{module_level}\n@numpy\ndef {name}(image):\n{lines}    return image\n"


#: name -> (module-level code, body): each would change the host if it ran here. The first
#: group passes the user-level policy (the lint does not know these routes: a method of a
#: library object that changes its state); the second is refused by it since issue 13
#: (reported, never run); both are dropped in as downloaded files.
HARMFUL = {
    "masked_display": ("", "np.ma.masked_print_option.set_display('planted')"),
    "masked_enable": ("", "np.ma.masked_print_option.enable(False)"),
    "keyboard_interrupt": ("", "raise KeyboardInterrupt"),
    "system_exit": ("", "raise SystemExit(3)"),
    "generator_exit": ("", "raise GeneratorExit"),
    "module_interrupt": ("raise KeyboardInterrupt\n", "pass"),
}
REFUSED = {
    "numpy_errors": ("", "np.seterr(all='ignore')"),
    "numpy_print": ("", "np.set_printoptions(precision=1, threshold=5)"),
    "warning_filters": ("", "warnings.simplefilter('ignore')\nwarnings.filterwarnings('error')"),
    "fft_backend": ("", "scipy.fft.set_global_backend('scipy', only=True)"),
    "random_state": ("", "np.random.seed(1234)"),
    "enum_into_numpy": ("", "enum.global_enum(enum.Enum('Planted', 'a b', module='numpy'))"),
    "typecodes": ("", "np.typecodes.update({'All': 'planted'})"),
    "scalar_types": ("", "np.sctypeDict.update({'planted': np.float16})"),
    "object_buffer": ("", "forged = np.ndarray((4,), dtype=object, buffer=bytearray(64))"),
}


def _host_state() -> dict[str, object]:
    return {
        "err": np.geterr(),
        "print": np.get_printoptions(),
        "filters": list(warnings.filters),
        "random": repr(np.random.get_state()[1][:8]),
        # numpy's submodules load lazily; anything else new in numpy was planted
        "numpy_names": sorted(k for k, v in vars(np).items() if not isinstance(v, ModuleType)),
        "typecodes": dict(np.typecodes),
        "scalar_types": sorted(map(str, np.sctypeDict)),
        "masked_display": np.ma.masked_print_option.display(),
        "masked_enabled": np.ma.masked_print_option.enabled(),
        "modules": sorted(m for m in sys.modules if m.startswith("openhcs_plugins_custom.")),
    }


def _load(folder: Path) -> tuple[FunctionRegistry, list]:
    adapter = RegistryAdapter(FunctionRegistry())
    report = load_plugins(adapter=adapter, include_entry_points=False, folder=folder)
    return adapter.registry, report.problems


@pytest.mark.slow
def test_untrusted_files_leave_the_host_unchanged(tmp_path: Path) -> None:
    folder = tmp_path / "functions"
    folder.mkdir()
    for name, (module_level, body) in {**HARMFUL, **REFUSED}.items():
        (folder / f"{name}.py").write_text(_function(name, body, module_level))
    for path in sorted(CORPUS.glob("*.py")):
        shutil.copy(path, folder / path.name)
    secret = "s3cr3t-" + os.urandom(4).hex()
    os.environ["OPENHCS_TEST_SECRET"] = secret
    np.random.seed(7)
    before = _host_state()
    try:
        registry, problems = _load(folder)
        # every adversarial corpus file is refused and reported with its file
        refused = {Path(p.file).name for p in problems if p.file}
        assert {p.name for p in CORPUS.glob("*.py")} <= refused
        assert {f"{name}.py" for name in REFUSED} <= refused
        image = np.ones((1, 8, 8), np.float32)
        for name in HARMFUL:
            info = registry.entry(f"openhcs:{name}").info
            assert info.provenance.trust is TrustLevel.STRICT, name
            try:
                result = registry.call(f"openhcs:{name}", image)
            except Exception as exc:  # an error of that function, never the host's
                assert secret not in str(exc)
            else:
                assert np.array_equal(np.asarray(result), image)
        assert _host_state() == before  # nothing of them was executed here
        # another registration after all that, in process, still works
        fine = folder.parent / "fine"
        fine.mkdir()
        (fine / "fine.py").write_text(
            "from openhcs_plugins.decorators import numpy\n\n\n"
            "@numpy\ndef fine(image):\n    return image + 1\n"
        )
        TrustStore().trust((fine / "fine.py").read_text(), fine / "fine.py")
        registry2, problems2 = _load(fine)
        assert not problems2
        assert float(registry2.call("openhcs:fine", image).max()) == 2.0
        after = _host_state()
        new = set(after.pop("modules")) - set(before.pop("modules"))
        assert new == {"openhcs_plugins_custom.fine"}  # trusted: ran here
        assert after == before
        assert not list(tmp_path.rglob("*marker*"))
    finally:
        del os.environ["OPENHCS_TEST_SECRET"]


@pytest.mark.parametrize("name", ["keyboard_interrupt", "system_exit", "generator_exit"])
def test_trusted_code_cannot_stop_the_host(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "functions"
    folder.mkdir()
    module_level, body = HARMFUL[name]
    path = folder / f"{name}.py"
    path.write_text(_function(name, body, module_level))
    TrustStore().trust(path.read_text(), path)
    registry, problems = _load(folder)
    assert not problems
    assert registry.entry(f"openhcs:{name}").info.provenance.trust is TrustLevel.USER
    with pytest.raises(ControlFlowEscape) as caught:
        registry.call(f"openhcs:{name}", np.ones((1, 4, 4), np.float32))
    message = str(caught.value)
    line = path.read_text().splitlines().index(f"    {body}") + 1
    assert name in message and str(path) in message and f"line {line}" in message
    assert caught.value.line == line and caught.value.path == str(path)
    # the callable itself, called directly (as OpenHCS does), is guarded by its decorator
    with pytest.raises(ControlFlowEscape):
        registry.get(f"openhcs:{name}")(np.ones((1, 4, 4), np.float32))


def test_trusted_module_level_interrupt_is_a_load_error(tmp_path: Path) -> None:
    from openhcs_plugins.registry import FunctionLoadError

    folder = tmp_path / "functions"
    folder.mkdir()
    path = folder / "module_interrupt.py"
    module_level, body = HARMFUL["module_interrupt"]
    path.write_text(_function("module_interrupt", body, module_level))
    TrustStore().trust(path.read_text(), path)
    registry, _ = _load(folder)
    with pytest.raises(FunctionLoadError, match="KeyboardInterrupt"):
        registry.get("openhcs:module_interrupt")


def test_a_real_ctrl_c_still_stops_the_program() -> None:
    import subprocess

    script = (
        "import os, signal, threading\n"
        "import numpy as np\n"
        "from openhcs_plugins.decorators import numpy\n"
        "@numpy\n"
        "def slow(image):\n"
        "    while True:\n"
        "        image = image + 0\n"
        "threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()\n"
        "try:\n"
        "    slow(np.ones((1, 4, 4)))\n"
        "except KeyboardInterrupt:\n"
        "    print('stopped by Ctrl-C')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.stdout.strip() == "stopped by Ctrl-C", done.stderr
