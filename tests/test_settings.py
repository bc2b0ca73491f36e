"""Settings: defaults <- file <- environment <- overrides, the settings file, and the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

import openhcs_plugins.config.settings as settings_module
from openhcs_plugins.cli._settings import settings_app
from openhcs_plugins.config import (
    ENV_VARS,
    SETTINGS_KEYS,
    IsolationSettings,
    LazySettings,
    LazyTrustSettings,
    Settings,
    SettingsError,
    SettingsFileError,
    SettingsWarning,
    TrustSettings,
    describe_settings,
    load_settings,
    parse_setting_value,
    read_settings_file,
    save_settings,
    save_settings_text,
    settings_file_path,
    settings_layers,
    settings_template,
    update_setting,
    with_setting,
)
from openhcs_plugins.lazy import exec_user_code, explicitly_set_fields

REPO_ROOT = Path(settings_module.__file__).resolve().parents[2]
IMPORTS = "from openhcs_plugins.config.settings import LazySettings, LazyTrustSettings\n"


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "config"
    monkeypatch.setenv("OPENHCS_PLUGINS_CONFIG_DIR", str(directory))
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    return directory


def write_settings(config_dir: Path, body: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "settings.py"
    path.write_text(IMPORTS + body, encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------------
# values and precedence


def test_defaults_apply_without_a_file_or_environment(config_dir):
    assert not settings_file_path().exists()
    settings = load_settings()
    assert settings == Settings()
    assert settings.trust == TrustSettings("trusted", "user", "user")
    assert settings.isolation == IsolationSettings()
    assert set(settings_layers().values()) == {"default"}


def test_the_settings_file_lives_in_the_config_dir(config_dir, monkeypatch, tmp_path):
    assert settings_file_path() == config_dir / "settings.py"
    monkeypatch.delenv("OPENHCS_PLUGINS_CONFIG_DIR")
    xdg = Path(os.environ["XDG_CONFIG_HOME"])
    assert settings_file_path() == xdg / "openhcs-plugins" / "settings.py"


def test_file_values_win_over_defaults_and_unset_fields_inherit(config_dir):
    write_settings(
        config_dir,
        "settings = LazySettings(\n"
        "    trust=LazyTrustSettings(folder='strict'),\n"
        "    disabled=('lab_filters', 'other:blur'),\n"
        ")\n",
    )
    settings = load_settings()
    assert settings.trust.folder == "strict"
    assert settings.trust.editor == "user"  # not in the file: built-in default
    assert settings.disabled == ("lab_filters", "other:blur")
    assert settings.is_disabled("lab_filters:anything")
    assert settings.is_disabled("other:blur") and not settings.is_disabled("other:sharpen")
    layers = settings_layers()
    assert layers["trust.folder"] == "file"
    assert layers["trust.editor"] == "default"
    assert layers["disabled"] == "file"


def test_environment_wins_over_the_file_and_overrides_win_over_both(config_dir, monkeypatch):
    write_settings(
        config_dir,
        "settings = LazySettings(\n"
        "    trust=LazyTrustSettings(folder='strict', editor='strict', entry_point='user'),\n"
        "    cache_dir='/from/file',\n"
        ")\n",
    )
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_FOLDER", "trusted")
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "user")
    monkeypatch.setenv("OPENHCS_PLUGINS_DISABLED", "a, b:c,")
    monkeypatch.setenv("OPENHCS_PLUGINS_ISOLATION_WALL_SECONDS", "2.5")
    monkeypatch.setenv("OPENHCS_PLUGINS_DEFAULT_OUTPUT", "torch")
    report = describe_settings(trust__editor="trusted", isolation={"cpu_seconds": 7})
    s = report.settings
    assert (s.trust.entry_point, s.trust.folder, s.trust.editor) == ("user", "trusted", "trusted")
    assert s.cache_dir == "/from/file"
    assert s.disabled == ("a", "b:c")
    assert s.isolation.wall_seconds == 2.5 and s.isolation.cpu_seconds == 7
    assert s.default_output_memory_type == "torch"
    layers = report.layers()
    assert layers["trust.entry_point"] == "file"
    assert layers["trust.folder"] == "env"
    assert layers["trust.editor"] == "override"
    assert layers["isolation.cpu_seconds"] == "override"
    assert layers["isolation.memory_mb"] == "default"
    assert load_settings(trust=LazyTrustSettings(folder="user")).trust.folder == "user"


def test_an_empty_environment_variable_counts_as_unset(config_dir, monkeypatch):
    write_settings(config_dir, "settings = LazySettings(cache_dir='/from/file')\n")
    monkeypatch.setenv("OPENHCS_PLUGINS_CACHE_DIR", "  ")
    assert load_settings().cache_dir == "/from/file"


def test_is_disabled_honours_names_scoped_to_an_environment():
    # What `openhcs-plugins disable` writes: the name scoped to this environment.
    here = settings_module.environment_id()
    settings = Settings(disabled=(f"lab_b@{here}", "lab_c@000000000000", f"lab_d:blur@{here}"))
    assert settings.is_disabled("lab_b:blur")
    assert settings.is_disabled("lab_d:blur") and not settings.is_disabled("lab_d:sharpen")
    assert not settings.is_disabled("lab_c:blur")  # another environment's choice
    assert settings.disabled_names() == {"lab_b", "lab_d:blur"}


def test_path_helpers_give_platform_defaults_for_none(config_dir):
    settings = load_settings()
    data_home = Path(os.environ["XDG_DATA_HOME"])
    assert settings.functions_path() == data_home / "openhcs" / "custom_functions"
    assert load_settings(functions_dir="~/fn").functions_path() == Path.home() / "fn"
    assert settings.trust.level_for("folder").value == "user"


# ---------------------------------------------------------------------------------------------
# errors never stop a command


@pytest.mark.parametrize(
    ("body", "line", "text"),
    [
        ("x = 1\nsettings = LazySettings(\n", 3, "syntax error"),
        ("x = 1\nsettings = LazySettings(trust=LazyTrustSettings(folder='nope'))\n", 3, "'nope'"),
        ("settings = LazySettings()\nraise RuntimeError('broken on purpose')\n", 3, "broken"),
        ("setting = LazySettings()\n", 0, "defines no `settings`"),
        ("settings = {'trust': 'strict'}\n", 0, "must be a LazySettings"),
    ],
    ids=["syntax", "invalid-value", "exception", "no-settings", "wrong-type"],
)
def test_a_broken_file_warns_with_file_and_line_and_falls_back(
    config_dir, monkeypatch, body, line, text
):
    path = write_settings(config_dir, body)  # line numbers count the import line
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    with pytest.warns(SettingsWarning) as record:
        settings = load_settings(cache_dir="/override")
    message = str(record[0].message)
    assert str(path) in message and text in message
    if line:
        assert f"{path}:{line}:" in message
    assert "settings edit" in message
    # The whole file is ignored; environment and overrides still apply.
    assert settings.trust.folder == "user"
    assert settings.trust.editor == "strict"
    assert settings.cache_dir == "/override"
    with pytest.raises(SettingsFileError) as info:
        read_settings_file()
    assert info.value.path == path and info.value.line_number == line


def test_a_bad_environment_variable_is_ignored_alone(config_dir, monkeypatch):
    monkeypatch.setenv("OPENHCS_PLUGINS_ISOLATION_CPU_SECONDS", "lots")
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_FOLDER", "sometimes")
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    with pytest.warns(SettingsWarning) as record:
        settings = load_settings()
    messages = " | ".join(str(w.message) for w in record)
    assert "OPENHCS_PLUGINS_ISOLATION_CPU_SECONDS" in messages and "'lots'" in messages
    assert "OPENHCS_PLUGINS_TRUST_FOLDER" in messages and "'sometimes'" in messages
    assert settings.isolation.cpu_seconds == 60
    assert settings.trust.folder == "user"
    assert settings.trust.editor == "strict"


def test_invalid_overrides_raise_naming_the_key(config_dir):
    with pytest.raises(SettingsError, match=r"unknown settings key 'trust\.level'.*trust\.folder"):
        load_settings(trust__level="strict")
    with pytest.raises(SettingsError, match=r"isolation\.memory_mb.*positive int"):
        load_settings(isolation__memory_mb=-1)
    with pytest.raises(SettingsError, match=r"disabled.*not the string"):
        load_settings(disabled="lab_filters")
    with pytest.raises(SettingsError, match=r"default_output_memory_type.*'numpy'"):
        load_settings(default_output_memory_type="matlab")


def test_validation_normalises_what_it_accepts():
    from openhcs_plugins.memory import MemoryType
    from openhcs_plugins.sources.candidate import TrustLevel

    s = Settings(
        trust=TrustSettings(folder=TrustLevel.STRICT, editor=" User "),
        disabled=["a", "b:c"],
        functions_dir=Path("/x"),
        default_output_memory_type=MemoryType.TORCH,
        isolation=IsolationSettings(wall_seconds=3),
    )
    assert s.trust.folder == "strict" and s.trust.editor == "user"
    assert s.disabled == ("a", "b:c")
    assert s.functions_dir == "/x"
    assert s.default_output_memory_type == "torch"
    assert s.isolation.wall_seconds == 3.0 and isinstance(s.isolation.wall_seconds, float)
    with pytest.raises(ValueError, match="positive int"):
        IsolationSettings(cpu_seconds=True)
    with pytest.raises(ValueError, match="not a valid"):
        Settings(disabled=("has space",))


def test_parse_setting_value_follows_the_field_type():
    assert parse_setting_value("isolation.cpu_seconds", " 12 ") == 12
    assert parse_setting_value("isolation.wall_seconds", "1.5") == 1.5
    assert parse_setting_value("policy.allow_modules", "a, b.c ,") == ("a", "b.c")
    assert parse_setting_value("functions_dir", "/x y") == "/x y"
    with pytest.raises(SettingsError, match="integer"):
        parse_setting_value("isolation.open_files", "many")
    with pytest.raises(SettingsError, match="unknown settings key"):
        parse_setting_value("nope", "1")


# ---------------------------------------------------------------------------------------------
# writing the file


def test_save_settings_round_trips_and_keeps_unset_fields_unset(config_dir):
    lazy = with_setting(None, "trust.folder", "strict")
    lazy = with_setting(lazy, "policy.allow_modules", ("skimage.filters",))
    lazy = with_setting(lazy, "isolation.wall_seconds", 9.5)
    path = save_settings(lazy)
    text = path.read_text()
    assert "LazyTrustSettings(folder='strict')" in text
    assert "editor" not in text and "functions_dir" not in text
    back = read_settings_file()
    assert back == lazy
    assert explicitly_set_fields(back) == {"trust", "policy", "isolation"}
    assert object.__getattribute__(back.trust, "editor") is None
    assert sorted(p.name for p in config_dir.iterdir()) == [".settings.py.lock", "settings.py"]
    assert settings_layers()["trust.editor"] == "default"


def test_with_setting_none_unsets_and_keeps_the_rest(config_dir):
    lazy = with_setting(None, "trust.folder", "strict")
    lazy = with_setting(lazy, "trust.editor", "strict")
    lazy = with_setting(lazy, "trust.folder", None)
    assert explicitly_set_fields(lazy.trust) == {"editor"}
    with pytest.raises(SettingsError, match=r"trust\.folder.*'sometimes'"):
        with_setting(lazy, "trust.folder", "sometimes")


def test_save_settings_text_rejects_invalid_code_and_keeps_the_old_file(config_dir):
    path = write_settings(config_dir, "settings = LazySettings(cache_dir='/keep')\n")
    before = path.read_bytes()
    with pytest.raises(SettingsFileError, match=r"settings\.py:2: .*ZeroDivisionError"):
        save_settings_text(IMPORTS + "settings = LazySettings(cache_dir=str(1 / 0))\n")
    assert path.read_bytes() == before
    assert sorted(p.name for p in config_dir.iterdir()) == [".settings.py.lock", "settings.py"]


def test_concurrent_updates_do_not_lose_each_other(config_dir):
    errors: list[BaseException] = []

    def worker(key: str, values: range) -> None:
        try:
            for value in values:
                update_setting(key, value)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [
        threading.Thread(target=worker, args=("isolation.cpu_seconds", range(1, 16))),
        threading.Thread(target=worker, args=("isolation.open_files", range(100, 115))),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    settings = load_settings()
    assert (settings.isolation.cpu_seconds, settings.isolation.open_files) == (15, 114)


def test_the_template_is_a_valid_settings_file_that_sets_nothing(config_dir):
    text = settings_template()
    namespace = exec_user_code(text)
    assert namespace["settings"] == LazySettings()
    save_settings_text(text)
    assert load_settings() == Settings()


# ---------------------------------------------------------------------------------------------
# the CLI, in process


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


def test_cli_path_prints_the_settings_file(config_dir, cli):
    result = cli.invoke(settings_app, ["path"])
    assert result.exit_code == 0
    assert result.stdout.strip() == str(config_dir / "settings.py")


def test_cli_show_prints_values_layers_and_default_placeholders(config_dir, cli, monkeypatch):
    write_settings(
        config_dir, "settings = LazySettings(trust=LazyTrustSettings(folder='strict'))\n"
    )
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    result = cli.invoke(settings_app, ["show"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert set(lines) == set(SETTINGS_KEYS)
    assert lines["trust.folder"].split(None, 1)[1] == "'strict'  [file]"
    assert lines["trust.editor"].split(None, 1)[1] == "'strict'  [env OPENHCS_PLUGINS_TRUST_EDITOR]"
    assert lines["trust.entry_point"].split(None, 1)[1] == "(default: 'trusted')"
    assert "(default: None)  None means " in lines["functions_dir"]


def test_cli_show_json_gives_value_layer_and_default_per_key(config_dir, cli):
    write_settings(config_dir, "settings = LazySettings(disabled=('lab_filters',))\n")
    result = cli.invoke(settings_app, ["show", "--json", "-o", "isolation.cpu_seconds=5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["file_exists"] is True and data["problems"] == []
    assert data["settings"]["disabled"] == {
        "value": ["lab_filters"],
        "layer": "file",
        "origin": "file",
        "default": [],
        "env_var": "OPENHCS_PLUGINS_DISABLED",
    }
    assert data["settings"]["isolation.cpu_seconds"]["value"] == 5
    assert data["settings"]["isolation.cpu_seconds"]["layer"] == "override"
    assert data["settings"]["trust.folder"]["layer"] == "default"


def test_cli_show_with_a_broken_file_warns_and_shows_the_rest(config_dir, cli):
    path = write_settings(config_dir, "settings = LazySettings(\n")
    result = cli.invoke(settings_app, ["show"])
    assert result.exit_code == 0
    assert f"warning: {path}:2: syntax error" in result.stderr
    assert "trust.folder" in result.stdout


def test_cli_set_writes_a_checked_value_to_the_file(config_dir, cli):
    result = cli.invoke(settings_app, ["set", "trust.folder", "strict"])
    assert result.exit_code == 0, result.output
    assert "trust.folder = 'strict' written to" in result.stdout
    result = cli.invoke(
        settings_app, ["set", "policy.allow_modules", "skimage.filters,scipy.ndimage"]
    )
    assert result.exit_code == 0, result.output
    settings = load_settings()
    assert settings.trust.folder == "strict"
    assert settings.policy.allow_modules == ("skimage.filters", "scipy.ndimage")
    result = cli.invoke(settings_app, ["set", "trust.folder", "--unset"])
    assert result.exit_code == 0, result.output
    assert settings_layers()["trust.folder"] == "default"
    assert settings_layers()["policy.allow_modules"] == "file"


def test_cli_set_rejects_a_bad_value_or_key_and_leaves_the_file(config_dir, cli):
    cli.invoke(settings_app, ["set", "trust.folder", "strict"])
    before = settings_file_path().read_bytes()
    bad_level = cli.invoke(settings_app, ["set", "trust.folder", "sometimes"])
    assert bad_level.exit_code == 2
    assert "'trusted', 'user', 'strict'" in bad_level.stderr
    bad_int = cli.invoke(settings_app, ["set", "isolation.memory_mb", "lots"])
    assert bad_int.exit_code == 2 and "takes an integer" in bad_int.stderr
    bad_key = cli.invoke(settings_app, ["set", "trust.level", "strict"])
    assert bad_key.exit_code == 2
    assert "unknown settings key 'trust.level'" in bad_key.stderr
    assert "trust.folder" in bad_key.stderr and "isolation.stdout_kb" in bad_key.stderr
    missing = cli.invoke(settings_app, ["set", "trust.folder"])
    assert missing.exit_code == 2 and "--unset" in missing.stderr
    assert settings_file_path().read_bytes() == before


def test_cli_set_refuses_to_overwrite_a_broken_file(config_dir, cli):
    path = write_settings(config_dir, "settings = LazySettings(cache_dir=1/0)\n")
    before = path.read_bytes()
    result = cli.invoke(settings_app, ["set", "trust.folder", "strict"])
    assert result.exit_code == 1
    assert f"{path}:2:" in result.stderr and "settings edit" in result.stderr
    assert path.read_bytes() == before


def test_cli_set_notes_an_environment_variable_that_wins(config_dir, cli, monkeypatch):
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_FOLDER", "trusted")
    result = cli.invoke(settings_app, ["set", "trust.folder", "strict"])
    assert result.exit_code == 0
    assert "OPENHCS_PLUGINS_TRUST_FOLDER is set and takes precedence" in result.stderr


@pytest.fixture
def fake_editor(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A real editor process: replaces the file it is given with a prepared text."""
    script = tmp_path / "editor.py"
    script.write_text("import shutil, sys\nshutil.copyfile(sys.argv[1], sys.argv[2])\n")

    def use(new_text: str) -> Path:
        source = tmp_path / "new_settings.py"
        source.write_text(new_text)
        monkeypatch.delenv("VISUAL", raising=False)
        monkeypatch.setenv("EDITOR", f'"{sys.executable}" "{script}" "{source}"')
        return source

    return use


def test_cli_edit_saves_a_valid_edit(config_dir, cli, fake_editor):
    fake_editor(IMPORTS + "settings = LazySettings(trust=LazyTrustSettings(editor='strict'))\n")
    result = cli.invoke(settings_app, ["edit"])
    assert result.exit_code == 0, result.output
    assert "saved" in result.stdout
    assert load_settings().trust.editor == "strict"
    assert settings_layers()["trust.editor"] == "file"


def test_cli_edit_starts_new_files_from_the_template(config_dir, cli, tmp_path, monkeypatch):
    # This "editor" copies the draft it is given to `seen` and changes nothing.
    script = tmp_path / "look.py"
    script.write_text("import shutil, sys\nshutil.copyfile(sys.argv[-1], sys.argv[1])\n")
    seen = tmp_path / "seen.py"
    monkeypatch.setenv("VISUAL", f'"{sys.executable}" "{script}" "{seen}"')
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" -c "raise SystemExit(9)"')  # VISUAL wins
    result = cli.invoke(settings_app, ["edit"])
    assert result.exit_code == 0, result.output
    assert seen.read_text() == settings_template()
    assert settings_file_path().read_text() == settings_template()
    again = cli.invoke(settings_app, ["edit"])
    assert again.exit_code == 0 and "no changes" in again.stdout


def test_cli_edit_keeps_the_old_file_when_the_edit_is_broken(config_dir, cli, fake_editor):
    path = write_settings(config_dir, "settings = LazySettings(cache_dir='/old')\n")
    before = path.read_bytes()
    fake_editor(IMPORTS + "settings = LazySettings(\n    isolation=3,\n)\n")
    result = cli.invoke(settings_app, ["edit"])
    assert result.exit_code == 1
    assert f"{path}:2:" in result.stderr and "isolation" in result.stderr
    assert "was not changed" in result.stderr
    assert path.read_bytes() == before
    draft = Path(result.stderr.rsplit("kept at ", 1)[1].strip())
    assert "isolation=3" in draft.read_text()  # the user's work is not lost


def test_cli_edit_reports_an_editor_failure(config_dir, cli, monkeypatch):
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("EDITOR", f'"{sys.executable}" -c "raise SystemExit(4)"')
    result = cli.invoke(settings_app, ["edit"])
    assert result.exit_code == 1
    assert "status 4" in result.stderr
    assert not settings_file_path().exists()


# ---------------------------------------------------------------------------------------------
# the CLI, end to end in a real process


def run_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ENV_VARS.values()}
    full_env.update(env)
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO_ROOT), os.environ.get("PYTHONPATH", "")) if p
    )
    return subprocess.run(
        [sys.executable, "-m", "openhcs_plugins.cli._settings", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
        check=False,
    )


def test_precedence_end_to_end_file_then_env_then_override(tmp_path):
    env = {"OPENHCS_PLUGINS_CONFIG_DIR": str(tmp_path / "cfg")}
    # The file, written through the CLI: three trust levels and a cache dir.
    for key, value in [
        ("trust.entry_point", "user"),
        ("trust.folder", "strict"),
        ("trust.editor", "strict"),
        ("cache_dir", "/file/cache"),
    ]:
        done = run_cli("set", key, value, env=env)
        assert done.returncode == 0, done.stderr
    # The environment beats the file for two of them...
    env["OPENHCS_PLUGINS_TRUST_FOLDER"] = "trusted"
    env["OPENHCS_PLUGINS_TRUST_EDITOR"] = "trusted"
    # ... and a per-call override beats both for one.
    shown = run_cli("show", "--json", "--override", "trust.editor=user", env=env)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)["settings"]
    got = {k: (data[k]["value"], data[k]["layer"]) for k in data}
    assert got["trust.entry_point"] == ("user", "file")
    assert got["trust.folder"] == ("trusted", "env")
    assert got["trust.editor"] == ("user", "override")
    assert got["cache_dir"] == ("/file/cache", "file")
    assert got["isolation.cpu_seconds"] == (60, "default")
    # The text table says the same.
    table = run_cli("show", env=env).stdout
    assert "'trusted'  [env OPENHCS_PLUGINS_TRUST_FOLDER]" in table
    assert "(default: 60)" in table
    path = run_cli("path", env=env)
    assert path.stdout.strip() == str(tmp_path / "cfg" / "settings.py")


def test_a_broken_file_does_not_crash_the_cli_process(tmp_path):
    cfg = tmp_path / "cfg"
    cfg.mkdir()
    (cfg / "settings.py").write_text("import nonexistent_module_xyz\nsettings = None\n")
    env = {"OPENHCS_PLUGINS_CONFIG_DIR": str(cfg), "OPENHCS_PLUGINS_TRUST_FOLDER": "strict"}
    shown = run_cli("show", "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    data = json.loads(shown.stdout)
    assert "settings.py:1: ModuleNotFoundError" in data["problems"][0]
    assert data["settings"]["trust.folder"] == {
        "value": "strict",
        "layer": "env",
        "origin": "env",
        "default": "user",
        "env_var": "OPENHCS_PLUGINS_TRUST_FOLDER",
    }


def test_load_settings_warnings_are_settings_warnings(config_dir):
    write_settings(config_dir, "settings = 1\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_settings()
    assert [w.category for w in caught] == [SettingsWarning]


def test_settings_edit_refuses_a_settings_file_that_is_not_utf8(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from openhcs_plugins.cli._settings import settings_app

    monkeypatch.setenv("OPENHCS_PLUGINS_CONFIG_DIR", str(tmp_path))
    (tmp_path / "settings.py").write_bytes(b"settings = '\xff\xfe'\n")
    monkeypatch.setenv("EDITOR", "true")
    result = CliRunner().invoke(settings_app, ["edit"])
    assert result.exit_code == 1
    assert "is not UTF-8 text" in result.output
    assert (tmp_path / "settings.py").read_bytes() == b"settings = '\xff\xfe'\n"


def test_the_old_settings_module_still_exports_every_name(config_dir):
    """``openhcs_plugins.settings`` (kept for one release) re-exports the settings names, and a
    settings file written against it still loads."""
    import openhcs_plugins.config as config
    import openhcs_plugins.settings as old

    for name in old.__all__:
        assert getattr(old, name) is getattr(config, name, None) or name == "SETTINGS_FILENAME"
    assert set(config.__all__) <= set(old.__all__)
    settings_file_path().parent.mkdir(parents=True, exist_ok=True)
    settings_file_path().write_text(
        "from openhcs_plugins.settings import LazySettings, LazyTrustSettings\n"
        "settings = LazySettings(trust=LazyTrustSettings(folder='strict'))\n",
        encoding="utf-8",
    )
    assert load_settings().trust.folder == "strict"
