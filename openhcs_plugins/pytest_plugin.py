"""pytest fixtures for plugin authors and hosts (the ``pytest11`` entry point ``openhcs_plugins``).

Installed with openhcs-plugins, so a plugin package's tests can use them without a conftest::

    def test_blur_keeps_the_stack_shape(make_plugin, openhcs_registry):
        make_plugin('''
    from openhcs_plugins.decorators import numpy

    @numpy
    def blur(image, sigma: float = 1.0):
        return image
    ''', namespace="lab")
        assert openhcs_registry.keys() == ["lab:blur"]

    def test_my_package_honours_its_contracts(openhcs_contract):
        openhcs_contract.check_namespace("lab_filters")   # the installed package

Fixtures:

- ``openhcs_registry``: a fresh :class:`~openhcs_plugins.registry.FunctionRegistry` that scans
  nothing (no installed package, no folder).
- ``make_plugin``: writes code as a module to a temporary directory on ``sys.path`` and registers
  it into ``openhcs_registry`` exactly as an installed package would be (same validation at the
  ``trusted`` level, same adapter, imported on first use).
- ``openhcs_contract``: loads each function of a namespace and runs it on a small synthetic
  ``(C, Y, X)`` stack of its input memory type; a function whose framework is not installed is
  skipped with the reason.
"""

from __future__ import annotations

import itertools
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:  # this module is imported by every pytest run: keep its imports light
    import numpy as np

    from openhcs_plugins.loader import LoadReport, Problem
    from openhcs_plugins.registry import FunctionRegistry
    from openhcs_plugins.registry.adapter import RegistryAdapter

__all__ = [
    "ContractChecker",
    "ContractReport",
    "PluginMaker",
    "TemporaryPlugin",
    "make_plugin",
    "openhcs_contract",
    "openhcs_registry",
]


@pytest.fixture
def openhcs_registry() -> FunctionRegistry:
    """A fresh, empty function registry; nothing installed or in the folder is scanned."""
    from openhcs_plugins.registry import FunctionRegistry

    return FunctionRegistry()


# ---------------------------------------------------------------------------------------------
# make_plugin
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemporaryPlugin:
    """A plugin module made by ``make_plugin``: where it is, and what loading it gave."""

    namespace: str
    module: str
    path: Path
    report: LoadReport

    @property
    def keys(self) -> tuple[str, ...]:
        return self.report.registered

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.report.problems


class PluginMaker:
    """Callable behind the ``make_plugin`` fixture."""

    _counter = itertools.count()

    def __init__(self, directory: Path, adapter: RegistryAdapter) -> None:
        self.directory = directory
        self.adapter = adapter
        self.modules: list[str] = []

    def __call__(
        self,
        code: str,
        *,
        namespace: str = "my_plugin",
        module: str | None = None,
        attribute: str | None = None,
        strict: bool = True,
    ) -> TemporaryPlugin:
        """Write ``code`` as module ``module`` (a fresh name by default) and register it.

        ``attribute`` makes it a ``module:attribute`` entry point. With ``strict`` (the
        default) any problem raises :class:`~openhcs_plugins.loader.PluginLoadError`;
        otherwise the problems are in the returned plugin's ``problems``.
        """
        from openhcs_plugins.loader import (
            LoadReport,
            PluginLoadError,
            examine,
            register_discoveries,
        )
        from openhcs_plugins.sources.candidate import Candidate, SourceKind, TrustLevel

        if module is None:
            module = f"_openhcs_tmp_plugin_{next(self._counter)}"
        if not all(part.isidentifier() for part in module.split(".")):
            raise ValueError(f"{module!r} is not a module name")
        path = self.directory.joinpath(*module.split(".")).with_suffix(".py")
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(self.directory).parents:
            if parent != Path("."):
                (self.directory / parent / "__init__.py").touch()
        path.write_text(code, encoding="utf-8")
        sys.modules.pop(module, None)
        self.modules.append(module)
        value = module if attribute is None else f"{module}:{attribute}"
        candidate = Candidate(
            source=SourceKind.ENTRY_POINT,
            namespace=namespace,
            text=code,
            trust=TrustLevel.TRUSTED,
            path=path,
            module=module,
            attribute=attribute,
            distribution=f"{namespace}-temporary",
            version="0",
            origin=f"file:{path.as_uri()}",
            entry_point=f"{namespace} = {value}",
        )
        discovery = examine(candidate)
        registered = register_discoveries(self.adapter, [discovery])
        report = LoadReport(
            registered=registered.registered,
            problems=discovery.problems + registered.problems,
            warnings=discovery.warnings,
            runtime_signatures=registered.runtime_signatures,
        )
        if strict and report.problems:
            raise PluginLoadError(report)
        return TemporaryPlugin(namespace, module, path, report)

    def cleanup(self) -> None:
        for name in list(sys.modules):
            if any(name == m or name.startswith(m.split(".")[0] + ".") for m in self.modules):
                del sys.modules[name]
        for name in self.modules:
            sys.modules.pop(name.split(".")[0], None)


@pytest.fixture
def make_plugin(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, openhcs_registry: FunctionRegistry
) -> Iterator[PluginMaker]:
    """Make a temporary plugin from code: ``make_plugin(code, namespace="lab")``.

    The module is written under ``tmp_path``, which is put on ``sys.path`` for the test, and
    registered into ``openhcs_registry`` through the same validation and adapter as an installed
    package. Its modules are removed from ``sys.modules`` afterwards.
    """
    from openhcs_plugins.registry.adapter import RegistryAdapter

    directory = tmp_path / "openhcs_plugin_modules"
    directory.mkdir()
    monkeypatch.syspath_prepend(str(directory))
    maker = PluginMaker(directory, RegistryAdapter(openhcs_registry))
    yield maker
    maker.cleanup()


# ---------------------------------------------------------------------------------------------
# openhcs_contract
# ---------------------------------------------------------------------------------------------


@dataclass
class ContractReport:
    """What a contract check found, per function key."""

    passed: list[str] = field(default_factory=list)
    #: key -> what went wrong.
    failed: dict[str, str] = field(default_factory=dict)
    #: key -> why it was not run (framework not installed, required parameters).
    skipped: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        lines = [
            f"{len(self.passed)} passed, {len(self.failed)} failed, {len(self.skipped)} skipped"
        ]
        lines += [f"  FAILED {k}: {m}" for k, m in sorted(self.failed.items())]
        lines += [f"  SKIPPED {k}: {m}" for k, m in sorted(self.skipped.items())]
        return "\n".join(lines)


class ContractChecker:
    """Behind the ``openhcs_contract`` fixture: run functions on a synthetic stack.

    For each function: make a float32 ``(C, Y, X)`` stack (``shape``) in its input memory type
    with :func:`~openhcs_plugins.memory.convert_memory`, load the function (import and
    runtime checks), call it (``PURE_2D`` functions plane by plane), and check that the result
    (or the first item of an ``(image, metadata...)`` tuple) is an array of the declared output
    memory type with 3 dimensions (2 or 3 for ``VOLUMETRIC_TO_SLICE``), and that a numpy input
    was not modified in place.
    """

    def __init__(self, registry: FunctionRegistry) -> None:
        self.registry = registry
        self._scanned = False

    def _stack(self, shape: tuple[int, ...], seed: int) -> np.ndarray:
        import numpy as np

        return np.random.default_rng(seed).random(shape, dtype=np.float32)

    def check(
        self,
        key: str,
        *,
        shape: tuple[int, int, int] = (2, 16, 16),
        params: Mapping[str, Any] | None = None,
        report: ContractReport | None = None,
    ) -> ContractReport:
        """Check one function; the outcome is added to ``report`` (a new one by default)."""
        import numpy as np

        from openhcs_plugins.memory import (
            CONTRACT_ATTRIBUTE,
            FrameworkUnavailableError,
            convert_memory,
            detect_memory_type,
        )
        from openhcs_plugins.registry import ContractError, FunctionLoadError, check_result

        report = ContractReport() if report is None else report
        info = self.registry.info(key)
        params = dict(params or {})
        required = [
            p.name
            for p in info.parameters[1:]
            if p.default is None and p.kind in ("POSITIONAL_OR_KEYWORD", "KEYWORD_ONLY")
        ]
        missing = [name for name in required if name not in params]
        if missing:
            report.skipped[key] = (
                f"needs values for {', '.join(missing)}: "
                f"check({key!r}, params={{{', '.join(f'{m!r}: ...' for m in missing)}}})"
            )
            return report
        source = self._stack(shape, seed=len(report.passed) + 1)
        original = source.copy()
        try:
            image = convert_memory(source, info.input_memory_type)
        except (FrameworkUnavailableError, ImportError) as exc:
            report.skipped[key] = f"{info.input_memory_type} is not usable here: {exc}"
            return report
        try:
            func = self.registry.get(key)
        except FunctionLoadError as exc:
            report.failed[key] = str(exc)
            return report
        # The loaded function's own declaration is the truth (the listing may be static).
        contract = getattr(func, CONTRACT_ATTRIBUTE)
        try:
            if contract == "PURE_2D":
                result = func(image, slice_by_slice=True, **params)
            else:
                result = func(image, **params)
        except FrameworkUnavailableError as exc:
            report.skipped[key] = str(exc)
            return report
        except Exception as exc:
            report.failed[key] = f"raised {type(exc).__name__}: {exc} on a {shape} stack"
            return report
        head = result[0] if type(result) is tuple and result else result
        try:
            kind = detect_memory_type(head).value
        except TypeError:
            report.failed[key] = f"returned {type(head).__name__}, not an array"
            return report
        if kind != info.output_memory_type:
            report.failed[key] = f"returned a {kind} array; it declares {info.output_memory_type}"
            return report
        try:
            check_result(key, contract, image, result)
        except ContractError as exc:
            report.failed[key] = exc.reason
            return report
        if info.input_memory_type == "numpy" and not np.array_equal(source, original):
            report.failed[key] = "modified its input array in place; return a new array"
            return report
        report.passed.append(key)
        return report

    def check_namespace(
        self,
        namespace: str,
        *,
        shape: tuple[int, int, int] = (2, 16, 16),
        params: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> ContractReport:
        """Check every function of ``namespace``: fail the test if one fails, skip it (with the
        reasons) if none could run. ``params`` maps a function name to its keyword arguments.

        When the registry has no function in ``namespace``, the installed packages are loaded
        into it first (so a package's own tests can check it by namespace).
        """
        keys = self._keys(namespace)
        if not keys:
            pytest.fail(
                f"no function is registered in namespace {namespace!r}; is the package "
                "installed (pip install -e .), and is the entry-point name the namespace?"
            )
        report = ContractReport()
        for key in keys:
            name = key.partition(":")[2]
            self.check(key, shape=shape, params=(params or {}).get(name), report=report)
        if report.failed:
            pytest.fail(f"contract check of {namespace!r}:\n{report}")
        if not report.passed:
            pytest.skip(f"contract check of {namespace!r}: nothing could run\n{report}")
        return report

    def _keys(self, namespace: str) -> list[str]:
        keys = [i.key for i in self.registry.infos(namespace=namespace)]
        if not keys and not self._scanned:
            from openhcs_plugins.config import load_settings
            from openhcs_plugins.loader import load_plugins

            self._scanned = True
            load_plugins(
                registry=self.registry, include_folder=False, settings=load_settings(disabled=())
            )
            keys = [i.key for i in self.registry.infos(namespace=namespace)]
        return keys


@pytest.fixture
def openhcs_contract(openhcs_registry: FunctionRegistry) -> ContractChecker:
    """Contract checks on ``openhcs_registry``: ``openhcs_contract.check_namespace("lab")``."""
    return ContractChecker(openhcs_registry)
