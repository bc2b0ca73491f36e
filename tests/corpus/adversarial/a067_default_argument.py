# route: default arguments run at definition time
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image, marker=__import__("os").system("touch /tmp/pwned")):
    return image
