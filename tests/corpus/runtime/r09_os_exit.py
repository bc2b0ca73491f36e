# route: os._exit
# expect: WorkerExited
# Ends the process at once: no exception to catch, no cleanup.
import os

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    os._exit(3)
