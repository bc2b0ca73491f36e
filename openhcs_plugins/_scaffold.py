"""Generate a plugin package from the bundled cookiecutter template.

:func:`generate_project` is what ``openhcs-plugins new`` and ``openhcs-plugins promote`` call.
It runs cookiecutter on the template in a hidden staging folder next to the destination and
moves the finished project into place only when everything succeeded, so a refused answer, a
template error or an interrupted run never leaves a half-written project directory.

The rules for the answers live in the template's pre-generation hook
(``cookiecutter-template/hooks/pre_gen_project.py``); this module loads that file and applies
the same :func:`problems` before starting cookiecutter, so that an API caller gets the problems
as a :class:`ScaffoldError` instead of text on stderr.
"""

from __future__ import annotations

import json
import logging
import os
import re
import runpy
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = [
    "PromotedDependencies",
    "ScaffoldError",
    "describe_promoted_code",
    "generate_project",
    "next_steps",
    "project_namespace",
    "template_answers",
    "template_dir",
    "third_party_imports",
]

_TEMPLATE_NAME = "cookiecutter-template"
_INSTALL_HINT = "install it with: python -m pip install 'openhcs-plugins[template]'"


class ScaffoldError(OpenHCSPluginsError):
    """A project could not be generated; the message says why and what to do.

    ``problems`` lists each refused answer (empty for other failures); ``subject`` and ``path``
    name the folder or file at fault where there is one.
    """

    def __init__(self, message: str, problems: tuple[str, ...] = (), **where: Any) -> None:
        super().__init__(message, **where)
        self.problems = problems


def template_dir() -> Path:
    """Return the folder of the bundled cookiecutter template.

    An installed wheel carries it as package data (``openhcs_plugins/data/cookiecutter-template``);
    a source checkout has it at the repository root.
    """
    here = Path(__file__).resolve().parent
    for candidate in (here / "data" / _TEMPLATE_NAME, here.parent / _TEMPLATE_NAME):
        if (candidate / "cookiecutter.json").is_file():
            return candidate
    raise ScaffoldError(
        f"the project template is missing (looked in {here / 'data' / _TEMPLATE_NAME} and "
        f"{here.parent / _TEMPLATE_NAME}); reinstall openhcs-plugins"
    )


def template_answers() -> dict[str, Any]:
    """Return the template's questions and their defaults (choices as lists), in prompt order."""
    with (template_dir() / "cookiecutter.json").open(encoding="utf-8") as handle:
        questions = json.load(handle)
    return {key: value for key, value in questions.items() if not key.startswith("_")}


def _answer_rules() -> Callable[[dict[str, str]], list[str]]:
    hook = template_dir() / "hooks" / "pre_gen_project.py"
    rules = runpy.run_path(str(hook), run_name="openhcs_plugins_template_rules")
    return rules["problems"]


def _import_cookiecutter() -> Any:
    try:
        import cookiecutter.main
    except ImportError as error:
        raise ScaffoldError(
            f"generating a project needs cookiecutter ({error}); {_INSTALL_HINT}"
        ) from None
    return cookiecutter


def _rendered_answers(template: Path, options: Mapping[str, str]) -> dict[str, str]:
    """The answers cookiecutter will use with ``--no-input``: defaults rendered, options applied."""
    from cookiecutter.generate import generate_context
    from cookiecutter.prompt import prompt_for_config

    try:
        context = generate_context(
            context_file=str(template / "cookiecutter.json"), extra_context=dict(options)
        )
    except ValueError as error:  # e.g. a value that is not one of a question's choices
        raise ScaffoldError(f"invalid answer: {error}") from None
    return prompt_for_config(context, no_input=True)


def generate_project(
    output_dir: str | os.PathLike[str],
    *,
    no_input: bool = False,
    options: Mapping[str, Any] | None = None,
    functions_code: str | None = None,
) -> Path:
    """Generate a plugin package in ``output_dir`` and return the project's folder.

    Args:
        output_dir: The folder the project folder (named after ``project_slug``) is created in;
            created if missing.
        no_input: Take every answer from ``options`` or the template's defaults, without
            prompting.
        options: Answers by question name (``project_name``, ``project_slug``,
            ``package_name``, ``namespace``, ``description``, ``author``, ``email``,
            ``license``, ``memory_type``, ``python_min``); see :func:`template_answers`.
        functions_code: Source to use as the package's functions module instead of the
            template's example (``openhcs-plugins promote``). The caller validates it; the
            example-specific test is then left out and the contract test checks the code.

    Returns:
        The path of the new project folder.

    Raises:
        ScaffoldError: An unknown question, a refused answer (all listed in ``.problems``), an
            existing project folder, cookiecutter missing, or a template failure. Nothing is
            left in ``output_dir`` in any of these cases.
    """
    cookiecutter = _import_cookiecutter()
    from cookiecutter.exceptions import CookiecutterException, FailedHookException

    template = template_dir()
    answers = {str(key): str(value) for key, value in (options or {}).items()}
    unknown = sorted(set(answers) - set(template_answers()))
    if unknown:
        raise ScaffoldError(
            f"unknown template question(s): {', '.join(unknown)}; the questions are: "
            + ", ".join(template_answers())
        )

    destination_root = Path(output_dir).expanduser().resolve()
    if no_input:
        rendered = _rendered_answers(template, answers)
        problems = tuple(_answer_rules()(rendered))
        if problems:
            raise ScaffoldError(
                "these answers cannot make a plugin package:\n"
                + "\n".join(f"  - {problem}" for problem in problems),
                problems,
            )
        _refuse_existing(destination_root / rendered["project_slug"])

    # The folders this call creates, innermost first, to remove again if nothing is made.
    created = [d for d in (destination_root, *destination_root.parents) if not d.exists()]
    destination_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".openhcs-new-", dir=destination_root))
    (staging / "out").mkdir()
    (staging / "tmp").mkdir()
    # Cookiecutter renders each hook into a NamedTemporaryFile(delete=False) that it never
    # removes (with the answers in it); while it runs, temporary files go to the staging folder
    # and are removed with it.
    saved_tempdir = tempfile.tempdir
    tempfile.tempdir = str(staging / "tmp")
    # Cookiecutter logs a traceback for a refused hook; the error raised here says it better.
    # (A NullHandler only keeps logging's last-resort handler quiet; app handlers still see it.)
    quiet = logging.NullHandler()
    logging.getLogger("cookiecutter").addHandler(quiet)
    try:
        try:
            generated = Path(
                cookiecutter.main.cookiecutter(
                    str(template),
                    no_input=no_input,
                    # The caller says what to do next, with the project's final path.
                    extra_context={**answers, "_print_next_steps": "no"},
                    output_dir=str(staging / "out"),
                )
            )
        except FailedHookException as error:
            # Interactive answers are checked by the hook, which printed its reasons.
            raise ScaffoldError(
                f"the template refused the answers ({error}); see the reasons printed above"
            ) from None
        except (CookiecutterException, ValueError) as error:
            raise ScaffoldError(f"the template failed: {error}") from error
        if functions_code is not None:
            _use_functions_code(generated, functions_code)
        final = destination_root / generated.name
        _refuse_existing(final)
        generated.rename(final)
        return final
    finally:
        tempfile.tempdir = saved_tempdir
        logging.getLogger("cookiecutter").removeHandler(quiet)
        shutil.rmtree(staging, ignore_errors=True)
        for folder in created:
            if any(folder.iterdir()):
                break
            folder.rmdir()


def _refuse_existing(path: Path) -> None:
    if path.exists():
        raise ScaffoldError(
            f"{path} already exists; choose another output folder or project_slug, or remove it",
            subject=path,
            path=path,
        )


def _use_functions_code(project: Path, code: str) -> None:
    modules = list(project.glob("src/*/functions.py"))
    if len(modules) != 1:  # the template has exactly one; anything else is a template bug
        raise ScaffoldError(
            f"the generated project in {project} has no single functions module",
            subject=project,
            path=project,
        )
    from openhcs_plugins.hosts.openhcs_folder import plugin_imports

    # a package imports this project's modules (the folder file may use OpenHCS's names)
    code = plugin_imports(code)
    modules[0].write_text(code if code.endswith("\n") else code + "\n", encoding="utf-8")
    (project / "tests" / "test_functions.py").unlink()


def project_namespace(project: Path) -> str:
    """The namespace a generated project registers its functions under (the name of its
    ``openhcs.functions`` entry point in pyproject.toml, as the template writes it)."""
    text = (project / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r'^\[project\.entry-points\."openhcs\.functions"\]\n(\w+) = ', text, re.M)
    if found is None:  # the template always writes one; anything else is a template bug
        raise ScaffoldError(
            f"{project / 'pyproject.toml'} declares no openhcs.functions entry point",
            subject=project / "pyproject.toml",
            path=project / "pyproject.toml",
        )
    return found.group(1)


def next_steps(project: Path) -> str:
    """What to do with a generated project: the commands, with its path as the user gave it."""
    try:
        where = project.relative_to(Path.cwd())
    except ValueError:
        where = project
    return (
        "Next steps:\n"
        f"  cd {shlex.quote(str(where))}\n"
        "  git init && git add . && git commit -m 'Project from the openhcs-plugins template'\n"
        "  python -m pip install -e '.[test]'\n"
        "  pytest\n"
        f"  openhcs-plugins list --namespace {project_namespace(project)}"
    )


#: Imports a promoted package gets from its template: openhcs-plugins, numpy, the framework.
_TEMPLATE_PROVIDES = {"openhcs_plugins", "openhcs", "numpy"}
#: The import name of each memory type's framework, whose requirement the template writes.
_FRAMEWORK_MODULES = {
    "torch": "torch",
    "tensorflow": "tensorflow",
    "jax": "jax",
    "cupy": "cupy",
    "pyclesperanto": "pyclesperanto",
}


def third_party_imports(code: str) -> list[str]:
    """Top-level modules ``code`` imports that are neither the standard library nor relative."""
    import ast

    found: set[str] = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            found.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.partition(".")[0])
    return sorted(name for name in found if name not in sys.stdlib_module_names)


@dataclass(frozen=True)
class PromotedDependencies:
    """What :func:`describe_promoted_code` did to a project's ``pyproject``: the requirements
    it ``added`` to the dependencies, and the imported modules it could not map to an
    installed distribution (``unknown``: the user adds those by hand)."""

    pyproject: Path
    added: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()


def describe_promoted_code(
    project: Path, name: str, code: str, memory_type: str
) -> PromotedDependencies:
    """Make a generated project describe the promoted code, not the template's example.

    The README and CHANGELOG name the promoted function instead of ``my_filter``,
    and each module the code imports beyond what the template declares becomes a dependency
    in pyproject.toml (by its installed distribution's name), so the package installs
    elsewhere. An import whose distribution is not installed here is returned as ``unknown``.
    """
    import importlib.metadata

    for doc in ("README.md", "CHANGELOG.md"):
        path = project / doc
        if path.is_file():
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace("my_filter", name), encoding="utf-8")
    pyproject = project / "pyproject.toml"
    provided = _TEMPLATE_PROVIDES | {_FRAMEWORK_MODULES.get(memory_type, "numpy")}
    modules = [m for m in third_party_imports(code) if m not in provided]
    if not modules:
        return PromotedDependencies(pyproject)
    installed = importlib.metadata.packages_distributions()
    requirements = sorted({installed[m][0] for m in modules if m in installed})
    unknown = [m for m in modules if m not in installed]
    text = pyproject.read_text(encoding="utf-8")
    block = re.search(r"^dependencies = \[\n(.*?)^\]", text, flags=re.MULTILINE | re.DOTALL)
    if requirements and block is not None:
        lines = "".join(f'    "{requirement}",\n' for requirement in requirements)
        text = text[: block.end(1)] + lines + text[block.end(1) :]
        pyproject.write_text(text, encoding="utf-8")
        return PromotedDependencies(pyproject, tuple(requirements), tuple(unknown))
    return PromotedDependencies(pyproject, (), tuple(unknown + requirements))
