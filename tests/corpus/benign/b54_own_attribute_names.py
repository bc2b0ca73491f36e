from openhcs_plugins.memory import numpy
import numpy as np


class SegmentationResult:
    """A result object whose attribute names only look like I/O (issue 13)."""

    def __init__(self, mask):
        self.mask = mask
        self.save_mask = True
        self.loadings = []
        self.site = "A01"


@numpy
def threshold_with_report(image, level: float = 50.0):
    """Mask above a level; the report's attribute names are the user's own."""
    result = SegmentationResult(image > level)
    result.loadings.append(float(result.mask.mean()))
    if result.save_mask:
        return image * result.mask, {"site": result.site, "fraction": result.loadings[0]}
    return image, {"site": result.site}
