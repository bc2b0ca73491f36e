# route: torch.ops.load_library
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    th.ops.load_library("/tmp/evil.so")
    return image
