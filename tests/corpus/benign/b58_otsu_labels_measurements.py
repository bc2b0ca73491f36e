from dataclasses import asdict, dataclass

from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage
from skimage.filters import threshold_otsu


@dataclass
class ObjectRow:
    label: int
    area: int
    mean_intensity: float


@numpy
def segment_nuclei(image, min_area: int = 20):
    """Otsu per plane, connected components, small objects removed; a row per object."""
    masks = np.zeros(image.shape, dtype=np.float32)
    rows = []
    for index, plane in enumerate(image):
        mask = plane > threshold_otsu(plane)
        labels, count = ndimage.label(mask)
        if count == 0:
            continue
        areas = ndimage.sum(mask, labels, index=np.arange(1, count + 1))
        means = ndimage.mean(plane, labels, index=np.arange(1, count + 1))
        for label, (area, mean) in enumerate(zip(areas, means), start=1):
            if area >= min_area:
                masks[index][labels == label] = 1.0
                rows.append(ObjectRow(label, int(area), float(mean)))
    return masks, {"objects": [asdict(row) for row in rows]}
