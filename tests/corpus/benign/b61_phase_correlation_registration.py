from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage


def _shift_between(reference, moving):
    """Integer shift that aligns moving to reference, by phase correlation."""
    spectrum = np.fft.fft2(reference) * np.conj(np.fft.fft2(moving))
    spectrum /= np.abs(spectrum) + 1e-12
    correlation = np.abs(np.fft.ifft2(spectrum))
    peak = np.array(np.unravel_index(np.argmax(correlation), correlation.shape))
    size = np.array(correlation.shape)
    peak[peak > size // 2] -= size[peak > size // 2]
    return peak


@numpy
def register_channels(image):
    """Align every channel to the first by phase correlation; the shifts as metadata."""
    reference = image[0]
    out = [reference]
    shifts = [[0, 0]]
    for plane in image[1:]:
        shift = _shift_between(reference, plane)
        out.append(ndimage.shift(plane, shift, order=0, mode="nearest"))
        shifts.append([int(s) for s in shift])
    return np.stack(out), {"shifts": shifts}
