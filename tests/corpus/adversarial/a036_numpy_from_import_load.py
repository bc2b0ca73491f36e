# route: np.load(..., allow_pickle=True)
# expect: denied-attribute
from numpy import load
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return load("/tmp/x.npy", allow_pickle=True)
