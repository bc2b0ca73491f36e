"""Image-processing functions of lab_filters_numpy.

Every function here that carries a memory-type decorator is registered through the
``openhcs.functions`` entry point in pyproject.toml, under the key
``lab_filters:<function name>``. The first parameter is always ``image``, a
(C, Y, X) stack; give every other parameter a default and describe it in the docstring.

The functions work channel by channel (each ``image[c]`` is one 2D plane) and return float32
stacks, except :func:`threshold_otsu`, which returns a uint8 mask and its measurements.
"""

import numpy as np
from openhcs_plugins.memory import numpy
from scipy import ndimage as ndi

BACKGROUND_METHODS = ("opening", "box")


def _disk(radius: int) -> np.ndarray:
    """A boolean disk footprint of the given radius (pixels)."""
    y, x = np.ogrid[-radius : radius + 1, -radius : radius + 1]
    return x * x + y * y <= radius * radius


@numpy
def subtract_background(image, radius: int = 25, method: str = "opening"):
    """Remove slowly varying background (uneven illumination, autofluorescence).

    Args:
        image: The input stack, a 3D numpy array (C, Y, X).
        radius: Size of the structures to keep, in pixels: objects smaller than about
            ``radius`` stay, larger bright areas are treated as background. Must be >= 1.
        method: ``"opening"`` (a morphological top-hat: the image minus its grey opening with
            a disk of ``radius``; exact, slower for large radii) or ``"box"`` (minus the mean
            over a square of side ``2 * radius + 1``; fast, softer).

    Returns:
        A float32 stack of the same shape, background-free, never negative.
    """
    if radius < 1:
        raise ValueError(f"radius must be >= 1 pixel, got {radius}")
    if method not in BACKGROUND_METHODS:
        raise ValueError(f"method must be one of {BACKGROUND_METHODS}, got {method!r}")
    stack = np.asarray(image, dtype=np.float32)
    result = np.empty_like(stack)
    footprint = _disk(int(radius)) if method == "opening" else None
    for channel, plane in enumerate(stack):
        if method == "opening":
            background = ndi.grey_opening(plane, footprint=footprint, mode="reflect")
        else:
            background = ndi.uniform_filter(plane, size=2 * int(radius) + 1, mode="reflect")
        result[channel] = np.maximum(plane - background, 0.0)
    return result


@numpy
def normalize_percentile(image, low: float = 1.0, high: float = 99.8, clip: bool = True):
    """Scale each channel so that its ``low`` and ``high`` percentiles become 0 and 1.

    Percentiles, unlike the minimum and maximum, ignore a few hot pixels, so stacks imaged
    with different exposures end up comparable.

    Args:
        image: The input stack, a 3D numpy array (C, Y, X).
        low: Lower percentile (0-100), mapped to 0.
        high: Upper percentile (0-100, above ``low``), mapped to 1.
        clip: Clip the result to [0, 1]; otherwise values outside the percentiles go below 0
            or above 1.

    Returns:
        A float32 stack of the same shape. A flat channel becomes all zeros.
    """
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"need 0 <= low < high <= 100, got low={low}, high={high}")
    stack = np.asarray(image, dtype=np.float32)
    result = np.empty_like(stack)
    for channel, plane in enumerate(stack):
        lo, hi = np.percentile(plane, (low, high))
        span = hi - lo
        result[channel] = (plane - lo) / span if span > 0 else 0.0
    if clip:
        np.clip(result, 0.0, 1.0, out=result)
    return result


@numpy
def gaussian_blur(image, sigma: float = 2.0, truncate: float = 4.0):
    """Blur each channel with a Gaussian (in Y and X only; channels are not mixed).

    Args:
        image: The input stack, a 3D numpy array (C, Y, X).
        sigma: Standard deviation of the Gaussian in pixels, > 0.
        truncate: The kernel is cut off at ``truncate * sigma`` pixels.

    Returns:
        A float32 stack of the same shape; the total intensity of each channel is kept.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0 pixels, got {sigma}")
    stack = np.asarray(image, dtype=np.float32)
    return ndi.gaussian_filter(stack, sigma=(0.0, sigma, sigma), truncate=truncate, mode="reflect")


def _otsu_level(plane: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold: the level that maximises the between-class variance."""
    lo, hi = float(plane.min()), float(plane.max())
    if hi <= lo:
        return lo
    counts, edges = np.histogram(plane, bins=bins, range=(lo, hi))
    centres = (edges[:-1] + edges[1:]) / 2
    weight_below = np.cumsum(counts)
    weight_above = weight_below[-1] - weight_below
    sum_below = np.cumsum(counts * centres)
    mean_below = sum_below / np.maximum(weight_below, 1)
    mean_above = (sum_below[-1] - sum_below) / np.maximum(weight_above, 1)
    between = weight_below * weight_above * (mean_below - mean_above) ** 2
    # A level at bin i puts the pixels of bins 0..i below it: threshold at the bin's upper edge.
    return float(edges[int(np.argmax(between)) + 1])


@numpy
def threshold_otsu(image, min_area: int = 0, factor: float = 1.0):
    """Segment each channel with Otsu's threshold and measure the objects found.

    Args:
        image: The input stack, a 3D numpy array (C, Y, X).
        min_area: Objects (8-connected) smaller than this many pixels are removed from the
            mask and not counted.
        factor: Multiplies each channel's Otsu level (above 1 is stricter, below 1 more
            permissive).

    Returns:
        ``(mask, measurements)``: a uint8 stack of the same shape (1 = object, 0 = background)
        and a dict with ``objects`` (count over all channels), ``area`` (object pixels),
        ``mean_area`` (pixels per object, 0.0 without objects), ``thresholds`` (the level
        used in each channel) and ``channels`` (``objects`` and ``area`` per channel).
    """
    if min_area < 0:
        raise ValueError(f"min_area must be >= 0 pixels, got {min_area}")
    stack = np.asarray(image, dtype=np.float32)
    mask = np.zeros(stack.shape, dtype=np.uint8)
    connectivity = np.ones((3, 3), dtype=bool)
    thresholds, channels = [], []
    for channel, plane in enumerate(stack):
        level = _otsu_level(plane) * factor
        labels, count = ndi.label(plane > level, structure=connectivity)
        areas = np.bincount(labels.ravel(), minlength=count + 1)[1:]
        keep = np.flatnonzero(areas >= max(min_area, 1)) + 1
        mask[channel] = np.isin(labels, keep)
        thresholds.append(level)
        channels.append({"objects": int(keep.size), "area": int(areas[keep - 1].sum())})
    objects = sum(c["objects"] for c in channels)
    area = sum(c["area"] for c in channels)
    measurements = {
        "objects": objects,
        "area": area,
        "mean_area": area / objects if objects else 0.0,
        "thresholds": thresholds,
        "channels": channels,
    }
    return mask, measurements
