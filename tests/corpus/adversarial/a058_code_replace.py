# route: __code__.replace(co_names=...)
# expect: underscore-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    code = process.__code__.replace(co_names=("system",))
    return code
