# route: "{0.__globals__}".format(f)
# expect: format-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    template = "{f.__globals__[__builtins__]}"
    return image, {"leak": template.format_map({"f": process})}
