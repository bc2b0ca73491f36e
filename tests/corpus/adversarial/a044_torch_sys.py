# route: torch re-exports sys
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    th.sys.modules.clear()
    return image
