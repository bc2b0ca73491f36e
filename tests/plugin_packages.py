"""Real plugin packages for the loader tests: written as projects, built into wheels with
``python -m build --wheel --no-isolation``, installed with pip (into a ``--target`` directory or
a virtual environment). Module and distribution names start with ``oplab`` so tests can find and
clean them up.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]

DECORATORS = "from openhcs_plugins.decorators import numpy, torch\n\n"


def src(text: str, *, decorators: bool = True) -> str:
    """Module source: dedented, with the decorator import first unless ``decorators`` is false."""
    return (DECORATORS if decorators else "") + textwrap.dedent(text).lstrip("\n")


@dataclass(frozen=True)
class Package:
    """A plugin project: distribution name, version, files and entry points."""

    name: str
    version: str
    files: dict[str, str]
    entry_points: dict[str, str]
    packages: tuple[str, ...] = ()
    py_modules: tuple[str, ...] = ()
    src_layout: bool = False
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def wheel_name(self) -> str:
        return f"{self.name.replace('-', '_')}-{self.version}-py3-none-any.whl"

    def write(self, root: Path) -> Path:
        """Write the project under ``root/<name>-<version>``; return its directory."""
        project = root / f"{self.name}-{self.version}"
        base = project / "src" if self.src_layout else project
        for rel, text in self.files.items():
            path = base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        eps = "\n".join(f'"{k}" = "{v}"' for k, v in self.entry_points.items())
        setuptools = []
        if self.packages:
            setuptools.append(f"packages = {list(self.packages)!r}")
        if self.py_modules:
            setuptools.append(f"py-modules = {list(self.py_modules)!r}")
        if self.src_layout:
            setuptools.append('package-dir = {"" = "src"}')
        (project / "pyproject.toml").write_text(
            textwrap.dedent(
                f"""\
                [build-system]
                requires = ["setuptools>=68"]
                build-backend = "setuptools.build_meta"

                [project]
                name = "{self.name}"
                version = "{self.version}"
                requires-python = ">=3.10"

                [project.entry-points."openhcs.functions"]
                """
            )
            + eps
            + "\n\n[tool.setuptools]\n"
            + "\n".join(setuptools)
            + "\n",
            encoding="utf-8",
        )
        return project


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure raise with its output (so a broken build says why)."""
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]
    if result.returncode != 0:
        command = " ".join(map(str, cmd))
        raise RuntimeError(
            f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def build_wheel(project: Path, outdir: Path) -> Path:
    """``python -m build --wheel --no-isolation`` (setuptools from this environment)."""
    before = set(outdir.glob("*.whl")) if outdir.exists() else set()
    run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(outdir)],
        cwd=project,
    )
    (wheel,) = set(outdir.glob("*.whl")) - before
    return wheel


def build_sdist(project: Path, outdir: Path) -> Path:
    """``python -m build --sdist --no-isolation``."""
    before = set(outdir.glob("*.tar.gz")) if outdir.exists() else set()
    run(
        [sys.executable, "-m", "build", "--sdist", "--no-isolation", "--outdir", str(outdir)],
        cwd=project,
    )
    (sdist,) = set(outdir.glob("*.tar.gz")) - before
    return sdist


def build_wheels(packages: list[Package], root: Path) -> dict[tuple[str, str], Path]:
    """Build each package's wheel (two at a time); keyed by (name, version)."""
    outdir = root / "wheels"
    outdir.mkdir(parents=True, exist_ok=True)

    def one(package: Package) -> tuple[tuple[str, str], Path]:
        project = package.write(root / "projects")
        # One output directory per build: parallel builds must not see each other's wheels.
        return (package.name, package.version), build_wheel(
            project, outdir / f"{package.name}-{package.version}"
        )

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, packages))


def pip(*args: str, python: str | os.PathLike[str] | None = None) -> None:
    """This interpreter's pip, optionally acting on another environment (``--python``)."""
    cmd = [sys.executable, "-m", "pip"]
    if python is not None:
        cmd += ["--python", str(python)]
    run(
        [
            *cmd,
            *args,
            "--disable-pip-version-check",
            "--no-input",
            "-q",
            "--root-user-action=ignore",
        ]
    )


def install_target(wheels: Iterable[Path], target: Path) -> Path:
    """Install ``wheels`` (no dependencies) into the plain directory ``target``."""
    pip("install", "--no-deps", "--target", str(target), *map(str, wheels))
    return target


@contextlib.contextmanager
def on_sys_path(site: Path, monkeypatch: Any) -> Iterator[Path]:
    """``site`` on ``sys.path`` (its entry points become visible); afterwards the test
    packages' modules are forgotten, so the next test imports them afresh."""
    monkeypatch.syspath_prepend(str(site))
    yield site
    for name in [m for m in sys.modules if m.startswith("oplab")]:
        del sys.modules[name]


def site_dirs(python: str | os.PathLike[str] | None = None) -> list[str]:
    """The site-packages folders ``python`` (default: this interpreter) imports from, in order:
    a venv's own, those its ``.pth`` files add (a venv layered on another), its base's when it
    was made with ``--system-site-packages``, a conda or system prefix's, the user site."""
    code = (
        "import json, sys\n"
        "print(json.dumps([p for p in sys.path\n"
        "    if p.endswith(('site-packages', 'dist-packages'))]))\n"
    )
    out = run([str(python or sys.executable), "-c", code]).stdout
    return list(json.loads(out))


def make_venv(
    where: Path,
    *,
    base_python: str | os.PathLike[str] | None = None,
    checkout: bool = True,
) -> Path:
    """A venv layered on ``base_python``'s environment (default: the one running the tests).

    Its own site-packages comes first (what a test installs there wins); after it, a ``.pth``
    file adds this checkout and every site-packages folder the base interpreter imports from,
    with their own ``.pth`` files (editable installs). ``--system-site-packages`` would give
    the *interpreter's* base instead, which from inside a virtualenv or a conda
    environment is not where numpy, psygnal or a recent setuptools live. ``checkout=False``
    leaves this checkout out (a test that installs openhcs-plugins' own wheel there).
    Returns its python.
    """
    base = str(base_python or sys.executable)
    run([base, "-m", "venv", "--without-pip", str(where)])
    python = where / "bin" / "python"
    site = run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
    ).stdout.strip()
    # One file, this checkout first: an openhcs-plugins installed in the base must not win.
    lines = [str(REPO)] if checkout else []
    lines += [f"import site; site.addsitedir({d!r})" for d in site_dirs(base) if d != site]
    Path(site, "openhcs_plugins_base.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


# ---------------------------------------------------------------------------------------------
# The catalog
# ---------------------------------------------------------------------------------------------

FILTERS_V1 = Package(
    "oplab-filters",
    "0.1.0",
    {
        # A package __init__ may import a framework: listing must not run it.
        "oplab_filters/__init__.py": src(
            """
            try:
                import torch  # noqa: F401
            except ImportError:
                pass
            IMPORTED = True
            """,
            decorators=False,
        ),
        "oplab_filters/filters.py": src('''
            import numpy as np


            @numpy
            def double(image, factor: float = 2.0):
                """Multiply every pixel."""
                return image * factor


            @numpy
            def old_invert(image):
                """Invert (removed in 0.2.0)."""
                return image.max() - image


            @torch(output_type="numpy")
            def torch_square(image):
                """Square on torch, return numpy."""
                return image * image
            '''),
    },
    {"oplab_filters": "oplab_filters.filters"},
    packages=("oplab_filters",),
)

FILTERS_V2 = Package(
    "oplab-filters",
    "0.2.0",
    {
        "oplab_filters/__init__.py": "IMPORTED = True\n",
        "oplab_filters/filters.py": src('''
            @numpy
            def double(image, factor: float = 3.0):
                """Multiply every pixel (default 3 since 0.2.0)."""
                return image * factor


            @numpy
            def sharpen(image, amount: float = 1.0):
                """New in 0.2.0."""
                return image + amount * (image - image.mean())
            '''),
    },
    {"oplab_filters": "oplab_filters.filters"},
    packages=("oplab_filters",),
)

SINGLE = Package(
    "oplab-single",
    "1.0.0",
    {
        "oplab_single.py": src('''
            @numpy
            def threshold(image, level: float = 0.5):
                """Zero below ``level``."""
                return image * (image > level)


            @numpy
            def not_exported(image):
                return image
            '''),
    },
    {"oplab_single": "oplab_single:threshold"},
    py_modules=("oplab_single",),
)

FACTORY = Package(
    "oplab-factory",
    "0.1.0",
    {
        "oplab_factory/__init__.py": "",
        "oplab_factory/core.py": src('''
            def make_box(size):
                """A box filter of ``size``, made at import time."""

                @numpy
                def box(image, passes: int = 1):
                    """Box filter."""
                    return image * size

                box.__name__ = box.__qualname__ = f"box{size}"
                return box
            '''),
        "oplab_factory/filters.py": src(
            """
            from oplab_factory.core import make_box

            box3 = make_box(3)
            for _size in (5, 7):
                globals()[f"box{_size}"] = make_box(_size)
            """,
            decorators=False,
        ),
        "oplab_factory/mixed.py": src('''
            @numpy
            def plain(image):
                """Visible to the static reader."""
                return image


            def _make():
                @numpy
                def made(image, gain: float = 1.5):
                    """Made by a factory in this module."""
                    return image * gain

                return made


            made = _make()
            '''),
    },
    {"oplab_factory": "oplab_factory.filters", "oplab_mixed": "oplab_factory.mixed"},
    packages=("oplab_factory",),
)

BROKEN = Package(
    "oplab-broken",
    "0.3.0",
    {
        "oplab_broken/__init__.py": "",
        "oplab_broken/raises.py": src("""
            @numpy
            def fails_to_import(image):
                return image


            raise RuntimeError("oplab_broken.raises cannot be imported")
            """),
        "oplab_broken/syntax.py": src("""
            @numpy
            def broken(image:
                return image
            """),
        "oplab_broken/signature.py": src("""
            @numpy
            def fine(image):
                return image


            @numpy
            def no_image(data, sigma=1.0):
                return data
            """),
        "oplab_broken/empty.py": src(
            """
            def helper(image):
                return image
            """,
            decorators=False,
        ),
    },
    {
        "oplab_missing": "oplab_broken.not_there",
        "oplab_raises": "oplab_broken.raises",
        "oplab_syntax": "oplab_broken.syntax",
        "oplab_signature": "oplab_broken.signature",
        "oplab_empty": "oplab_broken.empty",
        "openhcs": "oplab_broken.signature",
        "bad-name": "oplab_broken.signature",
    },
    packages=("oplab_broken",),
)

DUP_A = Package(
    "oplab-dup-a",
    "0.1.0",
    {"oplab_dup_a.py": DECORATORS + "@numpy\ndef same(image):\n    return image\n"},
    {"oplab_shared": "oplab_dup_a"},
    py_modules=("oplab_dup_a",),
)

DUP_B = Package(
    "oplab-dup-b",
    "0.2.0",
    {"oplab_dup_b.py": DECORATORS + "@numpy\ndef other(image):\n    return image\n"},
    {"oplab_shared": "oplab_dup_b"},
    py_modules=("oplab_dup_b",),
)

EDITABLE = Package(
    "oplab-editable",
    "0.1.0",
    {
        "oplab_editable/__init__.py": "raise RuntimeError('the package __init__ must not run')\n",
        "oplab_editable/filters.py": src('''
            @numpy
            def first(image):
                """In the first version of the source."""
                return image
            '''),
    },
    {"oplab_editable": "oplab_editable.filters"},
    packages=("oplab_editable",),
    src_layout=True,
)

#: Every wheel the tests install (EDITABLE is installed from its project directory).
ALL = [FILTERS_V1, FILTERS_V2, SINGLE, FACTORY, BROKEN, DUP_A, DUP_B]
