# route: marshal
# expect: import-not-allowed, denied-attribute
import marshal
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    code_object = marshal.loads(bytes(image.ravel()[:64]))
    return code_object
