"""Code written the way OpenHCS writes its own (issue 14): artifact outputs and inputs, stacked
foreign decorators, enum contracts, and OpenHCS's analysis templates unchanged.

The templates in tests/openhcs_code are OpenHCS 0.8.6's, verbatim; the package below is
written like OpenHCS's backends (imports from ``openhcs.*``, which is not installed here).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pytest
import tifffile
from plugin_packages import Package, build_wheels, install_target, on_sys_path

from openhcs_plugins.artifacts import (
    ArtifactResultError,
    CsvOptions,
    JsonOptions,
    MaterializationSpec,
    artifact_inputs,
    artifact_outputs,
    csv_materializer,
    inputs_of,
    json_and_csv,
    outputs_of,
    spec_from_data,
    special_outputs,
    split_outputs,
)
from openhcs_plugins.artifacts.write import ArtifactWriteError, write_artifacts
from openhcs_plugins.config.trust import TrustStore
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.memory import numpy
from openhcs_plugins.registry import FunctionLoadError, FunctionRegistry, RegistryAdapter
from openhcs_plugins.validation import validate_code

CODE = Path(__file__).parent / "openhcs_code"
ANALYSIS = (CODE / "analysis_template.py").read_text()
DUAL = (CODE / "dual_output_template.py").read_text()


# -- the decorators ------------------------------------------------------------------------------


@dataclass
class Row:
    plane: int
    area: float


class Pair(NamedTuple):
    label: int
    count: int


@pytest.mark.parametrize("memory_outside", [True, False])
def test_declarations_survive_the_memory_decorator_in_either_order(memory_outside: bool) -> None:
    spec = MaterializationSpec(CsvOptions(fields=["plane", "area"], filename_suffix=".csv"))

    def f(image, positions=None):
        return image, [Row(0, 1.0)], {"n": 1}

    outputs = artifact_outputs(("rows", spec), "summary")
    inputs = artifact_inputs("positions")
    decorated = numpy(outputs(inputs(f))) if memory_outside else outputs(inputs(numpy(f)))
    assert [(o.name, o.spec) for o in outputs_of(decorated)] == [("rows", spec), ("summary", None)]
    assert inputs_of(decorated) == ("positions",)
    _, values, extra = split_outputs("f", outputs_of(decorated), decorated(np.zeros((1, 2, 2))))
    assert values == {"rows": [Row(0, 1.0)], "summary": {"n": 1}} and extra == ()
    assert special_outputs is artifact_outputs


@pytest.mark.parametrize(
    ("declaration", "message"),
    [
        (("", None), "must be an identifier"),
        (("a b", None), "must be an identifier"),
        (("rows", "csv"), "must be a MaterializationSpec"),
        (42, r"a name or \(name, MaterializationSpec"),
    ],
)
def test_bad_output_declarations_say_what_is_wrong(declaration: object, message: str) -> None:
    with pytest.raises((TypeError, ValueError), match=message):
        artifact_outputs(declaration)


def test_specs_refuse_bad_options_and_round_trip_as_data() -> None:
    with pytest.raises(TypeError, match="CsvOptions or JsonOptions"):
        MaterializationSpec("csv")  # type: ignore[arg-type]
    with pytest.raises(IndexError, match="primary"):
        MaterializationSpec(CsvOptions(), primary=1)
    with pytest.raises(ValueError, match="may not name a folder"):
        CsvOptions(filename_suffix="/../../x.csv")
    with pytest.raises(TypeError, match="list of names"):
        CsvOptions(fields="plane")  # type: ignore[arg-type]
    spec = json_and_csv(csv_suffix="_rows.csv", fields=["a"], primary="csv")
    assert spec.formats == ("json", "csv") and spec.primary == 1
    assert spec_from_data(json.loads(json.dumps(spec.to_data()))) == spec
    assert csv_materializer(analysis_type="cells").outputs[0].filename_suffix == "_cells.csv"


def test_a_result_that_does_not_match_the_declaration_names_the_function() -> None:
    outputs = outputs_of(artifact_outputs("rows", "summary")(lambda image: image))
    with pytest.raises(ArtifactResultError, match=r"f declares 2 .*returned 1 value"):
        split_outputs("f", outputs, (np.zeros(1), []))
    with pytest.raises(ArtifactResultError, match=r"return \(image, rows, summary\)"):
        split_outputs("f", outputs, np.zeros(1))
    _, values, extra = split_outputs("g", (), (np.zeros(1), {"m": 1}))
    assert values == {} and extra == ({"m": 1},)


# -- writing -------------------------------------------------------------------------------------


def test_csv_rows_from_dataclasses_dicts_namedtuples_and_columns(tmp_path: Path) -> None:
    image_path = tmp_path / "out" / "A01.tif"
    outputs = outputs_of(
        artifact_outputs(
            (
                "rows",
                MaterializationSpec(CsvOptions(fields=["area", "plane"], filename_suffix=".csv")),
            ),
            ("dicts", MaterializationSpec(CsvOptions(filename_suffix="_dicts.csv"))),
            ("pairs", MaterializationSpec(CsvOptions())),
            ("columns", MaterializationSpec(CsvOptions(filename_suffix=".tsv.csv"))),
            "summary",
        )(lambda image: image)
    )
    values = {
        "rows": [Row(0, 1.5), Row(1, np.float32(2.5))],
        "dicts": [{"a": 1}, {"a": 2, "b": [1, 2]}],
        "pairs": [Pair(1, 10)],
        "columns": {"x": np.arange(3), "y": [0.5, 1.5, 2.5]},
        "summary": {"mean": np.float64(0.25), "hist": np.array([1, 2])},
    }
    written = write_artifacts(image_path, outputs, values)
    by_name = {w["name"]: Path(w["path"]) for w in written}
    assert by_name["rows"].name == "A01_rows.csv"
    assert by_name["dicts"].name == "A01_dicts.csv"  # a suffix starting _<name> is not repeated
    assert by_name["pairs"].name == "A01_pairs_details.csv"
    assert by_name["summary"].name == "A01_summary.json"
    with by_name["rows"].open() as handle:
        assert list(csv.reader(handle)) == [["area", "plane"], ["1.5", "0"], ["2.5", "1"]]
    with by_name["dicts"].open() as handle:
        assert list(csv.reader(handle)) == [["a", "b"], ["1", ""], ["2", "[1, 2]"]]
    with by_name["columns"].open() as handle:
        assert list(csv.DictReader(handle))[2] == {"x": "2", "y": "2.5"}
    assert json.loads(by_name["summary"].read_text()) == {"mean": 0.25, "hist": [1, 2]}
    assert [w["rows"] for w in written if w["format"] == "csv"] == [2, 2, 1, 3]
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_value_one_writer_cannot_write_writes_nothing(tmp_path: Path) -> None:
    image_path = tmp_path / "A01.tif"
    outputs = outputs_of(
        artifact_outputs("summary", ("rows", MaterializationSpec(CsvOptions())))(lambda i: i)
    )
    with pytest.raises(ArtifactWriteError, match=r"'rows' cannot be written as CSV.*JsonOptions"):
        write_artifacts(image_path, outputs, {"summary": {"a": 1}, "rows": 3.5})
    assert list(tmp_path.iterdir()) == []
    same = outputs_of(
        artifact_outputs(
            ("a", MaterializationSpec(JsonOptions(filename_suffix="_x.json"))),
            ("b", MaterializationSpec(JsonOptions(filename_suffix="_x.json"))),
        )(lambda i: i)
    )
    write_artifacts(image_path, same, {"a": 1, "b": 2})  # _a_x.json and _b_x.json
    assert sorted(p.name for p in tmp_path.iterdir()) == ["A01_a_x.json", "A01_b_x.json"]


# -- static reading ------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [ANALYSIS, DUAL], ids=["analysis", "dual-output"])
def test_openhcs_analysis_templates_validate_unchanged_at_the_default_level(text: str) -> None:
    result = validate_code(text)
    assert result.is_valid, result.errors
    (function,) = result.functions
    names = [name for name, _spec in function.artifact_outputs]
    if text is ANALYSIS:
        assert names == ["analysis_results"]
        spec = spec_from_data(json.loads(function.artifact_outputs[0][1]))
        assert spec == MaterializationSpec(
            CsvOptions(fields=["slice_index", "measurement", "count"], filename_suffix=".csv")
        )
    else:
        assert names == ["cell_measurements", "slice_summaries"]
        spec = spec_from_data(json.loads(function.artifact_outputs[1][1]))
        assert spec.formats == ("json", "csv") and spec.outputs[0].wrap_list


def test_artifact_declarations_that_cannot_be_read_are_refused_with_their_line() -> None:
    head = (
        "from openhcs_plugins.memory import numpy\n"
        "from openhcs_plugins.artifacts import artifact_outputs, artifact_inputs, CsvOptions, "
        "MaterializationSpec\n"
        "SPEC = MaterializationSpec(CsvOptions())\n"
    )
    cases = {
        "@artifact_outputs(('rows', SPEC))\n": ("artifact-spec", 4),
        "@artifact_outputs(('rows', MaterializationSpec(CsvOptions(filename_suffix='a/b'))))\n": (
            "decorator",
            4,
        ),
        "@artifact_inputs(42)\n": ("decorator", 4),
        "@artifact_outputs('rows', 'rows')\n": ("decorator", 6),
    }
    for decorator, (rule, line) in cases.items():
        text = head + decorator + "@numpy\ndef f(image):\n    return image, []\n"
        result = validate_code(text)
        assert not result.is_valid, decorator
        error = next(e for e in result.errors if e.rule == rule)
        assert error.line_number == line and error.function == "f", (decorator, error)


# -- a package written like OpenHCS's backends ------------------------------------------------

OHSTYLE = Package(
    "oplab-ohstyle",
    "0.3.0",
    {
        "oplab_ohstyle/__init__.py": "",
        "oplab_ohstyle/segmentation.py": '''\
"""Written the way OpenHCS writes its backends."""
from dataclasses import dataclass

import numpy as np

from openhcs.core.memory import numpy as numpy_func
from openhcs.core.pipeline.function_contracts import artifact_inputs, special_outputs
from openhcs.processing.backends.lib_registry.unified_registry import ProcessingContract
from openhcs.processing.materialization import CsvOptions, MaterializationSpec
from openhcs.runtime.image_execution import runtime_image_execution_mode


@dataclass
class Count:
    plane: int
    objects: int


@runtime_image_execution_mode("stack")
@special_outputs(("counts", MaterializationSpec(CsvOptions(fields=["plane", "objects"]))))
@numpy_func(contract=ProcessingContract.PURE_2D)
def count_objects(image, threshold: float = 0.5):
    """Count objects per plane."""
    return image, [Count(0, int((image > threshold).sum()))]


@artifact_inputs("positions")
@numpy_func(contract=ProcessingContract.VOLUMETRIC_TO_SLICE, slice_by_slice_default=False)
def assemble(image, positions=None, blend: float = 1.0):
    """Assemble tiles."""
    return image[:1]


@numpy_func
def bad_first(image_stack, k: int = 1):
    """Not a processing function: its first parameter is not image."""
    return image_stack


@numpy_func(contract="SIDEWAYS")
def odd_contract(image):
    """Its contract is not one of the four."""
    return image


@numpy_func(contract=ProcessingContract.PURE_3D)
def clip(image, low: float = 0.0):
    """Clip."""
    return np.clip(image, low, None)
''',
    },
    {"oplab_ohstyle": "oplab_ohstyle.segmentation"},
    packages=("oplab_ohstyle",),
)


@pytest.fixture(scope="module")
def ohstyle_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = build_wheels([OHSTYLE], tmp_path_factory.mktemp("ohstyle"))
    return install_target(wheels.values(), tmp_path_factory.mktemp("ohstyle-site"))


def test_openhcs_style_package_lists_statically_and_the_bad_function_alone(
    ohstyle_site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with on_sys_path(ohstyle_site, monkeypatch):
        before = set(sys.modules)
        registry = FunctionRegistry()
        report = load_plugins(registry=registry, folder=tmp_path / "none")
        imported = sorted(
            m for m in set(sys.modules) - before if m.startswith(("oplab", "openhcs."))
        )
        assert imported == []  # 0 modules imported
        keys = sorted(k for k in registry.keys() if k.startswith("oplab_ohstyle:"))
        assert keys == [
            "oplab_ohstyle:assemble",
            "oplab_ohstyle:clip",
            "oplab_ohstyle:count_objects",
        ]
        (bad,) = [p for p in report.problems if p.key == "oplab_ohstyle:bad_first"]
        text = OHSTYLE.files["oplab_ohstyle/segmentation.py"].splitlines()
        assert bad.line == text.index("def bad_first(image_stack, k: int = 1):") + 1
        assert "image_stack" in bad.message
        (odd,) = [p for p in report.problems if p.key == "oplab_ohstyle:odd_contract"]
        assert odd.line == text.index('@numpy_func(contract="SIDEWAYS")') + 1
        assert "SIDEWAYS" in odd.message
        count = registry.info("oplab_ohstyle:count_objects")
        assert count.contract == "PURE_2D" and count.output_names == ("counts",)
        assert count.outer_decorators == ("runtime_image_execution_mode",)
        assert count.outputs_summary() == "counts (csv)"
        assembled = registry.info("oplab_ohstyle:assemble")
        assert assembled.contract == "VOLUMETRIC_TO_SLICE"
        assert assembled.artifact_inputs == ("positions",)
        data = count.to_dict()
        assert data["artifact_outputs"][0]["spec"]["outputs"][0]["fields"] == ["plane", "objects"]
        assert data["outer_decorators"] == ["runtime_image_execution_mode"]
        # first use imports the module, which needs OpenHCS: the error names the function
        with pytest.raises(FunctionLoadError, match=r"count_objects.*openhcs"):
            registry.get("oplab_ohstyle:count_objects")


def test_first_use_compares_the_signature_an_outer_decorator_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A trusted package's own decorator that changes the signature is reported at first use
    instead of running with the parameters the listing showed."""
    site = tmp_path / "site"
    (site / "oplab_outer").mkdir(parents=True)
    (site / "oplab_outer" / "__init__.py").write_text("")
    (site / "oplab_outer" / "helpers.py").write_text(
        "import functools\n\n\n"
        "def renamed(func):\n"
        "    @functools.wraps(func)\n"
        "    def inner(image, other=1):\n"
        "        return func(image)\n\n"
        "    del inner.__wrapped__\n"
        "    return inner\n"
    )
    (site / "oplab_outer" / "fns.py").write_text(
        "from openhcs_plugins.memory import numpy\n"
        "from oplab_outer.helpers import renamed\n\n\n"
        "@numpy\n@renamed\ndef f(image, sigma: float = 1.0):\n    return image\n"
    )
    dist = site / "oplab_outer-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: oplab-outer\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[openhcs.functions]\noplab_outer = oplab_outer.fns\n")
    with on_sys_path(site, monkeypatch):
        registry = FunctionRegistry()
        load_plugins(registry=registry, folder=tmp_path / "none")
        info = registry.info("oplab_outer:f")
        assert info.outer_decorators == ("renamed",)
        assert [p.name for p in info.parameters] == ["image", "sigma"]
        with pytest.raises(
            FunctionLoadError, match=r"@renamed\) change its signature.*\(image, other\)"
        ):
            registry.get("oplab_outer:f")


# -- running: the registry and `openhcs-plugins run` ---------------------------------------------


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("trusted", [True, False], ids=["in-process", "isolated"])
def test_run_writes_the_image_and_the_declared_csv_of_openhcs_analysis_template(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: bool
) -> None:
    import os

    env = dict(os.environ)
    for variable in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[variable] = str(tmp_path / variable.lower())
    env["OPENHCS_PLUGINS_DATA_DIR"] = str(tmp_path / "data")
    source = tmp_path / "my_analysis_function.py"
    source.write_text(ANALYSIS)
    added = _cli("add", str(source), *(["--trust"] if trusted else []), env=env)
    assert added.returncode == 0, added.stderr
    stack = np.random.default_rng(0).random((3, 16, 16)).astype(np.float32)
    tifffile.imwrite(tmp_path / "A01.tif", stack, photometric="minisblack")
    run = _cli(
        "run",
        "openhcs:my_analysis_function",
        str(tmp_path / "A01.tif"),
        "-o",
        str(tmp_path / "out"),
        "-p",
        "threshold=0.6",
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    table = tmp_path / "out" / "A01_analysis_results.csv"
    with table.open() as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["slice_index", "measurement", "count"]
    assert [int(r[0]) for r in rows[1:]] == [0, 1, 2]
    assert [int(r[2]) for r in rows[1:]] == [int((plane > 0.6).sum()) for plane in stack]
    with tifffile.TiffFile(tmp_path / "out" / "A01.tif") as tif:
        assert np.array_equal(tif.asarray(), stack)
        provenance = json.loads(tif.pages[0].description)["openhcs_plugins"]
    assert provenance["function"] == "openhcs:my_analysis_function"
    (artifact,) = provenance["artifacts"]
    assert artifact["name"] == "analysis_results" and artifact["rows"] == 3
    assert Path(artifact["path"]).name == table.name
    import hashlib

    assert artifact["sha256"] == hashlib.sha256(table.read_bytes()).hexdigest()
    shown = _cli("info", "my_analysis_function", env=env).stdout
    assert ("runs: in process" if trusted else "runs: isolated") in shown
    assert "artifact_outputs: analysis_results (csv)" in shown


def test_registry_call_returns_the_outputs_and_the_editor_text_lists_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "functions"
    folder.mkdir()
    path = folder / "analyze_cells.py"
    path.write_text(DUAL)
    TrustStore().trust(DUAL, path)
    adapter = RegistryAdapter(FunctionRegistry())
    report = load_plugins(adapter=adapter, include_entry_points=False, folder=folder)
    assert not report.problems, report.problems
    stack = np.zeros((2, 32, 32), np.float32)
    stack[:, 4:12, 4:12] = 200.0
    image, cells, summaries = adapter.registry.call("openhcs:analyze_cells", stack)
    assert image.shape == stack.shape
    assert [c.area for c in cells] == [64.0, 64.0]
    assert [s.cell_count for s in summaries] == [1, 1]
    info = adapter.registry.info("openhcs:analyze_cells")
    assert info.outputs_summary() == "cell_measurements (csv), slice_summaries (json+csv)"
