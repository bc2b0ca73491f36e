import copy
from dataclasses import dataclass, replace

from openhcs_plugins.memory import numpy
import numpy as np


@dataclass
class ClipRange:
    low: float = 0.0
    high: float = 1.0


DEFAULT_RANGE = ClipRange()


@numpy
def clip_range(image, clip: ClipRange = DEFAULT_RANGE, invert: bool = False):
    """Clip to a range; the default object is copied, never mutated."""
    limits = copy.deepcopy(clip)
    if invert:
        limits = replace(limits, low=-limits.high, high=-limits.low)
    return np.clip(image, limits.low, limits.high)
