"""String annotations with postponed evaluation."""

from __future__ import annotations

from openhcs_plugins.memory import numpy
import numpy as np


def _clip_to(array: np.ndarray, low: float, high: float) -> np.ndarray:
    return np.clip(array, low, high)


@numpy
def clip_intensities(image: np.ndarray, low: float = 0.0, high: "float | None" = None) -> "np.ndarray":
    """Clip to [low, high]; high defaults to the 99.9th percentile."""
    top = float(np.percentile(image, 99.9)) if high is None else high
    return _clip_to(image, low, top)
