# route: io
# expect: import-not-allowed, denied-attribute
import io
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    with io.open("/etc/passwd") as handle:
        handle.read()
    return image
