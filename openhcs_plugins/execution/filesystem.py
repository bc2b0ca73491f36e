"""What the worker sees of the filesystem (standard library only).

Run in pid 1 of the worker's new pid namespace (:func:`setup_filesystem`): a private ``/proc``,
an empty tmpfs over each hidden folder (home folders, ``/tmp``...) with the paths the worker
needs bound back inside, every other mount remounted read-only, and a size-capped tmpfs
scratch folder, the only place the job can write. Loaded by the worker script before any limit
is set: it imports the standard library and :mod:`openhcs_plugins.execution.sandbox` only.
"""

from __future__ import annotations

import os

from openhcs_plugins.execution.sandbox import (
    LOCKED_OPTIONS,
    MS_BIND,
    MS_NODEV,
    MS_NOEXEC,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    MS_REMOUNT,
    mount,
)

__all__ = ["setup_filesystem"]


def _decode_mount_path(text: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    out = []
    index = 0
    while index < len(text):
        if (
            text[index] == "\\"
            and index + 3 < len(text) + 0
            and text[index + 1 : index + 4].isdigit()
        ):
            out.append(chr(int(text[index + 1 : index + 4], 8)))
            index += 4
        else:
            out.append(text[index])
            index += 1
    return "".join(out)


def _mounts() -> list[tuple[str, set[str]]]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as handle:
        rows = []
        for line in handle:
            fields = line.split()
            if len(fields) > 5:
                rows.append((_decode_mount_path(fields[4]), set(fields[5].split(","))))
        return rows


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def setup_filesystem(config: dict, report: dict) -> str:
    """Private /proc, hidden folders, read-only mounts, a tmpfs scratch folder; returns the
    job's working directory. Runs in pid 1 of the new pid namespace."""
    mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        report["private_proc"] = True
    except OSError as exc:
        report["notes"].append(f"private /proc not mounted ({exc}); the host's /proc is visible")
    if not config["filesystem"]:
        report["notes"].append("filesystem protection switched off (filesystem=False)")
        return _scratch_on_workdir(config, report)
    visible = []
    for path in config["visible_paths"]:
        real = os.path.realpath(path)
        if os.path.exists(real) and real not in visible:
            visible.append(real)
    report["visible_paths"] = visible
    scratch = ""
    done: list[str] = []
    for root in sorted({os.path.realpath(p) for p in config["hidden_paths"]}, key=len):
        if root == "/" or not os.path.isdir(root) or any(_under(root, d) for d in done):
            continue
        keep = [p for p in visible if _under(p, root)]
        if root in keep or any(_under(root, p) for p in visible):
            report["hidden_failures"].append(f"{root}: holds a path the worker needs")
            continue
        fds = []
        try:
            for path in keep:
                fds.append((path, os.open(path, os.O_PATH | os.O_CLOEXEC)))
            is_tmp = root == "/tmp"
            size = config["limits"]["scratch_mb"] if is_tmp else 1
            inodes = 4096 if is_tmp else 1024
            options = f"size={size}m,nr_inodes={inodes},mode=0755"
            mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, options)
            for path, fd in fds:
                if os.path.isdir(f"/proc/self/fd/{fd}"):
                    os.makedirs(path, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
            done.append(root)
            report["hidden_paths"].append(root)
            if is_tmp:
                scratch = root
        except OSError as exc:
            report["hidden_failures"].append(f"{root}: {exc}")
        finally:
            for _, fd in fds:
                os.close(fd)
    if not scratch:
        scratch = _scratch_on_workdir(config, report)
    # Read-only everywhere but the scratch folder and /proc (writes to /proc/self/* are needed
    # below, and what the job could write there concerns only itself).
    count = 0
    for mountpoint, options in _mounts():
        # (paths kept visible below the scratch folder, a venv in /tmp, become read-only too)
        if mountpoint == scratch or _under(mountpoint, "/proc"):
            continue
        if any(_under(mountpoint, d) for d in done) and not any(
            _under(mountpoint, p) for p in visible
        ):
            continue  # below a hidden folder: unreachable
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option, bit in LOCKED_OPTIONS.items():
            if option in options:
                flags |= bit
        try:
            mount(None, mountpoint, None, flags, None)
            count += 1
            if mountpoint == "/":
                report["readonly_root"] = True
        except OSError as exc:
            report["readonly_failures"].append(f"{mountpoint}: {exc.strerror or exc}")
    report["readonly_mounts"] = count
    return scratch


def _scratch_on_workdir(config: dict, report: dict) -> str:
    workdir = config["workdir"]
    size = config["limits"]["scratch_mb"]
    try:
        options = f"size={size}m,nr_inodes=4096,mode=0700"
        mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, options)
    except OSError as exc:
        report["notes"].append(f"no tmpfs scratch folder ({exc}); using {workdir}")
    return workdir
