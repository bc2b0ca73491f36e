# route: string annotations run when a host calls typing.get_type_hints
# expect: underscore-attribute
from typing import List
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image, levels: List["image.__class__.__base__"] = ()):
    return image
