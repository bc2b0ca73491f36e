"""One base error with the failing object attached, one Problem per finding, one line locator."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import sys
from pathlib import Path

import pytest

import openhcs_plugins
from openhcs_plugins.errors import (
    OpenHCSPluginsError,
    OpenHCSPluginsWarning,
    source_line,
    traceback_line,
)
from openhcs_plugins.sources.candidate import Candidate, Provenance, SourceKind

PACKAGE_DIR = Path(openhcs_plugins.__file__).parent

#: Exceptions that cannot derive from the base, and why: the isolated worker loads these modules
#: by path before its limits are set, with nothing of the package importable (see
#: ``execution/worker.py``). Both are caught inside the worker and never reach a caller.
WORKER_ONLY = {
    "openhcs_plugins.execution.results.Reject",
    "openhcs_plugins.execution.job.LoadError",
}

#: The built-in base each exception had before the common base: ``except`` clauses keep working.
BUILT_IN_BASES = {
    "openhcs_plugins.hosts.openhcs.UnsupportedOpenHCSVersion": RuntimeError,
    "openhcs_plugins.artifacts.declare.ArtifactResultError": TypeError,
    "openhcs_plugins.artifacts.write.ArtifactWriteError": ValueError,
    "openhcs_plugins._params.ParameterError": ValueError,
    "openhcs_plugins.gui._run.IsolationUnavailableError": RuntimeError,
    "openhcs_plugins.loading.report.PluginLoadError": RuntimeError,
    "openhcs_plugins.loading.register.PluginImportError": ImportError,
    "openhcs_plugins.config.settings.SettingsError": ValueError,
    "openhcs_plugins.config.settings.SettingsFileError": ValueError,
    "openhcs_plugins.config.settings.SettingsWarning": UserWarning,
    "openhcs_plugins.config.resolution.LazyResolutionError": LookupError,
    "openhcs_plugins.registry._store.RegistryCollisionError": ValueError,
    "openhcs_plugins.registry._store.FunctionLoadError": RuntimeError,
    "openhcs_plugins.registry._store.ContractError": ValueError,
    "openhcs_plugins.registry._store.UnknownFunctionError": KeyError,
    "openhcs_plugins.lockfile.LockFileError": ValueError,
    "openhcs_plugins.memory.errors.FrameworkUnavailableError": RuntimeError,
    "openhcs_plugins.memory.errors.DtypeChangeWarning": UserWarning,
    "openhcs_plugins.memory.errors.DtypeChangeError": TypeError,
    "openhcs_plugins.execution.errors.IsolationError": RuntimeError,
    "openhcs_plugins.execution.inprocess.CodeExecutionError": RuntimeError,
}

#: What a caller of ``registry.get``/``registry.call`` must be able to catch from the root.
ROOT_ERRORS = (
    "OpenHCSPluginsError",
    "OpenHCSPluginsWarning",
    "UnknownFunctionError",
    "FunctionLoadError",
    "ContractError",
    "RegistryCollisionError",
    "FrameworkUnavailableError",
    "DtypeChangeError",
    "IsolationError",
    "PluginLoadError",
)


def _package_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages([str(PACKAGE_DIR)], prefix="openhcs_plugins."):
        if info.name.endswith("__main__") or ".data." in info.name:
            continue
        names.append(info.name)
    return names


def _exception_classes() -> dict[str, type[BaseException]]:
    """Every exception or warning class defined in a module of the package, by full name."""
    found = {}
    for name in _package_modules():
        if name.startswith("openhcs_plugins.gui"):
            pytest.importorskip("qtpy")
        module = importlib.import_module(name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_every_exception_of_the_package_derives_from_the_base():
    classes = _exception_classes()
    assert len(classes) >= 30
    outside = sorted(
        name
        for name, cls in classes.items()
        if name not in WORKER_ONLY
        and not issubclass(cls, OpenHCSPluginsError | OpenHCSPluginsWarning)
    )
    assert not outside, f"not derived from OpenHCSPluginsError/Warning: {outside}"
    warnings = [name for name, cls in classes.items() if issubclass(cls, Warning)]
    assert warnings and all(issubclass(classes[n], OpenHCSPluginsWarning) for n in warnings)
    assert WORKER_ONLY <= set(classes)


def test_the_built_in_bases_are_kept():
    classes = _exception_classes()
    for name, base in BUILT_IN_BASES.items():
        assert issubclass(classes[name], base), name
    from openhcs_plugins.execution import WorkerTimeout

    assert issubclass(WorkerTimeout, RuntimeError)


def test_the_base_carries_the_failing_object_and_where():
    error = OpenHCSPluginsError("bad", subject="openhcs:blur", path=Path("/x/b.py"), line=4)
    assert (error.subject, error.path, error.line, error.hint) == ("openhcs:blur", "/x/b.py", 4, "")
    bare = OpenHCSPluginsError("bad")
    assert (bare.subject, bare.path, bare.line, bare.hint) == (None, None, None, "")
    assert str(bare) == "bad"


def _registry_with(key_name: str, importer):
    from openhcs_plugins.registry import FunctionRegistry, RegistryAdapter, info_from_static
    from openhcs_plugins.sources.candidate import StaticFunction

    registry = FunctionRegistry()
    function = StaticFunction(
        name=key_name, line=3, input_memory_type="numpy", output_memory_type="numpy"
    )
    info = info_from_static(
        function, "openhcs", Provenance(SourceKind.FOLDER, file="/x/f.py", line=3)
    )
    RegistryAdapter(registry).add(info, importer)
    return registry, info.key


def test_registry_get_unknown_key_names_it_and_stays_a_key_error():
    from openhcs_plugins.registry import FunctionRegistry

    with pytest.raises(openhcs_plugins.UnknownFunctionError) as info:
        FunctionRegistry().get("openhcs:nope")
    assert info.value.subject == "openhcs:nope" and "openhcs:nope" in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, OpenHCSPluginsError)


def test_a_load_failure_names_the_key_file_and_line():
    def broken():
        raise RuntimeError("boom")

    registry, key = _registry_with("blur", broken)
    with pytest.raises(openhcs_plugins.FunctionLoadError) as info:
        registry.get(key)
    error = info.value
    assert error.subject == key and key in str(error)
    assert (error.path, error.line) == ("/x/f.py", 3)


def test_a_contract_error_names_the_key():
    np = pytest.importorskip("numpy")
    from openhcs_plugins.registry import check_result

    with pytest.raises(openhcs_plugins.ContractError) as info:
        check_result("openhcs:flat", "FLEXIBLE", np.zeros((2, 3, 3)), "not an array")
    assert info.value.subject == "openhcs:flat" and "openhcs:flat" in str(info.value)


def test_a_collision_names_the_key():
    new = Provenance(SourceKind.FOLDER, file="/x/b.py", line=7)
    error = openhcs_plugins.RegistryCollisionError(
        "openhcs:blur", Provenance(SourceKind.FOLDER, file="/x/a.py"), new
    )
    assert error.subject == "openhcs:blur" and "openhcs:blur" in str(error)
    assert (error.path, error.line) == ("/x/b.py", 7)


def test_a_missing_framework_names_the_memory_type_and_the_install_command():
    from openhcs_plugins.memory import MemoryType

    error = openhcs_plugins.FrameworkUnavailableError(MemoryType.CUPY, "not installed")
    assert error.subject is MemoryType.CUPY and "cupy" in str(error)
    assert error.hint == "pip install 'openhcs-plugins[cupy]'" and error.hint in str(error)


def test_validation_and_execution_errors_carry_file_line_and_function():
    from openhcs_plugins.execution import CodeExecutionError, WorkerTimeout
    from openhcs_plugins.validation import ValidationError

    finding = ValidationError("no", 3, "import os", filename="f.py", function="g", hint="h")
    assert (finding.subject, finding.path, finding.line, finding.hint) == ("g", "f.py", 3, "h")
    assert finding.line_number == 3  # the OpenHCS name stays
    ran = CodeExecutionError("f.py", "NameError: x", 2, "y = x")
    assert (ran.subject, ran.path, ran.line) == ("f.py", "f.py", 2) and "f.py:2" in str(ran)
    slow = WorkerTimeout("too slow", function="blur", filename="f.py", line_number=5, hint="h")
    assert (slow.subject, slow.path, slow.line, slow.hint) == ("blur", "f.py", 5, "h")
    assert "blur" in str(slow)


def test_config_errors_name_the_file_and_the_line(tmp_path):
    from openhcs_plugins.lazy import UserCodeError, exec_user_code
    from openhcs_plugins.lockfile import LockFileError, read_lock
    from openhcs_plugins.settings import SettingsFileError

    with pytest.raises(UserCodeError) as info:
        exec_user_code("x = 1\ny = 1 / 0\n", filename="cfg.py")
    assert (info.value.subject, info.value.line) == ("cfg.py", 2)
    assert info.value.code_snippet == "y = 1 / 0"
    missing = tmp_path / "lock.json"
    with pytest.raises(LockFileError) as lock:
        read_lock(missing)
    assert lock.value.subject == missing and str(missing) in str(lock.value)
    assert lock.value.hint == f"openhcs-plugins freeze -o {missing}"
    settings = SettingsFileError("bad", path=tmp_path / "settings.py", line_number=4)
    assert (settings.subject, settings.line) == (tmp_path / "settings.py", 4)


def test_a_bad_param_names_the_param():
    from openhcs_plugins._params import ParameterError, parse_params
    from openhcs_plugins.registry import info_from_static
    from openhcs_plugins.sources.candidate import ParameterInfo, StaticFunction

    function = StaticFunction(
        name="blur",
        line=1,
        input_memory_type="numpy",
        output_memory_type="numpy",
        parameters=(
            ParameterInfo("image"),
            ParameterInfo("sigma", annotation="float", default="1.0"),
        ),
    )
    info = info_from_static(function, "openhcs", Provenance(SourceKind.FOLDER))
    with pytest.raises(ParameterError) as bad:
        parse_params(info, ["sigma=wide"])
    assert bad.value.subject == "--param sigma" and "--param sigma" in str(bad.value)
    with pytest.raises(ParameterError) as unknown:
        parse_params(info, ["size=3"])
    assert unknown.value.subject == "openhcs:blur"


def test_the_root_exports_what_registry_get_and_call_raise():
    for name in ROOT_ERRORS:
        assert name in openhcs_plugins.__all__, name
        cls = getattr(openhcs_plugins, name)
        assert issubclass(cls, OpenHCSPluginsError | OpenHCSPluginsWarning), name
    from openhcs_plugins.execution import IsolationError
    from openhcs_plugins.memory import DtypeChangeError
    from openhcs_plugins.registry import FunctionLoadError

    assert openhcs_plugins.FunctionLoadError is FunctionLoadError
    assert openhcs_plugins.IsolationError is IsolationError
    assert openhcs_plugins.DtypeChangeError is DtypeChangeError


def test_importing_the_errors_imports_nothing_of_the_package_and_only_the_standard_library():
    tree = ast.parse((PACKAGE_DIR / "errors.py").read_text(encoding="utf-8"))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        (node.module or "").split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and not node.level
    }
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}


# -- one Problem per finding --------------------------------------------------------------------


def test_a_finding_becomes_one_problem_field_by_field(tmp_path):
    from openhcs_plugins.loader import examine
    from openhcs_plugins.sources import Problem

    path = tmp_path / "evil.py"
    text = (
        "from openhcs_plugins.memory import numpy\n"
        "import os\n"
        "@numpy\n"
        "def f(image):\n"
        "    return image\n"
    )
    candidate = Candidate.from_code(text, source=SourceKind.FOLDER, path=path)
    (problem,) = examine(candidate).problems
    assert (problem.line, problem.kind, problem.snippet) == (2, "import-not-allowed", "import os")
    assert "import os" not in problem.message  # said once, in its own field
    assert f"{path}:2: {problem.message} (import os) - " in str(problem)
    assert Problem.from_dict(problem.to_dict()) == problem


def test_the_manager_reports_a_folder_finding_the_same_way(tmp_path):
    from openhcs_plugins.loader import examine
    from openhcs_plugins.manager import CustomFunctionManager

    (tmp_path / "evil.py").write_text("import os\n", encoding="utf-8")
    manager = CustomFunctionManager(storage_dir=tmp_path)
    manager.list_custom_functions()
    (listed,) = manager.problems
    candidate = Candidate.from_code(
        "import os\n", source=SourceKind.FOLDER, path=tmp_path / "evil.py"
    )
    assert listed == examine(candidate).problems[0]


# -- one place locates a line in user code --------------------------------------------------------


def test_the_locator_finds_the_innermost_line_of_the_file():
    code = compile("def f():\n    return 1 / 0\nf()\n", "<user>", "exec")
    with pytest.raises(ZeroDivisionError) as info:
        exec(code, {})
    assert traceback_line(info.value, "<user>") == 2
    assert traceback_line(info.value, "<other>") == 0
    assert source_line("a = 1\r\nb = 2\n", 2) == "b = 2"
    assert source_line("a = 1\n", 0) == source_line("a = 1\n", 9) == ""
    assert source_line("x = '" + "y" * 300 + "'", 1).endswith("...")


def test_no_other_module_walks_a_traceback_for_a_line():
    """The worker's job is the exception: it runs before the package can be imported."""
    walkers = []
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        if "data" in path.relative_to(PACKAGE_DIR).parts or path.name == "errors.py":
            continue
        text = path.read_text(encoding="utf-8")
        if any(call in text for call in ("walk_tb(", "extract_tb(", ".tb_next", ".tb_lineno")):
            walkers.append(str(path.relative_to(PACKAGE_DIR)))
    assert walkers == ["execution/job.py"]
