# route: catastrophic regex
# expect: WorkerCPULimit
# Exponential backtracking inside the C regex engine.
import re

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    re.match(r"^(a+)+$", "a" * 64 + "!")
    open(marker, "w").close()
    return image
