# route: scipy.fft's backend replaced for the whole host
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import scipy.fft


@numpy
def attack(image):
    scipy.fft.set_global_backend('scipy', only=True)
    return image
