"""The names issue 12 renamed (one word per concept) still work for one release, with a
DeprecationWarning, and the files users keep (JSON output, caches) still read."""

from __future__ import annotations

import pytest

from openhcs_plugins.sources import Candidate, Problem, SourceKind, describe_subject


def _package_candidate() -> Candidate:
    return Candidate(
        source=SourceKind.ENTRY_POINT,
        namespace="lab",
        text="",
        distribution="lab-filters",
        version="0.2.0",
        origin="index",
    )


def test_problem_origin_is_a_deprecated_name_for_subject():
    problem = Problem(subject="lab-filters 0.2.0", message="it broke")
    with pytest.warns(DeprecationWarning, match="Problem.subject"):
        assert problem.origin == "lab-filters 0.2.0"


def test_problem_made_with_the_old_keyword_has_that_subject():
    with pytest.warns(DeprecationWarning, match="subject="):
        problem = Problem(origin="lab-filters 0.2.0", message="it broke")
    assert problem.subject == "lab-filters 0.2.0"
    assert problem == Problem(subject="lab-filters 0.2.0", message="it broke")


def test_problem_json_keeps_the_old_key_and_reads_the_old_form():
    problem = Problem(subject="/f/blur.py", message="it broke", file="/f/blur.py", line=3)
    data = problem.to_dict()
    assert data["subject"] == data["origin"] == "/f/blur.py"
    assert Problem.from_dict(data) == problem
    old = {k: v for k, v in data.items() if k != "subject"}
    assert Problem.from_dict(old) == problem


def test_describe_origin_is_a_deprecated_name_for_describe_subject():
    from openhcs_plugins.sources import describe_origin

    candidate = _package_candidate()
    with pytest.warns(DeprecationWarning, match="describe_subject"):
        assert describe_origin(candidate) == describe_subject(candidate) == "lab-filters 0.2.0"


def test_origin_id_is_a_deprecated_name_for_identity():
    candidate = _package_candidate()
    provenance = candidate.provenance()
    assert candidate.identity == provenance.identity == ("entry_point", "lab-filters")
    with pytest.warns(DeprecationWarning, match="Candidate.identity"):
        assert candidate.origin_id == candidate.identity
    with pytest.warns(DeprecationWarning, match="Provenance.identity"):
        assert provenance.origin_id == provenance.identity


def test_settings_origins_is_a_deprecated_name_for_settings_layers(tmp_path, monkeypatch):
    from openhcs_plugins import settings as settings_module
    from openhcs_plugins.config import ENV_VARS, describe_settings, settings_layers

    monkeypatch.setenv("OPENHCS_PLUGINS_CONFIG_DIR", str(tmp_path))
    for var in ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(ENV_VARS["trust.folder"], "strict")
    layers = settings_layers()
    assert layers["trust.folder"] == "env" and layers["trust.editor"] == "default"
    with pytest.warns(DeprecationWarning, match="settings_layers"):
        assert settings_module.settings_origins() == layers
    report = describe_settings()
    with pytest.warns(DeprecationWarning, match="layers"):
        assert report.origins() == report.layers() == layers
    entry = next(e for e in report.entries if e.key == "trust.folder")
    with pytest.warns(DeprecationWarning, match="SettingEntry.layer"):
        assert entry.origin == entry.layer == "env"


def test_registry_loader_is_a_deprecated_name_for_importer():
    import openhcs_plugins.registry as registry

    with pytest.warns(DeprecationWarning, match="Importer"):
        from openhcs_plugins.registry import Loader
    assert Loader is registry.Importer
    assert "Loader" not in registry.__all__ and "Importer" in registry.__all__


def test_registry_entry_takes_the_old_loader_keyword():
    from openhcs_plugins.memory import numpy
    from openhcs_plugins.registry import RegistryEntry, info_from_callable

    @numpy
    def double(image):
        return image * 2

    info = info_from_callable(double, "lab", _package_candidate().provenance())
    with pytest.warns(DeprecationWarning, match="importer="):
        entry = RegistryEntry(info, loader=lambda: double)
    assert entry.load() is double


@pytest.mark.parametrize(
    ("old", "module", "new"),
    [
        ("loader_for", "openhcs_plugins.loading.register", "importer_for"),
        ("module_loader", "openhcs_plugins.loading.register", "module_importer"),
        ("folder_loader", "openhcs_plugins.execution.dispatch", "folder_importer"),
    ],
)
def test_the_old_factory_names_still_import_from_the_loader_module(old, module, new):
    import importlib

    import openhcs_plugins.loader as loader_module

    with pytest.warns(DeprecationWarning, match=new):
        factory = getattr(loader_module, old)
    assert factory is getattr(importlib.import_module(module), new)
    assert old not in loader_module.__all__
