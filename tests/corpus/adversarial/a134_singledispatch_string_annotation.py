# route: functools.singledispatch evaluates string annotations through typing.get_type_hints
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import functools


@numpy
def attack(image):
    dispatch = functools.singledispatch(len)
    dispatch.register(lambda value: 0)
    return image
