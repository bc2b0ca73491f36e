# route: an object-dtype ndarray over a byte buffer forges object references
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def attack(image):
    forged = np.frombuffer(bytes(64), dtype=object)
    return forged
    return image
