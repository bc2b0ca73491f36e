"""This environment: ``openhcs-plugins doctor`` (frameworks, devices, broken plugins, the
cache, the isolated runner's protections), ``gui`` (the Qt window) and ``cache clear|info``."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from click.exceptions import Exit

from openhcs_plugins.cli._common import functions_dir_option
from openhcs_plugins.cli._common import settings as load_settings
from openhcs_plugins.cli._lazy import Command, Group
from openhcs_plugins.cli._output import fail, out, styled

__all__ = ["cache_app", "doctor", "gui"]


@click.command(cls=Command)
@click.option("--json", "as_json", is_flag=True)
@functions_dir_option
def doctor(as_json: bool, functions_dir: Path | None) -> None:
    """Which frameworks and devices are usable, broken plugins, and the cache's state."""
    from openhcs_plugins.execution.probes import measure_cold_start, probe_protections
    from openhcs_plugins.loader import discovery_cache_info, load_plugins
    from openhcs_plugins.memory.status import framework_status

    settings = load_settings(functions_dir)
    frameworks = framework_status()
    report = load_plugins(refresh=True, settings=settings)
    cache = discovery_cache_info(settings)
    protections = probe_protections()
    try:
        cold_ms: float | None = measure_cold_start()
    except Exception as exc:  # reported, never raised: doctor diagnoses
        cold_ms, cold_error = None, f"{type(exc).__name__}: {exc}"
    else:
        cold_error = ""
    from openhcs_plugins.config.trust import untrusted_files

    untrusted = untrusted_files(settings.functions_path())
    from openhcs_plugins.hosts.openhcs_folder import OPENHCS_DROPS_THE_FOLDER, scan_folder

    openhcs_refuses = scan_folder(settings.functions_path())
    from openhcs_plugins.cli._host import status_data, status_lines
    from openhcs_plugins.registry import get_default_registry

    host = status_data(get_default_registry(), untrusted)
    if as_json:
        data = {
            "frameworks": {
                mt.value: {"usable": ok, "detail": detail}
                for mt, (ok, detail) in frameworks.items()
            },
            "functions": len(report.registered),
            "problems": [p.to_dict() for p in report.problems],
            "warnings": [w.to_dict() for w in report.warnings],
            "functions_dir": str(settings.functions_path()),
            "cache": {"path": str(cache.path), "state": cache.state},
            "isolation": protections.to_dict(),
            "isolation_cold_start_ms": cold_ms,
            "untrusted_folder_files": [str(p) for p in untrusted],
            "hosts": {"openhcs": host},
            "openhcs_folder_problems": [
                {"file": str(p.path), "line": p.line, "rule": p.rule, "message": p.message,
                 "fix": p.fix}
                for p in openhcs_refuses
            ],
        }  # fmt: skip
        print(json.dumps(data, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(title="frameworks")
    table.add_column("memory type")
    table.add_column("usable")
    table.add_column("detail", overflow="fold")
    for mt, (ok, detail) in frameworks.items():
        table.add_row(mt.value, Text("yes", "green") if ok else Text("no", "red"), detail)
    out.print(table)
    out.print(f"functions folder: {settings.functions_path()}")
    out.print(f"{len(report.registered)} function(s) registered")
    for problem in report.problems:
        out.print(styled("red", "broken:", f" {problem}"))
    for warning in report.warnings:
        out.print(styled("yellow", "warning:", f" {warning}"))
    out.print(str(cache))
    out.print("isolated runner (trust level 'strict', --isolated):")
    for line in protections.lines():
        out.print(f"  {line}")
    if cold_ms is not None:
        out.print(
            f"  cold start: {cold_ms:.0f} ms to a numpy function's first result in a new worker "
            "(later calls reuse the warm worker)"
        )
    else:
        out.print(styled("red", "  cold start failed:", f" {cold_error}"))
    if untrusted:
        out.print(
            f"{len(untrusted)} folder file(s) not in this machine's trust store "
            "(they run only isolated here; `openhcs-plugins trust NAME` after reviewing):"
        )
        for path in untrusted:
            out.print(f"  {path}")
    for line in status_lines(host):
        if not line.startswith("    ") and "folder file(s) not in" not in line:
            out.print(line)  # the untrusted files are listed above already
    if openhcs_refuses:
        out.print(
            styled(
                "red",
                f"{len(openhcs_refuses)} folder file problem(s) OpenHCS would refuse",
                f" ({OPENHCS_DROPS_THE_FOLDER}):",
            )
        )
        for problem in openhcs_refuses:
            out.print(f"  {problem.path}:{problem.line}: {problem.message}; {problem.fix}")


@click.command(cls=Command)
def gui() -> None:
    """Open the Qt window: function editor, function list and settings (needs the gui extra)."""
    import os

    # Without a display Qt aborts the process (exit 134) with a message about its xcb plugin.
    display_vars = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    if sys.platform.startswith("linux") and not any(os.environ.get(v) for v in display_vars):
        raise fail(
            "no display: DISPLAY and WAYLAND_DISPLAY are not set, so Qt cannot open a window. "
            "Run it in a desktop session (or over `ssh -X`), or without a visible window: "
            "QT_QPA_PLATFORM=offscreen openhcs-plugins gui"
        )
    display = os.environ.get("DISPLAY", "")
    if (
        sys.platform.startswith("linux")
        and display
        and not os.environ.get("WAYLAND_DISPLAY")
        and not os.environ.get("QT_QPA_PLATFORM")
    ):
        reason = x_display_problem(display)
        if reason is not None:  # Qt would abort the process (exit 134) instead of saying so
            raise fail(
                f"cannot open the display DISPLAY={display}: {reason}. Check that the X server "
                "runs (or that `ssh -X` forwarding is on), or run without a visible window: "
                "QT_QPA_PLATFORM=offscreen openhcs-plugins gui"
            )
    try:
        from openhcs_plugins.gui import main as gui_main
    except ImportError as exc:  # no Qt binding: the message says what to install
        raise fail(str(exc)) from exc
    raise Exit(gui_main())


def x_display_problem(display: str, timeout: float = 2.0) -> str | None:
    """Why the X display ``display`` (``:0``, ``:1.0``, ``host:10.0``) cannot be reached, or
    None when its server accepts a connection. Only the socket is tried (no X protocol, no Qt):
    a local display is the socket ``/tmp/.X11-unix/X<n>`` (or its abstract twin), a remote one
    is TCP port 6000 + n."""
    import socket

    host, sep, rest = display.rpartition(":")
    number = rest.split(".", 1)[0]
    if not sep or not number.isdigit():
        return f"{display!r} is not a display name like :0 or host:10.0"
    path = f"/tmp/.X11-unix/X{number}"
    host = host.removeprefix("unix/")
    if host in ("", "unix"):
        for address in (path, "\0" + path):
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.settimeout(timeout)
                try:
                    sock.connect(address)
                except OSError:
                    continue
                return None
        return f"no X server listens on {path}"
    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=timeout):
            return None
    except OSError as exc:
        return f"no X server at {host}:{6000 + int(number)} ({exc.strerror or exc})"


cache_app = Group("cache", help="The discovery cache.", no_args_is_help=True)


@cache_app.command("clear")
def cache_clear() -> None:
    """Delete the discovery cache; the next listing rebuilds it."""
    from openhcs_plugins.loader import clear_discovery_cache

    removed = clear_discovery_cache()
    out.print(f"removed {len(removed)} cache file(s)")


@cache_app.command("info")
def cache_show() -> None:
    """Where the cache is and whether it matches this environment."""
    from openhcs_plugins.loader import discovery_cache_info

    out.print(str(discovery_cache_info()))
