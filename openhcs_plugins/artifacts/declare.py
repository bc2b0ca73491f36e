"""Declaring what a function returns beside its image, and what it takes from the host.

OpenHCS's decorators with OpenHCS's meaning (``openhcs.core.pipeline.function_contracts``):

- ``@artifact_outputs("counts", ("cells", MaterializationSpec(CsvOptions(...))))`` (older name
  ``special_outputs``): the function returns ``(image, counts, cells)``, in the declared order;
  an output is a name, or ``(name, spec)`` saying how it is written;
- ``@artifact_inputs("positions")`` (older name ``special_inputs``): values a host passes by
  keyword (an earlier step's output); they are parameters of the function, not settings a user
  edits.

The declarations are stored on the function (``ARTIFACT_OUTPUTS``/``ARTIFACT_INPUTS``), in any
order with the memory-type decorator (its wrapper keeps them). :func:`split_outputs` checks a
result against them. It imports only the standard library, :mod:`.spec` and
:mod:`openhcs_plugins.errors`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from openhcs_plugins.artifacts.spec import MaterializationSpec, spec_from_text, spec_text
from openhcs_plugins.errors import OpenHCSPluginsError

__all__ = [
    "ARTIFACT_INPUTS",
    "ARTIFACT_OUTPUTS",
    "ArtifactOutput",
    "ArtifactResultError",
    "artifact_inputs",
    "artifact_outputs",
    "inputs_of",
    "listed_outputs",
    "listing_of",
    "outputs_of",
    "special_inputs",
    "special_outputs",
    "split_outputs",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Where the declarations live on a function (OpenHCS keeps its own under other names).
ARTIFACT_OUTPUTS = "__openhcs_plugins_artifact_outputs__"
ARTIFACT_INPUTS = "__openhcs_plugins_artifact_inputs__"


class ArtifactOutput(NamedTuple):
    """One declared output: its name, and how it is written (None: JSON, ``_<name>.json``)."""

    name: str
    spec: MaterializationSpec | None = None


class ArtifactResultError(OpenHCSPluginsError, TypeError):
    """A result that does not match the function's declared outputs."""


def _output(declaration: Any) -> ArtifactOutput:
    if isinstance(declaration, str):
        name, spec = declaration, None
    elif isinstance(declaration, tuple) and len(declaration) == 2:
        name, spec = declaration
    else:
        raise TypeError(
            f"an artifact output is a name or (name, MaterializationSpec(...)), not {declaration!r}"
        )
    if not isinstance(name, str) or not name.strip() or not name.strip().isidentifier():
        raise ValueError(f"artifact output name {name!r} must be an identifier")
    if spec is not None and not isinstance(spec, MaterializationSpec):
        raise TypeError(
            f"the spec of artifact output {name!r} must be a MaterializationSpec or None, not "
            f"{type(spec).__name__}"
        )
    return ArtifactOutput(name.strip(), spec)


def artifact_outputs(*declarations: Any) -> Callable[[F], F]:
    """Declare the values a function returns after its image, in order."""
    outputs = tuple(_output(d) for d in declarations)
    names = [o.name for o in outputs]
    duplicate = sorted({n for n in names if names.count(n) > 1})
    if duplicate:
        raise ValueError(f"artifact outputs declared twice: {', '.join(duplicate)}")

    def decorator(func: F) -> F:
        setattr(func, ARTIFACT_OUTPUTS, outputs)
        return func

    return decorator


def artifact_inputs(*names: Any) -> Callable[[F], F]:
    """Declare parameters whose values a host passes by keyword (an earlier step's outputs)."""
    cleaned = []
    for name in names:
        if not isinstance(name, str) or not name.strip().isidentifier():
            raise ValueError(f"artifact input name {name!r} must be a parameter name")
        cleaned.append(name.strip())

    def decorator(func: F) -> F:
        setattr(func, ARTIFACT_INPUTS, tuple(cleaned))
        return func

    return decorator


#: OpenHCS's older names, still aliases there.
special_outputs = artifact_outputs
special_inputs = artifact_inputs


def outputs_of(func: Any) -> tuple[ArtifactOutput, ...]:
    """The outputs ``func`` declares (empty when none)."""
    return tuple(getattr(func, ARTIFACT_OUTPUTS, ()) or ())


def inputs_of(func: Any) -> tuple[str, ...]:
    """The inputs ``func`` declares (empty when none)."""
    return tuple(getattr(func, ARTIFACT_INPUTS, ()) or ())


def listing_of(outputs: tuple[ArtifactOutput, ...]) -> tuple[tuple[str, str | None], ...]:
    """``(name, spec text)`` per output: the form a listing keeps (``FunctionInfo``,
    ``StaticFunction``); :func:`listed_outputs` is the inverse."""
    return tuple((output.name, spec_text(output.spec)) for output in outputs)


def listed_outputs(listing: tuple[tuple[str, str | None], ...]) -> tuple[ArtifactOutput, ...]:
    """The outputs of a listing's ``(name, spec text)`` pairs."""
    return tuple(ArtifactOutput(name, spec_from_text(text)) for name, text in listing)


def split_outputs(
    name: str, outputs: tuple[ArtifactOutput, ...], result: Any
) -> tuple[Any, dict[str, Any], tuple[Any, ...]]:
    """``(image, {output name: value}, other values)`` of a function's ``result``.

    With declared outputs the result must be ``(image, *outputs)``; without, everything after
    the image is returned as other values (the metadata of ``(image, {...})``).
    """
    if type(result) is not tuple:
        if outputs:
            raise ArtifactResultError(
                f"{name} declares the artifact outputs {', '.join(o.name for o in outputs)} "
                f"but returned one {type(result).__name__}; return (image, "
                + ", ".join(o.name for o in outputs)
                + ")"
            )
        return result, {}, ()
    image, rest = (result[0] if result else None), result[1:]
    if not outputs:
        return image, {}, rest
    if len(rest) != len(outputs):
        raise ArtifactResultError(
            f"{name} declares {len(outputs)} artifact output(s) "
            f"({', '.join(o.name for o in outputs)}) but returned {len(rest)} value(s) after "
            "the image; return (image, " + ", ".join(o.name for o in outputs) + ")"
        )
    return image, {o.name: value for o, value in zip(outputs, rest, strict=True)}, ()
