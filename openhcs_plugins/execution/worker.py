"""The isolated worker process: a script, started as ``python -I -B <this file> CONFIG``.

The parent (:mod:`openhcs_plugins.execution.process`) starts it in a new session. Until
resource limits are set and namespaces are unshared it runs the standard library only:
``-I`` keeps this folder and the package off ``sys.path``, so the modules it needs (all
standard library only: :mod:`~openhcs_plugins.execution.protocol`,
:mod:`~openhcs_plugins.execution.sandbox`, :mod:`~openhcs_plugins.execution.filesystem`,
:mod:`~openhcs_plugins.execution.processes`, :mod:`~openhcs_plugins.execution.results`,
:mod:`~openhcs_plugins.execution.job`) are loaded
from this folder by path (:func:`load_siblings`), without running the package's ``__init__``.
``numpy``, frameworks and the rest of ``openhcs_plugins`` are imported afterwards, by the job
process, so even their import-time code runs under the limits.

Process tree (namespaces available)::

    parent (host)
      └─ supervisor  rlimits, unshare(user, pid, net, ipc, mount), id maps, waits
           └─ init   pid 1 of the new pid namespace: private /proc, hidden folders, read-only
                     mounts, then a nested user+mount namespace that locks them; reaps orphans
                └─ job   drops capabilities, runs the user's code, talks to the parent

Without namespaces the supervisor is a child subreaper and forks the job itself. When the job
ends the process above it writes its exit status (signal, exit code, CPU time, peak memory) to
the status pipe; when pid 1 of a pid namespace exits, the kernel kills everything left in it.
The protocol on the pipes is :mod:`openhcs_plugins.execution.protocol`. Nothing here runs on
import.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys

__all__ = ["SIBLINGS", "load_siblings", "main"]

#: The modules of this folder the script uses, in the order they import each other.
SIBLINGS = ("protocol", "sandbox", "filesystem", "processes", "results", "job")
_PACKAGE = "openhcs_plugins.execution"


def load_siblings() -> None:
    """Load :data:`SIBLINGS` from this folder under their package names.

    Each goes into ``sys.modules`` as ``openhcs_plugins.execution.<name>``, so their imports of
    each other resolve there, and the job, which imports the package later, uses these same
    modules. Neither ``openhcs_plugins`` nor its ``__init__`` is imported.
    """
    import importlib.util

    folder = os.path.dirname(os.path.abspath(__file__))
    for name in SIBLINGS:
        full = f"{_PACKAGE}.{name}"
        if full in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(full, os.path.join(folder, f"{name}.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[full] = module
        spec.loader.exec_module(module)


def supervise(config: dict, report: dict, *, in_pid_namespace: bool, workdir: str) -> None:
    """Fork the job, reap everything, report the job's end on the status pipe, exit."""
    from openhcs_plugins.execution.processes import kill_descendants, status_of, wait_for
    from openhcs_plugins.execution.protocol import write_all
    from openhcs_plugins.execution.sandbox import PR_SET_CHILD_SUBREAPER, prctl

    if not in_pid_namespace:
        try:
            prctl(PR_SET_CHILD_SUBREAPER, 1, "prctl(PR_SET_CHILD_SUBREAPER)")
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
        write_all(status_fd, json.dumps(status_of(status, usage)).encode() + b"\n")
    except OSError:
        pass
    os._exit(0)


def main() -> None:
    """Set the limits and namespaces, then become the supervisor (and pid 1) of the job."""
    # (loaded from this folder by load_siblings(): the package is not on sys.path yet)
    from openhcs_plugins.execution.filesystem import setup_filesystem
    from openhcs_plugins.execution.processes import wait_for
    from openhcs_plugins.execution.sandbox import (
        PR_SET_NO_NEW_PRIVS,
        PR_SET_PDEATHSIG,
        lock_mounts,
        new_report,
        prctl,
        set_limits,
        set_nproc,
        unshare_namespaces,
    )

    config = json.loads(sys.argv[1])
    report = new_report()
    os.umask(0o077)
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1, "prctl(PR_SET_NO_NEW_PRIVS)")
        report["no_new_privs"] = True
    except (OSError, AttributeError) as exc:
        report["notes"].append(f"no_new_privs not set ({exc})")
    set_limits(config, report)
    namespaces = unshare_namespaces(config, report)
    if namespaces:
        set_nproc(config, report)
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
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "prctl(PR_SET_PDEATHSIG)")
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


def run_job(config: dict, report: dict, workdir: str) -> None:
    """The job process: set up, then serve frames until the parent closes the request pipe."""
    from openhcs_plugins.execution.job import Job
    from openhcs_plugins.execution.protocol import scratch_environment
    from openhcs_plugins.execution.sandbox import PR_SET_PDEATHSIG, drop_privileges, prctl

    code = 0
    try:
        os.close(config["status_fd"])
        try:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL, "prctl(PR_SET_PDEATHSIG)")
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


if __name__ == "__main__":
    load_siblings()
    main()
