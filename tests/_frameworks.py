"""Skip (or, in CI, fail) tests whose array framework is not usable here.

``requires_framework("torch")`` returns the imported module when torch can run. Otherwise the
test is skipped with the reason, except when ``OPENHCS_PLUGINS_REQUIRE_BACKENDS=1`` (set by
``.ci/run``, which installs every framework): then a framework that is missing or broken fails
the test. A framework that is installed but lacks its device (cupy without a CUDA GPU,
pyclesperanto kernels on a CPU pocl cannot compile for) is skipped in both cases, with the reason.
"""

from __future__ import annotations

import functools
import importlib
import os
from types import ModuleType

import pytest

from openhcs_plugins.memory.status import FrameworkStatus, check_framework

REQUIRE_ENV = "OPENHCS_PLUGINS_REQUIRE_BACKENDS"

#: The frameworks that run on a CPU-only machine (cupy needs a CUDA GPU).
CPU_FRAMEWORKS: tuple[str, ...] = ("numpy", "torch", "jax", "tensorflow", "pyclesperanto")


def backends_required() -> bool:
    """True when a missing framework must fail the test instead of skipping it."""
    return os.environ.get(REQUIRE_ENV, "").strip() == "1"


@functools.cache
def framework_state(name: str, kernels: bool = False) -> FrameworkStatus:
    """:func:`check_framework`, once per session (it imports the framework)."""
    return check_framework(name, kernels=kernels)


def requires_framework(name: str, *, kernels: bool = False) -> ModuleType:
    """The framework's module, or skip/fail the calling test with the reason.

    ``kernels=True`` (pyclesperanto) also needs OpenCL kernels to build and run; without it,
    array transfers are enough.
    """
    status = framework_state(name, kernels)
    if status.usable:
        return importlib.import_module(name)
    if backends_required() and status.state in ("missing", "broken"):
        pytest.fail(
            f"{name} is {status.state} but {REQUIRE_ENV}=1 requires it: {status.detail}",
            pytrace=False,
        )
    pytest.skip(status.detail)
