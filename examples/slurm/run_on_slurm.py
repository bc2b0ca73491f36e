"""Run a registered function on a whole plate with SLURM workers (dask-jobqueue).

    python run_on_slurm.py lab_filters:gaussian_blur /shared/plate1 -o /shared/plate1-blurred \
        --lock /shared/plugins.lock --jobs 10 -p sigma=2

Each SLURM job starts one Dask worker (``--cores`` threads) with the Python of this virtual
environment, which must be on the cluster's shared filesystem. The job's first command checks
the environment against the lock file (``openhcs-plugins check``), so a node where other plugin
versions are installed exits before its worker joins; the batch checks every worker again
before the first task. Inputs and outputs must be on the shared filesystem, at the same paths
on every node. Write the lock file where the plugins are installed:
``openhcs-plugins freeze -o /shared/plugins.lock``.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any


def make_cluster(
    lock: Path,
    *,
    venv: Path = Path(sys.prefix),
    cores: int = 4,
    memory: str = "16GB",
    walltime: str = "02:00:00",
    queue: str | None = None,
    account: str | None = None,
) -> Any:
    """A ``dask_jobqueue.SLURMCluster`` whose jobs run this environment's Python and check it
    against ``lock`` before their worker starts."""
    from dask_jobqueue import SLURMCluster

    return SLURMCluster(
        cores=cores,
        processes=1,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        python=str(venv / "bin" / "python"),
        job_name="openhcs-plugins",
        job_script_prologue=[
            f"source {shlex.quote(str(venv / 'bin' / 'activate'))}",
            f"openhcs-plugins check {shlex.quote(str(lock))} || exit 1",
        ],
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("key")
    parser.add_argument("inputs", nargs="+", type=Path)
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("-p", "--param", action="append", default=[])
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--cores", type=int, default=4)
    parser.add_argument("--queue", default=None)
    parser.add_argument("--account", default=None)
    parser.add_argument("--wait", type=float, default=3600, help="seconds to wait for a job")
    args = parser.parse_args(argv)

    from distributed import Client

    from openhcs_plugins._params import parse_params
    from openhcs_plugins.batch import expand_inputs, run_batch
    from openhcs_plugins.loader import load_plugins
    from openhcs_plugins.lockfile import read_lock
    from openhcs_plugins.registry import get_default_registry

    load_plugins()
    params = parse_params(get_default_registry().info(args.key), args.param)
    files = expand_inputs(args.inputs)
    cluster = make_cluster(args.lock, cores=args.cores, queue=args.queue, account=args.account)
    with cluster, Client(cluster) as client:
        cluster.scale(jobs=args.jobs)
        print(f"dashboard: {client.dashboard_link}; waiting for a SLURM job to start")
        client.wait_for_workers(1, timeout=args.wait)
        results = run_batch(
            args.key,
            files,
            args.output,
            params,
            client=client,
            lock=read_lock(args.lock),
            on_result=lambda done: print(("wrote " if done.ok else "failed ") + str(done.output)),
        )
    failed = [r for r in results if not r.ok]
    for result in failed:
        print(f"failed {result.input}: {result.error}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
