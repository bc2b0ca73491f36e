# route: an object-dtype ndarray laid over a byte buffer forges object references
# expect: array-buffer
import numpy as np

from openhcs_plugins.memory import numpy


@numpy
def attack(image):
    forged = np.ndarray((1,), dtype=object, buffer=bytearray(8))
    return image, {"x": forged}
