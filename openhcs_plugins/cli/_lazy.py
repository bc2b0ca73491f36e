"""The click classes the command line is built from: a root group that imports a command's
module only when that command is chosen, and commands whose ``--help`` shows plain metavars
(``KEY INPUTS...``, ``--output PATH``, flags without a type) and an "Arguments" section with
each argument's help.

Imports click and nothing else: ``openhcs-plugins --help`` pays for this module, click and the
table in :mod:`openhcs_plugins.cli`.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click

__all__ = ["Argument", "Command", "Group", "LazyGroup", "first_paragraph"]


def first_paragraph(text: str | None) -> str:
    """The first paragraph of a help text, on one line (what a command listing shows)."""
    lines: list[str] = []
    for line in (text or "").strip().splitlines():
        if not line.strip():
            break
        lines.append(line.strip())
    return " ".join(lines)


class Argument(click.Argument):
    """A positional argument with a help text (shown in the command's "Arguments" section)."""

    def __init__(
        self,
        param_decls: Any,
        *,
        help: str | None = None,
        show_default: bool = False,
        **attrs: Any,
    ) -> None:
        super().__init__(param_decls, **attrs)
        self.help = help
        self.show_default = show_default

    def help_row(self, ctx: click.Context) -> tuple[str, str]:
        name = self.make_metavar(ctx)
        if name.startswith("[") and name.endswith("]"):
            name = name[1:-1]  # the usage line says it is optional
        extras = []
        if self.required:
            extras.append("[required]")
        elif self.default is not None and self.show_default:
            extras.append(f"[default: {self.default}]")
        return name, "  ".join(filter(None, [self.help or "", " ".join(extras)]))


class Command(click.Command):
    """A command whose help lists its arguments, with their help, before its options."""

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        rows = [p.help_row(ctx) for p in self.get_params(ctx) if isinstance(p, Argument)]
        if rows:
            with formatter.section("Arguments"):
                formatter.write_dl(rows)
        self.format_options(ctx, formatter)
        self.format_epilog(ctx, formatter)


def _list_commands(formatter: click.HelpFormatter, rows: list[tuple[str, str]]) -> None:
    if rows:
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class Group(click.Group):
    """A group of :class:`Command`; its listing shows each command's whole first paragraph."""

    command_class = Command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                rows.append((name, command.short_help or first_paragraph(command.help)))
        _list_commands(formatter, rows)


class LazyGroup(Group):
    """The root group: ``table`` maps each command's name to ``(module, attribute, short
    help)``; the module is imported when the command runs (or shows its own help), never for
    the root's ``--help``, which lists the names and short helps from the table."""

    def __init__(
        self, *, table: Mapping[str, tuple[str, str, str]], package: str, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.table = table
        self.package = package

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.table)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.table:
            return None
        module, attribute, _ = self.table[cmd_name]
        return getattr(importlib.import_module(module, self.package), attribute)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        _list_commands(formatter, [(name, short) for name, (_, _, short) in self.table.items()])
