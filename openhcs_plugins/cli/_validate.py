"""``openhcs-plugins validate``: a function file, a folder of them, a package folder, a built
wheel/sdist or an installed distribution; exit 1 if anything is invalid."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.exceptions import Exit

from openhcs_plugins.cli._common import functions_dir_option
from openhcs_plugins.cli._common import settings as load_settings
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, print_validation_errors, styled
from openhcs_plugins.sources.candidate import TrustLevel

__all__ = ["ARCHIVE_SUFFIXES", "validate"]

ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")
_LEVELS = [level.value for level in TrustLevel]


@click.command(cls=Command)
@click.argument(
    "target",
    cls=Argument,
    required=False,
    help="A function file, a folder of them, a built wheel/sdist (not installed), or the name "
    "of an installed distribution (default: the functions folder).",
)
@click.option(
    "--trust",
    type=click.Choice(_LEVELS),
    metavar="|".join(_LEVELS),
    default=None,
    help="Check files as this trust level (default: the folder's setting).",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the report as JSON (an array for a folder)."
)
@click.option(
    "--isolated",
    is_flag=True,
    help="Also run each file's functions once on a small synthetic stack, in an isolated "
    "worker process (files only).",
)
@functions_dir_option
def validate(
    target: str | None,
    trust: str | None,
    as_json: bool,
    isolated: bool,
    functions_dir: Path | None,
) -> None:
    """Validate (statically; with --isolated also by running in a worker): exit 1 if invalid."""
    level = None if trust is None else TrustLevel(trust)
    settings = load_settings(functions_dir)
    if target is None:
        target = str(settings.functions_path())
    path = Path(target)
    if path.is_dir():
        files = sorted(path.glob("*.py"))
        if not files:
            raise fail(f"{path}: no .py files in this folder")
        # A package's folder (src/pkg): checked as it will be once installed, at the entry
        # points' trust level, and its modules without functions (__init__.py) are not errors.
        package = (path / "__init__.py").is_file()
        reports = [
            _validate_file(f, level, settings, quiet=as_json, isolated=isolated, package=package)
            for f in files
        ]
        if as_json:
            print(json.dumps(reports, indent=2))
        if not all(r["valid"] for r in reports):
            raise Exit(1)
        return
    if path.is_file() and not path.name.endswith(ARCHIVE_SUFFIXES):
        report = _validate_file(path, level, settings, quiet=as_json, isolated=isolated)
        if as_json:
            print(json.dumps(report, indent=2))
        if not report["valid"]:
            raise Exit(1)
        return
    from openhcs_plugins.loader import validate_archive, validate_distribution

    if isolated:
        raise fail("--isolated checks function files and folders, not packages")
    if path.is_file():
        load_report = validate_archive(path, settings=settings)
    elif path.suffix or "/" in target:
        raise fail(f"{target}: no such file, folder or installed distribution")
    else:
        load_report = validate_distribution(target, settings=settings)
    _print_load_report(target, load_report, as_json)
    if load_report.problems:
        raise Exit(1)


def _print_load_report(target: str, report: Any, as_json: bool) -> None:
    if as_json:
        from openhcs_plugins._reports import load_report_json

        print(json.dumps(load_report_json(target, report), indent=2))
        return
    for problem in report.problems:
        err.print(styled("red", str(problem)))
    for warning in report.warnings:
        err.print(styled("yellow", "warning:", f" {warning}"))
    if not report.problems:
        names = ", ".join(report.registered) or "(no functions)"
        out.print(styled("green", "ok", f" {target}: {names}"))


def _validate_file(
    path: Path,
    trust: TrustLevel | None,
    settings: Any,
    *,
    quiet: bool,
    isolated: bool = False,
    package: bool = False,
) -> dict[str, Any]:
    from openhcs_plugins._reports import validation_json
    from openhcs_plugins.validation import validate_code
    from openhcs_plugins.validation.decorators import NO_FUNCTIONS_MESSAGE

    source = "entry_point" if package else "folder"
    level = trust if trust is not None else settings.trust.level_for(source)
    result = validate_code(
        path.read_bytes(), trust=level, policy=settings.import_policy(), filename=str(path)
    )
    if package and any(e.message == NO_FUNCTIONS_MESSAGE for e in result.errors):
        if not quiet:
            out.print(f"skipped {path}: no memory-decorated functions (a module of the package)")
        return {"file": str(path), "valid": True, "functions": [], "errors": [], "warnings": []}
    print_validation_errors(result.errors, str(path))
    for warning in result.warnings:
        line = f":{warning.line_number}" if warning.line_number else ""
        err.print(styled("yellow", f"{path}{line}: warning:", f" {warning.message}"))
    if result.is_valid and not quiet:
        out.print(styled("green", "ok", f" {path}: {', '.join(result.function_names)}"))
    report = validation_json(result, str(path))
    if isolated:
        from openhcs_plugins.execution.probes import validate_in_worker

        # Safe even when the static check failed: the worker contains whatever the code does.
        check = validate_in_worker(path.read_bytes().decode("utf-8", "replace"), str(path))
        report["isolated"] = check.to_dict()
        report["valid"] = report["valid"] and check.ok
        if not quiet:
            for line in check.lines():
                (out if check.ok else err).print(line)
    return report
