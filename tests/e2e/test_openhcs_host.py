"""The OpenHCS host adapter against the real OpenHCS 0.8.6 (issue 15).

An environment layered on the cached OpenHCS environment (tests/openhcs_env.py) gets this
project (its wheel, built with ``build``) and a package made by ``openhcs-plugins new`` (a
FLEXIBLE and a PURE_2D function), then ``openhcs-plugins host install openhcs``. Fresh
processes of that environment then see the package's functions in OpenHCS's catalog under
``namespace:name`` with their contracts as OpenHCS's enum, beside a folder function that reaches
OpenHCS through its own folder loader; a function transported the way OpenHCS sends functions
to its workers (a pickled registry reference) resolves and runs in a spawned process;
``host uninstall`` removes them.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from openhcs_env import openhcs_env, openhcs_venv

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd}: {done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    return done


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = openhcs_venv()
    root = tmp_path_factory.mktemp("host")
    venv = root / "venv"
    _run([sys.executable, "-m", "venv", str(venv)])
    python = venv / "bin" / "python"
    base_site = _run([str(base), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    site = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    Path(site.stdout.strip(), "_openhcs_base.pth").write_text(base_site.stdout.strip() + "\n")
    dist = root / "dist"
    _run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist), str(REPO)])
    (ours,) = dist.glob("openhcs_plugins-*.whl")
    _run([str(python), "-m", "pip", "install", "--quiet", str(ours)], timeout=900)
    # a package made from our template, with a PURE_2D function added
    _run(
        [sys.executable, "-m", "openhcs_plugins.cli", "new", str(root), "--no-input",
         "--option", "project_name=Lab Blur", "--option", "namespace=lab_blur"],
        timeout=300,
    )  # fmt: skip
    (project,) = [p for p in root.iterdir() if (p / "pyproject.toml").is_file()]
    (functions,) = project.glob("src/*/functions.py")
    functions.write_text(
        functions.read_text()
        + textwrap.dedent('''

            @numpy(contract="PURE_2D")
            def lab_invert(image):
                """Invert each plane on its own."""
                return image.max() - image
            ''')
    )
    _run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "-o", str(dist), str(project)]
    )
    (package,) = [w for w in dist.glob("*.whl") if w != ours]
    _run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(package)], timeout=600)
    home = root / "home"
    folder = home / "data" / "openhcs" / "custom_functions"
    folder.mkdir(parents=True)
    (folder / "folder_double.py").write_text(
        "from openhcs.core.memory import numpy\n\n\n@numpy\ndef folder_double(image):\n"
        "    return image * 2\n"
    )
    return {"python": python, "home": home, "root": root}


def _in(host: dict[str, Path], code: str, *, timeout: int = 900) -> dict:
    env = openhcs_env(host["home"])
    done = _run([str(host["python"]), "-c", code], env=env, cwd=host["root"], timeout=timeout)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _cli(host: dict[str, Path], *args: str) -> subprocess.CompletedProcess[str]:
    env = openhcs_env(host["home"])
    return _run(
        [str(host["python"]), "-m", "openhcs_plugins.cli", *args], env=env, cwd=host["root"]
    )


CATALOG = """
import json
from openhcs.processing.custom_functions.manager import CustomFunctionManager
CustomFunctionManager().load_all_custom_functions()
from openhcs.processing.backends.lib_registry.registry_service import RegistryService
catalog = RegistryService.get_all_functions_with_metadata()
print(json.dumps({key: [m.contract.name, m.module, m.original_name or m.name]
                  for key, m in catalog.items()
                  if key.startswith(("lab_blur:", "openhcs:folder_double"))}))
"""

WORKER = """
import json, multiprocessing, pickle
import numpy as np
from openhcs.processing.backends.lib_registry.registry_service import RegistryService
from openhcs.core.function_reference import FunctionReferenceTransportAuthority


def child(payload):
    reference = pickle.loads(payload)
    func = reference.resolve()
    contract = getattr(func, "__processing_contract__", None)
    out = func(np.arange(8, dtype=np.float32).reshape(2, 2, 2))
    return [contract.name if contract is not None else None, np.asarray(out).tolist()]


if __name__ == "__main__":
    catalog = RegistryService.get_all_functions_with_metadata()
    results = {}
    for key in ("lab_blur:lab_invert", "lab_blur:my_filter"):
        reference = FunctionReferenceTransportAuthority.function_reference(catalog[key].func)
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            results[key] = pool.apply(child, (pickle.dumps(reference),))
    print(json.dumps(results))
"""


def test_host_install_publishes_packages_and_keeps_contracts(host: dict[str, Path]) -> None:
    status = json.loads(_cli(host, "host", "status", "--json").stdout)
    assert status["installed"] is False and status["openhcs_version"] == "0.8.6"
    assert status["namespaces"] == {"lab_blur": [status["namespaces"]["lab_blur"][0]]}
    _cli(host, "host", "install", "openhcs")
    catalog = _in(host, CATALOG)
    module = catalog["lab_blur:my_filter"][1]
    assert catalog == {
        "lab_blur:my_filter": ["FLEXIBLE", module, "my_filter"],
        "lab_blur:lab_invert": ["PURE_2D", module, "lab_invert"],
        "openhcs:folder_double": [
            "FLEXIBLE",
            "openhcs.processing.custom_functions",
            "folder_double",
        ],
    }
    (script := host["root"] / "worker_check.py").write_text(WORKER)
    env = openhcs_env(host["home"])
    done = _run([str(host["python"]), str(script)], env=env, cwd=host["root"], timeout=900)
    results = json.loads(done.stdout.strip().splitlines()[-1])
    stack = [[[0, 1], [2, 3]], [[4, 5], [6, 7]]]
    assert results["lab_blur:lab_invert"][0] == "PURE_2D"
    assert results["lab_blur:my_filter"][0] == "FLEXIBLE"
    assert results["lab_blur:my_filter"][1] == stack  # the template's defaults: scale 1, offset 0
    # uninstall: fresh processes no longer see the package's functions
    _cli(host, "host", "uninstall", "openhcs")
    after = _in(host, CATALOG)
    assert "lab_blur:my_filter" not in after and "openhcs:folder_double" in after
    assert json.loads(_cli(host, "host", "status", "--json").stdout)["installed"] is False


def test_the_hook_costs_little_where_openhcs_is_not_imported(host: dict[str, Path]) -> None:
    _cli(host, "host", "install", "openhcs")
    try:
        code = (
            "import sys; "
            "print(sorted(m for m in sys.modules if m.startswith(('openhcs', 'lab_blur'))))"
        )
        env = openhcs_env(host["home"])
        done = _run([str(host["python"]), "-c", code], env=env, cwd=host["root"])
        # the hook module only: not this package, no OpenHCS, no plugin
        assert done.stdout.strip() == "[]"
        hooked = "import sys; print('_openhcs_plugins_host_hook' in sys.modules)"
        done = _run([str(host["python"]), "-c", hooked], env=env, cwd=host["root"])
        assert done.stdout.strip() == "True"
    finally:
        _cli(host, "host", "uninstall", "openhcs")


ORDERS = """
import json, sys
order = sys.argv[1]
if order == "openhcs first":
    import openhcs.processing.backends.lib_registry.unified_registry
    import lab_blur.functions as functions
else:
    import lab_blur.functions as functions
    import openhcs.processing.backends.lib_registry.openhcs_registry
print(json.dumps({name: getattr(getattr(functions, name), "__processing_contract__").name
                  for name in ("lab_invert", "my_filter")}))
"""


@pytest.mark.parametrize("order", ["openhcs first", "plugin first"])
def test_functions_carry_openhcs_contract_without_being_registered(
    host: dict[str, Path], order: str
) -> None:
    """A function used directly in an OpenHCS pipeline (not through the catalog) declares its
    contract the way OpenHCS reads it, whichever was imported first."""
    _cli(host, "host", "install", "openhcs")
    try:
        env = openhcs_env(host["home"])
        done = _run(
            [str(host["python"]), "-c", ORDERS, order], env=env, cwd=host["root"], timeout=600
        )
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {
            "lab_invert": "PURE_2D",
            "my_filter": "FLEXIBLE",
        }
    finally:
        _cli(host, "host", "uninstall", "openhcs")


PIPELINE = """
import json, multiprocessing, sys
from pathlib import Path

if __name__ == "__main__":
    multiprocessing.set_start_method("spawn", force=True)
    out = Path(sys.argv[1])
    from openhcs.demo.synthetic_data import SyntheticMicroscopyGenerator

    SyntheticMicroscopyGenerator(
        str(out / "plate"), grid_size=(1, 1), tile_size=(64, 64), wavelengths=1,
        z_stack_levels=1, num_cells=5, wells=["A01", "A02"], random_seed=1,
    ).generate_dataset()
    from objectstate.lazy_factory import ensure_global_config_context
    import openhcs.processing.func_registry as func_registry
    from openhcs.core.config import GlobalPipelineConfig, PipelineConfig
    from openhcs.core.orchestrator.orchestrator import PipelineOrchestrator
    from openhcs.core.progress import set_progress_queue
    from openhcs.core.steps.function_step import FunctionStep
    from openhcs.processing.backends.lib_registry.registry_service import RegistryService
    from openhcs.processing.custom_functions.manager import CustomFunctionManager

    ensure_global_config_context(GlobalPipelineConfig, GlobalPipelineConfig())
    with func_registry._registry_lock:
        if not func_registry._registry_initialized:
            func_registry._auto_initialize_registry()
    CustomFunctionManager().load_all_custom_functions()
    RegistryService.clear_metadata_cache()
    catalog = RegistryService.get_all_functions_with_metadata()
    steps = [
        FunctionStep(func=(catalog["lab_blur:my_filter"].func, {"scale": 3.0, "offset": 5.0}),
                     name="package function"),
        FunctionStep(func=catalog["openhcs:folder_double"].func, name="folder function"),
    ]
    orchestrator = PipelineOrchestrator(
        plate_path=out / "plate", pipeline_config=PipelineConfig(), progress_callback=None
    )
    orchestrator.initialize()
    queue = multiprocessing.Manager().Queue()
    set_progress_queue(queue)
    bundle = orchestrator.compile_pipelines(pipeline_definition=steps)
    results = orchestrator.execute_compiled_plate(
        bundle, max_workers=2, progress_queue=queue,
        progress_context={"execution_id": "plugins-e2e", "plate_id": str(out / "plate")},
    )
    print(json.dumps({well: result.status.value for well, result in results.items()}))
"""


def test_a_plate_runs_through_openhcs_pipeline_with_published_functions(
    host: dict[str, Path],
) -> None:
    """A 2-well synthetic plate through PipelineOrchestrator with spawn workers: a package
    function, then a folder function; each well's output equals what `openhcs-plugins run`
    gives on the same image."""
    import numpy as np
    import tifffile

    _cli(host, "host", "install", "openhcs")
    try:
        out = host["root"] / "pipeline"
        (script := host["root"] / "pipeline_run.py").write_text(PIPELINE)
        env = openhcs_env(host["home"])
        done = _run(
            [str(host["python"]), str(script), str(out)], env=env, cwd=host["root"], timeout=1200
        )
        assert json.loads(done.stdout.strip().splitlines()[-1]) == {
            "A01": "success",
            "A02": "success",
        }
        for well in ("A01", "A02"):
            (source,) = (out / "plate").rglob(f"{well}_s001_w1.tif")
            (theirs,) = (out / "plate_openhcs").rglob(f"{well}_*.tif")
            first, second = host["root"] / f"{well}_1.tif", host["root"] / f"{well}_2.tif"
            _cli(host, "run", "lab_blur:my_filter", str(source), "-o", str(first),
                 "-p", "scale=3", "-p", "offset=5")  # fmt: skip
            _cli(host, "run", "openhcs:folder_double", str(first), "-o", str(second))
            ours = tifffile.imread(second).astype(np.float64).squeeze()
            expected = (tifffile.imread(source).astype(np.float64) * 3 + 5) * 2
            assert np.allclose(ours, expected, rtol=1e-6)
            assert np.allclose(
                tifffile.imread(theirs).astype(np.float64).squeeze(), ours, rtol=1e-6
            )
    finally:
        _cli(host, "host", "uninstall", "openhcs")
