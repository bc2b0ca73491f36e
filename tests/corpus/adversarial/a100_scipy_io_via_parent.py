# route: module allowlist by submodule (scipy.io)
# expect: import-not-allowed, denied-attribute
import scipy.ndimage
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    scipy.io.savemat("/tmp/out.mat", {"image": image})
    return image
