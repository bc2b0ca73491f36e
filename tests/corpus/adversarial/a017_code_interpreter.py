# route: code
# expect: import-not-allowed
import code
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    code.InteractiveInterpreter().runsource("import os; os.system('id')")
    return image
