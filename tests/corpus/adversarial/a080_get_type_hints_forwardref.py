# route: string annotations run when a host calls typing.get_type_hints
# expect: denied-attribute
import typing
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    reference = typing.ForwardRef("__imp" + "ort__('os')")
    return image, {"hints": typing.get_type_hints(reference)}
