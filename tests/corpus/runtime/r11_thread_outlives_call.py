# route: thread outliving the call
# expect: LeftoverActivity
# The call returns at once; a thread keeps running and acts later.
import threading
import time

from openhcs_plugins.memory import numpy


def _later(marker):
    time.sleep(0.5)
    open(marker, "w").close()


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    threading.Thread(target=_later, args=(marker,), daemon=True).start()
    return image
