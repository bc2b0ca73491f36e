import itertools
import math

from openhcs_plugins.memory import numpy
import numpy as np


def _tile_origins(height, width, tile):
    rows = range(0, height, tile)
    cols = range(0, width, tile)
    return itertools.product(rows, cols)


@numpy
def tile_contrast(image, tile: int = 32):
    """Stretch contrast tile by tile (a crude local equalisation)."""
    out = image.astype(np.float32).copy()
    _, height, width = image.shape
    for channel in range(image.shape[0]):
        for row, col in _tile_origins(height, width, tile):
            block = out[channel, row : row + tile, col : col + tile]
            low, high = block.min(), block.max()
            if high > low:
                out[channel, row : row + tile, col : col + tile] = (block - low) / (high - low)
    tiles = math.ceil(height / tile) * math.ceil(width / tile)
    return out, {"tiles_per_channel": tiles}
