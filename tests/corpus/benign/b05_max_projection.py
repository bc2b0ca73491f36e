from openhcs_plugins.memory import numpy
import numpy as np


@numpy(contract="PURE_3D")
def max_projection(image):
    """Maximum-intensity projection over the first axis, kept 3D as (1, Y, X)."""
    return np.max(image, axis=0, keepdims=True)
