# route: memory bomb (numpy allocation)
# expect: WorkerMemoryError
# One huge allocation, refused at once by the memory limit.
import numpy as np

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    huge = np.ones((1 << 17, 1 << 17), dtype=np.float64)  # 128 GiB
    open(marker, "w").close()
    return image + huge[0, 0]
