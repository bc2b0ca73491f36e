from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def describe_intensity(image, precision: int = 2):
    """Image unchanged; a readable summary per channel in the metadata."""
    lines = []
    for index, plane in enumerate(image):
        mean = float(plane.mean())
        lines.append("channel {}: mean {:.{}f}".format(index, mean, precision))
        lines.append(f"channel {index}: max {float(plane.max()):.{precision}f}")
    return image, {"summary": "\n".join(lines), "shape": "{0}x{1}x{2}".format(*image.shape)}
