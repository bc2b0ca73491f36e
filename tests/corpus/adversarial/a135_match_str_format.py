# route: a match class pattern hands out str.format (case str(format=f))
# expect: denied-attribute
from openhcs_plugins.memory import numpy


@numpy
def attack(image):
    match 'x':
        case str(format=fmt):
            return fmt('{0.__class__}', image)
    return image
