# route: pathlib
# expect: import-not-allowed
from pathlib import Path
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    Path("/tmp/marker").write_text("written")
    return image
