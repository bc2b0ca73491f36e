# route: builtins, importlib (re-exported by dataclasses.sys)
# expect: denied-attribute
import dataclasses
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return dataclasses.sys.modules["os"].system("id")
