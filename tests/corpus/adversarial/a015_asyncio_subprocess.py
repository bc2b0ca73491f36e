# route: asyncio
# expect: import-not-allowed
import asyncio
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    asyncio.run(asyncio.create_subprocess_shell("id"))
    return image
