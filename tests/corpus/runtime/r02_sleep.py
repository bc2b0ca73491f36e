# route: sleep
# expect: WorkerTimeout
# Uses no CPU at all, so only the wall-clock timeout in the parent stops it.
import time

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    time.sleep(120)
    open(marker, "w").close()
    return image
