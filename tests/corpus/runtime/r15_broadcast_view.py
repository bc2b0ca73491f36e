# route: broadcast view claiming 48 GB
# expect: ResultRejected
# A view that holds 4 bytes but claims 48 GB; copying it without checking nbytes would
# exhaust the caller's memory.
import numpy as np

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    return np.broadcast_to(np.float32(1), (12, 1 << 15, 1 << 15))
