# route: class bodies run at definition time
# expect: denied-builtin, class-statement
from openhcs_plugins.memory import numpy
import numpy as np


class Settings:
    value = __import__("os").getenv("HOME")
    print("class body runs at import")


@numpy
def process(image):
    return image
