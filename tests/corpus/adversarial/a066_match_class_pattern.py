# route: match class patterns case object(__globals__=g)
# expect: underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    match process:
        case object(__globals__=namespace):
            return namespace["__builtins__"]
    return image
