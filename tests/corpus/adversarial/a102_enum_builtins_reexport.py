# route: builtins (re-exported by enum as bltns)
# expect: denied-attribute
import enum
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return enum.bltns.eval("1")
