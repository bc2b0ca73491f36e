from enum import Enum

from openhcs_plugins.memory import numpy
import numpy as np


class Projection(Enum):
    MAX = "max"
    MEAN = "mean"
    SUM = "sum"


@numpy(contract="FLEXIBLE")
def project_stack(image, method: str = Projection.MAX.value):
    """Project the stack along its first axis (max, mean or sum), keeping a (1, Y, X) stack."""
    chosen = Projection(method)
    if chosen is Projection.MAX:
        plane = image.max(axis=0)
    elif chosen is Projection.MEAN:
        plane = image.mean(axis=0)
    else:
        plane = image.sum(axis=0)
    return plane[np.newaxis].astype(np.float32)
