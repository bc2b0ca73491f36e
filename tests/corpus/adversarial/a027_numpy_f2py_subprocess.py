# route: np.f2py.subprocess
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    np.f2py.subprocess.run(["id"])
    return image
