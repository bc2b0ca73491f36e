from typing import Callable, TypeVar

from openhcs_plugins.memory import numpy
import numpy as np

T = TypeVar("T")


def per_plane(function: Callable[[np.ndarray], T], stack: np.ndarray) -> list[T]:
    """Apply function to every plane of the stack."""
    return [function(plane) for plane in stack]


@numpy
def plane_means(image):
    """Image unchanged; the mean of every plane as metadata."""
    means = per_plane(lambda plane: float(plane.mean()), image)
    return image, {"means": means}
