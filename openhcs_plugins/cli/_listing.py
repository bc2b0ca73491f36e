"""``openhcs-plugins list`` and ``info``: what is registered, without importing its code.
rich is imported only to print the table (``list --json`` never imports it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from openhcs_plugins.cli._common import (
    entry,
    functions_dir_option,
    load_registry,
    registry,
    switch_for,
)
from openhcs_plugins.cli._lazy import Argument, Command
from openhcs_plugins.cli._output import err, fail, out, styled

if TYPE_CHECKING:
    from openhcs_plugins.registry import FunctionInfo

__all__ = ["info", "list_functions", "print_table"]


@click.command("list", cls=Command)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array.")
@click.option("--memory-type", "-m", "memory_type", default=None, help="Only this memory type.")
@click.option(
    "--namespace", "-n", "namespace", default=None, help="Only this namespace (lab_filters)."
)
@click.option("--source", default=None, help="entry_point, folder, editor or api.")
@click.option("--refresh", is_flag=True, help="Ignore the discovery cache.")
@click.option("--strict", is_flag=True, help="Fail on any plugin problem.")
@functions_dir_option
def list_functions(
    as_json: bool,
    memory_type: str | None,
    namespace: str | None,
    source: str | None,
    refresh: bool,
    strict: bool,
    functions_dir: Path | None,
) -> None:
    """List registered functions (packages and folder) without importing their code."""
    from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES
    from openhcs_plugins.sources.candidate import SourceKind

    if memory_type is not None and memory_type not in AVAILABLE_MEMORY_TYPES:
        raise fail(f"unknown memory type {memory_type!r}; use one of {AVAILABLE_MEMORY_TYPES}")
    if source is not None and source not in {s.value for s in SourceKind}:
        raise fail(f"unknown source {source!r}; use one of {[s.value for s in SourceKind]}")
    report = load_registry(refresh=refresh, strict=strict, functions_dir=functions_dir)
    infos = registry().infos(memory_type=memory_type, namespace=namespace, source=source)
    if as_json:
        print(json_array([info.to_dict() for info in infos]))
    else:
        print_table(infos)
    for problem in report.problems:
        err.print(styled("yellow", "skipped:", f" {problem}"))
    if report.disabled:
        from openhcs_plugins.loader import disabled_names

        names = disabled_names()
        err.print(f"{len(report.disabled)} disabled (not listed): {', '.join(report.disabled)}")
        for switch in sorted({switch_for(key, names) for key in report.disabled}):
            err.print(f"  enable with: openhcs-plugins enable {switch}")


def print_table(infos: list[FunctionInfo]) -> None:
    """The functions as a table: key, memory types, source, version, signature."""
    from rich.table import Table

    table = Table(title=f"{len(infos)} function(s)")
    for column in ("key", "memory type", "source", "version", "runs", "signature"):
        table.add_column(column, overflow="fold")
    for info_ in infos:
        prov = info_.provenance
        types = info_.input_memory_type
        if info_.output_memory_type != info_.input_memory_type:
            types += f" -> {info_.output_memory_type}"
        version = prov.version or ""
        source = prov.source.value
        if prov.distribution:
            source += f" ({prov.distribution})"
        signature = info_.signature
        if info_.artifact_outputs:  # what it returns after the image
            signature += " -> image, " + ", ".join(info_.output_names)
        table.add_row(info_.key, types, source, version, prov.runs, signature)
    out.print(table)


@click.command(cls=Command)
@click.argument("key", cls=Argument, help="namespace:name (bare name = openhcs:name)")
@functions_dir_option
def info(key: str, functions_dir: Path | None) -> None:
    """Show a function's signature, doc, provenance and validation state."""
    from openhcs_plugins.registry import split_key

    report = load_registry(functions_dir=functions_dir)
    namespace, name = split_key(key)
    found = entry(f"{namespace}:{name}", report)
    data = found.info.to_dict()
    data["doc"] = found.info.doc
    data["state"] = found.state
    if found.error:
        data["error"] = found.error
    if found.info.artifact_outputs:
        data["artifact_outputs"] = (
            found.info.outputs_summary() + " (returned after the image, written beside it by run)"
        )
    if found.info.artifact_inputs:
        data["artifact_inputs"] = (
            ", ".join(found.info.artifact_inputs) + " (passed by keyword by a host)"
        )
    if found.info.outer_decorators:
        data["outer_decorators"] = (
            ", ".join(found.info.outer_decorators) + "; signature read from source, checked at load"
        )
    for field, value in data.items():
        if value is None or value in ("", []) or field == "parameters":
            continue
        out.print(styled("bold", field, f": {value}"))
    hint = trust_hint(found.info.provenance)
    if hint:
        out.print(hint)


def trust_hint(prov: Any) -> str:
    """Why a folder or editor function runs isolated, and the command that changes it."""
    from openhcs_plugins.sources.candidate import SourceKind, TrustLevel

    if prov.source is not SourceKind.FOLDER or prov.trust is not TrustLevel.STRICT:
        return ""
    from openhcs_plugins.config.trust import TrustStore

    if prov.sha256 and TrustStore().is_trusted(prov.sha256):
        return "runs isolated because the setting trust.folder is 'strict'"
    name = Path(prov.file).stem if prov.file else "NAME"
    return (
        "its text is not in this machine's trust store, so it runs only in an isolated worker; "
        f"review and trust it with: openhcs-plugins trust {name}"
    )


def json_array(items: list[dict[str, Any]]) -> str:
    """A JSON array with one item per line.

    ``json.dumps(indent=...)`` uses the pure-Python encoder (about 100 ms for 2,000 functions);
    each item alone goes through the C encoder, and a listing still reads one function a line.
    """
    if not items:
        return "[]"
    return "[\n" + ",\n".join("  " + json.dumps(item) for item in items) + "\n]"
