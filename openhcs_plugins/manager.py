"""The custom-function manager: code editor -> validate -> register -> persist -> auto-load.

>>> import tempfile
>>> manager = CustomFunctionManager(tempfile.mkdtemp(), registry=FunctionRegistry())
>>> funcs = manager.register_from_code('''
... from openhcs_plugins.decorators import numpy
... import numpy as np
...
... @numpy
... def my_function(image, threshold=0.5):
...     \"\"\"Custom thresholding function.\"\"\"
...     return np.where(image > threshold, image, 0)
... ''')
>>> [f.__name__ for f in funcs], manager.registry.keys()
(['my_function'], ['openhcs:my_function'])

Storage: one file per function, ``{function_name}.py``, in the functions folder
(``platformdirs.user_data_dir("openhcs")/custom_functions``, the folder OpenHCS uses; override it
with the constructor argument, ``OPENHCS_PLUGINS_FUNCTIONS_DIR`` or the ``functions_dir``
setting).

Several decorated functions in one code block are split: each is saved in its own file together
with the block's imports, helpers and constants (everything that is not another decorated
function), so every function has exactly one file and a reload registers each exactly once.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openhcs_plugins._function_text import kept_lines, split_functions, without_functions
from openhcs_plugins._manager_types import UnknownCustomFunctionError, UpdatedFunction
from openhcs_plugins._storage import (
    atomic_delete,
    atomic_write_text,
    folder_lock,
    remove_stale_temp_files,
)
from openhcs_plugins.config import Settings, load_settings
from openhcs_plugins.config.trust import TrustStore, stricter
from openhcs_plugins.execution.dispatch import CodeExecutionError, load_checked
from openhcs_plugins.hosts.openhcs_folder import openhcs_imports
from openhcs_plugins.registry import (
    FunctionInfo,
    FunctionRegistry,
    info_from_static,
    make_key,
)
from openhcs_plugins.registry.adapter import RegistryAdapter
from openhcs_plugins.sources.candidate import (
    OPENHCS_NAMESPACE,
    Candidate,
    ParameterInfo,
    SourceKind,
    StaticFunction,
    TrustLevel,
)
from openhcs_plugins.sources.editor import remember_editor_text
from openhcs_plugins.sources.folder import FolderSource, read_source
from openhcs_plugins.sources.problem import Problem
from openhcs_plugins.validation import (
    ValidationError,
    ValidationResult,
    validate_code,
)

__all__ = [
    "CustomFunctionInfo",
    "CustomFunctionManager",
    "UnknownCustomFunctionError",
    "UpdatedFunction",
    "default_functions_dir",
]

logger = logging.getLogger(__name__)


def default_functions_dir() -> Path:
    """The functions folder: ``OPENHCS_PLUGINS_FUNCTIONS_DIR``, the ``functions_dir`` setting,
    or ``platformdirs.user_data_dir("openhcs")/custom_functions`` (honours XDG_DATA_HOME)."""
    return load_settings().functions_path()


@dataclass(frozen=True)
class CustomFunctionInfo:
    """A function saved in the functions folder, as read statically (never executed)."""

    name: str
    file_path: Path
    memory_type: str
    doc: str
    output_memory_type: str = ""
    key: str = ""
    line: int = 0
    parameters: tuple[ParameterInfo, ...] = ()


def _check_name(name: str) -> None:
    if not name.isidentifier():
        raise ValueError(
            f"{name!r} is not a function name (a plain Python identifier such as 'my_filter')"
        )


def _trust_saved(prepared: list[tuple[Candidate, StaticFunction, Callable[..., Any]]]) -> None:
    """Record the saved texts of trusted code in the trust store (after they were written: a
    crash in between leaves them untrusted, which only isolates them)."""
    saved = [(c.text, c.path) for c, _, _ in prepared if c.path is not None]
    if saved:
        TrustStore().trust_many(saved)


def _split_remaining(
    path: Path, name: str, remaining: list[str], path_for: Callable[[str], Path]
) -> bool:
    """Take ``name`` out of the file ``path`` that defines it with ``remaining``.

    OpenHCS, which loads the same folder, refuses the whole folder for a file with several
    functions or named after another function; so the others go to a file each,
    ``{function}.py`` (trusted if the file was). Where such a file exists already, ``path``
    is rewritten without ``name`` instead. True when the files were split."""
    text = path.read_text(encoding="utf-8")
    rest = without_functions(text, {name})
    targets = {n: path_for(n) for n in remaining}
    store = TrustStore()
    # the user trusted the file: what is left of it stays trusted
    trusted = store.is_trusted(hashlib.sha256(text.encode("utf-8")).hexdigest())
    if (len(remaining) == 1 and targets[remaining[0]] == path) or any(
        t.exists() and t != path for t in targets.values()
    ):
        atomic_write_text(path, rest)
        if trusted:
            store.trust(rest, path)
        return False
    parts = {n: openhcs_imports(part) for n, part in split_functions(rest, remaining).items()}
    for n, part in parts.items():
        atomic_write_text(targets[n], part)
    if path not in targets.values():
        atomic_delete(path)
    if trusted:
        store.trust_many([(part, targets[n]) for n, part in parts.items()])
    return True


class CustomFunctionManager:
    """Validate, register, persist, load, update and delete folder and editor functions.

    All checks run before any side effect; a registration of several functions is all or
    nothing. Every change goes through :attr:`adapter` (entries, ``publish``/``retract``, and
    ``custom_function_signals.functions_changed``), never around it.
    """

    def __init__(
        self,
        storage_dir: str | os.PathLike[str] | None = None,
        *,
        registry: FunctionRegistry | None = None,
        adapter: RegistryAdapter | None = None,
        trust: TrustLevel | str | None = None,
    ) -> None:
        self.storage_dir = Path(storage_dir) if storage_dir is not None else default_functions_dir()
        self.adapter = adapter if adapter is not None else RegistryAdapter(registry)
        self._trust = TrustLevel(trust) if trust is not None else None
        self._settings: Settings | None = None
        #: Files skipped by the last load or listing: file, line, reason and what to do.
        self.problems: list[Problem] = []

    @property
    def registry(self) -> FunctionRegistry:
        return self.adapter.registry

    @property
    def settings(self) -> Settings:
        """The settings, read once per manager (a ``trust`` argument overrides both the
        folder's and the editor's level)."""
        if self._settings is None:
            overrides = {}
            if self._trust is not None:
                overrides = {"trust__folder": self._trust, "trust__editor": self._trust}
            self._settings = load_settings(**overrides)
        return self._settings

    def _trust_level(self, source: str) -> TrustLevel:
        return self.settings.trust.level_for(source)

    def _validate(self, text: str, trust: TrustLevel, filename: str) -> ValidationResult:
        return validate_code(
            text, trust=trust, policy=self.settings.import_policy(), filename=filename
        )

    def path_for(self, name: str) -> Path:
        """The file a function is saved in: ``{storage_dir}/{name}.py``."""
        _check_name(name)
        return self.storage_dir / f"{name}.py"

    # -- reading the folder (never executes anything) ----------------------------------------
    def _folder_candidates(self) -> Iterator[tuple[Candidate, ValidationResult]]:
        """Each readable ``*.py`` file with its validation; problems go to ``self.problems``."""
        self.problems = []
        for item in FolderSource(self.storage_dir, self._trust_level("folder")).candidates():
            if isinstance(item, Problem):
                self.problems.append(item)
                continue
            result = self._validate(item.text, item.trust, item.filename)
            if not result.is_valid:
                self.problems.append(Problem.from_finding(item, result.errors[0]))
                continue
            yield item, result

    def list_custom_functions(self) -> list[CustomFunctionInfo]:
        """Functions saved in the folder, read statically. Invalid files are skipped and
        reported in :attr:`problems`; no file is executed."""
        out = []
        for candidate, result in self._folder_candidates():
            assert candidate.path is not None
            for fn in result.functions:
                out.append(
                    CustomFunctionInfo(
                        name=fn.name,
                        file_path=candidate.path,
                        memory_type=fn.input_memory_type,
                        doc=fn.doc,
                        output_memory_type=fn.output_memory_type,
                        key=make_key(OPENHCS_NAMESPACE, fn.name),
                        line=fn.line,
                        parameters=fn.parameters,
                    )
                )
        return out

    def _defining_files(self, names: set[str]) -> dict[str, tuple[Path, ValidationResult]]:
        """The saved file of each of ``names`` that has one (``{name}.py`` preferred), in one
        pass over the folder."""
        for name in names:
            _check_name(name)
        found: dict[str, tuple[Path, ValidationResult]] = {}
        for candidate, result in self._folder_candidates():
            assert candidate.path is not None
            for name in names.intersection(result.function_names):
                if name not in found or candidate.path == self.path_for(name):
                    found[name] = (candidate.path, result)
        return found

    def _defining_file(self, name: str) -> tuple[Path, ValidationResult] | None:
        return self._defining_files({name}).get(name)

    def get_function_code(self, name: str) -> str:
        """The saved source of function ``name``."""
        found = self._defining_file(name)
        if found is None:
            raise UnknownCustomFunctionError(name, self.storage_dir)
        return found[0].read_text(encoding="utf-8")

    # -- loading ------------------------------------------------------------------------------
    def load_all_custom_functions(self) -> int:
        """Register every valid function in the folder (lazily: a file runs on first use).

        The folder goes through the same loader as plugin packages
        (:func:`openhcs_plugins.loader.load_plugins`). Invalid or unreadable files are reported
        in :attr:`problems` and skipped; the others load. Entries of files that disappeared are
        removed. Returns the number registered.
        """
        from openhcs_plugins.loader import load_plugins

        if self.storage_dir.is_dir():
            self.clean_folder()
        report = load_plugins(
            adapter=self.adapter,
            settings=self.settings,
            include_entry_points=False,
            folder=self.storage_dir,
        )
        self.problems = list(report.problems)
        for problem in self.problems:
            logger.warning("skipped custom function file %s", problem)
        return len(report.registered)

    # -- registering --------------------------------------------------------------------------
    def _prepare(
        self,
        code: str,
        *,
        persist: bool,
        replacing: set[str],
        filename: str = "<editor>",
        trusted: bool = True,
    ) -> list[tuple[Candidate, StaticFunction, Callable[..., Any]]]:
        """Validate and execute ``code`` (split per function) without changing anything.

        ``filename`` names the code in the errors about it as a whole (``add FILE``); untrusted
        code (``trusted=False``) is executed only where ``trust.untrusted`` says (an isolated
        worker by default)."""
        # the settings' trust.editor for code the user trusts (typed here, add --trust), the
        # stricter of that and trust.untrusted otherwise
        trust = self._trust_level("editor")
        if not trusted:
            trust = stricter(trust, TrustLevel(self.settings.trust.untrusted))
        result = self._validate(code, trust, filename)
        if not result.is_valid:
            raise result.as_error(filename)
        names = list(result.function_names)
        prepared = []
        for name, text in split_functions(code, names).items():
            path = self.path_for(name) if persist else None
            if persist:
                # OpenHCS loads the same folder, where this project may not be installed
                text = openhcs_imports(text)
            if persist and name not in replacing and path is not None and path.exists():
                raise FileExistsError(
                    f"a custom function {name!r} already exists ({path}); use "
                    "update_custom_function() (or `openhcs-plugins add --replace`) to replace it"
                )
            source = SourceKind.FOLDER if persist else SourceKind.EDITOR
            candidate = Candidate.from_code(text, source=source, path=path, trust=trust)
            part = self._validate(text, trust, candidate.filename)
            if not part.is_valid:
                raise part.as_error(candidate.filename)
            (function,) = [f for f in part.functions if f.name == name]
            try:
                func = load_checked(candidate, function)
            except CodeExecutionError as exc:
                where, line = exc.filename, exc.line_number
                if filename != "<editor>":  # the code's own file and line, not the part's
                    kept = kept_lines(code, set(names) - {name}) if len(names) > 1 else []
                    where = filename
                    if kept and 0 < line <= len(kept):
                        line = kept[line - 1]
                raise ValidationError(
                    f"Code execution failed: {exc.message}",
                    line,
                    exc.code_snippet,
                    rule="execution",
                    filename=where,
                    function=name,
                    hint="fix the error; nothing was registered or saved",
                ) from exc
            prepared.append((candidate, function, func))
        return prepared

    def _commit(
        self, prepared: list[tuple[Candidate, StaticFunction, Callable[..., Any]]]
    ) -> list[Callable[..., Any]]:
        """Check collisions, write files (all or nothing), then update the registry."""
        infos: list[FunctionInfo] = [
            info_from_static(fn, candidate.namespace, candidate.provenance(line=fn.line))
            for candidate, fn, _ in prepared
        ]
        # An editor entry (persist=False) of the same name is replaced by its saved version;
        # it is removed only once everything else succeeded.
        drafts = {
            info.key
            for info in infos
            if info.source is not SourceKind.EDITOR and self._is_editor_entry(info.key)
        }
        self.adapter.check([info for info in infos if info.key not in drafts])
        written: list[tuple[Path, str | None]] = []
        try:
            for candidate, _, _ in prepared:
                if candidate.path is None:
                    continue
                previous = (
                    candidate.path.read_text(encoding="utf-8") if candidate.path.exists() else None
                )
                atomic_write_text(candidate.path, candidate.text)
                written.append((candidate.path, previous))
        except BaseException:
            for path, previous in reversed(written):
                if previous is None:
                    atomic_delete(path)
                else:
                    atomic_write_text(path, previous)
            raise
        for key in drafts:
            self.adapter.remove(key)
        for info, (candidate, _, func) in zip(infos, prepared, strict=True):
            if candidate.source is SourceKind.EDITOR:
                remember_editor_text(candidate.text)  # a Dask batch sends it to its workers
            self.adapter.add_loaded(info, func)
        return [func for _, _, func in prepared]

    def register_from_code(
        self,
        code: str,
        persist: bool = True,
        *,
        replace: bool = False,
        filename: str = "<editor>",
        trusted: bool = True,
    ) -> list[Callable[..., Any]]:
        """Validate ``code``, run it, register its decorated functions as ``openhcs:<name>``
        and (``persist=True``) save each in ``{storage_dir}/{name}.py``.

        ``trusted``: code typed into this machine's editor is the user's own, so it is trusted
        and its saved files go into the trust store (``openhcs-plugins trust``). Pass False
        for code from elsewhere (``openhcs-plugins add FILE`` without ``--trust``): it then runs
        only where ``trust.untrusted`` says, an isolated worker by default, and its files stay
        untrusted.

        Raises :class:`~openhcs_plugins.validation.ValidationError` (with line and snippet)
        before any side effect when the code is invalid or fails to run, and
        :class:`FileExistsError` when a saved function of that name exists (use
        :meth:`update_custom_function`, or ``replace=True`` to replace every saved function
        the code defines again, all or nothing). ``filename`` is the code's file, named in
        errors (``openhcs-plugins add FILE``); editor code has none.
        """
        with folder_lock(self.storage_dir):
            if replace and persist:
                names = set(
                    self._validate(code, self._trust_level("editor"), filename).function_names
                )
                funcs = self._replace(
                    names, code, required=False, filename=filename, trusted=trusted
                )
            else:
                prepared = self._prepare(
                    code, persist=persist, replacing=set(), filename=filename, trusted=trusted
                )
                funcs = self._commit(prepared)
                if trusted:
                    _trust_saved(prepared)
        self.adapter.changed()
        return funcs

    def update_custom_function(self, old_name: str, code: str) -> UpdatedFunction:
        """Replace saved function ``old_name`` with ``code`` (which may rename it).

        Returns the new function's name, as OpenHCS's manager does (a ``str``: ``old_name``
        when the code keeps it, else the code's first function), with ``.functions`` the
        callables registered. If the new code is invalid or fails to run, the old function
        stays registered and its file is unchanged. ``ValueError`` (also a ``KeyError``) when
        no function ``old_name`` is saved.
        """
        _check_name(old_name)
        with folder_lock(self.storage_dir):
            funcs = self._replace({old_name}, code, required=True)
        self.adapter.changed()
        names = [f.__name__ for f in funcs]
        return UpdatedFunction(old_name if old_name in names else names[0], funcs)

    def _replace(
        self,
        old_names: set[str],
        code: str,
        *,
        required: bool,
        filename: str = "<editor>",
        trusted: bool = True,
    ) -> list[Callable[..., Any]]:
        """Save and register ``code`` over the saved functions ``old_names`` (with the folder
        lock held). Their files are removed when the code saves them elsewhere (a rename);
        on any failure the old functions stay registered and their files unchanged."""
        found = self._defining_files(old_names)
        missing = old_names - set(found)
        if required and missing:
            raise UnknownCustomFunctionError(sorted(missing)[0], self.storage_dir)
        for path, result in found.values():
            others = set(result.function_names) - old_names
            if others:
                names = ", ".join(sorted(result.function_names))
                raise ValueError(
                    f"{path} defines several functions ({names}); edit that file, or "
                    "delete the function and register it again"
                )
        prepared = self._prepare(
            code, persist=True, replacing=set(found), filename=filename, trusted=trusted
        )
        new_paths = {candidate.path for candidate, _, _ in prepared}
        moved = {name: path for name, (path, _) in found.items() if path not in new_paths}
        old_entries = []
        for name in moved:
            entry = self.adapter.take(make_key(OPENHCS_NAMESPACE, name))
            if entry is not None:
                old_entries.append(entry)
        try:
            funcs = self._commit(prepared)
        except BaseException:
            self.adapter.restore(old_entries)
            raise
        if trusted:
            _trust_saved(prepared)
        for path in set(moved.values()):
            atomic_delete(path)
        return funcs

    def delete_custom_function(self, name: str) -> bool:
        """Unregister ``openhcs:<name>`` and delete its file. False when there is no such
        saved function. A hand-written file defining several functions keeps the others.

        A ``{name}.py`` that does not validate (or parse, or decode) is deleted too; a valid
        ``{name}.py`` that defines other functions raises :class:`ValueError` naming them."""
        _check_name(name)
        with folder_lock(self.storage_dir):
            found = self._defining_file(name)
            key = make_key(OPENHCS_NAMESPACE, name)
            if found is None:
                if self.path_for(name).is_file():
                    return self._delete_unregistered_file(name)
                removed = self.adapter.remove(key) if self._is_editor_entry(key) else False
                if removed:
                    self.adapter.changed()
                return removed
            path, result = found
            remaining = [n for n in result.function_names if n != name]
            split = False
            if remaining:
                split = _split_remaining(path, name, remaining, self.path_for)
            else:
                atomic_delete(path)
            self.adapter.remove(key)
        if split:
            self.load_all_custom_functions()  # the others from their own files
        self.adapter.changed()
        return True

    def _delete_unregistered_file(self, name: str) -> bool:
        """Delete ``{name}.py`` when it does not validate (it registered nothing, but it is the
        user's file and ``remove NAME`` is how they get rid of it). A valid file that defines
        other functions is kept: the error names them and the file."""
        path = self.path_for(name)
        try:
            text = read_source(path)
        except (UnicodeDecodeError, OSError):
            result = None
        else:
            result = self._validate(text, self._trust_level("folder"), str(path))
        if result is not None and result.is_valid:
            commands = "; ".join(f"openhcs-plugins remove {n}" for n in result.function_names)
            raise ValueError(
                f"{path} defines {', '.join(result.function_names)}, not {name!r}; remove "
                f"those with: {commands}"
            )
        atomic_delete(path)
        self.adapter.changed()
        return True

    def _is_editor_entry(self, key: str) -> bool:
        return key in self.registry and self.registry.info(key).source is SourceKind.EDITOR

    def clean_folder(self) -> list[Path]:
        """Remove temp files a killed writer left behind."""
        with folder_lock(self.storage_dir):
            return remove_stale_temp_files(self.storage_dir)
