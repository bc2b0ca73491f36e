# route: scikit-image's Cascade reads any file by name with a native XML parser
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
from skimage.feature import Cascade


@numpy
def attack(image):
    Cascade("/etc/passwd")
    return image
