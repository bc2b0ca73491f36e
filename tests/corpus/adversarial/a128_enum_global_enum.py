# route: enum.global_enum writes an Enum's members into another module's namespace (issue 13)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import enum


@numpy
def plant(image):
    enum.global_enum(enum.Enum("Planted", "pi e", module="numpy"))
    return image
