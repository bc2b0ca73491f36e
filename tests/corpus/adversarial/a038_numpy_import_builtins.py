# route: from numpy import __builtins__
# expect: underscore-attribute
from numpy import __builtins__ as b
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return b["eval"]("1")
