from openhcs_plugins.memory import numpy
import numpy as np
from scipy import ndimage as ndi


@numpy
def morphology_op(image, operation: str = "open", size: int = 3):
    """Grey morphology chosen by name: open, close, erode or dilate."""
    match operation:
        case "open":
            function = ndi.grey_opening
        case "close":
            function = ndi.grey_closing
        case "erode":
            function = ndi.grey_erosion
        case "dilate" | "dilation":
            function = ndi.grey_dilation
        case _:
            raise ValueError(f"unknown operation {operation!r}")
    return np.stack([function(plane, size=(size, size)) for plane in image])
