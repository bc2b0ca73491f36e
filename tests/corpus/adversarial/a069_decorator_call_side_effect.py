# route: decorator expressions run at definition time
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


def tag(value):
    return lambda f: f


@tag(open("/etc/passwd").read())
@numpy
def process(image):
    return image
