"""The ``openhcs-plugins`` command line.

Tour::

    openhcs-plugins template --memory-type torch > my_filter.py
    openhcs-plugins validate my_filter.py
    openhcs-plugins add my_filter.py
    openhcs-plugins list --json
    openhcs-plugins info openhcs:my_filter
    openhcs-plugins remove my_filter

It parses, calls the library (:mod:`openhcs_plugins.batch`, the loader, the manager...) and
prints. Each command imports what it needs when it runs (rich, the loader, the registry, numpy):
``--help`` pays for typer alone, ``list`` for typer, the listing and its table
(docs/performance.md, "Start-up").
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from openhcs_plugins._cli_help import PlainHelpGroup

# Typer reads the option types when it builds the commands, before any command runs.
from openhcs_plugins.candidate import SourceKind, TrustLevel
from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

    from openhcs_plugins.registry import FunctionInfo

app = typer.Typer(
    name="openhcs-plugins",
    help="List, validate, add, remove and run OpenHCS-style image-processing functions.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=PlainHelpGroup,
)
# Not a terminal (pipes, CI logs): wide enough that keys and signatures are not folded.
_WIDTH = None if sys.stdout.isatty() else 200


class _LazyConsole:
    """A rich Console made on first use (importing rich costs tens of ms: ``--help``, ``list
    --json`` and ``template`` never print through it)."""

    def __init__(self, *, stderr: bool) -> None:
        self._stderr = stderr
        self._console: Console | None = None

    def console(self) -> Console:
        """The rich Console itself (for rich's own helpers: progress bars)."""
        if self._console is None:
            from rich.console import Console

            # No markup: paths, messages and hints (`pip install 'openhcs-plugins[gui]'`)
            # print as they are; the few coloured labels are styled with _styled.
            self._console = Console(
                stderr=self._stderr, soft_wrap=True, width=_WIDTH, markup=False, highlight=False
            )
        return self._console

    def __getattr__(self, name: str) -> Any:
        return getattr(self.console(), name)


out: Any = _LazyConsole(stderr=False)
err: Any = _LazyConsole(stderr=True)


def _styled(style: str, label: str, text: str = "") -> Text:
    """``label`` in ``style``, then ``text`` exactly as it is."""
    from rich.text import Text

    return Text.assemble((label, style), text)


def _registry() -> Any:
    from openhcs_plugins.registry import get_default_registry

    return get_default_registry()


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        print(f"openhcs-plugins {version('openhcs-plugins')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


def _fail(message: str, code: int = 1) -> typer.Exit:
    err.print(_styled("bold red", "error:", f" {message}"))
    return typer.Exit(code)


def _print_validation_errors(errors: Any, filename: str) -> None:
    for error in errors:
        where = error.filename or filename
        if error.line_number:
            where += f":{error.line_number}"
        err.print(_styled("red", where, f": {error.message}"))
        if error.code_snippet:
            err.print(f"    {error.code_snippet.strip()}")
        if error.hint:
            err.print(_styled("dim", f"    hint: {error.hint}"))


def _manager(functions_dir: Path | None = None) -> Any:
    from openhcs_plugins.manager import CustomFunctionManager

    return CustomFunctionManager(functions_dir)


def _settings(functions_dir: Path | None = None) -> Any:
    """The settings, with ``--functions-dir`` (when given) overriding the folder."""
    from openhcs_plugins.config import load_settings

    if functions_dir is None:
        return load_settings()
    return load_settings(functions_dir=str(functions_dir))


def _load_registry(
    *, refresh: bool = False, strict: bool = False, functions_dir: Path | None = None
) -> Any:
    """Register everything (packages and folder); returns the LoadReport (problems to show,
    keys the settings disabled)."""
    from openhcs_plugins.loader import PluginLoadError, load_plugins

    try:
        report = load_plugins(strict=strict, refresh=refresh, settings=_settings(functions_dir))
    except PluginLoadError as exc:
        for problem in exc.report.problems:
            err.print(_styled("red", str(problem)))
        raise _fail(f"{len(exc.report.problems)} plugin problem(s) (--strict)") from exc
    return report


def _entry(key: str, report: Any) -> Any:
    """The registry entry of ``key``, or a failure that says why there is none: disabled (and
    the command that enables it) or not registered (with close keys)."""
    from openhcs_plugins.loader import disabled_names

    try:
        return _registry().entry(key)
    except KeyError as exc:
        if key in report.disabled:
            switch = _switch_for(key, disabled_names())
            raise _fail(
                f"function {key} is disabled; enable it with: openhcs-plugins enable {switch}"
            ) from exc
        raise _fail(str(exc.args[0])) from exc


def _switch_for(key: str, disabled: frozenset[str]) -> str:
    """What `enable` takes to switch ``key`` on again: the key, or its disabled namespace."""
    return key if key in disabled else key.partition(":")[0]


FunctionsDir = Annotated[
    Path | None,
    typer.Option(
        "--functions-dir",
        help="Folder of single-file functions (default: OPENHCS_PLUGINS_FUNCTIONS_DIR, the "
        "functions_dir setting, or the XDG data dir openhcs/custom_functions).",
    ),
]


@app.command("list")
def list_functions(
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
    memory_type: Annotated[
        str | None, typer.Option("--memory-type", "-m", help="Only this memory type.")
    ] = None,
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace (lab_filters).")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="entry_point, folder, editor or api.")
    ] = None,
    refresh: Annotated[bool, typer.Option("--refresh", help="Ignore the discovery cache.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on any plugin problem.")] = False,
    functions_dir: FunctionsDir = None,
) -> None:
    """List registered functions (packages and folder) without importing their code."""
    if memory_type is not None and memory_type not in AVAILABLE_MEMORY_TYPES:
        raise _fail(f"unknown memory type {memory_type!r}; use one of {AVAILABLE_MEMORY_TYPES}")
    if source is not None and source not in {s.value for s in SourceKind}:
        raise _fail(f"unknown source {source!r}; use one of {[s.value for s in SourceKind]}")
    report = _load_registry(refresh=refresh, strict=strict, functions_dir=functions_dir)
    infos = _registry().infos(memory_type=memory_type, namespace=namespace, source=source)
    if as_json:
        print(json.dumps([info.to_dict() for info in infos], indent=2))
    else:
        _print_table(infos)
    for problem in report.problems:
        err.print(_styled("yellow", "skipped:", f" {problem}"))
    if report.disabled:
        from openhcs_plugins.loader import disabled_names

        names = disabled_names()
        err.print(f"{len(report.disabled)} disabled (not listed): {', '.join(report.disabled)}")
        for switch in sorted({_switch_for(key, names) for key in report.disabled}):
            err.print(f"  enable with: openhcs-plugins enable {switch}")


def _print_table(infos: list[FunctionInfo]) -> None:
    from rich.table import Table

    table = Table(title=f"{len(infos)} function(s)")
    for column in ("key", "memory type", "source", "version", "signature"):
        table.add_column(column, overflow="fold")
    for info in infos:
        prov = info.provenance
        types = info.input_memory_type
        if info.output_memory_type != info.input_memory_type:
            types += f" -> {info.output_memory_type}"
        version = prov.version or ""
        source = prov.source.value
        if prov.distribution:
            source += f" ({prov.distribution})"
        table.add_row(info.key, types, source, version, info.signature)
    out.print(table)


@app.command()
def info(
    key: Annotated[str, typer.Argument(help="namespace:name (bare name = openhcs:name)")],
    functions_dir: FunctionsDir = None,
) -> None:
    """Show a function's signature, doc, provenance and validation state."""
    from openhcs_plugins.registry import split_key

    report = _load_registry(functions_dir=functions_dir)
    namespace, name = split_key(key)
    entry = _entry(f"{namespace}:{name}", report)
    data = entry.info.to_dict()
    data["doc"] = entry.info.doc
    data["state"] = entry.state
    if entry.error:
        data["error"] = entry.error
    for field, value in data.items():
        if value is None or value == "" or field == "parameters":
            continue
        out.print(_styled("bold", field, f": {value}"))


ARCHIVE_SUFFIXES = (".whl", ".tar.gz", ".zip")


@app.command()
def validate(
    target: Annotated[
        str | None,
        typer.Argument(
            help="A function file, a folder of them, a built wheel/sdist (not installed), or "
            "the name of an installed distribution (default: the functions folder)."
        ),
    ] = None,
    trust: Annotated[
        TrustLevel | None,
        typer.Option(
            "--trust", help="Check files as this trust level (default: the folder's setting)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the report as JSON (an array for a folder).")
    ] = False,
    isolated: Annotated[
        bool,
        typer.Option(
            "--isolated",
            help="Also run each file's functions once on a small synthetic stack, in an "
            "isolated worker process (files only).",
        ),
    ] = False,
    functions_dir: FunctionsDir = None,
) -> None:
    """Validate (statically; with --isolated also by running in a worker): exit 1 if invalid."""
    settings = _settings(functions_dir)
    if target is None:
        target = str(settings.functions_path())
    path = Path(target)
    if path.is_dir():
        files = sorted(path.glob("*.py"))
        if not files:
            raise _fail(f"{path}: no .py files in this folder")
        # A package's folder (src/pkg): checked as it will be once installed, at the entry
        # points' trust level, and its modules without functions (__init__.py) are not errors.
        package = (path / "__init__.py").is_file()
        reports = [
            _validate_file(f, trust, settings, quiet=as_json, isolated=isolated, package=package)
            for f in files
        ]
        if as_json:
            print(json.dumps(reports, indent=2))
        if not all(r["valid"] for r in reports):
            raise typer.Exit(1)
        return
    if path.is_file() and not path.name.endswith(ARCHIVE_SUFFIXES):
        report = _validate_file(path, trust, settings, quiet=as_json, isolated=isolated)
        if as_json:
            print(json.dumps(report, indent=2))
        if not report["valid"]:
            raise typer.Exit(1)
        return
    from openhcs_plugins.loader import validate_archive, validate_distribution

    if isolated:
        raise _fail("--isolated checks function files and folders, not packages")
    if path.is_file():
        load_report = validate_archive(path, settings=settings)
    elif path.suffix or "/" in target:
        raise _fail(f"{target}: no such file, folder or installed distribution")
    else:
        load_report = validate_distribution(target, settings=settings)
    _print_load_report(target, load_report, as_json)
    if load_report.problems:
        raise typer.Exit(1)


def _print_load_report(target: str, report: Any, as_json: bool) -> None:
    if as_json:
        from openhcs_plugins._reports import load_report_json

        print(json.dumps(load_report_json(target, report), indent=2))
        return
    for problem in report.problems:
        err.print(_styled("red", str(problem)))
    for warning in report.warnings:
        err.print(_styled("yellow", "warning:", f" {warning}"))
    if not report.problems:
        names = ", ".join(report.registered) or "(no functions)"
        out.print(_styled("green", "ok", f" {target}: {names}"))


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
    _print_validation_errors(result.errors, str(path))
    for warning in result.warnings:
        line = f":{warning.line_number}" if warning.line_number else ""
        err.print(_styled("yellow", f"{path}{line}: warning:", f" {warning.message}"))
    if result.is_valid and not quiet:
        out.print(_styled("green", "ok", f" {path}: {', '.join(result.function_names)}"))
    report = validation_json(result, str(path))
    if isolated:
        from openhcs_plugins.isolation import validate_in_worker

        # Safe even when the static check failed: the worker contains whatever the code does.
        check = validate_in_worker(path.read_bytes().decode("utf-8", "replace"), str(path))
        report["isolated"] = check.to_dict()
        report["valid"] = report["valid"] and check.ok
        if not quiet:
            for line in check.lines():
                (out if check.ok else err).print(line)
    return report


@app.command()
def add(
    path: Annotated[Path, typer.Argument(help="A function file to validate, register and save.")],
    replace: Annotated[
        bool, typer.Option("--replace", help="Replace a saved function of the same name.")
    ] = False,
    functions_dir: FunctionsDir = None,
) -> None:
    """Validate a file's functions and save them in the functions folder."""
    from openhcs_plugins.validation import ValidationError

    if not path.is_file():
        raise _fail(f"{path}: no such file")
    try:
        code = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _fail(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    manager = _manager(functions_dir)
    try:
        funcs = manager.register_from_code(code, persist=True, replace=replace, filename=str(path))
    except ValidationError as exc:
        _print_validation_errors(getattr(exc, "errors", [exc]), str(path))
        raise typer.Exit(1) from exc
    except (FileExistsError, ValueError, KeyError) as exc:
        raise _fail(f"{path}: {exc}") from exc
    for func in funcs:
        saved = manager.path_for(func.__name__)
        out.print(_styled("green", "added", f" openhcs:{func.__name__} -> {saved}"))


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="Function name (or openhcs:name).")],
    functions_dir: FunctionsDir = None,
) -> None:
    """Delete a function from the functions folder."""
    from openhcs_plugins.registry import split_key

    namespace, bare = split_key(name)
    if namespace != "openhcs":
        key = f"{namespace}:{bare}"
        info_ = _entry(key, _load_registry(functions_dir=functions_dir)).info
        dist = info_.provenance.distribution
        uninstall = f"uninstall it with: python -m pip uninstall {dist}, or " if dist else ""
        raise _fail(
            f"{key}: only folder functions (openhcs:...) can be removed; {key} comes from "
            f"{info_.provenance.describe()}: {uninstall}switch the function off with: "
            f"openhcs-plugins disable {key}"
        )
    manager = _manager(functions_dir)
    try:
        path = manager.path_for(bare)
        had_file = path.is_file()
        removed = manager.delete_custom_function(bare)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if not removed:
        raise _fail(f"no custom function {bare!r} in {manager.storage_dir}")
    deleted = f" (deleted {path})" if had_file and not path.exists() else ""
    out.print(_styled("green", "removed", f" openhcs:{bare}{deleted}"))


@app.command()
def template(
    memory_type: Annotated[
        str, typer.Option("--memory-type", "-m", help=f"One of {AVAILABLE_MEMORY_TYPES}.")
    ] = "numpy",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file.")
    ] = None,
) -> None:
    """Print a starter function for a memory type."""
    from openhcs_plugins.templates import get_template_for_memory_type

    try:
        text = get_template_for_memory_type(memory_type)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    if output is None:
        sys.stdout.write(text)
    else:
        if output.exists():
            raise _fail(f"{output} exists; choose another name")
        output.write_text(text, encoding="utf-8")
        out.print(f"wrote {output}")


def run_on_files(
    key: str,
    files: list[Path],
    output: Path,
    params: dict[str, Any],
    *,
    preview: Path | None = None,
    show_progress: bool = True,
    isolated: bool = False,
) -> list[tuple[Path, str]]:
    """:func:`openhcs_plugins.batch.run_batch`, printing each file's outcome and a progress
    bar; returns the failures as ``(file, reason)``."""
    from rich.progress import track

    from openhcs_plugins.batch import FileResult, run_batch

    def show(done: FileResult) -> None:
        if done.ok:
            out.print(_styled("green", "wrote", f" {done.output}"))
        else:
            err.print(_styled("red", "failed", f" {done.input}: {done.error}"))

    results = run_batch(
        key,
        files,
        output,
        params,
        preview=preview,
        isolated=isolated,
        on_result=show,
        progress=lambda pairs: track(
            pairs, description=key, console=err.console(), disable=not show_progress
        ),
    )
    return [(done.input, done.error) for done in results if done.error is not None]


@app.command()
def run(
    key: Annotated[str, typer.Argument(help="Function key, e.g. openhcs:blur or lab:denoise.")],
    inputs: Annotated[list[Path], typer.Argument(help="TIFF files or folders of TIFFs.")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Output .tif (one input) or folder.")
    ],
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="name=value, repeatable.")
    ] = None,
    preview: Annotated[
        Path | None, typer.Option("--preview", help="PNG of the middle slice, before | after.")
    ] = None,
    isolated: Annotated[
        bool,
        typer.Option(
            "--isolated",
            help="Run in an isolated worker process with resource limits (docs/security.md).",
        ),
    ] = False,
    functions_dir: FunctionsDir = None,
) -> None:
    """Run a function on TIFF stacks and write TIFFs with provenance in their metadata.

    2D images are promoted to (1, Y, X). One failing file is reported and the rest run; the
    exit status is 1 if any failed.
    """
    from openhcs_plugins._params import ParameterError, parse_params
    from openhcs_plugins.batch import expand_inputs
    from openhcs_plugins.registry import split_key

    report = _load_registry(functions_dir=functions_dir)
    namespace, name = split_key(key)
    full_key = f"{namespace}:{name}"
    info_ = _entry(full_key, report).info
    try:
        params = parse_params(info_, param or [])
    except ParameterError as exc:
        raise _fail(str(exc)) from exc
    try:
        files = expand_inputs(inputs)
    except ValueError as exc:  # a folder without TIFFs, a path that does not exist
        raise _fail(str(exc)) from exc
    try:
        failures = run_on_files(full_key, files, output, params, preview=preview, isolated=isolated)
    except ValueError as exc:  # outputs that would overwrite an input or each other
        raise _fail(str(exc)) from exc
    except RuntimeError as exc:  # the isolated worker could not load the function
        raise _fail(str(exc)) from exc
    if failures:
        raise _fail(f"{len(failures)} of {len(files)} input(s) failed")


@app.command()
def demo(
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Where the demo writes its files.")
    ] = Path("demo-output"),
    into_user_folder: Annotated[
        bool,
        typer.Option("--into-user-folder", help="Also save the example functions in your folder."),
    ] = False,
) -> None:
    """Register the bundled example functions, list them, and run one on a synthetic image."""
    from importlib import resources

    from openhcs_plugins._images import synthetic_cells, write_stack
    from openhcs_plugins.manager import CustomFunctionManager

    functions_dir = None if into_user_folder else output_dir / "functions"
    manager = CustomFunctionManager(functions_dir)
    bundled = resources.files("openhcs_plugins") / "data" / "demo_functions"
    for item in sorted(bundled.iterdir(), key=lambda p: p.name):
        if not item.name.endswith(".py"):
            continue
        code = item.read_text(encoding="utf-8")
        name = item.name[: -len(".py")]
        if manager.path_for(name).exists():
            manager.update_custom_function(name, code)
        else:
            manager.register_from_code(code, persist=True)
    manager.load_all_custom_functions()
    out.print(
        _styled("", "example functions saved in ") + _styled("bold", str(manager.storage_dir))
    )
    _print_table(_registry().infos(namespace="openhcs"))
    image_path = output_dir / "cells.tif"
    write_stack(
        image_path, synthetic_cells(), {"synthetic": "openhcs_plugins._images.synthetic_cells"}
    )
    result_path = output_dir / "cells_subtract_background.tif"
    preview_path = output_dir / "preview.png"
    failures = run_on_files(
        "openhcs:subtract_background",
        [image_path],
        result_path,
        {"radius": 20},
        preview=preview_path,
        show_progress=False,
    )
    if failures:
        raise _fail(f"the demo run failed: {failures[0][1]}")
    out.print(
        _styled(
            "bold green",
            "demo done",
            f": input {image_path}, output {result_path}, preview {preview_path} "
            f"(all in {output_dir.resolve()})",
        )
    )


@app.command()
def freeze(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    functions_dir: FunctionsDir = None,
) -> None:
    """Write a lock file of what is registered: package versions, origins and source-file
    sha256s, folder-file sha256s."""
    from openhcs_plugins.lockfile import freeze as freeze_infos
    from openhcs_plugins.lockfile import write_lock

    problems = _load_registry(functions_dir=functions_dir).problems
    data = freeze_infos(_registry().infos())
    if output is None:
        print(json.dumps(data, indent=2, sort_keys=True))
    else:
        write_lock(output, data)
        counts = f"{len(data['packages'])} package(s), {len(data['folder'])} folder file(s)"
        out.print(f"wrote {output}: {counts}")
    for problem in problems:
        err.print(_styled("yellow", "not locked (skipped):", f" {problem}"))


@app.command()
def check(
    lockfile: Annotated[Path, typer.Argument(help="A lock file written by `freeze`.")],
    functions_dir: FunctionsDir = None,
) -> None:
    """Verify the environment against a lock file; exit 1 with a diff on any drift."""
    import shlex

    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.lockfile import LockFileError, check_lock, read_lock, upgrade_note
    from openhcs_plugins.lockfile import freeze as freeze_infos

    try:
        locked = read_lock(lockfile)
    except LockFileError as exc:
        raise _fail(str(exc)) from exc
    command = f"openhcs-plugins freeze -o {shlex.quote(str(lockfile))}"
    if functions_dir is not None:
        command += f" --functions-dir {shlex.quote(str(functions_dir))}"
    note = upgrade_note(locked, command)
    if note is not None:
        err.print(_styled("yellow", "note:", f" {note}"))
    settings = _settings(functions_dir)
    report = load_plugins(settings=settings)
    drifts = check_lock(
        locked,
        freeze_infos(_registry().infos()),
        folder=settings.functions_path(),
        problems=report.problems,
        disabled=report.disabled,
    )
    # A package or file that fails to load is missing from the registry: say why.
    for problem in report.problems:
        err.print(_styled("yellow", "skipped:", f" {problem}"))
    if not drifts:
        out.print(_styled("green", "ok", f": the environment matches {lockfile}"))
        return
    for drift in drifts:
        colour = {"missing": "red", "extra": "yellow"}.get(drift.kind, "magenta")
        out.print(_styled(colour, str(drift)))
    raise _fail(f"{len(drifts)} difference(s) from {lockfile}")


def _parse_options(pairs: list[str] | None) -> dict[str, str]:
    options: dict[str, str] = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise _fail(f"--option {pair!r}: write it as key=value")
        options[key.strip()] = value
    return options


Options = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        help="A template answer as key=value (project_name, package_name, namespace, author, "
        "email, license, memory_type, python_min), repeatable.",
    ),
]


@app.command()
def new(
    output_dir: Annotated[
        Path, typer.Argument(help="Folder the project folder is created in.")
    ] = Path("."),
    no_input: Annotated[
        bool, typer.Option("--no-input", help="Do not prompt; use --option answers and defaults.")
    ] = False,
    option: Options = None,
) -> None:
    """Create a plugin package from the cookiecutter template."""
    from openhcs_plugins._scaffold import ScaffoldError, generate_project, next_steps

    try:
        project = generate_project(output_dir, no_input=no_input, options=_parse_options(option))
    except ScaffoldError as exc:
        for problem in exc.problems:
            err.print(_styled("red", "-", f" {problem}"))
        raise _fail(str(exc)) from exc
    out.print(_styled("green", "created", f" {project}"))
    out.print(next_steps(project))


@app.command()
def promote(
    name: Annotated[str, typer.Argument(help="A function in the functions folder.")],
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-o", help="Folder the project is created in.")
    ] = Path("."),
    option: Options = None,
    functions_dir: FunctionsDir = None,
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

    manager = _manager(functions_dir)
    bare = split_key(name)[1]
    try:
        source_path = manager.path_for(bare)
        code = manager.get_function_code(bare)
    except ValueError as exc:
        raise _fail(str(exc.args[0])) from exc
    except KeyError as exc:
        # The manager only finds functions in valid files; an invalid one is shown below.
        if not source_path.is_file():
            raise _fail(str(exc.args[0])) from exc
        code = source_path.read_text(encoding="utf-8")
    result = validate_code(code, filename=str(source_path))
    if not result.is_valid:
        _print_validation_errors(result.errors, str(source_path))
        raise _fail(f"{source_path} does not validate; fix it before promoting it")
    memory_type = next((f.input_memory_type for f in result.functions if f.name == bare), None)
    if memory_type is None:
        defined = ", ".join(result.function_names)
        raise _fail(f"{source_path} defines {defined}, not {bare!r}; promote one of those")
    options = {
        "project_name": f"openhcs {bare.replace('_', ' ')}",
        "memory_type": memory_type,
        **_parse_options(option),
    }
    try:
        project = generate_project(output_dir, no_input=True, options=options, functions_code=code)
    except ScaffoldError as exc:
        for problem in exc.problems:
            err.print(_styled("red", "-", f" {problem}"))
        raise _fail(str(exc)) from exc
    _describe_promoted_code(project, bare, code, memory_type)
    out.print(_styled("green", "created", f" {project} from {source_path}"))
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
            _styled(
                "yellow",
                "warning:",
                f" the code imports {', '.join(done.unknown)}; add the distribution(s) that "
                f"provide them to the dependencies in {done.pyproject}",
            )
        )


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    functions_dir: FunctionsDir = None,
) -> None:
    """Which frameworks and devices are usable, broken plugins, and the cache's state."""

    from openhcs_plugins.loader import discovery_cache_info, load_plugins
    from openhcs_plugins.memory.status import framework_status

    settings = _settings(functions_dir)
    frameworks = framework_status()
    report = load_plugins(refresh=True, settings=settings)
    cache = discovery_cache_info(settings)
    from openhcs_plugins.isolation import probe_protections

    protections = probe_protections()
    if as_json:
        data = {
            "frameworks": {
                mt.value: {"usable": ok, "detail": detail}
                for mt, (ok, detail) in frameworks.items()
            },
            "functions": len(report.registered),
            "problems": [p.to_dict() for p in report.problems],
            "warnings": [w.to_dict() for w in report.warnings],
            "functions_dir": str(settings.functions_path()),
            "cache": {"path": str(cache.path), "state": cache.state},
            "isolation": protections.to_dict(),
        }
        print(json.dumps(data, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="frameworks")
    table.add_column("memory type")
    table.add_column("usable")
    table.add_column("detail", overflow="fold")
    for mt, (ok, detail) in frameworks.items():
        table.add_row(mt.value, Text("yes", "green") if ok else Text("no", "red"), detail)
    out.print(table)
    out.print(f"functions folder: {settings.functions_path()}")
    out.print(f"{len(report.registered)} function(s) registered")
    for problem in report.problems:
        out.print(_styled("red", "broken:", f" {problem}"))
    for warning in report.warnings:
        out.print(_styled("yellow", "warning:", f" {warning}"))
    out.print(str(cache))
    out.print("isolated runner (trust level 'strict', --isolated):")
    for line in protections.lines():
        out.print(f"  {line}")


@app.command()
def disable(
    name: Annotated[str, typer.Argument(help="A namespace (lab_filters) or a key (lab:blur).")],
    everywhere: Annotated[
        bool,
        typer.Option("--everywhere", help="In every environment, not only this one."),
    ] = False,
    functions_dir: FunctionsDir = None,
) -> None:
    """Switch a namespace or one function off (stored in your settings)."""
    from openhcs_plugins.loader import disable as disable_name

    try:
        change = disable_name(
            name, everywhere=everywhere, folder=_settings(functions_dir).functions_path()
        )
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    out.print(str(change))


@app.command()
def enable(
    name: Annotated[str, typer.Argument(help="A namespace or a key disabled before.")],
) -> None:
    """Switch a disabled namespace or function back on."""
    from openhcs_plugins.loader import enable as enable_name

    try:
        change = enable_name(name)
    except ValueError as exc:
        raise _fail(str(exc)) from exc
    out.print(str(change))


cache_app = typer.Typer(help="The discovery cache.", no_args_is_help=True)


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete the discovery cache; the next listing rebuilds it."""
    from openhcs_plugins.loader import clear_discovery_cache

    removed = clear_discovery_cache()
    out.print(f"removed {len(removed)} cache file(s)")


@cache_app.command("info")
def cache_show() -> None:
    """Where the cache is and whether it matches this environment."""
    from openhcs_plugins.loader import discovery_cache_info

    out.print(str(discovery_cache_info()))


@app.command()
def gui() -> None:
    """Open the Qt window: function editor, function list and settings (needs the gui extra)."""
    import os

    # Without a display Qt aborts the process (exit 134) with a message about its xcb plugin.
    display_vars = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    if sys.platform.startswith("linux") and not any(os.environ.get(v) for v in display_vars):
        raise _fail(
            "no display: DISPLAY and WAYLAND_DISPLAY are not set, so Qt cannot open a window. "
            "Run it in a desktop session (or over `ssh -X`), or without a visible window: "
            "QT_QPA_PLATFORM=offscreen openhcs-plugins gui"
        )
    try:
        from openhcs_plugins.gui import main as gui_main
    except ImportError as exc:  # no Qt binding: the message says what to install
        raise _fail(str(exc)) from exc
    raise typer.Exit(gui_main())


def _mount_subcommands() -> None:
    from openhcs_plugins._cli_settings import settings_app

    app.add_typer(settings_app, name="settings", help="Show and edit settings.")
    app.add_typer(cache_app, name="cache")


_mount_subcommands()


def _print_settings_warnings() -> None:
    """Show each :class:`~openhcs_plugins.config.SettingsWarning` once, as one ``warning:``
    line (its message names the settings file and line), not in Python's warning format."""
    import warnings

    python_display = warnings.showwarning
    # Importing a framework resets Python's once-per-location record; the message is the key.
    shown: set[str] = set()

    def show(message: Any, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        # Not imported for this: only a process that loaded the settings can warn about them.
        settings = sys.modules.get("openhcs_plugins.config.settings")
        if settings is not None and issubclass(category, settings.SettingsWarning):
            if str(message) not in shown:
                shown.add(str(message))
                err.print(_styled("yellow", "warning:", f" {message}"))
        else:
            python_display(message, category, *args, **kwargs)

    warnings.showwarning = show


def main() -> None:
    """Console-script entry point."""
    _print_settings_warnings()
    app()


if __name__ == "__main__":
    main()
