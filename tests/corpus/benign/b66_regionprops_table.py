from openhcs_plugins.memory import numpy
import numpy as np
from skimage.measure import label, regionprops_table

COLUMNS = ("label", "area", "centroid", "eccentricity", "mean_intensity")


@numpy
def measure_objects(image, threshold: float = 50.0):
    """Objects above a threshold in the first channel, measured on every channel."""
    labels = label(image[0] > threshold)
    tables = []
    for plane in image:
        table = regionprops_table(labels, intensity_image=plane, properties=COLUMNS)
        tables.append({key: [float(v) for v in values] for key, values in table.items()})
    return image, {"measurements": tables, "objects": int(labels.max())}
