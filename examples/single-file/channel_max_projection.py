"""Maximum intensity projection over the first axis (channels or Z planes).

A single-file function for the openhcs-plugins functions folder. Add it with
``openhcs-plugins add channel_max_projection.py``; it is then ``openhcs:channel_max_projection``.
"""

import numpy as np

from openhcs_plugins.decorators import numpy as numpy_function


# PURE_3D: the function needs the whole stack at once (it must not be run plane by plane).
@numpy_function(contract="PURE_3D")
def channel_max_projection(image, keep_index: bool = False):
    """Project a (C, Y, X) stack to (1, Y, X) by taking each pixel's maximum over C.

    Args:
        image: (C, Y, X) stack: channels, or the Z planes of one channel.
        keep_index: Also return, as a second plane, the index of the plane each maximum came
            from (the result is then (2, Y, X)).

    Returns:
        Stack (1, Y, X) of the input's dtype, or (2, Y, X) with ``keep_index``.
    """
    stack = np.asarray(image)
    projection = stack.max(axis=0, keepdims=True)
    if not keep_index:
        return projection
    index = stack.argmax(axis=0)[None].astype(stack.dtype)
    return np.concatenate([projection, index], axis=0)
