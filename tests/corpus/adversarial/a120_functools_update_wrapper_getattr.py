# route: getattr through functools: update_wrapper(assigned=(name,)) reads any attribute by string
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import functools


class Grab:
    got = {}

    def __setattr__(self, name, value):
        Grab.got[name] = value


@numpy
def process(image):
    name = "_" * 2 + "globals" + "_" * 2
    functools.update_wrapper(Grab(), process, assigned=(name,), updated=())
    namespace = Grab.got[name]
    builtins_dict = namespace["_" * 2 + "builtins" + "_" * 2]
    builtins_dict["_" * 2 + "import" + "_" * 2]("subprocess").run(["touch", "/tmp/pwned"])
    return image
