"""The pytest plugin, driven through pytester as a plugin author's test suite would use it."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def author(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester run with only this plugin loaded explicitly (entry-point autoload is off, so
    the test does not depend on whether this checkout is pip-installed)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))
    )
    return pytester


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest_subprocess("-p", "openhcs_plugins.pytest_plugin", "-q", *args)


def test_pyproject_declares_the_pytest11_entry_point() -> None:
    tomllib = pytest.importorskip("tomllib")
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["pytest11"] == {
        "openhcs_plugins": "openhcs_plugins.pytest_plugin"
    }


def test_openhcs_registry_is_empty_and_does_not_scan_the_environment(
    author: pytest.Pytester,
) -> None:
    author.makepyfile(
        """
        def test_empty(openhcs_registry):
            assert len(openhcs_registry) == 0
            assert openhcs_registry.keys() == []
        """
    )
    _run(author).assert_outcomes(passed=1)


def test_make_plugin_registers_code_like_an_installed_package(author: pytest.Pytester) -> None:
    author.makepyfile(
        '''
        import sys

        import numpy as np

        CODE = """
        from openhcs_plugins.decorators import numpy


        @numpy
        def halve(image, by: float = 2.0):
            \\"\\"\\"Halve.\\"\\"\\"
            return image / by
        """


        def test_plugin(make_plugin, openhcs_registry):
            plugin = make_plugin(CODE, namespace="lab")
            assert plugin.keys == ("lab:halve",)
            info = openhcs_registry.info("lab:halve")
            assert info.provenance.source.value == "entry_point"
            assert info.signature == "(image, by: float = 2.0)"
            assert plugin.module not in sys.modules  # lazy until first use
            out = openhcs_registry.call("lab:halve", np.full((1, 2, 2), 4.0))
            assert float(out[0, 0, 0]) == 2.0


        def test_broken_plugin_problems(make_plugin):
            plugin = make_plugin("def f(:\\n", namespace="lab", strict=False)
            assert plugin.keys == ()
            assert plugin.problems and plugin.problems[0].line == 1


        def test_strict_by_default(make_plugin):
            import pytest
            from openhcs_plugins.loader import PluginLoadError

            with pytest.raises(PluginLoadError):
                make_plugin("x = 1\\n", namespace="lab")
        '''
    )
    _run(author).assert_outcomes(passed=3)


def test_make_plugin_modules_are_removed_after_the_test(author: pytest.Pytester) -> None:
    author.makepyfile(
        """
        import sys

        CODE = (
            "from openhcs_plugins.decorators import numpy\\n"
            "@numpy\\ndef f(image):\\n    return image\\n"
        )
        seen = []


        def test_first(make_plugin, openhcs_registry):
            plugin = make_plugin(CODE, module="labmod")
            openhcs_registry.get("my_plugin:f")
            assert "labmod" in sys.modules
            seen.append(plugin.path)


        def test_second():
            assert "labmod" not in sys.modules
            assert str(seen[0].parent) not in sys.path
        """
    )
    _run(author).assert_outcomes(passed=2)


def test_contract_check_passes_good_functions_and_fails_bad_ones(author: pytest.Pytester) -> None:
    author.makepyfile(
        '''
        CODE = """
        import numpy as np
        from openhcs_plugins.decorators import numpy


        @numpy
        def good(image, gain: float = 1.0):
            return image * gain


        @numpy(contract="PURE_2D")
        def per_plane(image):
            assert image.ndim == 2
            return image + 1


        @numpy
        def needs_args(image, radius):
            return image
        """

        BAD = """
        import numpy as np
        from openhcs_plugins.decorators import numpy


        @numpy
        def flattens(image):
            return image.sum(axis=0)


        @numpy
        def in_place(image):
            image += 1
            return image
        """


        def test_good(make_plugin, openhcs_contract):
            make_plugin(CODE, namespace="ok")
            report = openhcs_contract.check_namespace("ok", params={"needs_args": {"radius": 2}})
            assert sorted(report.passed) == ["ok:good", "ok:needs_args", "ok:per_plane"]


        def test_missing_params_are_skipped_with_the_reason(make_plugin, openhcs_contract):
            make_plugin(CODE, namespace="ok")
            report = openhcs_contract.check_namespace("ok")
            assert "radius" in report.skipped["ok:needs_args"]


        def test_bad(make_plugin, openhcs_contract):
            make_plugin(BAD, namespace="bad")
            openhcs_contract.check_namespace("bad")
        '''
    )
    result = _run(author, "-rA")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*bad:flattens: returned shape (16, 16) for a (2, 16, 16) input; expected 3 dim*",
            "*bad:in_place: modified its input array in place*",
        ]
    )


@pytest.mark.parametrize("framework", ["torch", "jax", "tensorflow"])
def test_contract_check_skips_frameworks_that_are_not_installed(
    author: pytest.Pytester, framework: str
) -> None:
    author.makepyfile(
        f'''
        CODE = """
        from openhcs_plugins.decorators import {framework}


        @{framework}
        def ident(image):
            return image
        """


        def test_framework(make_plugin, openhcs_contract):
            make_plugin(CODE, namespace="fw")
            openhcs_contract.check_namespace("fw")
        '''
    )
    result = _run(author, "-rs")
    if importlib.util.find_spec(framework) is None:
        result.assert_outcomes(skipped=1)
        result.stdout.fnmatch_lines([f"*fw:ident: {framework} is not usable here*"])
    else:
        result.assert_outcomes(passed=1)


def test_contract_check_of_an_unknown_namespace_fails_with_a_hint(author: pytest.Pytester) -> None:
    author.makepyfile(
        """
        def test_unknown(openhcs_contract):
            openhcs_contract.check_namespace("no_such_namespace_anywhere")
        """
    )
    result = _run(author)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*no function is registered in namespace*pip install -e*"])
