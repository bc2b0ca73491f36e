from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage
from skimage.feature import peak_local_max
from skimage.segmentation import watershed


@numpy
def split_touching_cells(image, min_distance: int = 5):
    """Distance-transform watershed on a thresholded stack: a label image per plane."""
    labels_out = np.zeros(image.shape, dtype=np.float32)
    counts = []
    for index, plane in enumerate(image):
        mask = plane > plane.mean()
        distance = ndimage.distance_transform_edt(mask)
        peaks = peak_local_max(distance, min_distance=min_distance, labels=mask.astype(int))
        markers = np.zeros(plane.shape, dtype=np.int32)
        for number, (row, col) in enumerate(peaks, start=1):
            markers[row, col] = number
        labels = watershed(-distance, markers, mask=mask)
        labels_out[index] = labels
        counts.append(int(labels.max()))
    return labels_out, {"cells": counts}
