# route: identifiers are NFKC-normalised (fullwidth letters spell eval)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image.ｃｔｙｐｅｓ.data_as
