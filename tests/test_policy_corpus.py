"""The user-level policy against two corpora, one snippet per file.

- ``tests/corpus/benign``: realistic image functions (scipy.ndimage, np.linalg, np.fft,
  measurements as metadata, dataclasses, enums, typing, ``from __future__ import annotations``,
  ``if __name__ == "__main__":`` demos, torch/jax/cupy/... functions). All must be accepted, and
  those whose frameworks are installed must run on a small (C, Y, X) stack.
- ``tests/corpus/adversarial``: escapes from SECURITY-NOTES.md, "An import blocklist stops almost
  nothing". Each file starts with ``# route: ...`` (the route it covers) and ``# expect: ...``
  (rules that must be among the findings). All must be rejected at the ``user`` level.

A last test walks every module reachable by attribute from the allowlist (for the installed
versions of numpy, scipy, the array frameworks and the standard library) and checks that each
module it can reach is either allowed itself or refused.
"""

from __future__ import annotations

import builtins
import importlib
import re
import types
import warnings
from pathlib import Path

import numpy as np
import pytest

from openhcs_plugins.sources.candidate import Candidate, SourceKind, TrustLevel
from openhcs_plugins.validation import ALLOWED, ImportPolicy, validate_code, validate_imports

CORPUS = Path(__file__).parent / "corpus"
BENIGN = sorted((CORPUS / "benign").glob("*.py"))
ADVERSARIAL = sorted((CORPUS / "adversarial").glob("*.py"))

#: Every route of SECURITY-NOTES.md, "An import blocklist stops almost nothing": each must be
#: named by the ``# route:`` line of at least one adversarial file.
ROUTES = [
    '__import__("o"+"s")',
    "importlib",
    "builtins",
    "posix",
    "pathlib",
    "io",
    "tempfile",
    "shutil",
    "ctypes",
    "pickle",
    "marshal",
    "multiprocessing",
    "asyncio",
    "runpy",
    "code",
    "gc",
    "inspect",
    "threading",
    "signal",
    "operator.attrgetter on a dotted string",
    "functools.reduce(getattr, ...)",
    "np.f2py.os",
    "np.f2py.sys",
    "np.f2py.subprocess",
    "np.ctypeslib.ctypes",
    "np.testing._private.utils",
    "np.load(..., allow_pickle=True)",
    "np.fromfile",
    "np.memmap",
    "ndarray.tofile",
    "np.save",
    "from numpy import *",
    "from numpy import __builtins__",
    "image.ctypes._ctypes",
    "torch re-exports os",
    "torch re-exports sys",
    "torch re-exports ctypes",
    "torch re-exports importlib",
    "torch.load with weights_only=False",
    "torch.hub.load",
    "torch.ops.load_library",
    "().__class__.__base__.__subclasses__()",
    'f.__globals__["__builtins__"]',
    "help.__call__.__globals__",
    "__loader__.get_data(path)",
    "tracebacks/generators tb_frame.f_back",
    "__code__.replace(co_names=...)",
    "globals()",
    "vars()",
    '"{0.__globals__}".format(f)',
    "match class patterns case object(__globals__=g)",
    "default arguments",
    "decorator expressions",
    "annotations",
    "class bodies",
    "metaclasses",
    "__init_subclass__",
    "__set_name__",
    "__del__",
    "string annotations run when a host calls typing.get_type_hints",
    "identifiers are NFKC-normalised",
    "coding: utf-7",
    "700-deep attribute chain",
    "def numpy(f)",
    "rebinding np.linalg.norm",
    "setattr on shared modules",
    '__name__ is "../../x"',
]


def header(path: Path, key: str) -> str:
    head = path.read_bytes()[:600].decode("utf-8", "replace")
    match = re.search(rf"^# {key}: (.*)$", head, re.MULTILINE)
    assert match, f"{path.name} has no '# {key}:' line"
    return match.group(1).strip()


def test_the_corpora_are_large_enough():
    assert len(BENIGN) >= 40
    assert len(ADVERSARIAL) >= 60


def test_every_security_notes_route_has_an_adversarial_snippet():
    covered = [header(path, "route") for path in ADVERSARIAL]
    missing = [route for route in ROUTES if not any(route in text for text in covered)]
    assert not missing


def test_adversarial_files_start_by_naming_their_route():
    for path in ADVERSARIAL:
        assert path.read_bytes().startswith(b"# route: "), path.name


@pytest.mark.parametrize("path", BENIGN, ids=lambda p: p.stem)
def test_benign_function_is_accepted_at_the_user_level(path):
    result = validate_code(path.read_bytes(), trust=TrustLevel.USER, filename=str(path))
    assert result.is_valid, "\n".join(str(e) for e in result.errors)
    assert result.warnings == ()
    assert result.functions, "no decorated function found"
    assert validate_code(path.read_text(encoding="utf-8"), trust=TrustLevel.STRICT).is_valid


@pytest.mark.parametrize("path", ADVERSARIAL, ids=lambda p: p.stem)
def test_adversarial_snippet_is_rejected_at_the_user_level(path):
    data = path.read_bytes()
    expected = {rule.strip() for rule in header(path, "expect").split(",")}
    for trust in (TrustLevel.USER, TrustLevel.STRICT):
        result = validate_code(data, trust=trust, filename=str(path))
        assert not result.is_valid, f"{path.name} was accepted at {trust}"
        found = {e.rule for e in result.errors}
        assert expected <= found, f"{path.name}: expected {expected}, got {found}: {result.errors}"
        for error in result.errors:
            assert error.line_number > 0 and error.hint and error.filename == str(path)


@pytest.mark.parametrize("path", ADVERSARIAL, ids=lambda p: p.stem)
def test_adversarial_snippet_as_text_is_rejected_too(path):
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        pytest.skip("the snippet is about bytes that are not UTF-8")
    assert not validate_code(text).is_valid


def test_trusted_level_reports_the_policy_routes_as_warnings():
    policy_only = 0
    for path in ADVERSARIAL:
        result = validate_code(path.read_bytes(), trust=TrustLevel.TRUSTED)
        expected = {rule.strip() for rule in header(path, "expect").split(",")}
        found = {e.rule for e in result.errors} | {w.rule for w in result.warnings}
        assert expected <= found, path.name
        if result.is_valid:
            policy_only += 1
            assert result.warnings
    # most routes are policy findings (warnings for installed packages); syntax, encoding,
    # complexity and decorator problems stay errors at every level
    assert policy_only >= len(ADVERSARIAL) // 2


# -- the benign corpus runs ------------------------------------------------------------------


def _framework_missing(exc: BaseException) -> str | None:
    if isinstance(exc, ModuleNotFoundError):
        return f"{exc.name} is not installed"
    return None


@pytest.mark.parametrize("path", BENIGN, ids=lambda p: p.stem)
def test_benign_function_runs_on_a_small_stack(path, tmp_path):
    from openhcs_plugins.execution.dispatch import CodeExecutionError, exec_candidate

    text = path.read_text(encoding="utf-8")
    result = validate_code(text)
    candidate = Candidate.from_code(
        text, source=SourceKind.FOLDER, path=tmp_path / path.name, trust=TrustLevel.USER
    )
    try:
        module = exec_candidate(candidate)
    except CodeExecutionError as exc:
        reason = _framework_missing(exc.__cause__) if exc.__cause__ else None
        if reason:
            pytest.skip(reason)
        raise
    rng = np.random.default_rng(0)
    stack = rng.random((2, 32, 32)).astype(np.float32) * 100
    for function in result.functions:
        func = getattr(module, function.name)
        assert (func.input_memory_type, func.output_memory_type) == (
            function.input_memory_type,
            function.output_memory_type,
        )
        if function.input_memory_type != "numpy" and function.output_memory_type != "numpy":
            # needs its framework at call time; conversion is tested elsewhere
            continue
        try:
            output = func(stack.copy())
        except ModuleNotFoundError as exc:
            pytest.skip(f"{exc.name} is not installed")
        image = output[0] if isinstance(output, tuple) else output
        assert np.asarray(image).ndim == 3, function.name


# -- nothing reachable from the allowlist leads out of it ---------------------------------------

WALK_ROOTS = [
    "math",
    "cmath",
    "functools",
    "itertools",
    "dataclasses",
    "typing",
    "enum",
    "collections",
    "statistics",
    "numbers",
    "decimal",
    "fractions",
    "re",
    "warnings",
    "abc",
    "copy",
    "random",
    "bisect",
    "heapq",
    "textwrap",
    "numpy",
    "numpy.lib.stride_tricks",
    "scipy.ndimage",
    "scipy.signal",
    "scipy.fft",
    "scipy.linalg",
    "scipy.stats",
    "scipy.interpolate",
    "scipy.special",
    "scipy.optimize",
    "scipy.spatial",
    "torch",
    "jax",
    "jax.numpy",
    "jax.scipy",
    "tensorflow",
    "cupy",
    "cupyx.scipy.ndimage",
    "pyclesperanto",
    "openhcs_plugins.memory",
    "openhcs_plugins.decorators",
]


def _reference_is_refused(path: str) -> bool:
    module, _, name = path.rpartition(".")
    return not validate_imports(f"import {module} as m\nx = m.{name}\n").is_valid


def test_modules_reachable_from_the_allowlist_are_allowed_or_refused():
    """Walk module attributes from every allowed root (what ``np.f2py``, ``typing.sys`` or
    ``torch.os`` are): each reachable module must be allowlisted itself, or the reference to it
    refused. Builtins that the policy denies must not be reachable under another name."""
    policy = ImportPolicy.default()
    denied_builtins = {
        id(getattr(builtins, name)) for name in policy.denied_builtins if hasattr(builtins, name)
    }
    todo: list[tuple[types.ModuleType, str]] = []
    seen: set[int] = set()
    leaks = []
    walked = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for root in WALK_ROOTS:
            try:
                todo.append((importlib.import_module(root), root))
            except Exception:  # not installed, or not usable on this machine
                continue
        while todo:
            module, reference = todo.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            walked += 1
            for name in dir(module):
                if name.startswith("_"):
                    continue
                try:
                    value = getattr(module, name)
                except Exception:
                    continue
                is_module = isinstance(value, types.ModuleType)
                if not is_module and id(value) not in denied_builtins:
                    continue
                path = f"{reference}.{name}"
                if _reference_is_refused(path):
                    continue
                if is_module and policy.path_status(value.__name__) == ALLOWED:
                    todo.append((value, path))
                else:
                    leaks.append(f"{path} -> {getattr(value, '__name__', value)}")
    assert walked > 100
    assert not leaks
