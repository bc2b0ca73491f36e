# route: torch.load with weights_only=False
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import torch as th
    model = th.load("/tmp/model.pt", weights_only=False)
    return image, {"model": str(model)}
