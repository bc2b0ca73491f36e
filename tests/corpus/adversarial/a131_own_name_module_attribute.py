# route: defining an attribute named like a module (os) to reach np.fft.os.system
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


class Decoy:
    os = None


@numpy
def shell(image):
    np.fft.os.system("true")
    return image
