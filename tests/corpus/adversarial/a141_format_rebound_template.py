# route: a module-level template rebound to a field that reads attributes ("{0.__globals__}")
# expect: format-attribute
from openhcs_plugins.memory import numpy

TEMPLATE = "{0}"


@numpy
def attack(image, TEMPLATE="{0.__globals__}"):
    return image, {"leak": TEMPLATE.format(attack)}
