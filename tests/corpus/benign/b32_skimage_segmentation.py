"""Watershed segmentation with scikit-image processing modules."""

from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi
from skimage import filters, measure, morphology, segmentation
from skimage.feature import peak_local_max


@numpy
def watershed_nuclei(image, channel: int = 0, min_size: int = 20, min_distance: int = 5):
    """Otsu mask, distance transform, seeded watershed; the count goes into the metadata."""
    plane = filters.gaussian(image[channel], sigma=1)
    mask = plane > filters.threshold_otsu(plane)
    mask = morphology.remove_small_objects(mask, min_size=min_size)
    distance = ndi.distance_transform_edt(mask)
    peaks = peak_local_max(distance, min_distance=min_distance, labels=measure.label(mask))
    markers = np.zeros(mask.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    labels = segmentation.watershed(-distance, markers, mask=mask)
    return labels[np.newaxis], {"count": int(labels.max())}
