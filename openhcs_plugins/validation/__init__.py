"""Validation of custom-function code: static checks on the text, runtime checks on the callable.

Static checks (:func:`validate_code`) read the source without running it, with one
``ast.parse`` and one iterative pass over the tree:

- syntax, with the line number and the offending line;
- encoding: UTF-8 only; a coding cookie naming another encoding is refused, because a
  ``# -*- coding: utf-7 -*-`` "comment" can hide statements from any check of the text;
- the import/attribute policy (:class:`ImportPolicy`; see ``docs/validation.md``), enforced at
  the ``user`` and ``strict`` trust levels and reported as warnings at ``trusted``;
- memory-type decorators, recognised by what they resolve to (``@numpy``, ``@memory.torch``,
  ``@torch(output_type="numpy")``, ``memory_types("torch", "numpy")``, the OpenHCS module
  names), and the first parameter ``image``.

It also reads what a listing needs: a :class:`~openhcs_plugins.sources.candidate.StaticFunction` per
decorated top-level function, and on request (``module_facts=True``) what the loader needs
about the module (:class:`ModuleFacts`), so nothing parses the text twice. The validator never
raises: any internal error, a ``RecursionError`` from a pathological input included, is a
rejection with a message.

The package is one job per module: :mod:`.api` (the entry points), :mod:`.text` (encoding,
snippets, locating a line, the token count), :mod:`.walk` (the one walk), :mod:`.names`,
:mod:`.rules`, :mod:`.calls` (rules by the shape of a call), :mod:`.imports`,
:mod:`.statements`, :mod:`.annotations`, :mod:`.decorators`, :mod:`.functions` and
:mod:`.module_reader` (the parts of the pass, assembled in :mod:`.inspector`), :mod:`.policy`
and :mod:`.index` (the policy and its lookup tables), :mod:`.findings` and :mod:`.facts` (what
comes out), :mod:`.budget` (the CPU-time budget), :mod:`.runtime` (checks on a loaded
callable). It imports only the standard library, :mod:`openhcs_plugins.sources.candidate`,
:mod:`openhcs_plugins.memory.types` and :mod:`openhcs_plugins.errors` (the base error and the
locator of a line); nothing from the loader, registry, manager, CLI or
execution (``tests/test_architecture.py`` checks it).

>>> result = validate_code('''
... from openhcs_plugins.memory import numpy
...
... @numpy
... def invert(image):
...     return image.max() - image
... ''')
>>> result.is_valid, result.function_names
(True, ('invert',))
>>> bad = validate_code("import os\\n")
>>> bad.errors[0].message
"Dangerous import detected: 'os'. Module 'os' is not allowed in custom functions."
"""

from __future__ import annotations

from openhcs_plugins.validation.api import (
    validate_code,
    validate_decorator,
    validate_imports,
    validate_syntax,
)
from openhcs_plugins.validation.facts import ModuleFacts
from openhcs_plugins.validation.findings import (
    POLICY_RULES,
    Finding,
    TooComplex,
    ValidationError,
    ValidationMessage,
    ValidationResult,
)
from openhcs_plugins.validation.index import ALLOWED, DENIED, PARENT, UNKNOWN
from openhcs_plugins.validation.inspector import makes_functions_at_import, read_module
from openhcs_plugins.validation.policy import DECORATOR_PATHS, MEMORY_DECORATOR_NAMES, ImportPolicy
from openhcs_plugins.validation.runtime import validate_function

__all__ = [
    "ALLOWED",
    "DECORATOR_PATHS",
    "DENIED",
    "MEMORY_DECORATOR_NAMES",
    "PARENT",
    "POLICY_RULES",
    "UNKNOWN",
    "Finding",
    "ImportPolicy",
    "ModuleFacts",
    "TooComplex",
    "ValidationError",
    "ValidationMessage",
    "ValidationResult",
    "makes_functions_at_import",
    "read_module",
    "validate_code",
    "validate_decorator",
    "validate_function",
    "validate_imports",
    "validate_syntax",
]
