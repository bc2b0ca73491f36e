"""Writing a function's artifact outputs beside its output image, atomically.

For an output image ``out/A01.tif``, an output ``counts`` declared with
``CsvOptions(filename_suffix=".csv")`` is written as ``out/A01_counts.csv``: the image's stem,
the output's name, the suffix (:func:`artifact_path`; a suffix that already starts with
``_<name>``, such as ``_counts.csv``, is not repeated). Without a spec an output is written as
JSON (``out/A01_counts.json``).

CSV takes rows: a list (or tuple) of dataclasses, dicts, namedtuples or objects with
``_asdict``; a single such item is one row; a dict of lists is columns. Columns are the
spec's ``fields`` in order, or the keys of the rows in the order they first appear; a value
that is not a number, string, bool or None is written as its JSON text. JSON takes any value
(dataclasses as objects, arrays and numpy scalars as plain numbers and lists).

Every file is written to a temporary name in the same folder, synced and renamed when complete
(:func:`openhcs_plugins._storage.atomic_write`), so a crash never leaves half a file under
the final name. It imports only the standard library, :mod:`.declare`, :mod:`.spec`,
:mod:`openhcs_plugins.errors` and :mod:`openhcs_plugins._storage`; numpy values are recognised by
their ``tolist``/``item`` methods.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from openhcs_plugins._storage import atomic_write
from openhcs_plugins.artifacts.declare import ArtifactOutput
from openhcs_plugins.artifacts.spec import (
    CsvOptions,
    FileOutputOptions,
    JsonOptions,
    MaterializationSpec,
)
from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = ["ArtifactWriteError", "artifact_path", "plain", "write_artifacts"]


class ArtifactWriteError(OpenHCSPluginsError, ValueError):
    """An artifact value that its writer cannot write (names the output and the format)."""


def artifact_path(image_path: Path, name: str, option: FileOutputOptions) -> Path:
    """``<image stem>_<name><suffix>`` beside ``image_path`` (the suffix alone when it already
    starts with ``_<name>``: ``_cells.csv`` for ``cells``)."""
    stem = image_path.name
    for suffix in (".ome.tiff", ".ome.tif", ".tiff", ".tif"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    suffix = option.filename_suffix or f".{option.FORMAT}"
    if not suffix.startswith(f"_{name}"):
        suffix = f"_{name}{suffix}"
    return image_path.with_name(stem + suffix)


def plain(value: Any) -> Any:
    """``value`` with dataclasses, namedtuples, numpy arrays and scalars as plain JSON data."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "_asdict") and isinstance(value, tuple):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    tolist = getattr(value, "tolist", None)
    if callable(tolist):  # numpy arrays and scalars
        return plain(tolist())
    item = getattr(value, "item", None)
    if callable(item):
        return plain(item())
    return str(value)


def _select(value: Any, source: str | None, name: str) -> Any:
    if not source:
        return value
    for part in source.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif hasattr(value, part) and not part.startswith("_"):
            value = getattr(value, part)
        else:
            raise ArtifactWriteError(f"output {name!r}: source {source!r} has no {part!r}")
    return value


def _rows(value: Any, name: str) -> list[dict[str, Any]]:
    data = plain(value)
    if isinstance(data, dict) and data and all(isinstance(v, list) for v in data.values()):
        lengths = {len(v) for v in data.values()}
        if len(lengths) == 1:  # columns
            keys = list(data)
            return [dict(zip(keys, row, strict=True)) for row in zip(*data.values(), strict=True)]
    if isinstance(data, dict):
        return [data]
    if isinstance(data, list) and all(isinstance(row, dict) for row in data):
        return data
    raise ArtifactWriteError(
        f"output {name!r} cannot be written as CSV: it is {type(value).__name__}, not rows of "
        "dataclasses, dicts or namedtuples; declare it with JsonOptions or return rows"
    )


def _cell(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return json.dumps(value)


def _csv_text(rows: list[dict[str, Any]], option: CsvOptions) -> str:
    columns: list[str] = list(option.fields) if option.fields else []
    if not option.fields:
        for row in rows:
            columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return buffer.getvalue()


def _json_text(value: Any, option: JsonOptions) -> str:
    data = plain(value)
    if option.fields and isinstance(data, list):
        data = [
            {k: row.get(k) for k in option.fields} if isinstance(row, dict) else row for row in data
        ]
    if option.wrap_list and not isinstance(data, list):
        data = [data]
    return json.dumps(data, indent=option.indent or None) + "\n"


def write_artifacts(
    image_path: Path, outputs: tuple[ArtifactOutput, ...], values: dict[str, Any]
) -> list[dict[str, Any]]:
    """Write each declared output beside ``image_path``; return one record per file written
    (``name``, ``format``, ``path``, ``sha256``, ``rows`` for CSV), for the provenance.

    Everything is converted before anything is written: a value one writer cannot write
    raises :class:`ArtifactWriteError` and no file of this call is written.
    """
    planned: list[tuple[Path, str, dict[str, Any]]] = []
    for output in outputs:
        spec = output.spec or MaterializationSpec(JsonOptions(filename_suffix=".json"))
        value = values[output.name]
        for option in spec.outputs:
            selected = _select(value, option.source, output.name)
            record: dict[str, Any] = {"name": output.name, "format": option.FORMAT}
            if isinstance(option, CsvOptions):
                rows = _rows(selected, output.name)
                text = _csv_text(rows, option)
                record["rows"] = len(rows)
            elif isinstance(option, JsonOptions):
                text = _json_text(selected, option)
            else:  # pragma: no cover - the spec accepts only these two
                raise ArtifactWriteError(f"output {output.name!r}: no writer for {option!r}")
            planned.append((artifact_path(image_path, output.name, option), text, record))
    paths = [p for p, _, _ in planned]
    if len(set(paths)) != len(paths):
        raise ArtifactWriteError(
            "two artifact outputs would write the same file: "
            + ", ".join(sorted({p.name for p in paths if paths.count(p) > 1}))
            + "; give them different filename_suffix values"
        )
    written = []
    for path, text, record in planned:
        data = text.encode("utf-8")
        atomic_write(path, lambda handle, data=data: handle.write(data), shared=True)
        record["sha256"] = hashlib.sha256(data).hexdigest()
        record["path"] = str(path)
        written.append(record)
    return written
