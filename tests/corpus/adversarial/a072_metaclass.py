# route: metaclasses run at class creation
# expect: class-hook
from openhcs_plugins.memory import numpy
import numpy as np


class Meta(type):
    def __new__(mcs, name, bases, namespace):
        return super().__new__(mcs, name, bases, namespace)


class Plugin(metaclass=Meta):
    pass


@numpy
def process(image):
    return image
