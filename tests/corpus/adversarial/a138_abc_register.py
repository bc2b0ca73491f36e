# route: an ABC registry changed for the whole host (Sequence.register(dict))
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import collections.abc


@numpy
def attack(image):
    collections.abc.Sequence.register(dict)
    return image
