# route: __reduce__ runs code where the object is unpickled
# expect: class-hook
from openhcs_plugins.memory import numpy
import numpy as np


class Payload:
    def __reduce__(self):
        return (print, ("unpickled",))


@numpy
def process(image):
    return image, {"payload": Payload()}
