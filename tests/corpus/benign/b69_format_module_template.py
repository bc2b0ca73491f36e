from openhcs_plugins.memory import numpy
import numpy as np

LABEL = "{channel}: mean {mean:.2f}, max {maximum:.1f}"


@numpy
def label_channels(image):
    """Image unchanged; one label per channel from a module-level template."""
    labels = [
        LABEL.format(channel=index, mean=float(plane.mean()), maximum=float(plane.max()))
        for index, plane in enumerate(image)
    ]
    return image, {"labels": labels}
