"""Jinja filters for the bundled cookiecutter template (``cookiecutter.json`` loads this).

The template's functions module is ``{{ cookiecutter.memory_type | function_template }}``, so the
function templates live in :mod:`openhcs_plugins.templates` only. Cookiecutter imports this
module in its own process, so it works wherever ``openhcs_plugins`` can be imported.
"""

from __future__ import annotations

from jinja2 import Environment
from jinja2.ext import Extension

from openhcs_plugins.templates import get_template_for_memory_type

__all__ = ["ScaffoldExtension", "toml_string"]

_TOML_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def toml_string(value: object) -> str:
    """Quote ``value`` as a TOML basic string (``O"Brien`` -> ``"O\\"Brien"``), keeping UTF-8."""
    out = []
    for char in str(value):
        if char in _TOML_ESCAPES:
            out.append(_TOML_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


class ScaffoldExtension(Extension):
    """Adds the ``function_template`` and ``toml_string`` filters."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.filters["function_template"] = get_template_for_memory_type
        environment.filters["toml_string"] = toml_string
