# route: module allowlist by submodule (skimage.io)
# expect: import-not-allowed
from skimage.io import imsave
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    imsave("/tmp/out.png", image[0])
    return image
