# route: memory bomb
# expect: WorkerMemoryError
# Grows until the memory limit (RLIMIT_DATA) refuses an allocation.
from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    blocks = []
    for _ in range(100_000):
        blocks.append(bytearray(64 * 1024 * 1024))
    open(marker, "w").close()
    return image
