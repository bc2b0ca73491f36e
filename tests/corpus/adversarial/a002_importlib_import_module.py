# route: importlib
# expect: import-not-allowed
import importlib
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    importlib.import_module("subprocess").run(["id"])
    return image
