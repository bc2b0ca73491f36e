"""The text of a file of functions, cut by function: what the manager saves one per file.

A folder file may hold several functions (a hand-written one); the manager saves each in its
own ``{name}.py`` (as OpenHCS requires of the shared folder), and takes one out of a file when
it is removed. This module owns those cuts of the text: the line span of each top-level
statement (its decorators and the comments directly above it included), the text without some
functions, one text per function, and the map from a cut text's lines to the original's (so an
error keeps the user's line number). It imports only the standard library.
"""

from __future__ import annotations

import ast

__all__ = ["kept_lines", "split_functions", "without_functions"]


def _statement_spans(code: str, tree: ast.Module) -> list[tuple[int, int, ast.stmt]]:
    """Line spans (1-based, inclusive) of top-level statements, with decorators and the
    comment lines directly above a statement counted as part of it."""
    lines = code.splitlines()
    spans = []
    previous_end = 0
    for node in tree.body:
        start = node.lineno
        decorators = getattr(node, "decorator_list", [])
        if decorators:
            start = min(start, *(d.lineno for d in decorators))
        while start - 1 > previous_end and lines[start - 2].lstrip().startswith("#"):
            start -= 1
        end = node.end_lineno or node.lineno
        spans.append((start, end, node))
        previous_end = end
    return spans


def _function_spans(code: str) -> dict[str, tuple[int, int]]:
    tree = ast.parse(code)
    return {
        node.name: (start, end)
        for start, end, node in _statement_spans(code, tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def kept_lines(code: str, drop: set[str]) -> list[int]:
    """The line numbers of ``code`` that :func:`without_functions` keeps, in order: line ``i``
    of its text is line ``kept_lines(code, drop)[i - 1]`` of ``code``."""
    dropped: set[int] = set()
    for name, (start, end) in _function_spans(code).items():
        if name in drop:
            dropped.update(range(start, end + 1))
    return [n for n in range(1, len(code.splitlines()) + 1) if n not in dropped]


def without_functions(code: str, drop: set[str]) -> str:
    """``code`` with the top-level functions named in ``drop`` (and their decorators and the
    comments directly above them) removed."""
    if not drop:
        return code
    lines = code.splitlines(keepends=True)
    text = "".join(lines[number - 1] for number in kept_lines(code, drop))
    text = text.rstrip() + "\n"
    used = {
        node.id
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
    }
    needed = sorted(used & drop)
    if needed:
        raise ValueError(
            f"the remaining code uses {', '.join(needed)}, which is being split off or removed; "
            "make shared code a plain (undecorated) helper function"
        )
    return text


def split_functions(code: str, names: list[str]) -> dict[str, str]:
    """One standalone text per decorated function: the code without the other ones."""
    if len(names) <= 1:
        return {name: code for name in names}
    return {name: without_functions(code, set(names) - {name}) for name in names}
