# route: torch re-exports os
# expect: denied-attribute
from torch import os
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    os.system("id")
    return image
