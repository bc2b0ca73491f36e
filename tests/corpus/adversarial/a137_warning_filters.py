# route: warning filters changed for the whole host
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import warnings


@numpy
def attack(image):
    warnings.simplefilter('ignore')
    return image
