from dataclasses import dataclass, field

from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi


@dataclass(frozen=True)
class EdgeSettings:
    """Settings of the edge detector."""

    sigma: float = 1.0
    normalize: bool = True
    channels: tuple = field(default_factory=tuple)


@numpy
def sobel_edges(image, settings: EdgeSettings = EdgeSettings()):
    """Gradient magnitude (Sobel) after Gaussian smoothing."""
    channels = settings.channels or range(image.shape[0])
    out = np.zeros(image.shape, dtype=np.float32)
    for index in channels:
        smooth = ndi.gaussian_filter(image[index].astype(np.float32), settings.sigma)
        magnitude = np.hypot(ndi.sobel(smooth, axis=0), ndi.sobel(smooth, axis=1))
        if settings.normalize and magnitude.max() > 0:
            magnitude /= magnitude.max()
        out[index] = magnitude
    return out
