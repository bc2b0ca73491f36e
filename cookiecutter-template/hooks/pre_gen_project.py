"""Check the answers before cookiecutter writes any file.

Cookiecutter runs this after the prompts; a non-zero exit makes it remove the project folder it
has just created, so a refused answer leaves nothing behind. ``openhcs_plugins._scaffold`` also
loads this file (without running ``main``) and calls :func:`problems` on the answers before it
starts cookiecutter, so the rules live here only.
"""

from __future__ import annotations

import json
import keyword
import re
import sys

LICENSES = ("BSD-3-Clause", "MIT", "Apache-2.0", "GPL-3.0-or-later")
MEMORY_TYPES = ("numpy", "cupy", "torch", "tensorflow", "jax", "pyclesperanto")
#: Folder and editor functions are ``openhcs:<name>``; no package may claim that namespace.
RESERVED_NAMESPACES = frozenset({"openhcs"})
#: A package with one of these names would hide the real module once installed.
RESERVED_PACKAGES = frozenset(
    {"openhcs", "openhcs_plugins", "tests", "test", *MEMORY_TYPES, *sys.stdlib_module_names}
)
MINIMUM_PYTHON = (3, 10)

# PEP 508 distribution names.
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
_PYTHON_VERSION = re.compile(r"^3\.(\d+)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _identifier_problem(what: str, value: str) -> str | None:
    if value.isascii() and value.isidentifier() and not keyword.iskeyword(value):
        return None
    suggestion = re.sub(r"\W|^(?=\d)", "_", value.strip().lower().replace("-", "_"))
    if not suggestion or keyword.iskeyword(suggestion) or not suggestion.isascii():
        suggestion = "my_functions"
    return (
        f"{what} {value!r} is not a Python identifier (ASCII letters, digits and underscores, "
        f"not starting with a digit, not a keyword); try {suggestion!r}"
    )


def problems(answers: dict[str, str]) -> list[str]:
    """Return one readable sentence per refused answer (empty when all are fine)."""
    found: list[str] = []

    if not str(answers.get("project_name", "")).strip():
        found.append("project_name is empty; give the project a name, e.g. 'Lab Filters'")

    slug = str(answers.get("project_slug", ""))
    if not _DISTRIBUTION.match(slug):
        found.append(
            f"project_slug {slug!r} is not a valid distribution name: use ASCII letters, digits, "
            "'-', '_' and '.', starting and ending with a letter or digit, e.g. 'lab-filters'"
        )

    package = str(answers.get("package_name", ""))
    problem = _identifier_problem("package_name", package)
    if problem:
        found.append(problem)
    elif package in RESERVED_PACKAGES:
        found.append(
            f"package_name {package!r} would hide the module of the same name (the standard "
            "library, a framework or openhcs-plugins); choose another, e.g. 'lab_filters'"
        )

    namespace = str(answers.get("namespace", ""))
    problem = _identifier_problem("namespace", namespace)
    if problem:
        found.append(problem + "; functions are registered as NAMESPACE:function_name")
    elif namespace in RESERVED_NAMESPACES:
        found.append(
            f"namespace {namespace!r} is reserved for functions from the functions folder and "
            "the editor; choose your own, e.g. the package name"
        )

    if not str(answers.get("author", "")).strip():
        found.append("author is empty; give the name that goes into pyproject.toml and LICENSE")

    email = str(answers.get("email", ""))
    if not _EMAIL.match(email):
        found.append(f"email {email!r} does not look like an address (name@example.org)")

    if answers.get("license") not in LICENSES:
        found.append(
            f"license {answers.get('license')!r} is not offered; use one of: " + ", ".join(LICENSES)
        )

    if answers.get("memory_type") not in MEMORY_TYPES:
        found.append(
            f"memory_type {answers.get('memory_type')!r} is not a memory type; use one of: "
            + ", ".join(MEMORY_TYPES)
        )

    python_min = str(answers.get("python_min", ""))
    version = _PYTHON_VERSION.match(python_min)
    if not version or (3, int(version.group(1))) < MINIMUM_PYTHON:
        found.append(
            f"python_min {python_min!r} must be written like '3.11' and be at least "
            f"{MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]} (what openhcs-plugins needs)"
        )
    return found


def main() -> int:
    """Check the rendered answers; print every problem and exit 1 if there is any."""
    answers = json.loads(r"""{{ cookiecutter | tojson }}""")
    found = problems(answers)
    if not found:
        return 0
    print("These answers cannot make a plugin package:", file=sys.stderr)
    for problem in found:
        print(f"  - {problem}", file=sys.stderr)
    print("Nothing was written; run the template again with other answers.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
