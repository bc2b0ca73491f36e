# route: __set_name__ runs at class creation
# expect: class-hook
from openhcs_plugins.memory import numpy
import numpy as np


class Hook:
    def __set_name__(self, owner, name):
        self.owner = owner


class Holder:
    field = Hook()


@numpy
def process(image):
    return image
