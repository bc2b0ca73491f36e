"""Offscreen screenshots of the three views, as shown in docs/gui.md.

With ``OPENHCS_PLUGINS_SCREENSHOTS=1`` the PNGs are written to ``docs/images/`` (to refresh the
documentation); otherwise to a temporary folder, so a normal test run never rewrites tracked
files. Either way the test checks that each image really shows something.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openhcs_plugins.config import LazySettings, LazyTrustSettings, save_settings
from openhcs_plugins.gui import FunctionEditor, FunctionList, SettingsForm
from openhcs_plugins.loader import load_plugins
from openhcs_plugins.manager import CustomFunctionManager
from openhcs_plugins.registry import get_default_registry

REPO = Path(__file__).resolve().parents[2]

REMOVE_BACKGROUND = '''\
import numpy as np
from scipy import ndimage

from openhcs_plugins.memory import numpy


@numpy(contract="PURE_2D")
def remove_background(image, radius: int = 15, clip: bool = True):
    """Subtract a smooth background (a wide mean filter) from each plane."""
    image = image.astype(np.float32)
    background = ndimage.uniform_filter(image, size=2 * radius + 1)
    result = image - background
    if clip:
        result = np.maximum(result, 0)
    return result, {"background_mean": float(background.mean())}
'''

# The same function after an edit the validator refuses (line 15).
REMOVE_BACKGROUND_EDITED = REMOVE_BACKGROUND.replace(
    "    return result, {",
    '    np.save("background.npy", background)\n    return result, {',
)

DEMO = REPO / "openhcs_plugins" / "data" / "demo_functions"


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    if os.environ.get("OPENHCS_PLUGINS_SCREENSHOTS", "").strip() == "1":
        path = REPO / "docs" / "images"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path


def check_png(path: Path, min_size: tuple[int, int]) -> None:
    """The file is a PNG of at least ``min_size`` with real content (not a blank grab)."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.width >= min_size[0] and image.height >= min_size[1]
        gray = np.asarray(image.convert("L"), dtype=np.float64)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 20)
    assert colors is not None and len(colors) > 50, "too few colours: an empty widget?"
    assert gray.std() > 10


def test_screenshot_of_the_editor(qtbot, functions_dir: Path, out_dir: Path):
    editor = FunctionEditor(CustomFunctionManager(functions_dir))
    qtbot.addWidget(editor)
    editor.resize(1180, 720)
    editor.show()
    editor.set_code(REMOVE_BACKGROUND)
    with qtbot.waitSignal(editor.run_finished, timeout=30_000):
        editor.run_on_sample()
    # Then an edit the validator refuses: the problem is listed and its line marked.
    editor.code_editor.setPlainText(REMOVE_BACKGROUND_EDITED)
    editor.validate()
    editor.problem_list.setCurrentRow(0)
    editor.code_editor.go_to_line(editor.problems()[0][0])
    qtbot.wait(50)
    path = out_dir / "gui-editor.png"
    assert editor.grab().save(str(path))
    check_png(path, (1000, 600))


@pytest.mark.slow
def test_screenshot_of_the_function_list(
    qtbot, functions_dir: Path, installed_package: Path, out_dir: Path, monkeypatch
):
    # Paths under the home folder are shown as ~/...: keep the temporary ones short.
    monkeypatch.setenv("HOME", str(functions_dir.parent))
    for demo in sorted(DEMO.glob("*.py")):
        (functions_dir / demo.name).write_text(demo.read_text(encoding="utf-8"))
    (functions_dir / "unfinished.py").write_text(
        "from openhcs_plugins.decorators import numpy\n\n@numpy\ndef unfinished(image:\n"
    )
    function_list = FunctionList()
    qtbot.addWidget(function_list)
    function_list.resize(1180, 560)
    function_list.show()
    report = load_plugins(folder=functions_dir)
    function_list.set_problems([str(p) for p in report.problems])
    CustomFunctionManager(functions_dir).register_from_code(REMOVE_BACKGROUND, persist=False)
    get_default_registry().get("openhcs:subtract_background")
    qtbot.waitUntil(lambda: "openhcs:remove_background" in function_list.keys())
    function_list.refresh()
    function_list.select("openhcs:subtract_background")
    qtbot.wait(50)
    path = out_dir / "gui-functions.png"
    assert function_list.grab().save(str(path))
    check_png(path, (1000, 450))


def test_screenshot_of_the_settings_form(
    qtbot, out_dir: Path, monkeypatch: pytest.MonkeyPatch, _isolated_user_dirs: Path
):
    # The test's XDG folders are under this home: paths show as ~/config/..., ~/data/...
    monkeypatch.setenv("HOME", str(_isolated_user_dirs))
    save_settings(
        LazySettings(
            trust=LazyTrustSettings(folder="strict"),
            disabled=("oplab_filters:old_invert",),
        )
    )
    monkeypatch.setenv("OPENHCS_PLUGINS_ISOLATION_WALL_SECONDS", "300")
    form = SettingsForm()
    qtbot.addWidget(form)
    form.resize(1180, 760)
    form.show()
    form.field("isolation.memory_mb").set_text("8192")
    qtbot.wait(50)
    path = out_dir / "gui-settings.png"
    assert form.grab().save(str(path))
    check_png(path, (1000, 600))
