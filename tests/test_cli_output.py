"""What the ``openhcs-plugins`` command prints to a new user: exact hints, real paths and
names, one line per problem, clear errors for disabled functions and broken contracts.

Every test works in its own functions folder (``--functions-dir`` or the environment
variable) and its own XDG folders (conftest.py), never in the user's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import tifffile
from click.testing import CliRunner

from openhcs_plugins.cli import app

runner = CliRunner()

SCALE = '''from openhcs_plugins.decorators import numpy


@numpy
def scale(image, factor: float = 2.0):
    """Multiply by a factor."""
    return image * factor
'''

BAD = """from openhcs_plugins.decorators import numpy


@numpy
def scale(img):
    return img
"""

# Drops the channel axis: a (C, Y, X) stack in, a (Y, X) plane out.
FLATTEN = '''from openhcs_plugins.decorators import numpy


@numpy
def flatten(image):
    """Maximum projection, without keeping the channel axis."""
    return image.max(axis=0)
'''


@pytest.fixture
def functions_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "functions"
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    return folder


@pytest.fixture
def _cookiecutter_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """Keep cookiecutter's replay files out of the real home folder."""
    home = tmp_path_factory.mktemp("cookiecutter")
    (home / "config.yaml").write_text(f"replay_dir: {home / 'replay'}\n", encoding="utf-8")
    monkeypatch.setenv("COOKIECUTTER_CONFIG", str(home / "config.yaml"))
    monkeypatch.setattr(tempfile, "tempdir", str(home))


def invoke(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def _save(folder: Path, name: str, code: str | bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.py"
    if isinstance(code, bytes):
        path.write_bytes(code)
    else:
        path.write_text(code, encoding="utf-8")
    return path


def _stack(path: Path, shape: tuple[int, ...] = (3, 16, 16)) -> Path:
    data = np.random.default_rng(0).random(shape, dtype=np.float32)
    tifffile.imwrite(path, data, photometric="minisblack")
    return path


# -- 4: hints and user text are printed exactly (no rich markup) ------------------------------


def test_the_install_hint_keeps_its_extra(tmp_path, monkeypatch, _cookiecutter_home):
    monkeypatch.setitem(sys.modules, "cookiecutter", None)
    monkeypatch.setitem(sys.modules, "cookiecutter.main", None)
    result = invoke("new", str(tmp_path / "out"), "--no-input")
    assert result.exit_code == 1
    assert "python -m pip install 'openhcs-plugins[template]'" in result.stderr


def test_paths_and_messages_with_brackets_are_printed_as_they_are(tmp_path, monkeypatch):
    folder = tmp_path / "[bold]lab[/bold]"
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    source = _save(tmp_path / "src [red]x[/red]", "scale", SCALE)
    added = invoke("add", str(source))
    assert added.exit_code == 0, added.output
    assert f"{folder / 'scale.py'}" in added.stdout
    raising = SCALE.replace("return image * factor", 'raise ValueError("bad [red]value[/red]")')
    _save(folder, "scale", raising)
    result = invoke("run", "scale", str(_stack(tmp_path / "in.tif")), "-o", str(tmp_path / "o"))
    assert result.exit_code == 1
    assert "ValueError: bad [red]value[/red]" in result.stderr


# -- 5: `add FILE` names FILE --------------------------------------------------------------------


def test_add_reports_errors_at_the_files_path_and_line(tmp_path, functions_dir):
    source = _save(tmp_path, "bad", BAD)
    result = invoke("add", str(source))
    assert result.exit_code == 1
    assert f"{source}:5: " in result.stderr
    assert "<editor>" not in result.stderr


def test_add_reports_an_execution_error_at_the_line_of_the_file(tmp_path, functions_dir):
    source = _save(
        tmp_path,
        "two",
        SCALE
        + """

@numpy
def late(image, limit=[1, 2][5]):
    return image
""",
    )
    result = invoke("add", str(source))
    assert result.exit_code == 1
    # untrusted (no --trust): it ran in the isolated worker, which names where it failed
    assert f"{source}:11: Code execution failed: " in result.stderr
    assert "IndexError: list index out of range" in result.stderr
    assert not functions_dir.exists() or not list(functions_dir.glob("*.py"))


# -- 6: a result is checked against the function's contract ---------------------------------


def _add_flatten(tmp_path: Path) -> None:
    assert invoke("add", str(_save(tmp_path, "flatten", FLATTEN))).exit_code == 0


def test_run_refuses_a_result_that_breaks_the_contract_and_writes_nothing(tmp_path, functions_dir):
    _add_flatten(tmp_path)
    out = tmp_path / "out.tif"
    result = invoke("run", "flatten", str(_stack(tmp_path / "in.tif")), "-o", str(out))
    assert result.exit_code == 1
    assert "openhcs:flatten" in result.stderr
    assert "(16, 16)" in result.stderr and "(3, 16, 16)" in result.stderr
    assert "3 dimensions" in result.stderr
    assert not out.exists()


def test_preview_gives_the_same_contract_error_and_no_index_error(tmp_path, functions_dir):
    _add_flatten(tmp_path)
    out, preview = tmp_path / "out.tif", tmp_path / "preview.png"
    image = str(_stack(tmp_path / "in.tif"))
    plain = invoke("run", "flatten", image, "-o", str(out))
    result = invoke("run", "flatten", image, "-o", str(out), "--preview", str(preview))
    assert result.exit_code == 1
    assert "IndexError" not in result.stderr
    assert "openhcs:flatten" in result.stderr and "(16, 16)" in result.stderr
    assert result.stderr.splitlines()[0] == plain.stderr.splitlines()[0]
    assert not out.exists() and not preview.exists()


def test_a_volumetric_to_slice_result_is_written_with_its_preview(tmp_path, functions_dir):
    code = FLATTEN.replace("@numpy\n", '@numpy(contract="VOLUMETRIC_TO_SLICE")\n')
    assert invoke("add", str(_save(tmp_path, "flatten", code))).exit_code == 0
    out, preview = tmp_path / "out.tif", tmp_path / "preview.png"
    image = str(_stack(tmp_path / "in.tif"))
    result = invoke("run", "flatten", image, "-o", str(out), "--preview", str(preview))
    assert result.exit_code == 0, result.output
    assert tifffile.imread(out).shape == (16, 16)
    assert preview.read_bytes().startswith(b"\x89PNG")


def test_run_isolated_checks_the_contract_too(tmp_path, functions_dir):
    _add_flatten(tmp_path)
    out = tmp_path / "out.tif"
    image = str(_stack(tmp_path / "in.tif"))
    result = invoke("run", "flatten", image, "-o", str(out), "--isolated")
    assert result.exit_code == 1
    assert "openhcs:flatten" in result.stderr and "(16, 16)" in result.stderr
    assert not out.exists()


def test_the_python_api_checks_the_contract():
    from openhcs_plugins import decorators
    from openhcs_plugins.registry import ContractError, FunctionRegistry

    registry = FunctionRegistry()

    @decorators.numpy
    def flatten(image):
        return image.max(axis=0)

    @decorators.numpy(contract="VOLUMETRIC_TO_SLICE")
    def project(image):
        return image.max(axis=0)

    from openhcs_plugins.registry import register_function

    register_function(flatten, "lab", registry=registry)
    register_function(project, "lab", registry=registry)
    stack = np.ones((3, 8, 8), dtype=np.float32)
    with pytest.raises(ContractError, match=r"lab:flatten .*\(8, 8\).*\(3, 8, 8\)"):
        registry.call("lab:flatten", stack)
    assert registry.call("lab:project", stack).shape == (8, 8)


# -- 7: disabled functions ---------------------------------------------------------------------


def test_a_disabled_function_says_so_and_how_to_enable_it(tmp_path, functions_dir):
    assert invoke("add", str(_save(tmp_path, "scale", SCALE))).exit_code == 0
    assert invoke("disable", "openhcs:scale").exit_code == 0
    image = str(_stack(tmp_path / "in.tif"))
    expected = "function openhcs:scale is disabled; enable it with: openhcs-plugins enable"
    ran = invoke("run", "scale", image, "-o", str(tmp_path / "o.tif"))
    assert ran.exit_code == 1
    assert f"{expected} openhcs:scale" in ran.stderr
    assert "is registered" not in ran.stderr
    info = invoke("info", "openhcs:scale")
    assert info.exit_code == 1 and f"{expected} openhcs:scale" in info.stderr
    listed = invoke("list")
    assert "1 disabled" in listed.stderr
    assert "enable with: openhcs-plugins enable openhcs:scale" in listed.stderr
    assert invoke("enable", "openhcs:scale").exit_code == 0
    assert "disabled" not in invoke("list").output


def test_a_disabled_namespace_names_the_namespace_to_enable(tmp_path, functions_dir):
    assert invoke("add", str(_save(tmp_path, "scale", SCALE))).exit_code == 0
    assert invoke("disable", "openhcs").exit_code == 0
    info = invoke("info", "scale")
    assert info.exit_code == 1
    assert "openhcs-plugins enable openhcs" in info.stderr
    assert "enable openhcs:scale" not in info.stderr


# -- 8: `remove` and files that do not parse ----------------------------------------------------


def test_remove_deletes_a_folder_file_that_does_not_parse(functions_dir):
    broken = _save(functions_dir, "broken", "def broken(:\n")
    result = invoke("remove", "broken")
    assert result.exit_code == 0, result.output
    assert not broken.exists()
    assert str(broken) in result.stdout


def test_remove_names_the_file_that_defines_other_functions(functions_dir):
    other = _save(functions_dir, "other", SCALE)
    result = invoke("remove", "other")
    assert result.exit_code == 1
    assert str(other) in result.stderr and "scale" in result.stderr
    assert other.exists()


# -- 9: each problem once, path once -----------------------------------------------------------


def _problems_folder(functions_dir: Path) -> tuple[Path, Path]:
    broken = _save(functions_dir, "broken", "def broken(:\n")
    latin = _save(functions_dir, "latin", b"x = 1\n# caf\xe9\n")
    return broken, latin


def test_list_prints_each_problem_once_with_its_path_once(functions_dir):
    broken, _ = _problems_folder(functions_dir)
    for args in (("list",), ("list", "--strict")):
        result = invoke(*args)
        lines = [line for line in result.stderr.splitlines() if str(functions_dir) in line]
        assert len(lines) == 2, (args, result.stderr)
        for line in lines:
            assert line.count(str(functions_dir)) == 1, line
        assert sum(str(broken) in line for line in lines) == 1
    assert invoke("list", "--strict").exit_code == 1


def test_list_gives_the_line_of_an_encoding_error_as_validate_does(functions_dir):
    _, latin = _problems_folder(functions_dir)
    validated = invoke("validate", str(latin))
    assert f"{latin}:2: " in validated.stderr
    listed = invoke("list")
    assert f"{latin}:2: " in listed.stderr


# -- 14: gui without a display -----------------------------------------------------------------


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays: Linux")
def test_gui_without_a_display_says_what_to_do(tmp_path):
    result = _run_gui()
    assert result.returncode == 1, result.stderr
    assert "QT_QPA_PLATFORM=offscreen openhcs-plugins gui" in result.stderr
    assert "display" in result.stderr


def _run_gui(display: str | None = None) -> subprocess.CompletedProcess[str]:
    """`openhcs-plugins gui` with no display variables (or only DISPLAY=display)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"}
    }
    if display is not None:
        env["DISPLAY"] = display
    return subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli", "gui"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _unused_x_display() -> str:
    import socket

    for number in range(4711, 4800):
        path = f"/tmp/.X11-unix/X{number}"
        if os.path.exists(path):
            continue
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            try:
                sock.connect("\0" + path)
            except OSError:
                return f":{number}"
    pytest.skip("no unused X display number")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland displays: Linux")
def test_gui_with_a_display_nobody_serves_says_so_instead_of_aborting(tmp_path):
    display = _unused_x_display()
    result = _run_gui(display)
    assert result.returncode == 1, (result.returncode, result.stderr)  # not Qt's abort (134)
    assert f"DISPLAY={display}" in result.stderr
    assert "QT_QPA_PLATFORM=offscreen openhcs-plugins gui" in result.stderr


def test_the_display_probe_tells_a_listening_server_from_none() -> None:
    import socket

    from openhcs_plugins.cli._environment import x_display_problem

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        assert port > 6000
        assert x_display_problem(f"127.0.0.1:{port - 6000}.0") is None
    reason = x_display_problem(f"127.0.0.1:{port - 6000}")
    assert reason is not None and f"127.0.0.1:{port}" in reason
    assert "not a display name" in x_display_problem("nonsense")


# -- 15: version, help, new, promote, validate of a generated package ---------------------------


def test_version_is_the_installed_distributions():
    from importlib.metadata import version

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout.strip() == f"openhcs-plugins {version('openhcs-plugins')}"


@pytest.mark.parametrize(
    "command", [[], ["list"], ["run"], ["validate"], ["new"], ["add"], ["settings", "show"]]
)
def test_help_shows_plain_metavars(command):
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    for junk in ("<bool>", "{", "}", "<list[", "<str>", "<path>"):
        assert junk not in result.stdout, (command, junk, result.stdout)


def test_the_command_table_gives_each_commands_own_short_help():
    # The root's --help shows the table without importing the commands: it must not drift.
    import click

    from openhcs_plugins.cli import COMMANDS
    from openhcs_plugins.cli._lazy import first_paragraph

    ctx = click.Context(app)
    assert app.list_commands(ctx) == list(COMMANDS)
    for name, (_, _, short) in COMMANDS.items():
        command = app.get_command(ctx, name)
        assert command is not None, name
        assert (command.short_help or first_paragraph(command.help)) == short, name
        assert short in " ".join(invoke("--help").stdout.split())


def test_help_usage_names_the_arguments():
    assert "run [OPTIONS] KEY INPUTS..." in invoke("run", "--help").stdout
    assert "validate [OPTIONS] [TARGET]" in invoke("validate", "--help").stdout
    assert "new [OPTIONS] [OUTPUT_DIR]" in invoke("new", "--help").stdout


def test_the_user_guide_documents_every_option_of_validate_and_list():
    guide = (Path(__file__).parents[1] / "docs" / "user-guide.md").read_text(encoding="utf-8")
    lines = guide.splitlines()
    assert any("validate" in line and "--json" in line for line in lines)
    assert any("list" in line and "--namespace" in line for line in lines)


def test_new_prints_one_next_steps_block_with_the_real_path(tmp_path, capfd, _cookiecutter_home):
    result = invoke("new", str(tmp_path / "out"), "--no-input")
    assert result.exit_code == 0, result.output
    hook_output = capfd.readouterr().out
    text = result.stdout + hook_output
    assert text.lower().count("next steps") == 1, text
    project = tmp_path / "out" / "my-openhcs-functions"
    assert f"cd {project}" in text
    assert "python -m pip install -e '.[test]'" in text
    assert "openhcs-plugins list --namespace my_openhcs_functions" in text


def test_promote_prints_the_real_namespace(tmp_path, _cookiecutter_home):
    folder = tmp_path / "functions"
    _save(folder, "scale", SCALE)
    result = invoke(
        "promote",
        "scale",
        "-o",
        str(tmp_path / "out"),
        "--functions-dir",
        str(folder),
        "--option",
        "namespace=lab_promoted",
    )
    assert result.exit_code == 0, result.output
    assert "lab_promoted:scale" in result.stdout
    assert "<namespace>" not in result.stdout


def test_validate_passes_on_a_freshly_generated_package(tmp_path, _cookiecutter_home):
    assert invoke("new", str(tmp_path), "--no-input").exit_code == 0
    (package,) = (tmp_path / "my-openhcs-functions" / "src").iterdir()
    result = invoke("validate", str(package))
    assert result.exit_code == 0, result.output
    assert "my_filter" in result.stdout
    data = json.loads(invoke("validate", str(package), "--json").stdout)
    assert all(report["valid"] for report in data)
