# route: identifiers are NFKC-normalised (fullwidth letters spell eval)
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return ｅｖａｌ("image * 2")
