# route: functools.reduce(getattr, ...)
# expect: denied-builtin
import functools
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    path = ["__class__", "__base__", "__subclasses__"]
    return functools.reduce(getattr, path, image)()
