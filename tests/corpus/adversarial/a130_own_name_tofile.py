# route: defining an attribute named like an I/O method to pass ndarray.tofile as the user's own
# expect: denied-attribute
from openhcs_plugins.memory import numpy


class Decoy:
    tofile = None


@numpy
def leak(image):
    image.tofile("/tmp/leaked.bin")
    return image
