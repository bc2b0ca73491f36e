"""``openhcs-plugins new`` (a plugin package from the cookiecutter template) and ``promote``
(a folder function made into such a package); the work is :mod:`openhcs_plugins._scaffold`'s."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from openhcs_plugins.cli._common import PATH, functions_dir_option, manager
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, print_validation_errors, styled

__all__ = ["new", "promote"]

option_option = click.option(
    "--option",
    multiple=True,
    help="A template answer as key=value (project_name, package_name, namespace, author, "
    "email, license, memory_type, python_min), repeatable.",
)


def _parse_options(pairs: tuple[str, ...]) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise fail(f"--option {pair!r}: write it as key=value")
        options[key.strip()] = value
    return options


@click.command(cls=Command)
@click.argument(
    "output_dir",
    cls=Argument,
    type=PATH,
    default=".",
    required=False,
    show_default=True,
    help="Folder the project folder is created in.",
)
@click.option(
    "--no-input", "no_input", is_flag=True, help="Do not prompt; use --option answers and defaults."
)
@option_option
def new(output_dir: Path, no_input: bool, option: tuple[str, ...]) -> None:
    """Create a plugin package from the cookiecutter template."""
    from openhcs_plugins._scaffold import ScaffoldError, generate_project, next_steps

    try:
        project = generate_project(output_dir, no_input=no_input, options=_parse_options(option))
    except ScaffoldError as exc:
        for problem in exc.problems:
            err.print(styled("red", "-", f" {problem}"))
        raise fail(str(exc)) from exc
    out.print(styled("green", "created", f" {project}"))
    out.print(next_steps(project))


@click.command(cls=Command)
@click.argument("name", cls=Argument, help="A function in the functions folder.")
@click.option(
    "--output-dir",
    "-o",
    "output_dir",
    type=PATH,
    default=".",
    show_default=True,
    help="Folder the project is created in.",
)
@option_option
@functions_dir_option
def promote(
    name: str, output_dir: Path, option: tuple[str, ...], functions_dir: Path | None
) -> None:
    """Turn a folder function into a package made from the template, keeping its code."""
    from openhcs_plugins._scaffold import (
        ScaffoldError,
        generate_project,
        next_steps,
        project_namespace,
    )
    from openhcs_plugins.registry import split_key
    from openhcs_plugins.validation import validate_code

    folder = manager(functions_dir)
    bare = split_key(name)[1]
    try:
        source_path = folder.path_for(bare)
        code = folder.get_function_code(bare)
    except KeyError as exc:  # before ValueError: the unknown-name error is both
        # The manager only finds functions in valid files; an invalid one is shown below.
        if not source_path.is_file():
            raise fail(str(exc.args[0])) from exc
        code = source_path.read_text(encoding="utf-8")
    except ValueError as exc:
        raise fail(str(exc.args[0])) from exc
    result = validate_code(code, filename=str(source_path))
    if not result.is_valid:
        print_validation_errors(result.errors, str(source_path))
        raise fail(f"{source_path} does not validate; fix it before promoting it")
    memory_type = next((f.input_memory_type for f in result.functions if f.name == bare), None)
    if memory_type is None:
        defined = ", ".join(result.function_names)
        raise fail(f"{source_path} defines {defined}, not {bare!r}; promote one of those")
    options = {
        "project_name": f"openhcs {bare.replace('_', ' ')}",
        "memory_type": memory_type,
        **_parse_options(option),
    }
    try:
        project = generate_project(output_dir, no_input=True, options=options, functions_code=code)
    except ScaffoldError as exc:
        for problem in exc.problems:
            err.print(styled("red", "-", f" {problem}"))
        raise fail(str(exc)) from exc
    _describe_promoted_code(project, bare, code, memory_type)
    out.print(styled("green", "created", f" {project} from {source_path}"))
    out.print(next_steps(project))
    key = f"{project_namespace(project)}:{bare}"
    remove = f"openhcs-plugins remove {bare}"
    if functions_dir is not None:
        remove += f" --functions-dir {shlex.quote(str(functions_dir))}"
    out.print(
        f"The folder function is unchanged; once the package is installed (as {key}), remove "
        f"the folder copy with: {remove}"
    )


def _describe_promoted_code(project: Path, name: str, code: str, memory_type: str) -> None:
    """Point the generated project at the promoted code (:func:`describe_promoted_code`) and
    say which dependencies it added and which the user must add."""
    from openhcs_plugins._scaffold import describe_promoted_code

    done = describe_promoted_code(project, name, code, memory_type)
    if done.added:
        out.print(
            f"added to the dependencies in {done.pyproject}: {', '.join(done.added)} "
            "(imported by the code; add lower bounds if it needs them)",
        )
    if done.unknown:
        err.print(
            styled(
                "yellow",
                "warning:",
                f" the code imports {', '.join(done.unknown)}; add the distribution(s) that "
                f"provide them to the dependencies in {done.pyproject}",
            )
        )
