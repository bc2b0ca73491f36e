# route: aliasing a module (default argument, walrus, for, list) past the path check: torch.jit
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
import torch


@numpy
def process(image, lib=torch):
    first = lib.jit
    second = (alias := torch).jit
    for each in (torch,):
        third = each.jit
    fourth = [torch][0].jit
    return image, {"m": str((first, second, alias, third, fourth))}
