import re

from openhcs_plugins.memory import numpy
import numpy as np

_CHANNEL_SPEC = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def _parse_channels(spec, count):
    selected = []
    for part in spec.split(","):
        match = _CHANNEL_SPEC.match(part)
        if not match:
            raise ValueError(f"not a channel or range: {part!r}")
        start = int(match.group(1))
        stop = int(match.group(2) or start)
        selected.extend(c for c in range(start, stop + 1) if c < count)
    return sorted(set(selected))


@numpy
def select_channels(image, channels: str = "0-1"):
    """Keep the channels given as '0,2' or '0-2'."""
    return image[_parse_channels(channels, image.shape[0])]
