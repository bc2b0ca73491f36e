"""Artifact outputs and inputs: what a function returns beside its image, and how it is written.

This package owns OpenHCS's function-level artifact contract as plugins use it: the
decorators (:mod:`.declare`: ``artifact_outputs``/``special_outputs``,
``artifact_inputs``/``special_inputs``), the materialization spec and writer options
(:mod:`.spec`: ``MaterializationSpec``, ``CsvOptions``, ``JsonOptions`` and OpenHCS's presets)
and the writing of outputs beside an output image (:mod:`.write`). Code written for OpenHCS
imports these names from ``openhcs.core.pipeline.function_contracts`` and
``openhcs.processing.materialization``; executed plugin code gets this package under both
names when OpenHCS is not installed (:mod:`openhcs_plugins.execution.inprocess`).

>>> from openhcs_plugins.artifacts import CsvOptions, MaterializationSpec, artifact_outputs
>>> from openhcs_plugins.memory import numpy
>>> @numpy
... @artifact_outputs(("counts", MaterializationSpec(CsvOptions(fields=["label", "area"]))))
... def count(image):
...     return image, [{"label": 1, "area": 4}]
>>> [o.name for o in outputs_of(count)]
['counts']

It imports only the standard library, :mod:`openhcs_plugins.errors` and (to write)
:mod:`openhcs_plugins._storage`.
"""

from openhcs_plugins.artifacts.declare import (
    ARTIFACT_INPUTS,
    ARTIFACT_OUTPUTS,
    ArtifactOutput,
    ArtifactResultError,
    artifact_inputs,
    artifact_outputs,
    inputs_of,
    listed_outputs,
    listing_of,
    outputs_of,
    special_inputs,
    special_outputs,
    split_outputs,
)
from openhcs_plugins.artifacts.spec import (
    CsvOptions,
    FileOutputOptions,
    JsonOptions,
    MaterializationSpec,
    csv_materializer,
    csv_only,
    json_and_csv,
    json_only,
    spec_from_data,
    spec_from_text,
    spec_text,
)

__all__ = [
    "ARTIFACT_INPUTS",
    "ARTIFACT_OUTPUTS",
    "ArtifactOutput",
    "ArtifactResultError",
    "CsvOptions",
    "FileOutputOptions",
    "JsonOptions",
    "MaterializationSpec",
    "artifact_inputs",
    "artifact_outputs",
    "csv_materializer",
    "csv_only",
    "inputs_of",
    "json_and_csv",
    "json_only",
    "listed_outputs",
    "listing_of",
    "outputs_of",
    "spec_from_data",
    "spec_from_text",
    "spec_text",
    "special_inputs",
    "special_outputs",
    "split_outputs",
]
