# route: scikit-image's is_installed imports any module by name (running its top-level code)
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
from skimage.util import is_installed


@numpy
def attack(image):
    is_installed("antigravity")
    return image
