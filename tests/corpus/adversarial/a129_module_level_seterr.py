# route: numpy state changed for the whole host at load time (np.seterr at module level)
# expect: module-statement
from openhcs_plugins.memory import numpy
import numpy as np

PREVIOUS = np.seterr(all="ignore")


@numpy
def quiet(image):
    return image
