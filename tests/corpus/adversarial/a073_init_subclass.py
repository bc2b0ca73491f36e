# route: __init_subclass__ runs when a subclass is defined
# expect: class-hook
from openhcs_plugins.memory import numpy
import numpy as np


class Base:
    def __init_subclass__(cls, **kwargs):
        cls.registry = kwargs


class Child(Base):
    pass


@numpy
def process(image):
    return image
