"""The batch runner and promote's project rewrite as library calls, without the CLI: what
``openhcs-plugins run`` and ``promote`` do, available to a script, a host or the GUI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from openhcs_plugins._images import read_provenance
from openhcs_plugins.batch import expand_inputs, output_paths, run_batch
from openhcs_plugins.config import load_settings
from openhcs_plugins.loader import load_plugins

SCALE = '''from openhcs_plugins.decorators import numpy


@numpy
def scale(image, factor: float = 2.0):
    """Multiply by a factor."""
    if factor < 0:
        raise ValueError("factor must not be negative")
    return image * factor
'''


@pytest.fixture
def stacks(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "in"
    folder.mkdir()
    paths = [folder / "a.tif", folder / "b.tiff"]
    for value, path in enumerate(paths, start=1):
        tifffile.imwrite(path, np.full((2, 4, 5), float(value), dtype=np.float32))
    (folder / "notes.txt").write_text("not an image", encoding="utf-8")
    return paths


@pytest.fixture
def scale_registered(tmp_path: Path) -> str:
    functions = tmp_path / "functions"
    functions.mkdir()
    (functions / "scale.py").write_text(SCALE, encoding="utf-8")
    load_plugins(settings=load_settings(functions_dir=str(functions)))
    return "openhcs:scale"


def test_a_folder_expands_to_its_tiffs_sorted(stacks):
    assert expand_inputs([stacks[0].parent]) == stacks


def test_a_missing_input_or_a_folder_without_tiffs_is_named(tmp_path):
    with pytest.raises(ValueError, match=r"missing\.tif: no such file or folder"):
        expand_inputs([tmp_path / "missing.tif"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match=r"empty: no \.tif/\.tiff files in this folder"):
        expand_inputs([tmp_path / "empty"])


def test_outputs_that_would_collide_are_refused_before_anything_runs(tmp_path):
    a, b = tmp_path / "a" / "x.tif", tmp_path / "b" / "x.tif"
    with pytest.raises(ValueError, match="would both write the same output"):
        output_paths([a, b], tmp_path / "out")
    with pytest.raises(ValueError, match="would overwrite its input"):
        output_paths([a], a)


def test_run_batch_writes_each_result_with_provenance_and_reports_each_file(
    tmp_path, stacks, scale_registered
):
    seen = []
    results = run_batch(
        scale_registered,
        stacks,
        tmp_path / "out",
        {"factor": 3.0},
        preview=tmp_path / "preview.png",
        on_result=seen.append,
    )
    assert seen == results
    assert [(r.input, r.output, r.ok) for r in results] == [
        (stacks[0], tmp_path / "out" / "a.tif", True),
        (stacks[1], tmp_path / "out" / "b.tif", True),
    ]
    assert np.array_equal(tifffile.imread(tmp_path / "out" / "b.tif"), np.full((2, 4, 5), 6.0))
    provenance = read_provenance(tmp_path / "out" / "a.tif")
    assert provenance["function"] == "openhcs:scale"
    assert provenance["parameters"] == {"factor": 3.0}
    assert provenance["inputs"][0]["path"] == str(stacks[0])
    assert (tmp_path / "preview.png").is_file()


def test_one_failing_file_is_recorded_and_the_rest_run(tmp_path, stacks, scale_registered):
    broken = stacks[0].parent / "broken.tif"
    broken.write_bytes(b"not a tiff")
    results = run_batch(scale_registered, [broken, *stacks], tmp_path / "out", {})
    assert [r.ok for r in results] == [False, True, True]
    assert results[0].input == broken
    assert results[0].error is not None and ": " in results[0].error  # "TiffFileError: ..."
    assert (tmp_path / "out" / "b.tif").is_file()


def test_describe_promoted_code_adds_installed_imports_and_names_the_unknown(tmp_path):
    from openhcs_plugins._scaffold import describe_promoted_code, third_party_imports

    code = "import tifffile\nimport not_a_module_here\nimport os\nfrom . import x\n"
    assert third_party_imports(code) == ["not_a_module_here", "tifffile"]
    (tmp_path / "README.md").write_text("Use my_filter.\n", encoding="utf-8")
    (tmp_path / "pyproject.toml").write_text(
        'dependencies = [\n    "numpy",\n]\n', encoding="utf-8"
    )
    done = describe_promoted_code(tmp_path, "smooth", code, "numpy")
    assert done.added == ("tifffile",)
    assert done.unknown == ("not_a_module_here",)
    assert (tmp_path / "pyproject.toml").read_text(encoding="utf-8") == (
        'dependencies = [\n    "numpy",\n    "tifffile",\n]\n'
    )
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == "Use smooth.\n"
