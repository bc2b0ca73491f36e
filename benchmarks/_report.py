"""Writing a benchmark's report: to its docs page, or to stdout with ``--output -``."""

from __future__ import annotations

from pathlib import Path


def emit(text: str, output: str) -> None:
    """Print ``text``; unless ``output`` is ``-``, also write it to ``output`` and say so."""
    print(text)
    if output != "-":
        Path(output).write_text(text, encoding="utf-8")
        print(f"written to {output}")
