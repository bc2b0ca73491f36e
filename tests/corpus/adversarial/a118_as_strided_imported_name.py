# route: segfaults from `as_strided` (host memory read/write without any blocked import)
# expect: denied-attribute
from numpy.lib.stride_tricks import as_strided
import numpy as np

from openhcs_plugins.memory import numpy


@numpy
def peek(image):
    raw = np.zeros(1, dtype=np.uint8)
    leak = as_strided(raw, shape=(1 << 20,), strides=(1,))
    return image, {"leak": bytes(leak[:4096]).hex()}
