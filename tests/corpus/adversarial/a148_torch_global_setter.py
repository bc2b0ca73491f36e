# route: torch's process-wide setters change every later torch function in the host
# expect: import-not-allowed
import torch

from openhcs_plugins.memory import torch as torch_function


@torch_function
def attack(image):
    torch.set_default_dtype(torch.float64)
    return image
