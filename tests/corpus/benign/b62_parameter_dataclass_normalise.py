from dataclasses import dataclass, field

from openhcs_plugins.memory import numpy
import numpy as np


@dataclass(frozen=True)
class Percentiles:
    low: float = 1.0
    high: float = 99.8
    clip: bool = True
    tags: tuple = field(default=("normalised",))


DEFAULTS = Percentiles()


@numpy
def normalise_percentiles(image, low: float = DEFAULTS.low, high: float = DEFAULTS.high):
    """Scale each plane so its low/high percentiles map to 0 and 1."""
    settings = Percentiles(low, high)
    lo = np.percentile(image, settings.low, axis=(1, 2), keepdims=True)
    hi = np.percentile(image, settings.high, axis=(1, 2), keepdims=True)
    out = (image - lo) / np.maximum(hi - lo, 1e-6)
    if settings.clip:
        out = np.clip(out, 0.0, 1.0)
    return out.astype(np.float32)
