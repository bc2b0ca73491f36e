# route: torch re-exports importlib
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    th.importlib.import_module("os").system("id")
    return image
