"""Otsu threshold written with numpy only."""

from openhcs_plugins.memory import numpy
import numpy as np


def otsu_threshold(values, bins=256):
    hist, edges = np.histogram(values.ravel(), bins=bins)
    centers = (edges[:-1] + edges[1:]) / 2
    w1 = np.cumsum(hist)
    w2 = np.cumsum(hist[::-1])[::-1]
    m1 = np.cumsum(hist * centers) / np.maximum(w1, 1)
    m2 = (np.cumsum((hist * centers)[::-1]) / np.maximum(w2[::-1], 1))[::-1]
    between = w1[:-1] * w2[1:] * (m1[:-1] - m2[1:]) ** 2
    return centers[:-1][np.argmax(between)]


@numpy
def otsu_mask(image):
    """Binary mask per channel using Otsu's threshold, returned as uint8."""
    masks = [(plane > otsu_threshold(plane)).astype(np.uint8) for plane in image]
    return np.stack(masks)
