# route: setattr on shared modules (host modules)
# expect: import-not-allowed
from openhcs_plugins import registry
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    registry.get_default_registry().clear()
    return image
