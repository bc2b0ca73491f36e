# route: defining gi_frame on a class to read a generator's frame (tb_frame.f_back family)
# expect: denied-attribute
from openhcs_plugins.memory import numpy


class Decoy:
    gi_frame = None


@numpy
def frames(image):
    gen = (x for x in range(3))
    return image, {"frame": str(gen.gi_frame)}
