"""ProcessingContract (issue 14): the enum, as a decorator argument and in the static reading."""

from __future__ import annotations

import enum

import numpy as np
import pytest

from openhcs_plugins.decorators import ProcessingContract, numpy
from openhcs_plugins.memory import CONTRACT_ATTRIBUTE, CONTRACTS
from openhcs_plugins.sources.candidate import TrustLevel
from openhcs_plugins.validation import validate_code


def test_the_enum_is_the_one_list_of_contracts() -> None:
    assert tuple(ProcessingContract.__members__) == CONTRACTS
    assert ProcessingContract.PURE_2D == "PURE_2D"
    from openhcs_plugins.memory import ProcessingContract as same

    assert same is ProcessingContract


class OpenHCSLike(enum.Enum):
    """OpenHCS's own enum: other values, the same names."""

    PURE_2D = "_execute_pure_2d"
    FLEXIBLE = "_execute_flexible"


@pytest.mark.parametrize(
    "given", [ProcessingContract.PURE_2D, "PURE_2D", "pure_2d", OpenHCSLike.PURE_2D]
)
def test_the_decorator_takes_the_enum_a_string_or_openhcs_enum(given: object) -> None:
    @numpy(contract=given)
    def halve(image):
        return image / 2

    assert getattr(halve, CONTRACT_ATTRIBUTE) == "PURE_2D"
    assert float(halve(np.ones((1, 2, 2)), slice_by_slice=True).max()) == 0.5


HEAD = "from openhcs_plugins.decorators import numpy, ProcessingContract\n"


@pytest.mark.parametrize(
    "head, expr, expected",
    [
        (HEAD, "ProcessingContract.PURE_3D", "PURE_3D"),
        (
            "from openhcs_plugins.decorators import numpy\nimport openhcs_plugins.memory as m\n",
            "m.ProcessingContract.VOLUMETRIC_TO_SLICE",
            "VOLUMETRIC_TO_SLICE",
        ),
        (
            "from openhcs_plugins.decorators import numpy\n"
            "from openhcs_plugins.memory import ProcessingContract as PC\n",
            "PC.PURE_2D",
            "PURE_2D",
        ),
        (HEAD, "'pure_2d'", "PURE_2D"),
    ],
)
def test_the_static_reader_accepts_contract_members(head: str, expr: str, expected: str) -> None:
    code = f"{head}\n@numpy(contract={expr})\ndef f(image):\n    return image\n"
    for trust in (TrustLevel.TRUSTED, TrustLevel.USER):
        result = validate_code(code, trust=trust)
        assert result.is_valid, result.errors
        assert [f.contract for f in result.functions] == [expected]


def test_openhcs_import_path_is_read_at_the_trusted_level() -> None:
    code = (
        "from openhcs.core.memory.decorators import numpy\n"
        "from openhcs.processing.backends.lib_registry.unified_registry import "
        "ProcessingContract\n\n"
        "@numpy(contract=ProcessingContract.PURE_2D)\ndef f(image):\n    return image\n"
    )
    result = validate_code(code, trust=TrustLevel.TRUSTED)
    assert result.is_valid and [f.contract for f in result.functions] == ["PURE_2D"]


@pytest.mark.parametrize(
    "expr", ["ProcessingContract.SIDEWAYS", "Other.PURE_2D", "CONTRACT", "get_contract()"]
)
def test_anything_else_is_refused_with_its_line(expr: str) -> None:
    code = (
        f"{HEAD}from enum import Enum\n\n\nclass Other(Enum):\n    PURE_2D = 1\n\n\n"
        f"CONTRACT = 'PURE_2D'\n\n\n@numpy(contract={expr})\ndef f(image):\n    return image\n"
    )
    result = validate_code(code, trust=TrustLevel.TRUSTED)
    assert not result.is_valid
    (error,) = [e for e in result.errors if e.rule == "decorator"]
    assert error.line_number == code.splitlines().index(f"@numpy(contract={expr})") + 1
