"""The JSON shapes commands print (``validate --json``), as plain data a script or host can
build without the CLI: a static validation of one file, and the load report of a package,
an archive or a distribution. Imports nothing (it reads the attributes of what it is given)."""

from __future__ import annotations

from typing import Any

__all__ = ["load_report_json", "validation_json"]


def _finding_json(finding: Any, filename: str) -> dict[str, Any]:
    return {
        "file": finding.filename or filename,
        "line": finding.line_number,
        "message": finding.message,
        "snippet": finding.code_snippet,
        "rule": finding.rule,
        "hint": finding.hint,
    }


def validation_json(result: Any, filename: str) -> dict[str, Any]:
    """A :class:`~openhcs_plugins.validation.ValidationResult` of ``filename`` as JSON data:
    ``file``, ``valid``, ``functions``, and ``errors``/``warnings`` with file, line, message,
    snippet, rule and hint."""
    return {
        "file": filename,
        "valid": result.is_valid,
        "functions": list(result.function_names),
        "errors": [_finding_json(e, filename) for e in result.errors],
        "warnings": [_finding_json(w, filename) for w in result.warnings],
    }


def load_report_json(target: str, report: Any) -> dict[str, Any]:
    """A :class:`~openhcs_plugins.loader.LoadReport` of ``target`` (an archive or a
    distribution) as JSON data: ``valid`` when it has no problems, the functions it registered,
    and its problems and warnings."""
    return {
        "target": target,
        "valid": not report.problems,
        "functions": list(report.registered),
        "problems": [p.to_dict() for p in report.problems],
        "warnings": [w.to_dict() for w in report.warnings],
    }
