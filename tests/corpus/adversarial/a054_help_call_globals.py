# route: help.__call__.__globals__
# expect: denied-builtin, underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    globals_of_site = help.__call__.__globals__
    return globals_of_site["sys"]
