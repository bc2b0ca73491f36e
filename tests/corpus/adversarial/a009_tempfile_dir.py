# route: tempfile
# expect: import-not-allowed
import tempfile
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    tempfile.mkdtemp(dir="/tmp")
    return image
