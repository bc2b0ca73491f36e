# route: pickle payload in the result
# expect: ResultRejected
# Unpickling this result in the caller would run _payload there (__reduce__).
import os

from openhcs_plugins.memory import numpy


def _payload(marker, host_pid):
    if os.getpid() == host_pid:  # only a run in the caller's process counts
        open(marker, "w").close()
    return "payload"


class Payload:
    def __init__(self, marker, host_pid):
        self.marker = marker
        self.host_pid = host_pid

    def __reduce__(self):
        return (_payload, (self.marker, self.host_pid))


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    return image, {"measurements": Payload(marker, host_pid)}
