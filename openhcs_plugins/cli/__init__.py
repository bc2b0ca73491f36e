"""The ``openhcs-plugins`` command line: it parses, calls the library (the loader, the manager,
:mod:`openhcs_plugins.batch`, ...) and prints. This package owns the commands and their
output; it may import click, rich and any module of the library, never the other way round.
One module per group of commands (``_listing``: list, info; ``_validate``; ``_folder``: add,
remove, template, disable, enable; ``_trust``: trust, untrust; ``_running``: run, demo;
``_lock``: freeze, check; ``_project``: new, promote; ``_environment``: doctor, gui, cache;
``_settings``), imported
only when one of its commands is chosen: ``--help`` pays for click and the table below, a
command for click, its module and what it calls (rich only where it prints a table or
colours). Start-up costs are in docs/performance.md.

Tour::

    openhcs-plugins template --memory-type torch > my_filter.py
    openhcs-plugins validate my_filter.py
    openhcs-plugins add my_filter.py
    openhcs-plugins list --json
    openhcs-plugins info openhcs:my_filter
    openhcs-plugins remove my_filter
"""

from __future__ import annotations

import click

from openhcs_plugins.cli._lazy import LazyGroup

__all__ = ["COMMANDS", "app", "main"]

#: Each command: (module, attribute, the short help the root's ``--help`` lists), in the
#: order ``--help`` lists them. tests/test_cli_output.py checks the short helps against the
#: commands' own.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "list": (
        "._listing",
        "list_functions",
        "List registered functions (packages and folder) without importing their code.",
    ),
    "info": (
        "._listing",
        "info",
        "Show a function's signature, doc, provenance and validation state.",
    ),
    "validate": (
        "._validate",
        "validate",
        "Validate (statically; with --isolated also by running in a worker): exit 1 if invalid.",
    ),
    "add": (
        "._folder",
        "add",
        "Validate a file's functions and save them in the functions folder.",
    ),
    "remove": ("._folder", "remove", "Delete a function from the functions folder."),
    "trust": (
        "._trust",
        "trust",
        "Trust a folder file's code on this machine, so that it runs in this process.",
    ),
    "untrust": (
        "._trust",
        "untrust",
        "Forget that a folder file was trusted: it then runs only in an isolated worker.",
    ),
    "template": ("._folder", "template", "Print a starter function for a memory type."),
    "run": (
        "._running",
        "run",
        "Run a function on TIFF stacks and write TIFFs with provenance in their metadata.",
    ),
    "demo": (
        "._running",
        "demo",
        "Register the bundled example functions, list them, and run one on a synthetic image.",
    ),
    "freeze": (
        "._lock",
        "freeze",
        "Write a lock file of what is registered: package versions, origins and source-file "
        "sha256s, folder-file sha256s.",
    ),
    "check": (
        "._lock",
        "check",
        "Verify the environment against a lock file; exit 1 with a diff on any drift.",
    ),
    "new": ("._project", "new", "Create a plugin package from the cookiecutter template."),
    "promote": (
        "._project",
        "promote",
        "Turn a folder function into a package made from the template, keeping its code.",
    ),
    "doctor": (
        "._environment",
        "doctor",
        "Which frameworks and devices are usable, broken plugins, and the cache's state.",
    ),
    "disable": (
        "._folder",
        "disable",
        "Switch a namespace or one function off (stored in your settings).",
    ),
    "enable": ("._folder", "enable", "Switch a disabled namespace or function back on."),
    "gui": (
        "._environment",
        "gui",
        "Open the Qt window: function editor, function list and settings (needs the gui extra).",
    ),
    "settings": ("._settings", "settings_app", "Show and edit settings."),
    "cache": ("._environment", "cache_app", "The discovery cache."),
    "host": (
        "._host",
        "host_app",
        "Make installed plugin packages appear in a host program (OpenHCS).",
    ),
}


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from importlib.metadata import version

        print(f"openhcs-plugins {version('openhcs-plugins')}")
        ctx.exit()


app = LazyGroup(
    name="openhcs-plugins",
    help="List, validate, add, remove and run OpenHCS-style image-processing functions.",
    no_args_is_help=True,
    table=COMMANDS,
    package=__name__,
    params=[
        click.Option(
            ["--version"],
            is_flag=True,
            expose_value=False,
            is_eager=True,
            callback=_version,
            help="Print the version and exit.",
        )
    ],
)


def main() -> None:
    """Console-script entry point."""
    from openhcs_plugins.cli._output import print_settings_warnings

    print_settings_warnings()
    app()
