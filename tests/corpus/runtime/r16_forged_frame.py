# route: forged answer on the result pipe
# expect: ResultRejected
# The code writes its own protocol frame to the worker's result pipe, declaring a 48 GB
# float64 array; the caller must refuse it from its header, before allocating anything.
import json
import os
import struct
import time

from openhcs_plugins.memory import numpy


@numpy
def attack(image, marker: str = "", host_pid: int = 0):
    with open("/proc/self/cmdline", "rb") as handle:
        config = json.loads(handle.read().split(b"\0")[-2])
    header = json.dumps(
        {
            "op": "result",
            "value": {"$array": 0},
            "arrays": [{"dtype": "<f8", "shape": [6 << 30], "nbytes": 48 << 30}],
        }
    ).encode()
    os.write(config["response_fd"], b"OHW1" + struct.pack(">I", len(header)) + header)
    time.sleep(120)
    open(marker, "w").close()
    return image
