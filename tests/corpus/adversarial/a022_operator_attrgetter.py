# route: operator.attrgetter on a dotted string
# expect: import-not-allowed, denied-attribute
import operator
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    walk = operator.attrgetter("__globals__")
    return walk(process)["__builtins__"]
