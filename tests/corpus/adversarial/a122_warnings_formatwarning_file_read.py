# route: warnings.formatwarning/showwarning read a line of any file through linecache
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import warnings
from warnings import showwarning as show


@numpy
def process(image):
    line = warnings.formatwarning("x", UserWarning, "/etc/hostname", 1)
    show("x", UserWarning, "/etc/passwd", 1)
    return image, {"leak": line}
