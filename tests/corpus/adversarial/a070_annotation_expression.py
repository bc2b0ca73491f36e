# route: annotations run at definition time
# expect: denied-builtin, module-statement
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image: __import__("os").getcwd()):
    return image
