from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def fft_bandpass(image, low_cutoff: float = 0.01, high_cutoff: float = 0.25):
    """Keep spatial frequencies between the two cutoffs (cycles per pixel)."""
    fy = np.fft.fftfreq(image.shape[1])[:, None]
    fx = np.fft.fftfreq(image.shape[2])[None, :]
    radius = np.sqrt(fy**2 + fx**2)
    keep = (radius >= low_cutoff) & (radius <= high_cutoff)
    spectrum = np.fft.fft2(image, axes=(1, 2))
    return np.real(np.fft.ifft2(spectrum * keep, axes=(1, 2))).astype(np.float32)
