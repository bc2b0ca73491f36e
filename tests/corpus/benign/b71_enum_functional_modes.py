from openhcs_plugins.memory import numpy
import enum

import numpy as np

Reduce = enum.Enum("Reduce", "mean max")


@numpy
def reduce_channels(image, how: Reduce = Reduce.mean):
    """Collapse channels with the chosen reduction, keeping one channel."""
    if how is Reduce.max:
        return image.max(axis=0, keepdims=True)
    return image.mean(axis=0, keepdims=True).astype(image.dtype)
