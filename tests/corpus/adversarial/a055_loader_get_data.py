# route: __loader__.get_data(path)
# expect: dunder-name
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image, {"secret": __loader__.get_data("/etc/passwd")}
