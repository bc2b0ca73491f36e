from openhcs.core.memory import numpy
import numpy as np


@numpy
def square_root(image):
    """Square-root transform (variance stabilisation for Poisson noise)."""
    return np.sqrt(np.maximum(image.astype(np.float32), 0))
