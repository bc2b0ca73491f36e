# route: string annotations run when a host calls typing.get_type_hints (through a generic alias)
# expect: denied-builtin
from typing import List
from openhcs_plugins.memory import numpy
import numpy as np


Levels = List["__import__('os').system('id')"]


@numpy
def process(image, levels: Levels = ()):
    return image
