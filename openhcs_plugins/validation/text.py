"""The text of user code: decoding it, and what a finding quotes of it.

This module owns everything of the validator that reads characters rather than syntax: the
UTF-8 and coding cookie rules (:func:`decode`), identifier normalisation (:func:`norm`), the
short text of a node (:func:`snippet_of`) and the function a line belongs to
(:func:`enclosing`). Locating and quoting a line of user code is
:mod:`openhcs_plugins.errors`'s (the one locator, shared with execution and the loader). It
imports only the standard library and :mod:`.findings`.
"""

from __future__ import annotations

import ast
import codecs
import re
import unicodedata
from typing import Any

from openhcs_plugins.validation.findings import Finding

__all__ = [
    "count_tokens",
    "decode",
    "enclosing",
    "norm",
    "snippet_of",
]


def norm(name: str) -> str:
    """NFKC, as the parser does for identifiers (strings reach us un-normalised)."""
    return name if name.isascii() else unicodedata.normalize("NFKC", name)


def snippet_of(node: ast.AST) -> str:
    """Short source text of a node, for a message."""
    try:
        text = ast.unparse(node)
    except Exception:
        text = type(node).__name__
    return text if len(text) <= 60 else text[:57] + "..."


def enclosing(ranges: list[tuple[int, int, str]], line: int) -> str:
    """The name of the top-level function whose (sorted) line range holds ``line``."""
    for start, end, name in ranges:
        if start <= line <= end:
            return name
        if start > line:
            break
    return ""


# -- encoding ----------------------------------------------------------------------------------

# A coding declaration anywhere in a comment of the first two lines, where a line ends at
# "\r\n", "\r" or "\n" as for the tokenizer (which honours b"\r# coding: utf-7").
_COOKIE = re.compile(r"coding[:=][ \t]*([-\w.]+)", re.ASCII)
_COOKIE_BYTES = re.compile(rb"coding[:=][ \t]*([-\w.]+)", re.ASCII)
_FIRST_LINES = re.compile(r"\r\n|\r|\n")
_FIRST_LINES_BYTES = re.compile(rb"\r\n|\r|\n")


def _cookie_problem(name: str, line: int) -> Finding | None:
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        codec = ""
    if codec in ("utf-8", "utf-8-sig"):
        return None
    return Finding(
        "encoding",
        f"Coding declaration {name!r} is not allowed: custom functions must be UTF-8 "
        "(another encoding can hide statements inside what looks like a comment).",
        line,
        "Save the file as UTF-8 and remove the '# -*- coding: ... -*-' line.",
    )


def decode(code: Any, max_bytes: int) -> tuple[str | None, Finding | None]:
    """The text to check, or a finding about why there is none."""
    too_large = Finding(
        "too-complex",
        f"Code is too large to validate: more than {max_bytes} bytes.",
        1,
        "A custom-function file holds a few functions; split larger code into a package.",
    )
    if isinstance(code, (bytes, bytearray, memoryview)):
        data = bytes(code)
        if len(data) > max_bytes:
            return None, too_large
        for number, line in enumerate(_FIRST_LINES_BYTES.split(data, 2)[:2], start=1):
            for match in _COOKIE_BYTES.finditer(line, line.find(b"#") + 1 or len(line)):
                problem = _cookie_problem(match.group(1).decode("ascii"), number)
                if problem is not None:
                    return None, problem
        if data.startswith(codecs.BOM_UTF8):
            data = data[len(codecs.BOM_UTF8) :]
        try:
            return data.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start) + 1
            return None, Finding(
                "encoding",
                f"Code is not valid UTF-8 ({exc.reason} at byte {exc.start}).",
                line,
                "Save the file as UTF-8.",
            )
    if not isinstance(code, str):
        return None, Finding(
            "internal",
            f"Code must be str or bytes, not {type(code).__name__}.",
            0,
            "Pass the source text.",
        )
    if len(code) > max_bytes:
        return None, too_large
    for number, line in enumerate(_FIRST_LINES.split(code, 2)[:2], start=1):
        if "coding" in line:
            for match in _COOKIE.finditer(line, line.find("#") + 1 or len(line)):
                problem = _cookie_problem(match.group(1), number)
                if problem is not None:
                    return code, problem
    if not code.isascii():
        try:
            code.encode("utf-8")
        except UnicodeEncodeError as exc:
            line = code.count("\n", 0, exc.start) + 1
            return code, Finding(
                "encoding",
                f"Code cannot be encoded as UTF-8 ({exc.reason} at character {exc.start}).",
                line,
                "Remove the unpaired surrogate characters.",
            )
    return code, None


# -- size before parsing -----------------------------------------------------------------------

# A comment is one token; a name or number one; any other character one (so "**=" counts 3 and
# the words of a string each count): an upper estimate of what the tokenizer returns, found in
# one linear pass, with no string modelling that an unbalanced quote could make quadratic.
_TOKEN = re.compile(r"#[^\n]*|\w+|[^\s\w]")


def count_tokens(text: str, limit: int) -> Finding | None:
    """A ``too-complex`` finding when ``text`` holds more than about ``limit`` tokens.

    Parsing costs several microseconds a token in CPython (90,000 lines of ``f(a, b, c)``,
    810 kB: 3.3-5 s), far beyond the validator's time budget, and ``ast.parse`` cannot be
    interrupted; counting first bounds what a file can cost before it is refused.
    """
    count = 0
    for count, match in enumerate(_TOKEN.finditer(text), start=1):
        if count > limit:
            line = text.count("\n", 0, match.start()) + 1
            return Finding(
                "too-complex",
                f"Code is too large to validate: more than {limit} tokens (about "
                f"{limit} names, numbers and operators) by line {line}.",
                line,
                "A custom-function file holds a few functions; split larger code into a "
                "package, and large tables into a data file read outside the function.",
            )
    return None
