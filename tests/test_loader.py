"""The loader: real wheels installed with pip (--target) and real folder files, in process.

The subprocess-level guarantees (no plugin module and no framework imported by listing, upgrade
and uninstall with pip in a virtual environment, editable installs) are in tests/e2e.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from plugin_packages import (
    BROKEN,
    DUP_A,
    DUP_B,
    FACTORY,
    FILTERS_V1,
    SINGLE,
    build_sdist,
    build_wheels,
    install_target,
    on_sys_path,
)

from openhcs_plugins.config import load_settings, settings_file_path
from openhcs_plugins.loader import (
    LoadReport,
    PluginLoadError,
    disable,
    disabled_names,
    enable,
    environment_id,
    is_disabled,
    load_plugins,
    makes_functions_at_import,
    validate_archive,
    validate_distribution,
)
from openhcs_plugins.registry import FunctionLoadError, FunctionRegistry
from openhcs_plugins.sources.candidate import SourceKind

FOLDER_FUNCTION = """\
from openhcs_plugins.decorators import numpy


@numpy
def {name}(image):
    return image + 1
"""


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    root = tmp_path_factory.mktemp("loader")
    return build_wheels([FILTERS_V1, SINGLE, FACTORY, BROKEN, DUP_A, DUP_B], root)


@pytest.fixture(scope="module")
def site(wheels: dict[tuple[str, str], Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return install_target(wheels.values(), tmp_path_factory.mktemp("loader-site"))


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch):
    with on_sys_path(site, monkeypatch):
        yield site


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "functions"
    path.mkdir()
    return path


def _load(folder: Path, **kwargs) -> tuple[FunctionRegistry, LoadReport]:
    registry = kwargs.pop("registry", None) or FunctionRegistry()
    return registry, load_plugins(registry=registry, folder=folder, **kwargs)


def _problem(report: LoadReport, entry_point_name: str):
    found = [
        p for p in report.problems if (p.entry_point or "").startswith(entry_point_name + " =")
    ]
    assert found, f"no problem for {entry_point_name}: {report}"
    return found


# -- packages -----------------------------------------------------------------------------------


def test_installed_package_functions_are_listed_lazily_with_provenance(
    installed: Path, folder: Path
) -> None:
    registry, report = _load(folder)
    assert {"oplab_filters:double", "oplab_filters:old_invert", "oplab_filters:torch_square"} <= (
        set(report.registered)
    )
    info = registry.info("oplab_filters:double")
    assert info.signature == "(image, factor: float = 2.0)"
    assert info.summary == "Multiply every pixel."
    assert info.signature_from == "static"
    prov = info.provenance
    assert prov.source is SourceKind.ENTRY_POINT
    assert (prov.distribution, prov.version) == ("oplab-filters", "0.1.0")
    assert prov.entry_point == "oplab_filters = oplab_filters.filters"
    assert prov.origin.startswith("file:") and prov.file.endswith("filters.py")
    assert prov.line == 7
    assert registry.info("oplab_filters:torch_square").memory_types == ("torch", "numpy")
    assert not registry.entry("oplab_filters:double").loaded
    assert "oplab_filters.filters" not in sys.modules


def test_first_use_imports_the_module_and_runs_the_function(installed: Path, folder: Path) -> None:
    registry, _ = _load(folder)
    result = registry.call("oplab_filters:double", np.ones((2, 4, 4), dtype=np.float32))
    assert result.shape == (2, 4, 4) and float(result[0, 0, 0]) == 2.0
    assert "oplab_filters.filters" in sys.modules
    assert registry.entry("oplab_filters:double").state == "loaded"


def test_module_attribute_entry_point_registers_only_that_function(
    installed: Path, folder: Path
) -> None:
    registry, _ = _load(folder)
    assert [i.key for i in registry.infos(namespace="oplab_single")] == ["oplab_single:threshold"]


def test_each_broken_entry_point_is_reported_and_the_rest_load(
    installed: Path, folder: Path
) -> None:
    registry, report = _load(folder)
    for name in ("oplab_missing", "oplab_syntax", "oplab_empty", "openhcs", "bad-name"):
        (problem,) = _problem(report, name)
        assert (problem.distribution, problem.version) == ("oplab-broken", "0.3.0")
        assert problem.subject == "oplab-broken 0.3.0"
        assert problem.hint
    (syntax,) = _problem(report, "oplab_syntax")
    assert syntax.file.endswith("syntax.py") and syntax.line in (3, 4)
    (signature,) = _problem(report, "oplab_signature")
    assert signature.key == "oplab_signature:no_image" and signature.line == 9
    # The module's valid function, and everything else, still loaded.
    assert "oplab_signature:fine" in registry
    assert "oplab_signature:no_image" not in registry
    assert {"oplab_filters:double", "oplab_single:threshold"} <= set(registry.keys())


def test_module_that_raises_on_import_fails_on_first_use_naming_the_package(
    installed: Path, folder: Path
) -> None:
    registry, _ = _load(folder)
    assert "oplab_raises:fails_to_import" in registry  # listing does not import it
    with pytest.raises(FunctionLoadError) as caught:
        registry.get("oplab_raises:fails_to_import")
    message = str(caught.value)
    assert "oplab-broken 0.3.0" in message and "cannot be imported" in message
    assert "openhcs-plugins validate oplab-broken" in message
    assert registry.entry("oplab_raises:fails_to_import").state == "failed"


def test_verify_reports_import_failures_as_problems(installed: Path, folder: Path) -> None:
    registry, report = _load(folder, verify=True)
    (problem,) = [p for p in report.problems if p.kind == "load"]
    assert problem.key == "oplab_raises:fails_to_import"
    assert problem.distribution == "oplab-broken" and "cannot be imported" in problem.message
    assert registry.entry("oplab_filters:double").loaded


def test_two_distributions_with_one_namespace_are_both_refused_naming_each_other(
    installed: Path, folder: Path
) -> None:
    registry, report = _load(folder)
    problems = _problem(report, "oplab_shared")
    assert {p.distribution for p in problems} == {"oplab-dup-a", "oplab-dup-b"}
    by_dist = {p.distribution: p for p in problems}
    assert "oplab-dup-b 0.2.0" in by_dist["oplab-dup-a"].message
    assert "oplab-dup-a 0.1.0" in by_dist["oplab-dup-b"].message
    assert all(p.kind == "namespace-collision" for p in problems)
    assert registry.infos(namespace="oplab_shared") == []


def test_factory_made_functions_are_found_by_importing_only_that_module(
    installed: Path, folder: Path
) -> None:
    registry, report = _load(folder)
    assert {"oplab_factory:box3", "oplab_factory:box5", "oplab_factory:box7"} <= set(
        report.runtime_signatures
    )
    box5 = registry.info("oplab_factory:box5")
    assert box5.signature_from == "runtime"
    assert box5.signature == "(image, passes: int = 1)"
    assert registry.info("oplab_factory:box3").provenance.line == 3
    # Static and factory functions of one module side by side.
    assert registry.info("oplab_mixed:plain").signature_from == "static"
    assert registry.info("oplab_mixed:made").signature_from == "runtime"
    assert "oplab_filters.filters" not in sys.modules
    assert float(registry.call("oplab_factory:box5", np.ones((1, 2, 2)))[0, 0, 0]) == 5.0


def test_strict_turns_any_problem_into_an_error_with_the_report(
    installed: Path, folder: Path
) -> None:
    with pytest.raises(PluginLoadError) as caught:
        _load(folder, strict=True)
    report = caught.value.report
    assert report.problems and "oplab-broken 0.3.0" in str(caught.value)


def test_strict_passes_when_nothing_is_wrong(folder: Path) -> None:
    (folder / "fine.py").write_text(FOLDER_FUNCTION.format(name="fine"), encoding="utf-8")
    _, report = _load(folder, strict=True, include_entry_points=False)
    assert report.registered == ("openhcs:fine",) and report.ok


def test_reloading_after_a_package_disappears_removes_its_entries(
    installed: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry, _ = _load(folder)
    assert "oplab_single:threshold" in registry
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(installed)])
    _load(folder, registry=registry)
    assert not any(k.startswith("oplab") for k in registry.keys())


# -- validate a distribution or an archive ------------------------------------------------------


def test_validate_distribution_reports_only_its_problems_and_verifies_imports(
    installed: Path,
) -> None:
    report = validate_distribution("oplab_broken")  # any spelling of the name
    assert {p.distribution for p in report.problems} == {"oplab-broken"}
    kinds = {p.kind for p in report.problems}
    assert {"module-not-found", "syntax", "load", "invalid-namespace"} <= kinds
    assert "oplab_signature:fine" in report.registered
    assert not any(k.startswith("oplab_filters:") for k in report.registered)


def test_validate_distribution_of_a_sound_package_has_no_problem(installed: Path) -> None:
    report = validate_distribution("oplab-filters")
    assert report.ok, report
    assert set(report.registered) == {
        "oplab_filters:double",
        "oplab_filters:old_invert",
        "oplab_filters:torch_square",
    }


def test_validate_distribution_names_the_other_owner_of_its_namespace(installed: Path) -> None:
    (problem,) = validate_distribution("oplab-dup-a", verify=False).problems
    assert problem.kind == "namespace-collision" and "oplab-dup-b 0.2.0" in problem.message


def test_validate_distribution_that_is_not_installed_is_a_problem() -> None:
    (problem,) = validate_distribution("oplab-never-installed").problems
    assert problem.kind == "not-installed"


def test_validate_wheel_and_sdist_without_installing_them(
    wheels: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    project = FILTERS_V1.write(tmp_path)
    sdist = build_sdist(project, tmp_path / "dist")
    for archive in (wheels[FILTERS_V1.name, FILTERS_V1.version], sdist):
        report = validate_archive(archive)
        assert report.ok, report
        assert set(report.registered) == {
            "oplab_filters:double",
            "oplab_filters:old_invert",
            "oplab_filters:torch_square",
        }
    assert "oplab_filters" not in sys.modules


def test_validate_broken_wheel_reports_each_entry_point(
    wheels: dict[tuple[str, str], Path],
) -> None:
    report = validate_archive(wheels[BROKEN.name, BROKEN.version])
    by_entry = {p.entry_point.split(" =")[0]: p for p in report.problems if p.entry_point}
    assert by_entry["oplab_missing"].kind == "module-not-found"
    assert by_entry["oplab_syntax"].kind == "syntax"
    assert by_entry["oplab_syntax"].file.endswith(".whl/oplab_broken/syntax.py")
    assert by_entry["oplab_empty"].kind == "no-function"
    assert by_entry["openhcs"].kind == "invalid-namespace"
    assert "oplab_signature:fine" in report.registered
    assert "oplab_broken" not in sys.modules  # nothing was imported


def test_validate_factory_wheel_warns_that_import_time_functions_need_an_install(
    wheels: dict[tuple[str, str], Path],
) -> None:
    report = validate_archive(wheels[FACTORY.name, FACTORY.version])
    assert "oplab_mixed:plain" in report.registered
    assert any(w.kind == "not-installed" or w.kind == "not-imported" for w in report.warnings)
    assert "oplab_factory" not in sys.modules


def test_validate_something_that_is_not_an_archive_is_a_problem(tmp_path: Path) -> None:
    bogus = tmp_path / "lab.whl"
    bogus.write_text("not a zip")
    (problem,) = validate_archive(bogus).problems
    assert problem.kind == "unreadable"


# -- folder ---------------------------------------------------------------------------------------


def test_folder_functions_load_with_packages_through_the_same_adapter(
    installed: Path, folder: Path
) -> None:
    (folder / "brighten.py").write_text(FOLDER_FUNCTION.format(name="brighten"), encoding="utf-8")
    registry, _ = _load(folder)
    info = registry.info("openhcs:brighten")
    assert info.provenance.source is SourceKind.FOLDER
    assert info.provenance.file == str(folder / "brighten.py")
    assert float(registry.call("openhcs:brighten", np.zeros((1, 2, 2)))[0, 0, 0]) == 1.0


def test_folder_collision_is_reported_with_both_files_and_the_first_file_wins(
    folder: Path,
) -> None:
    (folder / "a.py").write_text(FOLDER_FUNCTION.format(name="same"), encoding="utf-8")
    (folder / "b.py").write_text(FOLDER_FUNCTION.format(name="same"), encoding="utf-8")
    registry, report = _load(folder, include_entry_points=False)
    assert registry.info("openhcs:same").provenance.file == str(folder / "a.py")
    (problem,) = report.problems
    assert problem.kind == "collision" and problem.file == str(folder / "b.py")
    assert str(folder / "a.py") in problem.message and problem.line == 5


def test_invalid_and_unreadable_folder_files_do_not_stop_the_others(folder: Path) -> None:
    (folder / "bad.py").write_text("import os\n\n@numpy\ndef f(image:\n", encoding="utf-8")
    (folder / "latin.py").write_bytes(b"# caf\xe9\n")
    (folder / "good.py").write_text(FOLDER_FUNCTION.format(name="good"), encoding="utf-8")
    registry, report = _load(folder, include_entry_points=False)
    assert registry.keys() == ["openhcs:good"]
    assert {Path(p.file).name for p in report.problems} == {"bad.py", "latin.py"}


def test_deleted_folder_file_disappears_on_reload(folder: Path) -> None:
    path = folder / "gone.py"
    path.write_text(FOLDER_FUNCTION.format(name="gone"), encoding="utf-8")
    registry, _ = _load(folder, include_entry_points=False)
    assert "openhcs:gone" in registry
    path.unlink()
    _load(folder, include_entry_points=False, registry=registry)
    assert "openhcs:gone" not in registry


def test_folder_policy_is_enforced_but_package_policy_findings_are_warnings(
    folder: Path,
) -> None:
    code = FOLDER_FUNCTION.format(name="shell").replace(
        "import numpy\n", "import numpy\nimport subprocess\n"
    )
    (folder / "shell.py").write_text(code, encoding="utf-8")
    registry, report = _load(folder, include_entry_points=False)
    assert "openhcs:shell" not in registry
    assert report.problems[0].file == str(folder / "shell.py")


# -- enable / disable ------------------------------------------------------------------------------


def test_disabled_namespace_and_key_are_not_registered(installed: Path, folder: Path) -> None:
    settings = load_settings(disabled=("oplab_single", "oplab_filters:old_invert"))
    registry, report = _load(folder, settings=settings)
    assert "oplab_single:threshold" not in registry
    assert "oplab_filters:old_invert" not in registry
    assert "oplab_filters:double" in registry
    assert {"oplab_single:threshold", "oplab_filters:old_invert"} <= set(report.disabled)


def test_disabled_names_scoped_to_another_environment_do_not_apply_here() -> None:
    settings = load_settings(disabled=("lab_a", f"lab_b@{environment_id()}", "lab_c@000000000000"))
    assert disabled_names(settings) == {"lab_a", "lab_b"}
    assert is_disabled("lab_b:blur", settings) and not is_disabled("lab_c:blur", settings)


def test_disable_writes_this_environment_to_the_settings_and_enable_undoes_it(
    installed: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    change = disable("oplab_filters:double")
    assert change.changed and change.path == settings_file_path()
    assert load_settings().disabled == (f"oplab_filters:double@{environment_id()}",)
    registry, _ = _load(folder)
    assert "oplab_filters:double" not in registry and "oplab_filters:old_invert" in registry
    assert not disable("oplab_filters:double").changed  # already disabled
    assert enable("oplab_filters:double").changed
    assert load_settings().disabled == ()
    registry, _ = _load(folder)
    assert "oplab_filters:double" in registry


def test_concurrent_disables_keep_each_others_names(
    installed: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    import openhcs_plugins.config.settings_file as settings_module

    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    real_read = settings_module.read_settings_file

    def slow_read(*args, **kwargs):  # widens the read-change-write window
        lazy = real_read(*args, **kwargs)
        time.sleep(0.3)
        return lazy

    monkeypatch.setattr(settings_module, "read_settings_file", slow_read)
    names = ["oplab_filters:double", "oplab_single"]
    threads = [
        threading.Thread(target=disable, args=(n,), kwargs={"everywhere": True}) for n in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(load_settings().disabled) == sorted(names)


def test_disabling_something_unknown_is_a_no_op_with_a_message(
    installed: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENHCS_PLUGINS_FUNCTIONS_DIR", str(folder))
    change = disable("no_such_plugin")
    assert not change.changed and "not installed" in change.message
    assert not settings_file_path().exists()
    assert not enable("no_such_plugin").changed
    with pytest.raises(ValueError, match="not a namespace"):
        disable("bad name")


# -- the static factory detector ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("from openhcs_plugins.decorators import numpy\n@numpy\ndef f(image): ...\n", False),
        ("import numpy\nx = numpy.zeros(3)\n", False),
        (
            "from openhcs_plugins.decorators import numpy\n"
            "def make():\n    @numpy\n    def f(image): ...\n    return f\n",
            True,
        ),
        ("from openhcs_plugins.memory import numpy as np_\ng = np_(lambda image: image)\n", True),
        ("import openhcs_plugins.decorators as d\ng = d.torch(lambda image: image)\n", True),
        ("from openhcs.core.memory import numpy\nfor k in (1, 2):\n    numpy(lambda i: i)\n", True),
        (
            "from openhcs_plugins.decorators import numpy\nimport numpy as np\n"
            "@numpy(output_type='numpy')\ndef f(image):\n    'a numpy array'\n"
            "    return np.zeros(3)\n",
            False,
        ),
        (
            "from openhcs_plugins.decorators import numpy\n@numpy\ndef f(image): ...\n"
            "g = numpy(f)  # \u00e9\n",
            True,
        ),
    ],
)
def test_factory_detector_spots_decorators_used_outside_module_level_defs(
    code: str, expected: bool
) -> None:
    import ast

    tree = ast.parse(code)
    assert makes_functions_at_import(tree) is expected
    assert makes_functions_at_import(tree, code) is expected  # the text shortcut agrees


def test_examining_a_package_module_parses_its_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The loader takes what it needs (functions made at import, names) from the validating
    pass; it does not parse or walk the text a second time."""
    import ast

    from openhcs_plugins.loader import examine
    from openhcs_plugins.sources.candidate import Candidate, TrustLevel

    parsed: list[str] = []
    real_parse = ast.parse

    def counting_parse(source, *args, **kwargs):
        parsed.append(kwargs.get("filename", "?"))
        return real_parse(source, *args, **kwargs)

    monkeypatch.setattr(ast, "parse", counting_parse)
    text = (
        "from openhcs_plugins.decorators import numpy\n"
        "@numpy\ndef f(image):\n    return image\n"
        "def make():\n    @numpy\n    def g(image):\n        return image\n    return g\n"
    )
    candidate = Candidate(
        SourceKind.ENTRY_POINT, "oplab_once", text, trust=TrustLevel.TRUSTED, module="oplab_once"
    )
    discovery = examine(candidate, import_modules=False)
    assert len(parsed) == 1
    assert [f.name for f in discovery.functions] == ["f"]
    assert "not-imported" in {w.kind for w in discovery.warnings}  # the factory was seen
