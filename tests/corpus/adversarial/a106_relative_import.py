# route: importlib (relative imports reach host packages)
# expect: import-not-allowed
from . import registry
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image
