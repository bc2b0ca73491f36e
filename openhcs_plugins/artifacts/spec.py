"""How an artifact output is written: the writer options and the materialization spec.

OpenHCS's names and meaning (``openhcs.processing.materialization``), for the two formats a
plugin's measurements take: :class:`CsvOptions` (rows of dataclasses, dicts or namedtuples, one
column per declared field) and :class:`JsonOptions` (any value). A
:class:`MaterializationSpec` holds one or more of them (``primary`` is the one a host shows
first). The presets (:func:`csv_only`, :func:`json_only`, :func:`json_and_csv`,
:func:`csv_materializer`) are OpenHCS's too.

A spec has a plain-data form (:meth:`MaterializationSpec.to_data`, JSON-ready), which is what a
listing stores when it reads the spec from source without running anything and what
:func:`spec_from_data` turns back into a spec. It imports only the standard library.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from typing import Any

__all__ = [
    "CsvOptions",
    "FileOutputOptions",
    "JsonOptions",
    "MaterializationSpec",
    "csv_materializer",
    "csv_only",
    "json_and_csv",
    "json_only",
    "spec_from_data",
    "spec_from_text",
    "spec_text",
]


def _names(value: Iterable[str] | None, what: str) -> tuple[str, ...] | None:
    if value is None:
        return None
    if isinstance(value, str):
        raise TypeError(f"{what} must be a list of names, not the string {value!r}")
    names = tuple(value)
    for name in names:
        if not isinstance(name, str) or not name:
            raise TypeError(f"{what} must hold non-empty strings, not {name!r}")
    return names


@dataclass(frozen=True)
class FileOutputOptions:
    """What every writer shares: the suffix of the file written beside the image."""

    filename_suffix: str = ""
    #: a dot path selecting part of the value before it is written (``"summary.rows"``).
    source: str | None = None

    #: the format name of the writer (``csv``, ``json``).
    FORMAT = ""

    def __post_init__(self) -> None:
        if not isinstance(self.filename_suffix, str):
            raise TypeError(f"filename_suffix must be a string, not {self.filename_suffix!r}")
        if "/" in self.filename_suffix or "\\" in self.filename_suffix:
            raise ValueError(
                f"filename_suffix {self.filename_suffix!r} may not name a folder: outputs are "
                "written beside the image"
            )
        if self.source is not None and not isinstance(self.source, str):
            raise TypeError(f"source must be a dot path string, not {self.source!r}")

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"format": self.FORMAT}
        for field in dataclass_fields(self):
            value = getattr(self, field.name)
            data[field.name] = list(value) if isinstance(value, tuple) else value
        return data


@dataclass(frozen=True)
class CsvOptions(FileOutputOptions):
    """A CSV file: one row per item (dataclass, dict, namedtuple), one column per field.

    ``fields`` names the columns in order (default: the fields of the first row, then any new
    ones in the order they appear)."""

    filename_suffix: str = "_details.csv"
    fields: tuple[str, ...] | None = None

    FORMAT = "csv"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "fields", _names(self.fields, "CsvOptions.fields"))


@dataclass(frozen=True)
class JsonOptions(FileOutputOptions):
    """A JSON file of the value (dataclasses as objects, arrays as lists)."""

    filename_suffix: str = ".json"
    indent: int = 2
    #: write a single value as a one-item list.
    wrap_list: bool = False
    fields: tuple[str, ...] | None = None

    FORMAT = "json"

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "fields", _names(self.fields, "JsonOptions.fields"))
        if not isinstance(self.indent, int) or isinstance(self.indent, bool) or self.indent < 0:
            raise TypeError(f"indent must be a non-negative int, not {self.indent!r}")


_OPTIONS: dict[str, type[FileOutputOptions]] = {"csv": CsvOptions, "json": JsonOptions}


class MaterializationSpec:
    """One or more writer options for one artifact output; ``primary`` indexes the main one."""

    __slots__ = ("outputs", "primary")

    def __init__(
        self,
        *outputs: FileOutputOptions | Sequence[FileOutputOptions],
        primary: int = 0,
        allowed_backends: list[str] | None = None,
        write_mode: Any = None,
    ) -> None:
        # allowed_backends and write_mode are OpenHCS's storage options: accepted so that code
        # written for OpenHCS loads; a plugin run writes files beside its output image.
        del allowed_backends, write_mode
        if len(outputs) == 1 and isinstance(outputs[0], (list, tuple)):
            outputs = tuple(outputs[0])
        if not outputs:
            raise ValueError("MaterializationSpec needs at least one writer (CsvOptions(...))")
        for option in outputs:
            if not isinstance(option, FileOutputOptions):
                raise TypeError(
                    f"MaterializationSpec takes CsvOptions or JsonOptions, not "
                    f"{type(option).__name__}"
                )
        if not isinstance(primary, int) or not 0 <= primary < len(outputs):
            raise IndexError(f"MaterializationSpec.primary {primary!r} is out of range")
        self.outputs: tuple[FileOutputOptions, ...] = tuple(outputs)  # type: ignore[arg-type]
        self.primary = primary

    def __repr__(self) -> str:
        inner = ", ".join(map(repr, self.outputs))
        return f"MaterializationSpec({inner}, primary={self.primary})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, MaterializationSpec):
            return NotImplemented
        return (self.outputs, self.primary) == (other.outputs, other.primary)

    def __hash__(self) -> int:
        return hash((self.outputs, self.primary))

    @property
    def formats(self) -> tuple[str, ...]:
        return tuple(option.FORMAT for option in self.outputs)

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready form (what a listing stores)."""
        return {"outputs": [o.to_data() for o in self.outputs], "primary": self.primary}


def spec_from_data(data: dict[str, Any] | None) -> MaterializationSpec | None:
    """The spec of :meth:`MaterializationSpec.to_data` (None stays None)."""
    if data is None:
        return None
    options = []
    for item in data["outputs"]:
        item = dict(item)
        cls = _OPTIONS[item.pop("format")]
        options.append(cls(**item))
    return MaterializationSpec(*options, primary=data.get("primary", 0))


def spec_text(spec: MaterializationSpec | None) -> str | None:
    """The JSON text of :meth:`MaterializationSpec.to_data` (keys sorted): the form a listing
    and the discovery cache keep (None stays None)."""
    return None if spec is None else json.dumps(spec.to_data(), sort_keys=True)


def spec_from_text(text: str | None) -> MaterializationSpec | None:
    """The spec of :func:`spec_text` (None stays None)."""
    return None if text is None else spec_from_data(json.loads(text))


# -- OpenHCS's presets -------------------------------------------------------------------------


def json_only(
    *,
    source: str | None = None,
    suffix: str = ".json",
    indent: int = 2,
    wrap_list: bool = False,
    fields: list[str] | None = None,
    **_storage: Any,
) -> MaterializationSpec:
    """A JSON file."""
    return MaterializationSpec(
        JsonOptions(
            filename_suffix=suffix, source=source, indent=indent, wrap_list=wrap_list, fields=fields
        )
    )


def csv_only(
    *,
    source: str | None = None,
    suffix: str = "_details.csv",
    fields: list[str] | None = None,
    **_storage: Any,
) -> MaterializationSpec:
    """A CSV file."""
    return MaterializationSpec(CsvOptions(filename_suffix=suffix, source=source, fields=fields))


def csv_materializer(
    *,
    fields: list[str] | None = None,
    analysis_type: str | None = None,
    source: str | None = None,
    suffix: str | None = None,
    **_storage: Any,
) -> MaterializationSpec:
    """A CSV file named ``_<analysis_type>.csv`` (OpenHCS's older helper)."""
    resolved = suffix or (f"_{analysis_type}.csv" if analysis_type else "_details.csv")
    return csv_only(source=source, suffix=resolved, fields=fields)


def json_and_csv(
    *,
    json_source: str | None = None,
    csv_source: str | None = None,
    json_suffix: str = ".json",
    csv_suffix: str = "_details.csv",
    json_indent: int = 2,
    wrap_list: bool = False,
    fields: list[str] | None = None,
    primary: str = "json",
    **_storage: Any,
) -> MaterializationSpec:
    """A JSON and a CSV file of the same value."""
    return MaterializationSpec(
        JsonOptions(
            filename_suffix=json_suffix,
            source=json_source,
            indent=json_indent,
            wrap_list=wrap_list,
            fields=fields,
        ),
        CsvOptions(filename_suffix=csv_suffix, source=csv_source, fields=fields),
        primary=0 if primary == "json" else 1,
    )


#: The callables a spec may be built with, by name (what the static reader evaluates).
BUILDERS: dict[str, Any] = {
    "MaterializationSpec": MaterializationSpec,
    "CsvOptions": CsvOptions,
    "JsonOptions": JsonOptions,
    "csv_only": csv_only,
    "json_only": json_only,
    "json_and_csv": json_and_csv,
    "csv_materializer": csv_materializer,
}
