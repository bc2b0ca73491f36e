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


def _backwards_chain(count: int) -> str:
    """``a0 = a1`` ... ``aN = np`` then a store through ``a0``: the taint runs backwards."""
    body = "".join(f"a{i} = a{i + 1}\n" for i in range(count))
    return HEAD + body + f"a{count} = np\na0.x = 1\n" + TAIL


@pytest.mark.parametrize("count", [1, 50, 3_000])
def test_a_store_through_a_backwards_alias_chain_is_refused(count: int) -> None:
    result = validate_code(_backwards_chain(count))
    assert not result.is_valid
    stores = [e for e in result.errors if e.rule == "module-assignment"]
    assert stores and "'a0' is an imported module" in str(stores[0])
    assert stores[0].line_number == count + 4


def test_a_backwards_alias_chain_spends_the_budget_per_alias_not_per_pair(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The taint search visits each alias once: it asks the budget about once per 4,096
    names it follows (the fixed-point loop it replaces went over all N aliases N times)."""
    from openhcs_plugins.validation import budget as budget_module

    seen: list[int | None] = []
    real = budget_module.Budget.check

    def counting(self: budget_module.Budget, line: int | None) -> None:
        seen.append(line)
        real(self, line)

    monkeypatch.setattr(budget_module.Budget, "check", counting)
    lifted = replace(ImportPolicy.default(), max_seconds=600.0)
    count = 40_000
    result = validate_code(_backwards_chain(count), policy=lifted)
    assert any(e.rule == "module-assignment" for e in result.errors)
    taint_checks = seen.count(None) - 2  # one before the walk, one at its start
    assert 1 <= taint_checks <= count // 4096 + 1


def test_too_many_tokens_are_refused_before_parsing() -> None:
    text = HEAD + "f(a, b, c)\n" * 30_000 + TAIL
    result = validate_code(text)
    (error,) = result.errors
    assert error.rule == "too-complex"
    assert "200000 tokens" in str(error) and "split larger code into a package" in error.hint
    assert 20_000 < error.line_number < 30_000
    small = replace(ImportPolicy.default(), max_tokens=50)
    result = validate_code(_aliases(20), policy=small)
    assert [e.rule for e in result.errors] == ["too-complex"]


def test_comments_count_as_one_token_each() -> None:
    comment = "# " + "w " * 400 + "\n"
    text = HEAD + comment * 600 + TAIL  # 240,000 words, in comments
    assert validate_code(text).is_valid
