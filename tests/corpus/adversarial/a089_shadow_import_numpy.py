# route: a local def numpy(f) shadows the decorator
# expect: decorator
from openhcs_plugins.memory import numpy
import numpy


@numpy
def process(image):
    return numpy.asarray(image)
