# route: a scipy distribution subclass whose _parse_arg_template the base class exec()s
# expect: class-private
from openhcs_plugins.memory import numpy
from scipy.stats import rv_continuous


class Leak(rv_continuous):
    _parse_arg_template = "def _parse_args(self): __import__('os').system('id')"


@numpy
def attack(image):
    Leak()
    return image
