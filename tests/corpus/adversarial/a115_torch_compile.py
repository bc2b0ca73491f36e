# route: torch.load / torch.ops.load_library (torch.compile runs a compiler process)
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    return th.compile(lambda x: x * 2)(image)
