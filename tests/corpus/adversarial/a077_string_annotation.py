# route: string annotations run when a host calls typing.get_type_hints
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image, level: "__import__('os').system('id')" = 1):
    return image
