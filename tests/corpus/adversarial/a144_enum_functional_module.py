# route: the Enum functional API naming another module (module=/qualname=) as the enum's home
# expect: enum-functional
import enum

from openhcs_plugins.memory import numpy


@numpy
def attack(image):
    enum.Enum("ndarray", "a b", module="numpy", qualname="ndarray")
    return image
