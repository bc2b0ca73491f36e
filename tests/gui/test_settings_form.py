"""The settings form: placeholders vs explicit values, clearing, code view round trip, saving."""

from __future__ import annotations

from pathlib import Path

import pytest
from qtpy.QtCore import Qt

from openhcs_plugins.config import (
    SETTINGS_KEYS,
    LazySettings,
    LazyTrustSettings,
    load_settings,
    read_settings_file,
    save_settings,
    settings_file_path,
)
from openhcs_plugins.gui import SettingsForm
from openhcs_plugins.gui.settings_form import setting_keys


@pytest.fixture
def form(qtbot) -> SettingsForm:
    widget = SettingsForm()
    qtbot.addWidget(widget)
    widget.resize(1000, 700)
    widget.show()
    return widget


def raw(obj, dotted: str):
    for part in dotted.split("."):
        obj = object.__getattribute__(obj, part) if obj is not None else None
    return obj


def test_one_field_per_setting_walked_from_the_dataclass():
    assert setting_keys() == list(SETTINGS_KEYS)


def test_explicit_values_are_values_and_inherited_ones_placeholders_with_their_layer(
    qtbot, monkeypatch: pytest.MonkeyPatch, _isolated_user_dirs: Path
):
    save_settings(LazySettings(trust=LazyTrustSettings(folder="strict"), disabled=("lab",)))
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    monkeypatch.setenv("HOME", str(_isolated_user_dirs))  # the XDG folders are under it
    form = SettingsForm()
    qtbot.addWidget(form)

    folder = form.field("trust.folder")
    assert folder.text() == "strict"
    assert "set in the settings file" in folder.layer_label.text()
    assert form.field("disabled").text() == "lab"

    editor = form.field("trust.editor")
    assert editor.text() == ""
    assert editor.placeholder() == "strict   (inherited: OPENHCS_PLUGINS_TRUST_EDITOR)"
    entry_point = form.field("trust.entry_point")
    assert entry_point.text() == ""
    assert entry_point.placeholder() == "trusted   (inherited: default)"
    functions_dir = form.field("functions_dir")
    assert functions_dir.placeholder() == "~/data/openhcs/custom_functions   (inherited: default)"
    assert form.field("isolation.cpu_seconds").placeholder() == "60   (inherited: default)"


def test_an_environment_variable_that_wins_over_the_file_is_pointed_out(
    qtbot, monkeypatch: pytest.MonkeyPatch
):
    save_settings(LazySettings(trust=LazyTrustSettings(editor="user")))
    monkeypatch.setenv("OPENHCS_PLUGINS_TRUST_EDITOR", "strict")
    form = SettingsForm()
    qtbot.addWidget(form)
    assert form.field("trust.editor").text() == "user"
    assert (
        "OPENHCS_PLUGINS_TRUST_EDITOR=strict wins" in form.field("trust.editor").layer_label.text()
    )


def test_typing_a_value_sets_it_and_clearing_returns_it_to_inherited(qtbot, form: SettingsForm):
    cpu = form.field("isolation.cpu_seconds")
    assert cpu.line is not None
    qtbot.keyClicks(cpu.line, "30")
    assert form.explicit_value("isolation.cpu_seconds") == 30
    assert form.is_modified()

    folder = form.field("trust.folder")
    assert folder.combo is not None
    folder.combo.setCurrentText("strict")
    assert form.explicit_value("trust.folder") == "strict"
    assert form.save()
    assert load_settings().trust.folder == "strict"
    assert load_settings().isolation.cpu_seconds == 30

    qtbot.mouseClick(folder.reset_button, Qt.MouseButton.LeftButton)
    cpu.line.clear()
    assert folder.text() == "" and cpu.text() == ""
    assert form.explicit_value("trust.folder") is None
    assert form.explicit_value("isolation.cpu_seconds") is None
    assert folder.placeholder() == "user   (inherited: default)"
    assert "inherited from default" in folder.layer_label.text()
    assert form.save()
    stored = read_settings_file()
    assert raw(stored, "trust.folder") is None
    assert raw(stored, "isolation.cpu_seconds") is None
    assert load_settings().trust.folder == "user"


def test_an_invalid_value_is_shown_at_the_field_and_blocks_saving(qtbot, form: SettingsForm):
    memory = form.field("isolation.memory_mb")
    assert memory.line is not None
    qtbot.keyClicks(memory.line, "-5")
    assert "positive int" in memory.error_label.text()
    assert form.explicit_value("isolation.memory_mb") is None
    assert not form.save_button.isEnabled()
    assert form.save() is False
    assert not settings_file_path().exists()
    memory.line.clear()
    assert memory.error_label.text() == ""
    assert form.save_button.isEnabled()


def test_code_view_round_trip_keeps_none_as_none(qtbot, form: SettingsForm):
    form.field("trust.folder").set_text("strict")
    form.field("disabled").set_text("lab_filters, other:blur")
    code = form.code()
    assert "folder='strict'" in code and "('lab_filters', 'other:blur')" in code
    assert "editor" not in code and "cpu_seconds" not in code

    # Edit the code: set trust.editor, drop trust.folder and disabled.
    form.tabs.setCurrentIndex(1)
    form.set_code(
        "from openhcs_plugins.config.settings import LazySettings, LazyTrustSettings\n"
        "\n"
        "settings = LazySettings(trust=LazyTrustSettings(editor='strict'))\n"
    )
    form.tabs.setCurrentIndex(0)  # leaving the code tab applies it
    lazy = form.lazy_settings()
    assert raw(lazy, "trust.editor") == "strict"
    assert raw(lazy, "trust.folder") is None
    assert raw(lazy, "disabled") is None
    assert form.field("trust.editor").text() == "strict"
    assert form.field("trust.folder").text() == ""
    assert form.field("trust.folder").placeholder() == "user   (inherited: default)"
    assert form.field("disabled").text() == ""

    assert form.save()
    stored = read_settings_file()
    assert stored == lazy
    assert raw(stored, "trust.folder") is None


def test_code_with_an_error_shows_its_line_and_leaves_the_form_unchanged(qtbot, form: SettingsForm):
    form.field("trust.folder").set_text("strict")
    form.tabs.setCurrentIndex(1)
    form.set_code(
        "from openhcs_plugins.config.settings import LazySettings, LazyTrustSettings\n"
        "\n"
        "settings = LazySettings(\n"
        "    trust=LazyTrustSettings(folder='sometimes'),\n"
        ")\n"
    )
    form.tabs.setCurrentIndex(0)
    assert form.tabs.currentIndex() == 1  # stays on the code until it is fixed
    assert "sometimes" in form.code_error_label.text()
    assert form.code_view.problem_lines
    assert raw(form.lazy_settings(), "trust.folder") == "strict"
    assert form.save() is False
    assert not settings_file_path().exists()

    form.set_code("x = 1\n")
    assert form.apply_code() is False
    assert "settings = LazySettings(...)" in form.code_error_label.text()


def test_save_to_an_explicit_path_and_revert(qtbot, tmp_path: Path):
    path = tmp_path / "elsewhere" / "settings.py"
    form = SettingsForm(path)
    qtbot.addWidget(form)
    form.field("trust.editor").set_text("strict")
    with qtbot.waitSignal(form.settings_saved) as saved:
        qtbot.mouseClick(form.save_button, Qt.MouseButton.LeftButton)
    assert saved.args == [path]
    assert raw(read_settings_file(path), "trust.editor") == "strict"
    assert not settings_file_path().exists()

    form.field("trust.editor").set_text("trusted")
    assert form.is_modified()
    qtbot.mouseClick(form.revert_button, Qt.MouseButton.LeftButton)
    assert form.field("trust.editor").text() == "strict"
    assert not form.is_modified()


def test_a_broken_settings_file_is_reported_not_fatal(qtbot):
    path = settings_file_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("settings = LazySettings(\n", encoding="utf-8")
    form = SettingsForm()
    qtbot.addWidget(form)
    assert form.problems_label.isVisibleTo(form)
    assert "syntax error" in form.problems_label.text()
    assert form.explicit_value("trust.folder") is None


def test_origin_label_is_a_deprecated_name_for_layer_label(form):
    field = form.field("trust.folder")
    with pytest.warns(DeprecationWarning, match="layer_label"):
        assert field.origin_label is field.layer_label
