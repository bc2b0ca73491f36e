"""The worker's limits and privileges, set before any third-party import (standard library only).

Hard resource limits (:func:`set_limits`), new user, pid, network, IPC and mount namespaces
(:func:`unshare_namespaces`), locked mounts (:func:`lock_mounts`) and dropped capabilities
(:func:`drop_privileges`). Each step that cannot be taken is written to the report
(:func:`new_report`), never assumed. The worker script
(:mod:`openhcs_plugins.execution.worker`) loads this module before any limit is set: it imports
the standard library only. The filesystem view is :mod:`openhcs_plugins.execution.filesystem`.
"""

from __future__ import annotations

import os
import resource
import sys

__all__ = [
    "PR_SET_CHILD_SUBREAPER",
    "PR_SET_NO_NEW_PRIVS",
    "PR_SET_PDEATHSIG",
    "drop_privileges",
    "lock_mounts",
    "mount",
    "new_report",
    "prctl",
    "set_limits",
    "set_nproc",
    "unshare_namespaces",
]

# Linux constants (<sched.h>, <sys/mount.h>, <sys/prctl.h>, <linux/capability.h>).


CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
MS_REMOUNT = 32
MS_NOATIME = 1024
MS_NODIRATIME = 2048
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_RELATIME = 1 << 21
MS_STRICTATIME = 1 << 24
PR_SET_PDEATHSIG = 1
PR_SET_SECUREBITS = 28
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
#: NOROOT, NO_SETUID_FIXUP, KEEP_CAPS and NO_CAP_AMBIENT_RAISE, each with its lock bit.
SECUREBITS_LOCKED = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
#: mount options that stay locked when remounting inside a user namespace.
LOCKED_OPTIONS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}


# -- libc ------------------------------------------------------------------------------------


def _libc():  # type: ignore[no-untyped-def]
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, arg: int, what: str) -> None:
    ctypes, libc = _libc()
    libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
    _check(libc.prctl(option, arg, 0, 0, 0), what)


def _unshare(flags: int) -> None:
    if hasattr(os, "unshare"):  # Python 3.12+
        os.unshare(flags)
        return
    ctypes, libc = _libc()
    libc.unshare.argtypes = [ctypes.c_int]
    _check(libc.unshare(flags), "unshare")


def mount(
    source: str | None, target: str, fstype: str | None, flags: int, data: str | None
) -> None:
    ctypes, libc = _libc()
    libc.mount.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_ulong,
        ctypes.c_char_p,
    ]

    def b(text: str | None) -> bytes | None:
        return None if text is None else os.fsencode(text)

    _check(libc.mount(b(source), b(target), b(fstype), flags, b(data)), f"mount {target}")


# -- limits and namespaces ---------------------------------------------------------------------


def new_report() -> dict:
    return {
        "platform": sys.platform,
        "python": sys.version.split()[0],
        "kernel": os.uname().release if hasattr(os, "uname") else "",
        "uid": os.getuid(),
        "rlimits": {},
        "rlimit_errors": {},
        "namespaces": [],
        "namespace_errors": {},
        "no_new_privs": False,
        "capabilities_dropped": False,
        "securebits_locked": False,
        "subreaper": False,
        "pid_namespace_init": False,
        "private_proc": False,
        "readonly_root": False,
        "readonly_mounts": 0,
        "readonly_failures": [],
        "hidden_paths": [],
        "hidden_failures": [],
        "visible_paths": [],
        "mounts_locked": False,
        "scratch": "",
        "notes": [],
    }


def set_limits(config: dict, report: dict) -> None:
    """Hard resource limits; each that cannot be set is reported, never assumed."""
    limits = config["limits"]
    mb = 1024 * 1024
    wanted = [
        ("RLIMIT_CORE", 0),
        ("RLIMIT_NOFILE", limits["open_files"]),
        ("RLIMIT_FSIZE", limits["file_size_kb"] * 1024),
        ("RLIMIT_CPU", limits["cpu_hard_seconds"]),
        ("RLIMIT_DATA", limits["memory_mb"] * mb),
        ("RLIMIT_AS", (limits["memory_mb"] + limits["address_space_slack_mb"]) * mb),
        ("RLIMIT_MEMLOCK", 0),
        ("RLIMIT_MSGQUEUE", 0),
    ]
    for name, value in wanted:
        number = getattr(resource, name, None)
        if number is None:
            report["rlimit_errors"][name] = "not available on this platform"
            continue
        try:
            _soft, hard = resource.getrlimit(number)
            if hard != resource.RLIM_INFINITY and value > hard:
                value = hard
            resource.setrlimit(number, (value, value))
            report["rlimits"][name] = [value, value]
        except (OSError, ValueError) as exc:
            report["rlimit_errors"][name] = f"{type(exc).__name__}: {exc}"


def set_nproc(config: dict, report: dict) -> None:
    number = getattr(resource, "RLIMIT_NPROC", None)
    if number is None:
        report["rlimit_errors"]["RLIMIT_NPROC"] = "not available on this platform"
        return
    if os.getuid() == 0:
        report["rlimit_errors"]["RLIMIT_NPROC"] = "not enforced by the kernel for root (uid 0)"
        return
    value = config["limits"]["processes"]
    try:
        resource.setrlimit(number, (value, value))
        report["rlimits"]["RLIMIT_NPROC"] = [value, value]
    except (OSError, ValueError) as exc:
        report["rlimit_errors"]["RLIMIT_NPROC"] = f"{type(exc).__name__}: {exc}"


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def _map_ids(uid: int, gid: int) -> None:
    """Map our own uid and gid into the user namespace just created (no other ids exist)."""
    try:
        _write("/proc/self/setgroups", "deny")
    except FileNotFoundError:
        pass
    _write("/proc/self/gid_map", f"{gid} {gid} 1\n")
    _write("/proc/self/uid_map", f"{uid} {uid} 1\n")


def unshare_namespaces(config: dict, report: dict) -> bool:
    """New user, pid, net, ipc and mount namespaces; True when they were all created."""
    if not config["namespaces"]:
        report["namespace_errors"]["all"] = "switched off (namespaces=False)"
        return False
    if not sys.platform.startswith("linux"):
        report["namespace_errors"]["all"] = "namespaces exist on Linux only"
        return False
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWNS
    try:
        _unshare(flags)
    except OSError as exc:
        report["namespace_errors"]["user+pid+net+ipc+mount"] = str(exc)
        return False
    report["namespaces"] = ["user", "pid", "net", "ipc", "mount"]
    try:
        _map_ids(uid, gid)
    except OSError as exc:  # rare: the namespaces exist, only the ids show as "nobody"
        report["notes"].append(f"uid/gid map not written ({exc})")
    return True


def lock_mounts(report: dict) -> None:
    """A nested user + mount namespace: mounts copied into a less privileged user namespace
    are locked (read-only flags stay, hidden folders cannot be unmounted)."""
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare(CLONE_NEWUSER | CLONE_NEWNS)
        _map_ids(uid, gid)
        report["mounts_locked"] = True
    except OSError as exc:
        report["notes"].append(f"mounts not locked ({exc})")


def drop_privileges(report: dict) -> None:
    """No capabilities (not even in our own user namespace), and no way to regain any."""
    try:
        prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED, "prctl(PR_SET_SECUREBITS)")
        report["securebits_locked"] = True
    except OSError as exc:
        report["notes"].append(f"securebits not locked ({exc})")
    try:
        prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "prctl(PR_CAP_AMBIENT)")
    except OSError:
        pass
    try:
        ctypes, libc = _libc()

        class Header(ctypes.Structure):
            _fields_ = [  # noqa: RUF012 - ctypes reads this class attribute
                ("version", ctypes.c_uint32),
                ("pid", ctypes.c_int),
            ]

        class Data(ctypes.Structure):
            _fields_ = [  # noqa: RUF012 - ctypes reads this class attribute
                ("effective", ctypes.c_uint32),
                ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32),
            ]

        header = Header(_LINUX_CAPABILITY_VERSION_3, 0)
        data = (Data * 2)()
        _check(libc.capset(ctypes.byref(header), data), "capset")
        report["capabilities_dropped"] = True
    except (OSError, AttributeError) as exc:
        report["notes"].append(f"capabilities not dropped ({exc})")
