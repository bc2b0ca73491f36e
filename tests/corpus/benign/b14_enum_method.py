from enum import Enum

from openhcs_plugins.memory import numpy
import numpy as np


class Projection(Enum):
    """Projection methods."""

    MAX = "max"
    MEAN = "mean"
    SUM = "sum"
    STD = "std"


_REDUCERS = {
    Projection.MAX: np.max,
    Projection.MEAN: np.mean,
    Projection.SUM: np.sum,
    Projection.STD: np.std,
}


@numpy
def project(image, method: Projection = Projection.MAX):
    """Project the stack along axis 0 with the chosen method."""
    reducer = _REDUCERS[Projection(method)]
    return reducer(image, axis=0, keepdims=True).astype(np.float32)
