"""``make_venv`` (the venvs the e2e, example and template tests install wheels into) works
from a virtualenv, from a venv inside a venv, and from a plain prefix (a system interpreter
or a conda environment: ``sys.prefix == sys.base_prefix``, site-packages inside the prefix)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from plugin_packages import REPO, make_venv, site_dirs

pytestmark = pytest.mark.slow

PROBE = (
    "import json, sys, sysconfig\n"
    "import openhcs_plugins, psygnal, setuptools\n"
    "print(json.dumps({'path': sys.path, 'own': sysconfig.get_paths()['purelib'],\n"
    "  'plugins': openhcs_plugins.__file__, 'setuptools': setuptools.__version__}))\n"
)


def probe(python: Path) -> dict:
    out = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_a_nested_venv_sees_the_environment_running_the_tests(tmp_path: Path) -> None:
    seen = probe(make_venv(tmp_path / "env"))
    # this checkout, not some installed copy
    assert Path(seen["plugins"]).resolve().is_relative_to(REPO)
    # the recent setuptools the test builds need (PEP 639 licence strings), not the base's 65
    assert int(seen["setuptools"].split(".")[0]) >= 77
    # its own site-packages first: what a test installs there wins
    own = seen["path"].index(seen["own"])
    for outer in site_dirs():
        assert seen["path"].index(outer) > own


def test_a_venv_inside_a_venv_chains(tmp_path: Path) -> None:
    outer = make_venv(tmp_path / "outer")
    inner = make_venv(tmp_path / "inner", base_python=outer)
    seen = probe(inner)
    assert str(tmp_path / "outer") in " ".join(seen["path"])
    assert Path(seen["plugins"]).resolve().is_relative_to(REPO)


def test_a_plain_prefix_base_is_seen(tmp_path: Path) -> None:
    """The interpreter under the venv running the tests is a plain prefix, the layout a conda
    environment has; a venv made from it sees that prefix's site-packages."""
    base = Path(sys.base_prefix) / "bin" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    if not base.exists():
        pytest.skip(f"no base interpreter at {base}")
    python = make_venv(tmp_path / "env", base_python=base)
    base_sites = site_dirs(base)
    assert base_sites, f"{base} reports no site-packages"
    out = subprocess.run(
        [str(python), "-c", "import json, sys; print(json.dumps(sys.path))"],
        capture_output=True,
        text=True,
        check=True,
    )
    path = json.loads(out.stdout)
    assert all(d in path for d in base_sites)
    assert str(REPO) in path
