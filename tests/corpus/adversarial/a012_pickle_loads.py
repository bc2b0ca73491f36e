# route: pickle
# expect: import-not-allowed, denied-attribute
import pickle
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    pickle.loads(b"cos\nsystem\n(S'id'\ntR.")
    return image
