# route: __import__("o"+"s")
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    os_module = __import__("o" + "s")
    os_module.system("id")
    return image
