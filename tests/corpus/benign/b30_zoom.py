from openhcs_plugins.memory import numpy
import numpy as np
from scipy.ndimage import zoom


@numpy(contract="PURE_3D")
def downsample(image, factor: int = 2, order: int = 1):
    """Downsample Y and X by an integer factor with spline interpolation."""
    scaled = zoom(image.astype(np.float32), (1, 1 / factor, 1 / factor), order=order)
    return scaled, {"factor": factor, "shape": list(scaled.shape)}
