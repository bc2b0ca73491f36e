# route: ndarray subclass in the result
# expect: plain ndarray
# Arithmetic on this result in the caller would run its methods there (__array_ufunc__,
# __array_finalize__, __add__, __del__).
import os

import numpy as np

from openhcs_plugins.memory import numpy


class Payload(np.ndarray):
    def _mark(self):
        if os.getpid() == getattr(self, "host_pid", -1):  # only the caller's process counts
            open(self.marker, "w").close()

    def __array_finalize__(self, obj):
        self.marker = getattr(obj, "marker", "")
        self.host_pid = getattr(obj, "host_pid", -1)
        self._mark()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        self._mark()
        plain = [np.asarray(x).view(np.ndarray) if isinstance(x, np.ndarray) else x for x in inputs]
        return getattr(ufunc, method)(*plain, **kwargs)

    def __add__(self, other):
        self._mark()
        return np.add(np.asarray(self), other)

    def __reduce__(self):
        self._mark()
        return super().__reduce__()


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    result = np.array(image).view(Payload)
    result.marker = marker
    result.host_pid = host_pid
    return result
