"""How a function reaches a Dask worker.

- A **package** function resolves by its key from the worker's own installed packages (whose
  versions and files were compared with the client's first: :mod:`.environment`).
- A **folder** or **editor** function travels as the text the client validated, with its
  sha256 (:class:`ShippedFunction`); the worker checks the hash, validates the text again with
  its own import policy at the same trust level, and registers it in a registry of its own.
  A function registered from Python (``register_function``) has no text and cannot be sent.

:func:`resolve` (on the worker) keeps what it made for the life of the worker process, so a
batch pays the validation, the import and (``--isolated``) the isolated worker's start once per
Dask worker.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openhcs_plugins.errors import OpenHCSPluginsError

if TYPE_CHECKING:
    from openhcs_plugins.registry import FunctionInfo, FunctionRegistry, RegistryEntry

__all__ = ["Resolved", "ShippedFunction", "ShippingError", "resolve", "shipped_function"]


class ShippingError(OpenHCSPluginsError, RuntimeError):
    """A function that cannot be sent to, or accepted by, a worker (``subject``: its key)."""


@dataclass(frozen=True)
class ShippedFunction:
    """A folder or editor function's validated text, as the task carries it."""

    key: str
    name: str
    #: ``folder`` or ``editor``.
    source: str
    text: str
    sha256: str
    #: the trust level it was validated at on the client (``user``, ``strict``, ...).
    trust: str
    #: the file it was read from (named in errors and provenance); None for editor code.
    file: str | None = None


def shipped_function(info: FunctionInfo) -> ShippedFunction | None:
    """What to send for the registered function ``info``: None for a package function (the
    worker resolves it by key), else its text, checked against the sha256 it was validated
    with (:class:`ShippingError` when the file changed since, or there is no text)."""
    from openhcs_plugins.sources.candidate import SourceKind, TrustLevel, sha256_text
    from openhcs_plugins.sources.editor import editor_text
    from openhcs_plugins.sources.folder import read_source

    prov = info.provenance
    if prov.source is SourceKind.ENTRY_POINT:
        return None
    text: str | None = None
    if prov.source is SourceKind.FOLDER and prov.file:
        try:
            text = read_source(Path(prov.file))
        except (OSError, UnicodeDecodeError) as exc:
            raise ShippingError(
                f"{info.key}: cannot read {prov.file} to send it to the workers: {exc}",
                subject=info.key,
                path=prov.file,
            ) from exc
        if sha256_text(text) != prov.sha256:
            raise ShippingError(
                f"{prov.file} changed after it was listed, so its new text has not been "
                "validated; list the functions again (`openhcs-plugins list`) and rerun",
                subject=info.key,
                path=prov.file,
                hint="openhcs-plugins list",
            )
    elif prov.source is SourceKind.EDITOR and prov.sha256:
        text = editor_text(prov.sha256)
    if text is None:
        raise ShippingError(
            f"{info.key} was registered from {prov.describe()} and has no source text to send "
            "to the workers; save it to the functions folder (`openhcs-plugins add FILE`)",
            subject=info.key,
            hint="openhcs-plugins add FILE",
        )
    trust = prov.trust.value if prov.trust is not None else TrustLevel.USER.value
    return ShippedFunction(
        key=info.key,
        name=info.name,
        source=prov.source.value,
        text=text,
        sha256=prov.sha256 or sha256_text(text),
        trust=trust,
        file=prov.file,
    )


@dataclass
class Resolved:
    """A function ready to run on this worker: its registry entry and, with ``--isolated``,
    a warm isolated runner."""

    key: str
    registry: FunctionRegistry
    entry: RegistryEntry
    outputs: tuple[Any, ...]
    runner: Any = None

    @property
    def info(self) -> FunctionInfo:
        return self.entry.info

    def call(self, stack: Any, params: dict[str, Any]) -> Any:
        if self.runner is not None:
            return self.runner.apply(stack, **params)
        return self.registry.call(self.key, stack, **params)

    def annotate(self) -> dict[str, Any]:
        if self.runner is not None and self.runner.report is not None:
            return {"isolation": self.runner.report.to_dict()}
        return {}


_RESOLVED: dict[tuple[Any, ...], Resolved] = {}
_RESOLVE_LOCK = threading.Lock()


def _accept(shipped: ShippedFunction) -> FunctionRegistry:
    """Validate and register ``shipped`` in a registry of its own (this worker's policy, the
    client's trust level); :class:`ShippingError` with the findings when it is refused."""
    from openhcs_plugins.loading.configured import current_settings, policy_for
    from openhcs_plugins.loading.examine import examine
    from openhcs_plugins.loading.register import register_discoveries
    from openhcs_plugins.registry import FunctionRegistry
    from openhcs_plugins.registry.adapter import RegistryAdapter
    from openhcs_plugins.sources.candidate import Candidate, SourceKind, TrustLevel, sha256_text

    where = shipped.file or "<editor>"
    if sha256_text(shipped.text) != shipped.sha256:
        raise ShippingError(
            f"{where}: the text received is not the one validated (sha256 "
            f"{sha256_text(shipped.text)[:12]}, expected {shipped.sha256[:12]})",
            subject=shipped.key,
            path=shipped.file,
        )
    candidate = Candidate.from_code(
        shipped.text,
        source=SourceKind(shipped.source),
        path=Path(shipped.file) if shipped.file else None,
        trust=TrustLevel(shipped.trust),
    )
    discovery = examine(candidate, policy_for(current_settings()))
    registry = FunctionRegistry()
    report = register_discoveries(RegistryAdapter(registry), [discovery])
    if shipped.key not in registry:
        problems = (*discovery.problems, *report.problems)
        found = "; ".join(str(p) for p in problems) or "it defines no such function"
        raise ShippingError(
            f"{where}: refused on this worker at trust level {shipped.trust}: {found}",
            subject=shipped.key,
            path=shipped.file,
        )
    return registry


def resolve(key: str, shipped: ShippedFunction | None, isolated: bool) -> Resolved:
    """The function ``key`` on this worker (made once per process and kept)."""
    from openhcs_plugins._batch_file import declared_outputs
    from openhcs_plugins.scaleout.environment import package_registry

    ident = (key, shipped.sha256 if shipped else None, shipped.trust if shipped else None, isolated)
    with _RESOLVE_LOCK:
        made = _RESOLVED.get(ident)
        if made is not None:
            return made
        registry = _accept(shipped) if shipped is not None else package_registry()
        entry = registry.entry(key)
        runner = None
        if isolated:
            from openhcs_plugins.execution.runner import IsolatedRunner, runner_for

            if shipped is not None:
                runner = IsolatedRunner(
                    shipped.text, shipped.name, filename=shipped.file or "<editor>", key=key
                )
            else:
                runner = runner_for(entry.info)
        made = Resolved(key, registry, entry, declared_outputs(entry, isolated), runner)
        _RESOLVED[ident] = made
        return made
