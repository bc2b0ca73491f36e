# route: segfaults from `as_strided` (through a module alias of numpy.lib.stride_tricks)
# expect: denied-attribute
import numpy as np
import numpy.lib.stride_tricks as st

from openhcs_plugins.memory import numpy


@numpy
def poke(image):
    raw = np.zeros(1, dtype=np.uint8)
    st.as_strided(raw, shape=(1 << 20,), strides=(1,))[:] = 0
    return image
