# route: grandchild process outliving the call (double fork)
# expect: LeftoverActivity
# The classic daemon escape: fork, setsid, fork again; the grandchild leaves the process group
# and is adopted by someone else, so killing the worker's process group misses it.
import os
import time

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    child = os.fork()
    if child == 0:
        os.setsid()
        if os.fork() == 0:
            time.sleep(0.5)
            open(marker, "w").close()
            os._exit(0)
        os._exit(0)
    os.waitpid(child, 0)
    return image
