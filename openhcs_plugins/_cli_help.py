"""Plain metavars in ``--help``: ``KEY INPUTS...``, ``--output PATH``, flags without a type.

Recent typer releases print Python types as metavars (``<bool>`` after every flag,
``<list[Path]>``, ``{target}`` for a required argument), which reads as noise to a user. The
group class here gives every command of the app (subcommand groups included) click's plain
style. Typer has no default command class for an app, so the group switches its commands'
classes when it is built.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = ["PlainHelpGroup"]


class _PlainArgument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None  # the name column already says what to give (KEY, INPUTS...)

    def get_usage_pieces(self, ctx: Any) -> list[str]:
        name = self.metavar or (self.name or "").upper()
        return [name if self.required else f"[{name}]"]


#: Type labels as click names them.
_CLICK_NAMES = {"str": "TEXT", "int": "INTEGER", "float": "FLOAT", "path": "PATH"}


def _value_metavar(param: Any, ctx: Any) -> str:
    kind = getattr(param, "type", None)
    if kind is not None:  # typer on click: click's own type names
        choices = getattr(kind, "choices", None)
        return "|".join(map(str, choices)) if choices else str(kind.name).upper()
    label = str(param.display_type(ctx)).strip("<>")  # typer's own: <str>, <list[Path]>
    if label.startswith("list[") and label.endswith("]"):
        label = label[len("list[") : -1]  # repeatable: the help says so
    if "|" in label:  # choices
        return label
    return _CLICK_NAMES.get(label.lower(), label.upper())


def _plain(param: Any, ctx: Any) -> None:
    if type(param) is TyperArgument:
        param.__class__ = _PlainArgument
        if param.metavar is None:
            param.metavar = (param.name or "").upper() + ("..." if param.nargs != 1 else "")
    elif isinstance(param, TyperOption) and param.metavar is None:
        param.metavar = "" if param.is_flag else _value_metavar(param, ctx)


class _PlainHelpCommand(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)  # the --help option is made here, on first use
        for param in params:
            _plain(param, ctx)
        return params


def _adopt(group: TyperGroup) -> None:
    for command in group.commands.values():
        if type(command) is TyperCommand:
            command.__class__ = _PlainHelpCommand
        elif type(command) is TyperGroup:
            command.__class__ = PlainHelpGroup
            _adopt(command)


class PlainHelpGroup(TyperGroup):
    """A typer group whose commands, and those of its subgroups, show plain metavars."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        _adopt(self)

    def get_params(self, ctx: Any) -> list[Any]:
        params = super().get_params(ctx)
        for param in params:
            _plain(param, ctx)
        return params
