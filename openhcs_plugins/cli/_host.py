"""``openhcs-plugins host``: switch the OpenHCS host adapter on or off in this environment, and
show what it publishes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from openhcs_plugins.cli._lazy import Group
from openhcs_plugins.cli._output import fail, out, styled

__all__ = ["host_app"]

host_app = Group(
    "host",
    help="Make installed plugin packages appear in a host program (OpenHCS).",
    no_args_is_help=True,
)

_HOSTS = click.Choice(["openhcs"])


@host_app.command("install")
@click.argument("host", type=_HOSTS)
def host_install(host: str) -> None:
    """Switch the host adapter on in this environment (a start-up hook; no host files change)."""
    from openhcs_plugins.hosts.install import install_hook
    from openhcs_plugins.hosts.openhcs import SUPPORTED_VERSIONS, openhcs_version

    version = openhcs_version()
    path = install_hook()
    out.print(styled("green", "installed", f" the {host} host hook: {path}"))
    if version is None:
        out.print(f"OpenHCS is not installed in this environment ({path.parent}); the hook waits")
    elif version not in SUPPORTED_VERSIONS:
        out.print(
            styled("yellow", "warning:", f" OpenHCS {version} is installed; the adapter supports "
                   f"{', '.join(SUPPORTED_VERSIONS)} and publishes nothing there")
        )  # fmt: skip
    out.print("OpenHCS lists installed plugin packages as namespace:function from its next start")


@host_app.command("uninstall")
@click.argument("host", type=_HOSTS)
def host_uninstall(host: str) -> None:
    """Switch the host adapter off in this environment (deletes the start-up hook)."""
    from openhcs_plugins.hosts.install import hook_path, uninstall_hook

    if not uninstall_hook():
        raise fail(f"the {host} host hook is not installed here ({hook_path()})")
    out.print(styled("green", "uninstalled", f" the {host} host hook ({hook_path()})"))


@host_app.command("status")
@click.option("--json", "as_json", is_flag=True)
def host_status(as_json: bool) -> None:
    """Whether the OpenHCS adapter is on here, what it publishes, and what OpenHCS would run
    from the shared folder without isolation."""
    data = status_data()
    if as_json:
        print(json.dumps(data, indent=2))
        return
    for line in status_lines(data):
        out.print(line)


def status_data(registry: Any = None, untrusted: list[Path] | None = None) -> dict:
    """The status as JSON-ready data. ``doctor`` shows it too, passing the registry it loaded
    and the untrusted folder files it found, so that nothing is read twice."""
    from openhcs_plugins.config import load_settings
    from openhcs_plugins.config.trust import untrusted_files
    from openhcs_plugins.hosts.install import state
    from openhcs_plugins.hosts.openhcs import (
        SUPPORTED_VERSIONS,
        openhcs_version,
        plugin_namespaces,
    )

    hook = state()
    namespaces, _versions, problems = plugin_namespaces(registry)
    version = openhcs_version()
    if untrusted is None:
        untrusted = untrusted_files(load_settings().functions_path())
    return {
        "host": "openhcs",
        "hook": str(hook.path),
        "installed": hook.installed,
        "hook_current": hook.current,
        "openhcs_version": version,
        "supported": version in SUPPORTED_VERSIONS,
        "supported_versions": list(SUPPORTED_VERSIONS),
        "namespaces": {ns: list(mods) for ns, mods in namespaces.items()},
        "problems": problems,
        "untrusted_folder_files": [str(p) for p in untrusted],
    }


def status_lines(data: dict) -> list[str]:
    lines = []
    state = "on" if data["installed"] else "off"
    lines.append(f"OpenHCS host adapter: {state} in this environment ({data['hook']})")
    if data["installed"] and not data["hook_current"]:
        lines.append(
            "  the hook file is from another version: openhcs-plugins host install openhcs"
        )
    if data["openhcs_version"] is None:
        lines.append("  OpenHCS is not installed here")
    elif not data["supported"]:
        lines.append(
            f"  OpenHCS {data['openhcs_version']} is not supported (supported: "
            f"{', '.join(data['supported_versions'])}); nothing is published"
        )
    else:
        lines.append(f"  OpenHCS {data['openhcs_version']}")
    for namespace, modules in sorted(data["namespaces"].items()):
        lines.append(f"  publishes {namespace}:* from {', '.join(modules)}")
    for problem in data["problems"]:
        lines.append(f"  not published: {problem}")
    if data["untrusted_folder_files"]:
        lines.append(
            f"  {len(data['untrusted_folder_files'])} folder file(s) not in this machine's trust "
            "store: OpenHCS runs every folder file in its own processes, without isolation:"
        )
        lines.extend(f"    {path}" for path in data["untrusted_folder_files"])
    return lines
