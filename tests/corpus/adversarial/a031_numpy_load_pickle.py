# route: np.load(..., allow_pickle=True)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    payload = np.load("/tmp/payload.npy", allow_pickle=True)
    return image, {"payload": payload}
