# route: operator.attrgetter on a dotted string
# expect: denied-attribute
import typing
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    getter = typing.operator.attrgetter("__class__.__base__")
    return getter(image)
