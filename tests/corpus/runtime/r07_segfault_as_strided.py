# route: segfault through as_strided
# expect: WorkerCrashed
# A view whose strides point far outside the buffer; reading it faults (SIGSEGV).
import numpy as np
from numpy.lib.stride_tricks import as_strided

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    base = np.zeros(8, dtype=np.uint8)
    far = as_strided(base, shape=(4,), strides=(1 << 46,))
    total = int(far.sum())
    open(marker, "w").close()
    return image + total
