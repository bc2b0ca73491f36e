from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from openhcs_plugins._images import read_provenance
from openhcs_plugins.cli import app
from openhcs_plugins.hosts.openhcs_folder import openhcs_imports

runner = CliRunner()

GOOD = '''from openhcs_plugins.decorators import numpy


@numpy
def scale(image, factor: float = 2.0, clip: bool = False):
    """Multiply by a factor."""
    out = image * factor
    return out.clip(0, 1) if clip else out
'''

BAD = """from openhcs_plugins.decorators import numpy


@numpy
def scale(img):
    return img
"""


@pytest.fixture
def functions_dir(tmp_path, monkeypatch):
    folder = tmp_path / "functions"
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    return folder


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_template_prints_a_valid_starter_for_each_type(tmp_path):
    result = invoke("template", "--memory-type", "torch")
    assert result.exit_code == 0
    assert "def " in result.stdout and "torch" in result.stdout
    bad = invoke("template", "-m", "matlab")
    assert bad.exit_code == 1 and "matlab" in bad.stderr


def test_validate_reports_file_and_line(tmp_path):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(GOOD)
    bad.write_text(BAD)
    assert invoke("validate", str(good)).exit_code == 0
    result = invoke("validate", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:5" in result.stderr
    assert "first parameter is 'img', but must be 'image'" in result.stderr
    data = json.loads(invoke("validate", str(bad), "--json").stdout)
    assert data["valid"] is False and data["errors"][0]["line"] == 5


def test_add_list_info_remove_round_trip(tmp_path, functions_dir):
    source = tmp_path / "scale.py"
    source.write_text(GOOD)
    added = invoke("add", str(source))
    assert added.exit_code == 0, added.output
    # written with the imports OpenHCS resolves too (it loads the same folder)
    assert (functions_dir / "scale.py").read_text() == openhcs_imports(GOOD)
    again = invoke("add", str(source))
    assert again.exit_code == 1 and "already exists" in again.stderr
    assert invoke("add", str(source), "--replace").exit_code == 0

    listed = json.loads(invoke("list", "--json").stdout)
    (entry,) = [e for e in listed if e["key"] == "openhcs:scale"]
    assert entry["namespace"] == "openhcs" and entry["name"] == "scale"
    assert entry["input_memory_type"] == entry["output_memory_type"] == "numpy"
    assert entry["source"] == "folder"
    assert entry["distribution"] is None and entry["version"] is None
    assert json.loads(invoke("list", "--json", "-m", "torch").stdout) == []
    # one function a line (each item through json's C encoder), still one JSON array
    lines = invoke("list", "--json").stdout.splitlines()
    assert lines[0] == "[" and lines[-1] == "]" and len(lines) == len(listed) + 2
    assert [json.loads(line.strip().rstrip(",")) for line in lines[1:-1]] == listed

    info = invoke("info", "scale")
    assert info.exit_code == 0 and "Multiply by a factor." in info.stdout
    assert str(functions_dir / "scale.py") in info.stdout

    assert invoke("remove", "scale").exit_code == 0
    assert not (functions_dir / "scale.py").exists()
    missing = invoke("remove", "scale")
    assert missing.exit_code == 1 and "no custom function" in missing.stderr
    assert invoke("remove", "../etc").exit_code == 1


def test_add_invalid_file_prints_line_and_saves_nothing(tmp_path, functions_dir):
    source = tmp_path / "bad.py"
    source.write_text(BAD)
    result = invoke("add", str(source))
    assert result.exit_code == 1
    assert ":5" in result.stderr and "must be 'image'" in result.stderr
    assert not functions_dir.exists() or not list(functions_dir.glob("*.py"))


def _tiff(path: Path, data: np.ndarray) -> Path:
    tifffile.imwrite(path, data, photometric="minisblack")
    return path


def test_rgb_tiff_samples_become_channels(tmp_path):
    from openhcs_plugins._images import read_stack

    rgb = np.zeros((5, 6, 3), dtype=np.uint8)
    rgb[..., 1] = 7
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    stack = read_stack(tmp_path / "rgb.tif")
    assert stack.shape == (3, 5, 6) and np.all(stack[1] == 7)


def test_run_writes_tiff_with_provenance_and_preview(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    assert invoke("add", str(tmp_path / "scale.py")).exit_code == 0
    image = _tiff(tmp_path / "in.tif", np.arange(12, dtype=np.float32).reshape(3, 4))
    out = tmp_path / "out.tif"
    preview = tmp_path / "preview.png"
    result = invoke(
        "run",
        "openhcs:scale",
        str(image),
        "-o",
        str(out),
        "-p",
        "factor=3",
        "--preview",
        str(preview),
    )
    assert result.exit_code == 0, result.output
    from openhcs_plugins._images import read_stack

    data = read_stack(out)
    assert data.shape == (1, 3, 4)  # 2D promoted to (1, Y, X)
    assert np.array_equal(data[0], np.arange(12).reshape(3, 4) * 3)
    prov = read_provenance(out)
    assert prov["function"] == "openhcs:scale"
    assert prov["parameters"] == {"factor": 3.0}
    assert len(prov["inputs"][0]["sha256"]) == 64
    assert preview.read_bytes().startswith(b"\x89PNG")


def test_run_parses_params_against_the_signature(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    image = _tiff(tmp_path / "in.tif", np.ones((1, 2, 2), dtype=np.float32))
    wrong_type = invoke(
        "run", "scale", str(image), "-o", str(tmp_path / "o.tif"), "-p", "factor=big"
    )
    assert wrong_type.exit_code == 1 and "'big' is not a number" in wrong_type.stderr
    wrong_name = invoke("run", "scale", str(image), "-o", str(tmp_path / "o.tif"), "-p", "sigma=2")
    assert wrong_name.exit_code == 1 and "no parameter 'sigma'" in wrong_name.stderr
    assert "factor, clip" in wrong_name.stderr
    ok = invoke(
        "run",
        "scale",
        str(image),
        "-o",
        str(tmp_path / "o.tif"),
        "-p",
        "factor=5",
        "-p",
        "clip=true",
    )
    assert ok.exit_code == 0
    assert tifffile.imread(tmp_path / "o.tif").max() == 1.0


def test_run_on_several_files_reports_one_failure_and_finishes_the_rest(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    _tiff(inputs / "a.tif", np.ones((2, 3, 3), dtype=np.float32))
    (inputs / "b.tif").write_bytes(b"not a tiff at all")
    _tiff(inputs / "c.tif", np.ones((1, 3, 3), dtype=np.uint16))
    out = tmp_path / "out"
    result = invoke("run", "openhcs:scale", str(inputs), "-o", str(out))
    assert result.exit_code == 1
    assert "b.tif" in result.stderr and "1 of 3 input(s) failed" in result.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.tif", "c.tif"]


def test_unknown_function_suggests_a_close_key(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    image = _tiff(tmp_path / "in.tif", np.ones((1, 2, 2), dtype=np.float32))
    result = invoke("run", "openhcs:scael", str(image), "-o", str(tmp_path / "o.tif"))
    assert result.exit_code == 1 and "Did you mean: openhcs:scale" in result.stderr


def test_demo_registers_examples_and_writes_outputs(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", "demo", "-o", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    for name in (
        "subtract_background",
        "gaussian_blur",
        "normalize_percentile",
        "threshold_measure",
    ):
        assert f"openhcs:{name}" in result.stdout
    output = tifffile.imread(tmp_path / "demo" / "cells_subtract_background.tif")
    source = tifffile.imread(tmp_path / "demo" / "cells.tif")
    assert output.shape == source.shape == (2, 256, 256)
    # Background removal lowers the median (the uneven background) far more than the peaks.
    assert np.median(output) < 0.2 * np.median(source)
    assert (tmp_path / "demo" / "preview.png").stat().st_size > 1000


def test_validate_a_folder_checks_every_file(tmp_path):
    (tmp_path / "good.py").write_text(GOOD)
    (tmp_path / "bad.py").write_text(BAD)
    result = invoke("validate", str(tmp_path), "--json")
    assert result.exit_code == 1
    reports = {Path(r["file"]).name: r["valid"] for r in json.loads(result.stdout)}
    assert reports == {"bad.py": False, "good.py": True}


def test_validate_names_a_distribution_that_is_not_installed():
    result = invoke("validate", "no-such-distribution-xyz")
    assert result.exit_code == 1
    assert "no distribution 'no-such-distribution-xyz' is installed" in result.stderr


def test_validate_an_installed_distribution_without_entry_point_says_so():
    result = invoke("validate", "tifffile")
    assert result.exit_code == 1
    assert "declares no `openhcs.functions` entry point" in result.stderr


def test_doctor_reports_frameworks_functions_and_cache(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    (functions_dir / "broken.py").write_text("def broken(:\n")
    data = json.loads(invoke("doctor", "--json").stdout)
    assert set(data["frameworks"]) == {
        "numpy",
        "cupy",
        "torch",
        "tensorflow",
        "jax",
        "pyclesperanto",
    }
    assert data["frameworks"]["numpy"]["usable"] is True
    assert data["functions"] == 1
    assert any("broken.py" in str(p["file"]) for p in data["problems"])
    assert data["cache"]["state"] in {"fresh", "missing", "disabled", "stale"}


def test_disable_and_enable_a_function_changes_the_listing(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    assert "openhcs:scale" in invoke("list", "--json").stdout
    off = invoke("disable", "openhcs:scale")
    assert off.exit_code == 0, off.output
    assert "openhcs:scale" not in invoke("list", "--json").stdout
    assert invoke("enable", "openhcs:scale").exit_code == 0
    assert "openhcs:scale" in invoke("list", "--json").stdout
    unknown = invoke("disable", "nothing_here")
    assert unknown.exit_code == 0 and "nothing_here" in unknown.stdout


def test_cache_clear_then_listing_rebuilds_it():
    invoke("list")
    cleared = invoke("cache", "clear")
    assert cleared.exit_code == 0 and "removed" in cleared.stdout
    assert "missing" in invoke("cache", "info").stdout
    invoke("list")
    assert "fresh" in invoke("cache", "info").stdout


def test_run_isolated_gives_the_same_output_and_records_the_protections(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    for name in ("a", "b"):
        _tiff(inputs / f"{name}.tif", np.full((2, 3, 3), 2.0, dtype=np.float32))
    plain = invoke("run", "scale", str(inputs), "-o", str(tmp_path / "plain"))
    isolated = invoke("run", "scale", str(inputs), "-o", str(tmp_path / "iso"), "--isolated")
    assert plain.exit_code == 0 and isolated.exit_code == 0, isolated.output
    for name in ("a.tif", "b.tif"):
        assert np.array_equal(
            tifffile.imread(tmp_path / "plain" / name), tifffile.imread(tmp_path / "iso" / name)
        )
    prov = read_provenance(tmp_path / "iso" / "a.tif")
    assert "isolation" in prov and "isolation" not in read_provenance(tmp_path / "plain" / "a.tif")


def test_validate_isolated_runs_the_functions_in_a_worker(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(GOOD)
    crashing = tmp_path / "crash.py"
    crashing.write_text(GOOD.replace("out = image * factor", "out = image[99] * factor"))
    ok = invoke("validate", str(good), "--isolated", "--json")
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["isolated"]["ok"] is True
    failed = invoke("validate", str(crashing), "--isolated")
    assert failed.exit_code == 1
    assert "IndexError" in failed.stderr


def test_run_refuses_two_inputs_that_would_write_the_same_output(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        _tiff(tmp_path / folder / "x.tif", np.ones((1, 2, 2), dtype=np.float32))
    out = tmp_path / "out"
    result = invoke("run", "scale", str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(out))
    assert result.exit_code == 1
    assert "x.tif" in result.stderr and "same output" in result.stderr
    assert not out.exists()


def test_run_never_overwrites_an_input(tmp_path, functions_dir):
    (tmp_path / "scale.py").write_text(GOOD)
    invoke("add", str(tmp_path / "scale.py"))
    inputs = tmp_path / "a"
    inputs.mkdir()
    _tiff(inputs / "x.tif", np.ones((1, 2, 2), dtype=np.float32))
    result = invoke("run", "scale", str(inputs), "-o", str(inputs))
    assert result.exit_code == 1 and "overwrite its input" in result.stderr
    assert np.all(tifffile.imread(inputs / "x.tif") == 1)


TWO = """from openhcs_plugins.decorators import numpy


@numpy
def first(image):
    return image


@numpy
def second(image):
    return image + 1
"""


def test_add_replace_replaces_every_function_of_a_several_function_file(tmp_path, functions_dir):
    source = tmp_path / "two.py"
    source.write_text(TWO)
    assert invoke("add", str(source)).exit_code == 0
    source.write_text(TWO.replace("image + 1", "image + 2"))
    again = invoke("add", str(source))
    assert again.exit_code == 1 and "already exists" in again.stderr
    replaced = invoke("add", str(source), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert "image + 2" in (functions_dir / "second.py").read_text()
    assert sorted(p.name for p in functions_dir.glob("*.py")) == ["first.py", "second.py"]


@pytest.mark.parametrize(
    ("annotation", "text", "expected"),
    [
        ("float | int", "1.5", 1.5),
        ("int | float", "1.5", 1.5),
        ("int | float", "2", 2),
        ("bool | str", "auto", "auto"),
        ("bool | str", "true", True),
    ],
)
def test_a_union_annotation_accepts_a_value_of_any_of_its_types(annotation, text, expected):
    from openhcs_plugins._params import parse_params
    from openhcs_plugins.registry import FunctionInfo
    from openhcs_plugins.sources.candidate import ParameterInfo, Provenance, SourceKind

    info = FunctionInfo(
        key="openhcs:f",
        name="f",
        namespace="openhcs",
        input_memory_type="numpy",
        output_memory_type="numpy",
        parameters=(ParameterInfo("image"), ParameterInfo("x", annotation=annotation)),
        doc="",
        provenance=Provenance(SourceKind.FOLDER),
    )
    value = parse_params(info, [f"x={text}"])["x"]
    assert value == expected and type(value) is type(expected)


def test_a_huge_untyped_param_value_is_a_clear_error_not_a_crash():
    from openhcs_plugins._params import ParameterError, parse_params
    from openhcs_plugins.registry import FunctionInfo
    from openhcs_plugins.sources.candidate import ParameterInfo, Provenance, SourceKind

    info = FunctionInfo(
        key="openhcs:f",
        name="f",
        namespace="openhcs",
        input_memory_type="numpy",
        output_memory_type="numpy",
        parameters=(ParameterInfo("image"), ParameterInfo("x")),
        doc="",
        provenance=Provenance(SourceKind.FOLDER),
    )
    with pytest.raises(ParameterError, match="too large or too deeply nested"):
        parse_params(info, ["x=" + "-" * 100_000 + "1"])
    assert parse_params(info, ["x={[]: 1}"]) == {"x": "{[]: 1}"}
    assert parse_params(info, ["x=[1, 2]"]) == {"x": [1, 2]}
