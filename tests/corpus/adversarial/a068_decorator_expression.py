# route: decorator expressions run at definition time
# expect: decorator-not-allowed
from openhcs_plugins.memory import numpy
import numpy as np


@(lambda f: f)
@numpy
def process(image):
    return image
