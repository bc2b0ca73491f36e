"""The isolated worker process (run as a script, never imported into a worker as a package).

The parent (:mod:`openhcs_plugins.isolation`) starts ``python -I -B <this file> CONFIG`` in a new
session. Until resource limits are set and namespaces are unshared this file uses the standard
library only: ``numpy``, frameworks and ``openhcs_plugins`` itself are imported afterwards, by
the job process, so even their import-time code runs under the limits.

Process tree (namespaces available)::

    parent (host)
      └─ supervisor  rlimits, unshare(user, pid, net, ipc, mount), id maps, waits
           └─ init   pid 1 of the new pid namespace: private /proc, hidden folders, read-only
                     mounts, then a nested user+mount namespace that locks them; reaps orphans
                └─ job   drops capabilities, runs the user's code, talks to the parent

Without namespaces the supervisor is a child subreaper and forks the job itself. When the job
ends the process above it writes its exit status (signal, exit code, CPU time, peak memory) to
the status pipe; when pid 1 of a pid namespace exits, the kernel kills everything left in it.

Protocol: frames on two pipes (requests in, responses out). A frame is ``MAGIC``, a 4-byte
big-endian header length, a UTF-8 JSON header, then the raw bytes of the arrays the header
declares (``{"dtype": "<f4", "shape": [...], "nbytes": N}``), in order. No pickle anywhere.
The parent imports the framing helpers of this file; nothing here runs on import.
"""

from __future__ import annotations

import json
import math
import os
import resource
import signal
import struct
import sys
import time

MAGIC = b"OHW1"
PREFIX = struct.Struct(">4sI")
#: Largest JSON header the worker accepts from the parent (sources can be long).
MAX_REQUEST_HEADER = 64 * 1024 * 1024
#: dtype kinds that cross the boundary: bool, signed/unsigned int, float, complex.
ARRAY_KINDS = "biufc"
#: Nesting depth of encoded values (arguments and results).
MAX_DEPTH = 64

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
_LOCKED_OPTIONS = {
    "nosuid": MS_NOSUID,
    "nodev": MS_NODEV,
    "noexec": MS_NOEXEC,
    "noatime": MS_NOATIME,
    "nodiratime": MS_NODIRATIME,
    "relatime": MS_RELATIME,
    "strictatime": MS_STRICTATIME,
}


# -- framing (shared with the parent) -----------------------------------------------------------


def encode_frame(header: dict) -> bytes:
    """``MAGIC``, length and JSON of ``header`` (arrays follow separately)."""
    data = json.dumps(header, separators=(",", ":"), allow_nan=True).encode("utf-8")
    return PREFIX.pack(MAGIC, len(data)) + data


def write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data).cast("B")
    while view:
        written = os.write(fd, view[: 1 << 20])
        view = view[written:]


def read_exact(fd: int, size: int) -> bytes | None:
    """``size`` bytes, or None at end of file before the first byte."""
    chunks = []
    left = size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            if left == size:
                return None
            raise EOFError("the pipe closed inside a frame")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_into(fd: int, view: memoryview) -> None:
    view = view.cast("B")
    while view:
        count = os.readv(fd, [view])
        if count == 0:
            raise EOFError("the pipe closed inside an array")
        view = view[count:]


# -- limits and namespaces (stdlib only, before any third-party import) ---------------------------


def _libc():  # type: ignore[no-untyped-def]
    import ctypes

    return ctypes, ctypes.CDLL(None, use_errno=True)


def _check(result: int, what: str) -> None:
    if result != 0:
        import ctypes

        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _prctl(option: int, arg: int, what: str) -> None:
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


def _mount(
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


def _set_nproc(config: dict, report: dict) -> None:
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
    _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
    try:
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
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
            _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, options)
            for path, fd in fds:
                if os.path.isdir(f"/proc/self/fd/{fd}"):
                    os.makedirs(path, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
                _mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
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
        for option, bit in _LOCKED_OPTIONS.items():
            if option in options:
                flags |= bit
        try:
            _mount(None, mountpoint, None, flags, None)
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
        _mount("tmpfs", workdir, "tmpfs", MS_NOSUID | MS_NODEV, options)
    except OSError as exc:
        report["notes"].append(f"no tmpfs scratch folder ({exc}); using {workdir}")
    return workdir


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
        _prctl(PR_SET_SECUREBITS, SECUREBITS_LOCKED, "prctl(PR_SET_SECUREBITS)")
        report["securebits_locked"] = True
    except OSError as exc:
        report["notes"].append(f"securebits not locked ({exc})")
    try:
        _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, "prctl(PR_CAP_AMBIENT)")
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


# -- processes ---------------------------------------------------------------------------------


def _status_of(status: int, usage: resource.struct_rusage) -> dict:
    out: dict = {
        "cpu": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,
        "exit": None,
        "signal": None,
    }
    if os.WIFSIGNALED(status):
        out["signal"] = os.WTERMSIG(status)
    elif os.WIFEXITED(status):
        out["exit"] = os.WEXITSTATUS(status)
    return out


def _descendants(root: int) -> list[int]:
    """Processes below ``root`` (by parent pid, read from /proc)."""
    parents: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return []
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                data = handle.read()
        except OSError:
            continue
        fields = data[data.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            parents.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    todo = [root]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_descendants(root: int) -> set[int]:
    """Stop every descendant, then kill them all (so none can fork away in between); returns
    the pids killed."""
    seen: set[int] = set()
    for _ in range(100):
        new = [pid for pid in _descendants(root) if pid not in seen]
        if not new:
            break
        for pid in new:
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGSTOP)
            except OSError:
                pass
    for pid in seen:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    return seen


def wait_gone(pids: set[int], timeout: float) -> None:
    """Wait until none of ``pids`` runs any more (gone, or a zombie waiting to be reaped)."""
    end = time.monotonic() + timeout
    left = set(pids)
    while left and time.monotonic() < end:
        for pid in list(left):
            try:
                with open(f"/proc/{pid}/stat", "rb") as handle:
                    data = handle.read()
                state = data[data.rfind(b")") + 2 : data.rfind(b")") + 3]
            except OSError:
                state = b"X"
            if state in (b"Z", b"X"):
                left.discard(pid)
        if left:
            time.sleep(0.01)


def supervise(config: dict, report: dict, *, in_pid_namespace: bool, workdir: str) -> None:
    """Fork the job, reap everything, report the job's end on the status pipe, exit."""
    if not in_pid_namespace:
        try:
            _prctl(PR_SET_CHILD_SUBREAPER, 1, "prctl(PR_SET_CHILD_SUBREAPER)")
            report["subreaper"] = True
        except OSError as exc:
            report["notes"].append(f"not a subreaper ({exc})")
    job = os.fork()
    if job == 0:
        run_job(config, report, workdir)  # never returns
    os.close(config["request_fd"])
    os.close(config["response_fd"])
    status_fd = config["status_fd"]
    if in_pid_namespace:
        # pid 1: dies with the outer supervisor (PR_SET_PDEATHSIG), so a blocking wait will do
        while True:
            try:
                pid, status, usage = os.wait4(-1, 0)
            except ChildProcessError:
                pid, status, usage = job, 0, resource.getrusage(resource.RUSAGE_CHILDREN)
            except InterruptedError:
                continue
            if pid == job:
                break
    else:
        ended = wait_for(job, config["parent_pid"])
        if ended is None:  # the parent is gone: take everything down
            kill_descendants(os.getpid())
            os._exit(1)
        status, usage = ended
        kill_descendants(os.getpid())
    try:
        write_all(status_fd, json.dumps(_status_of(status, usage)).encode() + b"\n")
    except OSError:
        pass
    os._exit(0)


def main() -> None:
    config = json.loads(sys.argv[1])
    report = new_report()
    os.umask(0o077)
    try:
        _prctl(PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")
        report["no_new_privs"] = True
    except (OSError, AttributeError) as exc:
        report["notes"].append(f"no_new_privs not set ({exc})")
    set_limits(config, report)
    namespaces = unshare_namespaces(config, report)
    if namespaces:
        _set_nproc(config, report)
    else:
        report["rlimit_errors"]["RLIMIT_NPROC"] = (
            "not set without a user namespace (it would count every process of this user)"
        )
    if not namespaces:
        supervise(config, report, in_pid_namespace=False, workdir=config["workdir"])
        return
    init = os.fork()
    if init == 0:
        report["pid_namespace_init"] = os.getpid() == 1
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "prctl(PR_SET_PDEATHSIG)")
            workdir = setup_filesystem(config, report)
        except OSError as exc:
            report["notes"].append(f"filesystem set-up failed ({exc})")
            workdir = config["workdir"]
        lock_mounts(report)
        supervise(config, report, in_pid_namespace=True, workdir=workdir)
        return
    for fd in (config["request_fd"], config["response_fd"], config["status_fd"]):
        os.close(fd)
    ended = wait_for(init, config["parent_pid"])
    if ended is None:
        # The parent is gone: kill our process group (the init dies with it, and with the
        # init everything in its pid namespace).
        os.killpg(0, signal.SIGKILL)
    status = ended[0] if ended is not None else 0
    os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)


def wait_for(child: int, parent_pid: int) -> tuple[int, resource.struct_rusage] | None:
    """Wait for ``child`` (reaping any adopted orphans meanwhile); None when our own parent
    died first (checked twice a second, so a worker never outlives the program that started
    it)."""
    import select

    try:
        fd = os.pidfd_open(child)
    except (AttributeError, OSError):
        fd = None
    try:
        while True:
            while True:
                try:
                    pid, status, usage = os.wait4(-1, os.WNOHANG)
                except ChildProcessError:
                    return 0, resource.getrusage(resource.RUSAGE_CHILDREN)
                if pid == 0:
                    break
                if pid == child:
                    return status, usage
            if os.getppid() != parent_pid:
                return None
            if fd is not None:
                try:
                    select.select([fd], [], [], 0.5)
                except InterruptedError:
                    pass
            else:
                time.sleep(0.02)
    finally:
        if fd is not None:
            os.close(fd)


# -- the job -------------------------------------------------------------------------------------

#: Variables that point at the scratch folder: where Python (tempfile), tensorflow and pocl
#: (its compiled-kernel cache, else ``$XDG_CACHE_HOME/pocl``) write their files.
SCRATCH_VARIABLES = ("HOME", "TMPDIR", "POCL_CACHE_DIR")


def scratch_environment(scratch: str) -> dict:
    """The environment entries that send every file the job writes to ``scratch``."""
    return dict.fromkeys(SCRATCH_VARIABLES, scratch)


def run_job(config: dict, report: dict, workdir: str) -> None:
    """The job process: set up, then serve frames until the parent closes the request pipe."""
    code = 0
    try:
        os.close(config["status_fd"])
        try:
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "prctl(PR_SET_PDEATHSIG)")
        except OSError:
            pass
        drop_privileges(report)
        os.chdir(workdir)
        env = dict(config["env"])
        env.update(scratch_environment(workdir))
        os.environ.clear()
        os.environ.update(env)
        report["scratch"] = workdir
        sys.path.insert(0, config["package_parent"])
        Job(config, report).serve()
    except BaseException:  # the job must end with a status, whatever happened
        import traceback

        traceback.print_exc()
        code = 70
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        os._exit(code)


class Reject(Exception):
    """A value that cannot cross the process boundary."""


class Job:
    """Serves ``report``, ``load`` and ``call`` requests."""

    def __init__(self, config: dict, report: dict) -> None:
        self.config = config
        self.report = report
        self.request_fd = config["request_fd"]
        self.response_fd = config["response_fd"]
        self.functions: dict = {}
        self.filename = "<isolated>"
        self.baseline_threads = 0
        self.np = None

    # -- plumbing
    def serve(self) -> None:
        while True:
            prefix = read_exact(self.request_fd, PREFIX.size)
            if prefix is None:
                return
            magic, length = PREFIX.unpack(prefix)
            if magic != MAGIC or length > MAX_REQUEST_HEADER:
                raise ValueError("bad request frame from the parent")
            header = json.loads(read_exact(self.request_fd, length) or b"{}")
            try:
                arrays = [self._read_array(desc) for desc in header.get("arrays", [])]
            except MemoryError as exc:
                # The rest of the request cannot be read: answer, then end (the parent
                # starts a new worker for the next call).
                self.error("memory", exc, "the input arrays do not fit in the memory limit")
                return
            op = header.get("op")
            if op == "report":
                self.send({"op": "report", "report": self.report})
            elif op == "load":
                self.load(header)
            elif op == "call":
                self.call(header, arrays)
            elif op == "exit":
                return
            else:
                raise ValueError(f"unknown request {op!r}")

    def _read_array(self, desc: dict):  # type: ignore[no-untyped-def]
        np = self.numpy()
        array = np.empty(tuple(desc["shape"]), dtype=np.dtype(desc["dtype"]))
        if array.nbytes != desc["nbytes"]:
            raise ValueError("array size does not match its shape")
        read_into(self.request_fd, memoryview(array).cast("B") if array.nbytes else memoryview(b""))
        return array

    def send(self, header: dict, arrays: list | None = None) -> None:
        arrays = arrays or []
        header["arrays"] = [
            {"dtype": a.dtype.str, "shape": list(a.shape), "nbytes": int(a.nbytes)} for a in arrays
        ]
        header["usage"] = self.usage()
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # the user's code may have replaced them
            pass
        write_all(self.response_fd, encode_frame(header))
        for array in arrays:
            if array.nbytes:
                write_all(self.response_fd, memoryview(array).cast("B"))

    def usage(self) -> dict:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return {"cpu": usage.ru_utime + usage.ru_stime, "maxrss_kb": usage.ru_maxrss}

    def numpy(self):  # type: ignore[no-untyped-def]
        if self.np is None:
            import numpy

            self.np = numpy
        return self.np

    def cpu_budget(self) -> None:
        """This call may use ``cpu_seconds`` more (the kernel sends SIGXCPU past it)."""
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = used.ru_utime + used.ru_stime
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        soft = math.ceil(spent + self.config["limits"]["cpu_seconds"])
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        except (OSError, ValueError):
            pass

    def error(self, kind: str, exc: BaseException | None, message: str = "", line: int = 0) -> None:
        import traceback

        text = ""
        if exc is not None:
            message = message or f"{type(exc).__name__}: {exc}"
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            if not line:
                for frame, number in traceback.walk_tb(exc.__traceback__):
                    if frame.f_code.co_filename == self.filename:
                        line = number
        self.send(
            {
                "op": "error",
                "kind": kind,
                "type": type(exc).__name__ if exc is not None else "",
                "message": message[:4000],
                "traceback": text[-8000:],
                "line": line,
            }
        )

    # -- leftovers
    def leftovers(self) -> str:
        import threading

        problems = []
        count = _thread_count()
        if count > self.baseline_threads:
            names = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
            problems.append(
                f"{count - self.baseline_threads} thread(s) still running"
                + (f" ({', '.join(names[:5])})" if names else "")
            )
        children = self.child_processes()
        if children:
            problems.append(f"{len(children)} process(es) still running (pids {children[:5]})")
        return "; ".join(problems)

    def child_processes(self) -> list[int]:
        """Processes this job started that still run (orphans go to the supervisor)."""
        me = os.getpid()
        try:
            with open("/proc/self/stat", "rb") as handle:
                data = handle.read()
            me_proc = int(data.split()[0])
            parent = int(data[data.rfind(b")") + 2 :].split()[1])
        except (OSError, ValueError, IndexError):
            return []
        found: set[int] = set()
        for root in (me_proc, parent):
            try:
                tasks = os.listdir(f"/proc/{root}/task")
            except OSError:
                tasks = []
            ok = bool(tasks)
            for task in tasks:
                try:
                    with open(f"/proc/{root}/task/{task}/children") as handle:
                        found.update(int(p) for p in handle.read().split())
                except OSError:
                    ok = False
            if not ok:
                found.update(p for p in _descendants(root) if p != me_proc)
        found.discard(me_proc)
        found.discard(me)
        return sorted(found)

    # -- requests
    def load(self, header: dict) -> None:
        self.cpu_budget()
        self.filename = header.get("filename") or "<isolated>"
        try:
            self.numpy()
            # Before the module can import pyclesperanto (it lists OpenCL devices on import).
            from openhcs_plugins._opencl import configure_opencl

            configure_opencl()
            self.baseline_threads = _thread_count()
            module = self._module(header)
        except MemoryError as exc:
            self.error("memory", exc)
            return
        except SystemExit as exc:
            self.error("exit", exc, f"the module raised SystemExit({exc.code!r}) while loading")
            return
        except LoadError as exc:
            self.error("load", exc, exc.message, exc.line_number)
            return
        except BaseException as exc:  # reported to the parent
            self.error("load", exc)
            return
        from openhcs_plugins.memory import CONTRACT_ATTRIBUTE, is_memory_decorated

        wanted = header.get("functions")
        found = {}
        for name, obj in list(vars(module).items()):
            if wanted is not None and name not in wanted:
                continue
            if not is_memory_decorated(obj):
                continue
            if wanted is None and getattr(obj, "__module__", None) != module.__name__:
                continue
            found[name] = obj
        self.functions = found
        described = {
            name: self._describe(name, obj, CONTRACT_ATTRIBUTE) for name, obj in found.items()
        }
        problem = self.leftovers()
        if problem:
            self.fail("leftover", f"while loading the module: {problem}")
            return
        self.send({"op": "loaded", "functions": described})

    def fail(self, kind: str, message: str) -> None:
        self.send(
            {
                "op": "error",
                "kind": kind,
                "type": "",
                "message": message,
                "traceback": "",
                "line": 0,
            }
        )

    def _module(self, header: dict):  # type: ignore[no-untyped-def]
        if header.get("module"):
            import importlib

            return importlib.import_module(header["module"])
        from pathlib import Path

        from openhcs_plugins._inprocess import CodeExecutionError, exec_module
        from openhcs_plugins.candidate import Candidate, SourceKind, TrustLevel

        filename = header.get("filename") or ""
        path = Path(filename) if filename and not filename.startswith("<") else None
        candidate = Candidate.from_code(
            header["source"],
            source=SourceKind.FOLDER if path is not None else SourceKind.EDITOR,
            path=path,
            trust=TrustLevel.USER,
        )
        try:
            return exec_module(candidate)
        except CodeExecutionError as exc:
            raise LoadError(exc.message, exc.line_number, exc.code_snippet) from exc

    def _describe(self, name: str, func, contract_attribute: str) -> dict:  # type: ignore[no-untyped-def]
        import inspect

        try:
            signature = inspect.signature(func)
            text = str(signature)
            params = [
                {
                    "name": p.name,
                    "kind": p.kind.name,
                    "required": p.default is inspect.Parameter.empty
                    and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD),
                }
                for p in signature.parameters.values()
            ]
        except (TypeError, ValueError):
            text, params = "(...)", []
        return {
            "name": getattr(func, "__name__", name),
            "input_memory_type": func.input_memory_type,
            "output_memory_type": func.output_memory_type,
            "contract": getattr(func, contract_attribute, "FLEXIBLE"),
            "signature": text[:2000],
            "parameters": params,
        }

    def call(self, header: dict, arrays: list) -> None:
        name = header["function"]
        func = self.functions.get(name)
        if func is None:
            self.fail("load", f"no memory-decorated function {name!r} was loaded")
            return
        args = decode(header.get("args", []), arrays)
        kwargs = decode(header.get("kwargs", {}), arrays)
        self.cpu_budget()
        try:
            result = func(*args, **kwargs)
        except MemoryError as exc:
            self.error("memory", exc)
            return
        except SystemExit as exc:
            self.error("exit", exc, f"the function raised SystemExit({exc.code!r})")
            return
        except BaseException as exc:  # reported to the parent
            problem = self.leftovers()
            if problem:
                self.fail("leftover", problem)
            elif _is_allocation_failure(exc):
                self.error("memory", exc)
            else:
                self.error("exception", exc)
            return
        problem = self.leftovers()
        if problem:
            self.fail("leftover", problem)
            return
        out: list = []
        try:
            value = self.encode(result, out, "result", 0)
        except Reject as exc:
            self.fail("reject", str(exc))
            return
        except MemoryError as exc:
            self.error("memory", exc)
            return
        self.send({"op": "result", "value": value}, out)

    # -- values
    def encode(self, value, arrays: list, where: str, depth: int):  # type: ignore[no-untyped-def]
        """A JSON-ready form of ``value``; arrays are appended to ``arrays`` and referenced."""
        import dataclasses
        import enum

        np = self.numpy()
        if depth > MAX_DEPTH:
            raise Reject(f"{where} is nested deeper than {MAX_DEPTH} levels")
        if value is None or type(value) in (bool, str, float):
            return value
        if type(value) is int:
            if abs(value) > 2**63:
                raise Reject(f"{where} is an integer of {value.bit_length()} bits, too large")
            return value
        if isinstance(value, np.ndarray) or _framework_array(value):
            return {"$array": self.add_array(value, arrays, where)}
        if isinstance(value, np.generic):
            if value.dtype.kind not in ARRAY_KINDS:
                raise Reject(f"{where} is a numpy {value.dtype} scalar; return numbers")
            return self.encode(value.item(), arrays, where, depth + 1)
        if isinstance(value, enum.Enum):
            return self.encode(value.value, arrays, where, depth + 1)
        if isinstance(value, (bool, int, float, str)):
            base = next(t for t in (bool, int, float, str) if isinstance(value, t))
            return self.encode(base(value), arrays, where, depth + 1)
        if isinstance(value, complex):
            return {"$complex": [value.real, value.imag]}
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
            return self.encode(fields, arrays, where, depth + 1)
        if isinstance(value, tuple) and hasattr(type(value), "_fields"):
            named = dict(zip(type(value)._fields, tuple(value), strict=False))
            return self.encode(named, arrays, where, depth + 1)
        if isinstance(value, tuple):
            items = [
                self.encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)
            ]
            return {"$tuple": items}
        if isinstance(value, list):
            return [self.encode(v, arrays, f"{where}[{i}]", depth + 1) for i, v in enumerate(value)]
        if isinstance(value, dict):
            pairs = [
                [
                    self.encode(k, arrays, f"{where} key", depth + 1),
                    self.encode(v, arrays, f"{where}[{k!r}]", depth + 1),
                ]
                for k, v in value.items()
            ]
            return {"$dict": pairs}
        raise Reject(
            f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which cannot "
            "leave the isolated worker; return arrays, numbers, strings, lists, tuples and dicts "
            "(dataclasses, enums and named tuples arrive as dicts and values)"
        )

    def add_array(self, value, arrays: list, where: str) -> int:  # type: ignore[no-untyped-def]
        np = self.numpy()
        if not isinstance(value, np.ndarray):
            from openhcs_plugins.memory.convert import convert_memory

            value = convert_memory(value, "numpy", device="cpu", writable=False)
        # A plain ndarray (a subclass's own code never runs in the parent), checked by size
        # before anything is copied: a broadcast view can claim far more than it holds.
        value = np.asarray(value).view(np.ndarray)
        if value.dtype.kind not in ARRAY_KINDS or value.dtype.fields is not None:
            raise Reject(
                f"{where} has dtype {value.dtype}; only bool, integer, float and "
                "complex arrays can leave the isolated worker"
            )
        limit = self.config["limits"]["max_output_mb"] * 1024 * 1024
        total = value.nbytes + sum(a.nbytes for a in arrays)
        if total > limit:
            raise Reject(
                f"{where} is {value.nbytes / 2**20:.1f} MiB (shape {value.shape}); the "
                f"result may be at most {limit // 2**20} MiB (isolation.max_output_mb)"
            )
        arrays.append(np.ascontiguousarray(value))
        return len(arrays) - 1


class LoadError(Exception):
    def __init__(self, message: str, line: int, snippet: str) -> None:
        super().__init__(message)
        self.message = message
        self.line_number = line
        self.snippet = snippet


def _thread_count() -> int:
    import _thread

    return _thread._count()


def _framework_array(value) -> bool:  # type: ignore[no-untyped-def]
    module = type(value).__module__.split(".")[0]
    # pyclesperanto's arrays live in its backend's module (pyclesperanto_opencl, ...).
    frameworks = ("torch", "cupy", "jax", "jaxlib", "tensorflow", "pyclesperanto", "pyopencl")
    if module not in frameworks and not module.startswith("pyclesperanto_"):
        return False
    from openhcs_plugins.memory.detect import memory_type_of_type

    return memory_type_of_type(type(value)) is not None


def _is_allocation_failure(exc: BaseException) -> bool:
    text = str(exc)
    return "can't allocate memory" in text or "out of memory" in text.lower()


def decode(value, arrays: list, depth: int = 0):  # type: ignore[no-untyped-def]
    """The inverse of :meth:`Job.encode` (used on both sides); at most ``MAX_DEPTH`` levels
    of containers, as ``encode`` sends."""
    if depth > MAX_DEPTH:
        raise ValueError(f"value nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, list):
        return [decode(v, arrays, depth + 1) for v in value]
    if isinstance(value, dict):
        if len(value) != 1:
            raise ValueError("malformed value")
        ((tag, inner),) = value.items()
        if tag == "$array":
            if type(inner) is not int or not 0 <= inner < len(arrays):
                raise ValueError("bad array reference")
            return arrays[inner]
        if tag == "$tuple":
            return tuple(decode(v, arrays, depth + 1) for v in inner)
        if tag == "$dict":
            return {
                _key(decode(k, arrays, depth + 1)): decode(v, arrays, depth + 1) for k, v in inner
            }
        if tag == "$complex":
            return complex(inner[0], inner[1])
        raise ValueError(f"unknown tag {tag!r}")
    return value


def _key(key):  # type: ignore[no-untyped-def]
    if isinstance(key, list):
        raise ValueError("a list cannot be a dict key")
    try:
        hash(key)
    except TypeError:
        raise ValueError("unhashable dict key") from None
    return key


if __name__ == "__main__":
    main()
