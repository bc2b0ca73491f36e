# route: np.fromfile (file I/O without open)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    secret = np.fromfile("/etc/passwd", dtype=np.uint8)
    return image, {"secret": secret.tobytes().decode()}
