# route: tracebacks/generators tb_frame.f_back
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    gen = (x for x in [1])
    outer = gen.gi_frame.f_back
    return outer.f_globals
