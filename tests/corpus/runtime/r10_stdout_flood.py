# route: stdout flood
# expect: OutputFlood
# 400 MB to stdout: captured without a cap, it would fill the caller's memory.
import sys

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    line = "x" * 1_000_000 + "\n"
    for _ in range(400):
        sys.stdout.write(line)
    sys.stdout.flush()
    open(marker, "w").close()
    return image
