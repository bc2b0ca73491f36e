"""User config code: :func:`patch_lazy_constructors` (nothing resolves inside it) and
:func:`exec_user_code`, which runs config code under it and names the file and line of a failure.
"""

from __future__ import annotations

import builtins
import contextlib
import dataclasses
import linecache
from collections.abc import Iterable, Iterator
from typing import Any

from openhcs_plugins.config._lazy_state import (
    _ALL,
    _PATCH,
    _AllTypes,
    _info,
    has_lazy_resolution,
)
from openhcs_plugins.config.lazy_types import make_lazy
from openhcs_plugins.errors import OpenHCSPluginsError, source_line, traceback_line

__all__ = ["UserCodeError", "exec_user_code", "patch_lazy_constructors"]


class UserCodeError(OpenHCSPluginsError):
    """User (config) code failed to compile or run; names the file and line.

    Attributes: ``message``, ``filename``, ``line_number`` (0 when unknown), ``code_snippet``
    (the offending source line) and ``original`` (the underlying exception).
    """

    def __init__(
        self,
        message: str,
        *,
        filename: str,
        line_number: int = 0,
        code_snippet: str = "",
        original: BaseException | None = None,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line_number = line_number
        self.code_snippet = code_snippet
        self.original = original
        super().__init__(str(self), subject=filename, path=filename, line=line_number)

    def __str__(self) -> str:
        where = f"{self.filename}:{self.line_number}" if self.line_number else self.filename
        text = f"{where}: {self.message}"
        if self.code_snippet:
            text += f"\n    {self.code_snippet}"
        return text


def _as_lazy_type(t: Any) -> type:
    if isinstance(t, type) and has_lazy_resolution(t):
        return t
    if isinstance(t, type) and dataclasses.is_dataclass(t):
        return make_lazy(t)
    raise TypeError(f"patch_lazy_constructors(types=...) takes dataclass types, got {t!r}")


def _with_nested(lazy_types: Iterable[type]) -> frozenset[type]:
    result: set[type] = set()
    todo = list(lazy_types)
    while todo:
        t = todo.pop()
        if t not in result:
            result.add(t)
            todo.extend(_info(t).nested.values())
    return frozenset(result)


@contextlib.contextmanager
def patch_lazy_constructors(types: Iterable[type] | None = None) -> Iterator[None]:
    """Inside the block, lazy dataclasses keep ``None`` as ``None``: nothing resolves.

    Constructing a lazy type stores only the arguments given, every other field stays ``None``,
    ``__post_init__`` runs and sees the stored values, explicitly set fields are recorded, and
    reading a field gives its stored value. ``types`` limits this to some lazy types (a concrete
    dataclass stands for its twin; nested twins are included); ``None`` means every lazy type,
    including types created inside the block.

    Copy a lazy config with ``dataclasses.replace`` inside the block: ``replace`` reads every
    field, so outside it the inherited ones resolve and become set in the copy.

    Nothing is swapped on any class: the block sets a :class:`contextvars.ContextVar`, reset on
    exit even when the block raises. Only code running in this context sees it: another thread
    (which starts with its own context) or an asyncio task created before the block keeps normal
    behaviour; a task created inside the block inherits it. Blocks nest (the inner one adds its
    types to the outer one's).
    """
    current = _PATCH.get()
    new: _AllTypes | frozenset[type]
    if types is None or current is _ALL:
        new = _ALL
    else:
        chosen = _with_nested(_as_lazy_type(t) for t in types)
        new = chosen if current is None else current | chosen  # type: ignore[operator]
    token = _PATCH.set(new)
    try:
        yield
    finally:
        _PATCH.reset(token)


def exec_user_code(
    code: str | bytes,
    namespace: dict[str, Any] | None = None,
    *,
    filename: str = "<user code>",
    types: Iterable[type] | None = None,
) -> dict[str, Any]:
    """Run trusted config code under :func:`patch_lazy_constructors`; return its namespace.

    The one helper every code editor and the settings file use: lazy configs built by the code
    keep ``None`` for what the code leaves out. ``namespace`` is used (and filled) when given.
    A syntax error or an exception raised by the code becomes :class:`UserCodeError` naming
    ``filename``, the line and the source text of that line (the original exception is
    ``__cause__``). This runs code with full rights: use it for configuration the user owns,
    never for plugin functions (those go through :mod:`openhcs_plugins.validation`).

    >>> ns = exec_user_code("x = 1 + 1")
    >>> ns["x"]
    2
    """
    text = code.decode("utf-8") if isinstance(code, bytes) else code
    ns: dict[str, Any] = {} if namespace is None else namespace
    ns.setdefault("__name__", "__openhcs_user_code__")
    ns.setdefault("__builtins__", builtins)
    try:
        compiled = compile(text, filename, "exec", dont_inherit=True)
    except SyntaxError as exc:
        line = exc.lineno or 0
        raise UserCodeError(
            f"syntax error: {exc.msg}",
            filename=filename,
            line_number=line,
            code_snippet=(exc.text or "").strip() or source_line(text, line),
            original=exc,
        ) from exc
    if filename.startswith("<"):
        # Lets tracebacks of functions defined in the code show their source lines.
        linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    with patch_lazy_constructors(types):
        try:
            exec(compiled, ns)
        except (Exception, SystemExit) as exc:
            line = traceback_line(exc, filename)
            raise UserCodeError(
                f"{type(exc).__name__}: {exc}",
                filename=filename,
                line_number=line,
                code_snippet=source_line(text, line),
                original=exc,
            ) from exc
    return ns
