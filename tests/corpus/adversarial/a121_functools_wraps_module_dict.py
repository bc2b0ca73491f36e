# route: functools.wraps(module)(obj): the __dict__ update hands a module namespace to __getattr__
# expect: denied-attribute, import-not-allowed
from openhcs_plugins.memory import numpy
import functools
import numpy as np


class Sink:
    __slots__ = ()

    def __getattr__(self, name):
        return Taker()

    def __setattr__(self, name, value):
        return None


class Taker:
    found = []

    def update(self, other):
        Taker.found.append(other)


@numpy
def process(image):
    functools.wraps(np)(Sink())
    namespace = Taker.found[0]
    builtins_dict = namespace["_" * 2 + "builtins" + "_" * 2]
    builtins_dict["_" * 2 + "import" + "_" * 2]("subprocess").run(["touch", "/tmp/pwned"])
    return image
