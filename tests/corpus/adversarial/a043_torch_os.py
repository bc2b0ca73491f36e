# route: torch re-exports os
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    th.os.system("id")
    return image
