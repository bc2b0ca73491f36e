"""Parsing ``--param name=value`` against a function's signature (as read statically)."""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsError
from openhcs_plugins.registry import FunctionInfo

__all__ = ["ParameterError", "parse_params"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ParameterError(OpenHCSPluginsError, ValueError):
    """A ``--param`` that does not fit the function's signature (``subject``: the ``--param``
    or the function's key)."""


_KINDS = ("bool", "int", "float", "str")


def _kinds_of(annotation: str | None, default: str | None) -> list[str]:
    """The types a value may take, most specific first: each of ``bool``/``int``/``float``/
    ``str`` the annotation names (``float | int`` names two), else the default literal's type."""
    if annotation:
        base = annotation.replace(" ", "").split("|")
        named = [name for name in _KINDS if name in base]
        if named:
            return named
    if default is not None:
        try:
            value = ast.literal_eval(default)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return []
        for name, kind in (("bool", bool), ("int", int), ("float", float), ("str", str)):
            if type(value) is kind:
                return [name]
    return []


def _convert_one(text: str, kind: str, where: str) -> Any:
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ParameterError(f"{where}: {text!r} is not a boolean (use true/false)", subject=where)
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ParameterError(f"{where}: {text!r} is not an integer", subject=where) from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ParameterError(f"{where}: {text!r} is not a number", subject=where) from None
    return text


def _convert(text: str, kinds: list[str], where: str) -> Any:
    """The value of the first of ``kinds`` that ``text`` parses as."""
    if not kinds:
        # No annotation and no literal default: accept a Python literal, else the text itself.
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError):
            return text
        except (MemoryError, RecursionError):
            # The parser gives up on huge or deeply nested input; it is a value, not code.
            raise ParameterError(
                f"{where}: the value is too large or too deeply nested", subject=where
            ) from None
    errors = []
    for kind in kinds:
        try:
            return _convert_one(text, kind, where)
        except ParameterError as exc:
            errors.append(str(exc))
    raise ParameterError(
        errors[0] if len(errors) == 1 else f"{where}: {text!r} is not one of {' | '.join(kinds)}",
        subject=where,
    )


def parse_params(info: FunctionInfo, pairs: list[str]) -> dict[str, Any]:
    """``["sigma=2", "clip=false"]`` -> ``{"sigma": 2.0, "clip": False}`` for ``info``."""
    accepted = {p.name: p for p in info.parameters[1:] if p.kind not in {"VAR_POSITIONAL"}}
    takes_any = any(p.kind == "VAR_KEYWORD" for p in info.parameters)
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"--param {pair!r}: write it as name=value", subject=pair)
        parameter = accepted.get(name)
        if parameter is None and not takes_any:
            names = ", ".join(n for n, p in accepted.items() if p.kind != "VAR_KEYWORD")
            raise ParameterError(
                f"{info.key} has no parameter {name!r}; its parameters are: {names or '(none)'}",
                subject=info.key,
            )
        kinds = _kinds_of(parameter.annotation, parameter.default) if parameter else []
        out[name] = _convert(text, kinds, f"--param {name}")
    return out
