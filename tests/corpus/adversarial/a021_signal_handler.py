# route: signal
# expect: import-not-allowed
import signal
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    return image
