# route: posix (the C module behind os)
# expect: import-not-allowed
import posix
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    posix.system("touch /tmp/pwned")
    return image
