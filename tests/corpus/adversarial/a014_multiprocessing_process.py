# route: multiprocessing
# expect: import-not-allowed
import multiprocessing
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    multiprocessing.Process(target=print, args=("escaped",)).start()
    return image
