"""The validator's budget and Python's own warnings (issue 13).

Behaviour only: a file that cannot be checked within the policy's CPU budget is refused as
``too-complex`` with a clear message, at every trust level; the time it takes is measured in
benchmarks/validation.py, not here.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from openhcs_plugins.sources.candidate import TrustLevel
from openhcs_plugins.validation import ImportPolicy, validate_code

HEAD = "from openhcs_plugins.decorators import numpy\nimport numpy as np\n"
TAIL = "\n@numpy\ndef f(image):\n    return image\n"


def _aliases(count: int) -> str:
    return HEAD + "".join(f"a{i:06d} = np.sqrt\n" for i in range(count)) + TAIL


@pytest.mark.parametrize("trust", list(TrustLevel))
def test_a_spent_budget_refuses_the_file_as_too_complex(trust: TrustLevel) -> None:
    policy = replace(ImportPolicy.default(), max_seconds=0.0)
    result = validate_code(_aliases(20_000), trust=trust, policy=policy)
    assert not result.is_valid
    (error,) = result.errors
    assert error.rule == "too-complex"
    assert "CPU time" in str(error) and error.hint


def test_the_default_budget_accepts_ordinary_files() -> None:
    result = validate_code(_aliases(200))
    assert result.is_valid, result.errors


def test_a_megabyte_of_aliases_is_answered() -> None:
    """20,000 aliases kept the seed's validator busy 17 s; now the file is checked or refused
    within the budget (which of the two depends on the machine's speed)."""
    text = _aliases(50_000)
    assert len(text) > 900_000
    result = validate_code(text)
    assert result.is_valid or result.errors[0].rule == "too-complex"


def test_python_syntax_warnings_are_findings_not_noise(recwarn: pytest.WarningsRecorder) -> None:
    code = HEAD + 'PATTERN = "\\d+"\n' + TAIL
    result = validate_code(code)
    assert result.is_valid
    (warning,) = result.warnings
    assert warning.rule == "syntax-warning" and warning.line_number == 3
    assert "invalid escape sequence" in str(warning)
    assert not [w for w in recwarn if issubclass(w.category, (SyntaxWarning, DeprecationWarning))]
