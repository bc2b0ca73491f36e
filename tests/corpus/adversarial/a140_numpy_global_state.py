# route: numpy's error handling and global random state changed for every later function
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def attack(image):
    np.seterr(all='ignore')
    np.random.seed(0)
    return image
