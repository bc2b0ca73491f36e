# route: re-exports through allowed modules: torch.nn.functional.torch.jit is torch.jit
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
import torch.nn.functional as F


@numpy
def process(image):
    compiled = F.torch.jit.CompilationUnit("def f(x: int) -> int:\n    return x\n")
    return image, {"m": str(compiled)}
