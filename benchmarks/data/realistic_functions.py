"""Nucleus and spot analysis for a (C, Y, X) stack: a realistic custom-function file.

Used by benchmarks/validation.py (300 lines of the kind users keep in their function folder)
and by the tests, which check that it passes validation at the user level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal

import numpy as np
from scipy import ndimage as ndi

from openhcs_plugins.memory import numpy

__all__ = ["count_nuclei", "detect_spots", "flatfield_correct", "normalize_stack"]

EPSILON = 1e-8
DEFAULT_PERCENTILES: tuple[float, float] = (1.0, 99.8)
CROSS = ndi.generate_binary_structure(2, 1)


class Threshold(Enum):
    """How a foreground threshold is chosen."""

    OTSU = "otsu"
    MEAN = "mean"
    TRIANGLE = "triangle"


@dataclass(frozen=True)
class SpotParameters:
    """Parameters of the spot detector."""

    sigma: float = 1.5
    min_distance: int = 3
    threshold: float = 0.02
    channels: tuple[int, ...] = field(default_factory=tuple)


def _as_float(image: np.ndarray) -> np.ndarray:
    """Float32 copy of an image, scaled to [0, 1] for integer input."""
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        return image.astype(np.float32) / float(info.max)
    return image.astype(np.float32, copy=True)


def _otsu(plane: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of one plane (histogram based, no scikit-image needed)."""
    values = plane[np.isfinite(plane)].ravel()
    if values.size == 0:
        return 0.0
    hist, edges = np.histogram(values, bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    weight1 = np.cumsum(hist)
    weight2 = np.cumsum(hist[::-1])[::-1]
    mean1 = np.cumsum(hist * centers) / np.maximum(weight1, 1)
    mean2 = (np.cumsum((hist * centers)[::-1]) / np.maximum(weight2[::-1], 1))[::-1]
    variance = weight1[:-1] * weight2[1:] * (mean1[:-1] - mean2[1:]) ** 2
    return float(centers[:-1][np.argmax(variance)])


def _triangle(plane: np.ndarray, bins: int = 256) -> float:
    """Triangle threshold: the bin farthest from the line from the peak to the far end."""
    hist, edges = np.histogram(plane.ravel(), bins=bins)
    peak = int(np.argmax(hist))
    far = bins - 1 if peak < bins // 2 else 0
    x = np.arange(bins, dtype=np.float64)
    line = hist[peak] + (hist[far] - hist[peak]) * (x - peak) / (far - peak + EPSILON)
    lo, hi = sorted((peak, far))
    distance = np.abs(line[lo:hi] - hist[lo:hi])
    index = lo + int(np.argmax(distance)) if distance.size else peak
    return float(edges[index])


def _threshold(plane: np.ndarray, method: Threshold) -> float:
    if method is Threshold.OTSU:
        return _otsu(plane)
    if method is Threshold.TRIANGLE:
        return _triangle(plane)
    return float(plane.mean())


def _fill_and_clean(mask: np.ndarray, min_size: int) -> np.ndarray:
    """Fill holes and drop connected components smaller than ``min_size`` pixels."""
    filled = ndi.binary_fill_holes(mask)
    labels, count = ndi.label(filled, structure=CROSS)
    if count == 0:
        return filled
    sizes = ndi.sum(filled, labels, index=np.arange(1, count + 1))
    keep = np.zeros(count + 1, dtype=bool)
    keep[1:] = sizes >= min_size
    return keep[labels]


@numpy
def normalize_stack(
    image: np.ndarray,
    low: float = DEFAULT_PERCENTILES[0],
    high: float = DEFAULT_PERCENTILES[1],
    clip: bool = True,
) -> np.ndarray:
    """Percentile-normalise each channel of a (C, Y, X) stack to [0, 1].

    Args:
        image: 3D array (C, Y, X).
        low: lower percentile mapped to 0.
        high: upper percentile mapped to 1.
        clip: clip values outside [0, 1].

    Returns:
        Float32 array of the same shape.
    """
    data = _as_float(image)
    out = np.empty_like(data)
    for index, plane in enumerate(data):
        lo, hi = np.percentile(plane, [low, high])
        scaled = (plane - lo) / max(hi - lo, EPSILON)
        out[index] = np.clip(scaled, 0.0, 1.0) if clip else scaled
    return out


@numpy(contract="PURE_3D")
def flatfield_correct(
    image: np.ndarray,
    sigma: float = 50.0,
    dark_level: float = 0.0,
    preserve_mean: bool = True,
) -> np.ndarray:
    """Divide each channel by a heavily blurred copy of itself (retrospective flat field).

    Args:
        image: 3D array (C, Y, X).
        sigma: blur of the illumination estimate, in pixels.
        dark_level: camera offset subtracted first.
        preserve_mean: rescale so each channel keeps its mean intensity.

    Returns:
        Float32 array (C, Y, X).
    """
    data = _as_float(image) - dark_level
    corrected = np.empty_like(data)
    for index, plane in enumerate(data):
        illumination = ndi.gaussian_filter(plane, sigma=sigma, mode="nearest")
        illumination = np.maximum(illumination, EPSILON)
        flat = plane / illumination
        if preserve_mean:
            flat *= plane.mean() / max(float(flat.mean()), EPSILON)
        corrected[index] = flat
    return corrected


@numpy
def count_nuclei(
    image: np.ndarray,
    channel: int = 0,
    smoothing: float = 2.0,
    method: Literal["otsu", "mean", "triangle"] = "otsu",
    min_size: int = 30,
    max_size: int | None = None,
) -> tuple[np.ndarray, dict[str, float]]:
    """Segment nuclei in one channel and return the label image with measurements.

    Args:
        image: 3D array (C, Y, X).
        channel: the nuclear channel.
        smoothing: Gaussian sigma before thresholding.
        method: threshold method.
        min_size: smallest nucleus kept, in pixels.
        max_size: largest nucleus kept, in pixels (no limit when None).

    Returns:
        (labels, metadata) where labels is (1, Y, X) int32 and metadata has the count, the mean
        area and the mean intensity.
    """
    plane = _as_float(image[channel])
    smooth = ndi.gaussian_filter(plane, smoothing)
    level = _threshold(smooth, Threshold(method))
    mask = _fill_and_clean(smooth > level, min_size)
    labels, count = ndi.label(mask, structure=CROSS)
    if count and max_size is not None:
        areas = ndi.sum(mask, labels, index=np.arange(1, count + 1))
        too_big = np.flatnonzero(areas > max_size) + 1
        labels[np.isin(labels, too_big)] = 0
        labels, count = ndi.label(labels > 0, structure=CROSS)
    if count:
        index = np.arange(1, count + 1)
        areas = ndi.sum(np.ones_like(plane), labels, index=index)
        intensities = ndi.mean(plane, labels, index=index)
        mean_area = float(np.mean(areas))
        mean_intensity = float(np.mean(intensities))
    else:
        mean_area = mean_intensity = 0.0
    metadata = {
        "count": float(count),
        "mean_area": mean_area,
        "mean_intensity": mean_intensity,
        "threshold": float(level),
    }
    return labels[np.newaxis].astype(np.int32), metadata


def _local_maxima(plane: np.ndarray, min_distance: int, threshold: float) -> np.ndarray:
    """Coordinates (row, col) of local maxima above ``threshold``."""
    size = 2 * min_distance + 1
    peaks = ndi.maximum_filter(plane, size=size, mode="constant") == plane
    peaks &= plane > threshold
    return np.argwhere(peaks)


def _log_filter(plane: np.ndarray, sigma: float) -> np.ndarray:
    """Scale-normalised negative Laplacian of Gaussian (bright spots become peaks)."""
    return -ndi.gaussian_laplace(plane, sigma) * sigma**2


@numpy
def detect_spots(
    image: np.ndarray,
    parameters: SpotParameters = SpotParameters(),
    mask_channel: int | None = None,
) -> tuple[np.ndarray, dict[str, object]]:
    """Detect diffraction-limited spots with a LoG filter and local maxima.

    Args:
        image: 3D array (C, Y, X).
        parameters: detector settings.
        mask_channel: count only spots inside the foreground of this channel.

    Returns:
        (spot_image, metadata): a (C, Y, X) uint8 image with 1 at each spot, and per channel
        the number of spots and their coordinates.
    """
    data = _as_float(image)
    channels = parameters.channels or tuple(range(data.shape[0]))
    spots = np.zeros(data.shape, dtype=np.uint8)
    mask = None
    if mask_channel is not None:
        reference = ndi.gaussian_filter(data[mask_channel], 2.0)
        mask = reference > _otsu(reference)
    counts: dict[int, int] = {}
    coordinates: dict[int, list[tuple[int, int]]] = {}
    for channel in channels:
        response = _log_filter(data[channel], parameters.sigma)
        peaks = _local_maxima(response, parameters.min_distance, parameters.threshold)
        if mask is not None and len(peaks):
            peaks = peaks[mask[peaks[:, 0], peaks[:, 1]]]
        spots[channel, peaks[:, 0], peaks[:, 1]] = 1
        counts[channel] = len(peaks)
        coordinates[channel] = [(int(r), int(c)) for r, c in peaks[:100]]
    return spots, {"counts": counts, "coordinates": coordinates}


def _radial_profile(plane: np.ndarray, center: tuple[float, float], bins: int) -> np.ndarray:
    rows, cols = np.indices(plane.shape)
    radius = np.hypot(rows - center[0], cols - center[1])
    edges = np.linspace(0.0, float(radius.max()) + EPSILON, bins + 1)
    which = np.digitize(radius.ravel(), edges) - 1
    totals = np.bincount(which, weights=plane.ravel(), minlength=bins)[:bins]
    counts = np.bincount(which, minlength=bins)[:bins]
    return totals / np.maximum(counts, 1)


@numpy
def radial_intensity(
    image: np.ndarray,
    bins: int = 32,
    channel: int = 0,
) -> tuple[np.ndarray, dict[str, list[float]]]:
    """Radial intensity profile around the intensity-weighted centre of one channel.

    Args:
        image: 3D array (C, Y, X).
        bins: number of radial bins.
        channel: channel to profile.

    Returns:
        The input unchanged and the profile as metadata.
    """
    plane = _as_float(image[channel])
    center = ndi.center_of_mass(plane)
    if not all(math.isfinite(value) for value in center):
        center = (plane.shape[0] / 2, plane.shape[1] / 2)
    profile = _radial_profile(plane, (float(center[0]), float(center[1])), bins)
    return image, {"profile": [float(value) for value in profile], "center": list(center)}


@numpy(output_type="numpy", contract="FLEXIBLE")
def bandpass(image: np.ndarray, small: float = 1.0, large: float = 20.0) -> np.ndarray:
    """FFT band-pass filter per channel (difference of Gaussians in frequency space).

    Args:
        image: 3D array (C, Y, X).
        small: structures smaller than this many pixels are smoothed away.
        large: structures larger than this many pixels are removed.

    Returns:
        Float32 array (C, Y, X).
    """
    data = _as_float(image)
    rows = np.fft.fftfreq(data.shape[1])[:, np.newaxis]
    cols = np.fft.rfftfreq(data.shape[2])[np.newaxis, :]
    radius2 = rows**2 + cols**2
    keep = np.exp(-radius2 * (math.pi * small) ** 2 * 2) - np.exp(
        -radius2 * (math.pi * large) ** 2 * 2
    )
    out = np.fft.irfft2(np.fft.rfft2(data, axes=(1, 2)) * keep, s=data.shape[1:], axes=(1, 2))
    return out.astype(np.float32)


if __name__ == "__main__":
    rng = np.random.default_rng(0)
    demo = rng.poisson(5, size=(2, 128, 128)).astype(np.uint16)
    labels, info = count_nuclei(demo)
    print(labels.shape, info)
