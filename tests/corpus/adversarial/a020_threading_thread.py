# route: threading
# expect: import-not-allowed
import threading
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    threading.Thread(target=lambda: None, daemon=True).start()
    return image
