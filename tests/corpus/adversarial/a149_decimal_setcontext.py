# route: decimal.setcontext replaces the thread's decimal context for the host
# expect: import-not-allowed
import decimal

from openhcs_plugins.memory import numpy


@numpy
def attack(image):
    decimal.setcontext(decimal.Context(prec=1))
    return image
