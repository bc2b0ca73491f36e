"""Parsing ``--param name=value`` against a function's signature (as read statically)."""

from __future__ import annotations

import ast
from typing import Any

from openhcs_plugins.registry import FunctionInfo

__all__ = ["ParameterError", "parse_params"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ParameterError(ValueError):
    """A ``--param`` that does not fit the function's signature."""


def _kind_of(annotation: str | None, default: str | None) -> str | None:
    """``int``/``float``/``bool``/``str`` from the annotation, else from the default's literal."""
    if annotation:
        base = annotation.replace(" ", "").split("|")
        for name in ("bool", "int", "float", "str"):
            if name in base:
                return name
    if default is not None:
        try:
            value = ast.literal_eval(default)
        except (ValueError, SyntaxError):
            return None
        for name, kind in (("bool", bool), ("int", int), ("float", float), ("str", str)):
            if type(value) is kind:
                return name
    return None


def _convert(text: str, kind: str | None, where: str) -> Any:
    if kind == "bool":
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ParameterError(f"{where}: {text!r} is not a boolean (use true/false)")
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ParameterError(f"{where}: {text!r} is not an integer") from None
    if kind == "float":
        try:
            return float(text)
        except ValueError:
            raise ParameterError(f"{where}: {text!r} is not a number") from None
    if kind == "str":
        return text
    # No annotation and no literal default: accept a Python literal, else the text itself.
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_params(info: FunctionInfo, pairs: list[str]) -> dict[str, Any]:
    """``["sigma=2", "clip=false"]`` -> ``{"sigma": 2.0, "clip": False}`` for ``info``."""
    accepted = {p.name: p for p in info.parameters[1:] if p.kind not in {"VAR_POSITIONAL"}}
    takes_any = any(p.kind == "VAR_KEYWORD" for p in info.parameters)
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"--param {pair!r}: write it as name=value")
        parameter = accepted.get(name)
        if parameter is None and not takes_any:
            names = ", ".join(n for n, p in accepted.items() if p.kind != "VAR_KEYWORD")
            raise ParameterError(
                f"{info.key} has no parameter {name!r}; its parameters are: {names or '(none)'}"
            )
        kind = _kind_of(parameter.annotation, parameter.default) if parameter else None
        out[name] = _convert(text, kind, f"--param {name}")
    return out
