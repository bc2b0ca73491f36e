# route: string annotations run when a host calls typing.get_type_hints (alias made at run time)
# expect: denied-builtin
import typing
from openhcs_plugins.memory import numpy
import numpy as np


Levels = list


def configure():
    global Levels
    Levels = typing.List["__import__('os').system('id')"]


@numpy
def process(image, levels: Levels = ()):
    configure()
    return image
