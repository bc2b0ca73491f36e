# route: f.__globals__["__builtins__"]
# expect: underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    builtins_dict = process.__globals__["__builtins__"]
    return builtins_dict["eval"]("1")
