"""Property: the validator returns a result and never raises, whatever it is given."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from openhcs_plugins.sources.candidate import TrustLevel
from openhcs_plugins.validation import (
    ValidationResult,
    validate_code,
    validate_decorator,
    validate_imports,
    validate_syntax,
)

CORPUS = Path(__file__).parent / "corpus"
SNIPPETS = [p.read_bytes() for p in sorted(CORPUS.glob("*/*.py"))]

PROPERTY_SETTINGS = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

#: Python-looking fragments, so generated text reaches the policy pass, not only the parser.
TOKENS = [
    "from openhcs_plugins.memory import numpy\n",
    "import numpy as np\n",
    "import os\n",
    "@numpy\n",
    "@numpy(output_type='torch')\n",
    "def f(image):\n",
    "def numpy(f):\n",
    "class C:\n",
    "    ",
    "return ",
    "image",
    ".__class__",
    ".T",
    ".f2py",
    "eval",
    "(",
    ")",
    "[",
    "]",
    "'{0.__globals__}'.format",
    "lambda x: x",
    " = ",
    "\n",
    ":",
    ", ",
    "match image:\n    case object(__dict__=d): pass\n",
    "# -*- coding: utf-7 -*-\n",
    "if __name__ == '__main__':\n",
    "x: 'vars()' = 1\n",
    "-",
    "not ",
    "\\",
    '"""',
    "\x00",
    "\ufeff",
    "ｅｖａｌ",
]


def check(result: object) -> None:
    assert isinstance(result, ValidationResult)
    assert result.is_valid == (not result.errors)
    for finding in (*result.errors, *result.warnings):
        assert isinstance(finding.message, str) and isinstance(finding.line_number, int)
        str(finding)


@PROPERTY_SETTINGS
@given(st.text())
def test_validate_code_never_raises_on_text(text):
    check(validate_code(text))


@PROPERTY_SETTINGS
@given(st.binary())
def test_validate_code_never_raises_on_bytes(data):
    check(validate_code(data))


@PROPERTY_SETTINGS
@given(st.lists(st.sampled_from(TOKENS), max_size=40).map("".join), st.sampled_from(TrustLevel))
def test_validate_code_never_raises_on_python_like_text(text, trust):
    check(validate_code(text, trust=trust))
    check(validate_syntax(text))
    check(validate_imports(text))
    check(validate_decorator(text))


@PROPERTY_SETTINGS
@given(
    st.sampled_from(SNIPPETS),
    st.integers(min_value=0, max_value=4000),
    st.integers(min_value=0, max_value=4000),
    st.binary(max_size=8),
)
def test_validate_code_never_raises_on_damaged_corpus_files(snippet, start, stop, insert):
    """Cut, splice and corrupt real code: a truncated file is the common case in an editor."""
    start, stop = sorted((start % (len(snippet) + 1), stop % (len(snippet) + 1)))
    damaged = snippet[:start] + insert + snippet[stop:]
    check(validate_code(damaged))
    try:
        text = damaged.decode("utf-8")
    except UnicodeDecodeError:
        return
    check(validate_code(text))


@PROPERTY_SETTINGS
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"])))
def test_text_and_its_utf8_bytes_get_the_same_verdict(text):
    # (a leading BOM is the one difference, as for compile(): bytes may start with one)
    assume(not text.startswith("\ufeff"))
    as_text = validate_code(text)
    as_bytes = validate_code(text.encode("utf-8"))
    assert as_text.is_valid == as_bytes.is_valid
    assert [e.rule for e in as_text.errors] == [e.rule for e in as_bytes.errors]
