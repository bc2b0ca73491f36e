# route: process-global state (np.seterr, rebinding np.linalg.norm)
# expect: host unchanged
# In the host, these would change how every later function computes.
import numpy as np

from openhcs_plugins.memory import numpy


def _fake_norm(*args, **kwargs):
    return 0.0


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    np.seterr(all="ignore")
    np.set_printoptions(precision=1)
    np.linalg.norm = _fake_norm
    return image
