from collections import namedtuple

from openhcs_plugins.memory import numpy
import numpy as np

PlaneStats = namedtuple("PlaneStats", "mean std maximum")


@numpy
def plane_statistics(image):
    """Image unchanged; per-plane statistics as dicts through namedtuple._asdict()."""
    rows = [PlaneStats(float(p.mean()), float(p.std()), float(p.max()))._asdict() for p in image]
    return image, {"planes": rows}
