# route: np.load(..., allow_pickle=True)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    source = np.DataSource("/tmp")
    return image, {"text": source.open("/etc/hostname").read()}
