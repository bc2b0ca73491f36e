# route: torch.cuda.gds.GdsFile is os.open with caller flags (creates or truncates any file)
# expect: denied-attribute
from openhcs_plugins.memory import numpy
import torch


@numpy
def process(image):
    try:
        torch.cuda.gds.GdsFile("/tmp/pwned", 0o1102)  # O_CREAT | O_RDWR | O_TRUNC
    except RuntimeError:
        pass
    return image
