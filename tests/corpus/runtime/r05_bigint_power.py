# route: big-int power
# expect: WorkerCPULimit|WorkerMemoryError
# Runs in C inside one bytecode: no Python-level signal handler or timer can interrupt it.
from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    value = 7 ** (10**9)
    open(marker, "w").close()
    return image + (value & 1)
