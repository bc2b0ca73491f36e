# route: globals(), vars() (builtins by reference)
# expect: denied-builtin
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    run = eval
    return run("image * 2")
