# route: __import__ and friends by call
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    exec(compile(open("/tmp/payload.py").read(), "x", "exec"))
    return image
