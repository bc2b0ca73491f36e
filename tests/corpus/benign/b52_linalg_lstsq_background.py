from openhcs_plugins.memory import numpy
import numpy as np


def _plane_fit(plane):
    rows, cols = np.indices(plane.shape)
    design = np.column_stack([rows.ravel(), cols.ravel(), np.ones(plane.size)])
    coefficients, *_ = np.linalg.lstsq(design, plane.ravel().astype(np.float64), rcond=None)
    return (design @ coefficients).reshape(plane.shape), coefficients


@numpy
def remove_gradient(image):
    """Fit and subtract a linear intensity ramp per channel (np.linalg.lstsq)."""
    out = np.empty(image.shape, dtype=np.float32)
    slopes = []
    for index, plane in enumerate(image):
        fitted, coefficients = _plane_fit(plane)
        out[index] = plane - fitted
        slopes.append([float(coefficients[0]), float(coefficients[1])])
    return out, {"slopes": slopes}
