"""Channel registration by phase correlation; the shifts go into the metadata."""

from openhcs_plugins.memory import numpy
import numpy as np
from scipy.ndimage import shift as nd_shift


def _phase_shift(reference, moving):
    cross = np.fft.fft2(reference) * np.conj(np.fft.fft2(moving))
    cross /= np.maximum(np.abs(cross), 1e-12)
    correlation = np.fft.ifft2(cross).real
    peak = np.unravel_index(np.argmax(correlation), correlation.shape)
    return tuple(p if p <= s // 2 else p - s for p, s in zip(peak, correlation.shape))


@numpy
def align_channels(image, reference_channel: int = 0):
    """Shift every channel onto the reference channel."""
    reference = image[reference_channel]
    aligned = np.empty_like(image, dtype=np.float32)
    shifts = []
    for index, plane in enumerate(image):
        dy, dx = _phase_shift(reference, plane)
        shifts.append([int(dy), int(dx)])
        aligned[index] = nd_shift(plane.astype(np.float32), (dy, dx), order=1)
    return aligned, {"shifts": shifts}
