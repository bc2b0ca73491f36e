# route: busy loop
# expect: WorkerCPULimit
# A pure-Python loop that never yields; only a CPU limit (or a wall clock) stops it.
import time

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    end = time.monotonic() + 120
    while time.monotonic() < end:
        pass
    open(marker, "w").close()  # reached only if nothing stopped the loop
    return image
