# route: SystemExit
# expect: WorkerExited
# In the host, SystemExit would end the whole application (and run its atexit handlers).
import atexit

from openhcs_plugins.memory import numpy


def _mark(marker):
    open(marker, "w").close()


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    atexit.register(_mark, marker)  # would run at a normal interpreter exit
    raise SystemExit(0)
