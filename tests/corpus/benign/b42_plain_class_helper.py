from openhcs_plugins.memory import numpy
import numpy as np


class RunningStats:
    """Welford's running mean and variance over planes."""

    def __init__(self):
        self.count = 0
        self.mean = None
        self.m2 = None

    def update(self, plane):
        plane = plane.astype(np.float64)
        self.count += 1
        if self.mean is None:
            self.mean = np.zeros_like(plane)
            self.m2 = np.zeros_like(plane)
        delta = plane - self.mean
        self.mean += delta / self.count
        self.m2 += delta * (plane - self.mean)

    @property
    def variance(self):
        return self.m2 / max(self.count - 1, 1)

    def __len__(self):
        return self.count

    def __repr__(self):
        return f"{type(self).__name__}(count={self.count})"


@numpy
def temporal_variance(image):
    """Per-pixel variance over the first axis, as (1, Y, X)."""
    stats = RunningStats()
    for plane in image:
        stats.update(plane)
    return stats.variance[np.newaxis].astype(np.float32), {"planes": len(stats)}
