# route: an Enum functional member named like a dunder becomes a class attribute numpy reads
# expect: enum-functional
import enum

from openhcs_plugins.memory import numpy


@numpy
def attack(image):
    forged = enum.Enum("Forged", [("__array_interface__", 1), ("b", 2)])
    return image, {"x": forged}
