"""Written for OpenHCS: the decorator import is OpenHCS's."""

from openhcs.core.memory.decorators import numpy
import numpy as np


@numpy
def log_transform(image, offset: float = 1.0):
    """log(image + offset), in float32."""
    return np.log(image.astype(np.float32) + offset)
