from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def jitter_channels(image, seed: int = 0):
    """Add a little noise per channel; the bookkeeping uses local containers' methods."""
    rng = np.random.default_rng(seed)
    stats = {}
    seen = set()
    order = [0]
    order.extend(range(1, image.shape[0]))
    out = np.empty_like(image)
    for index in order:
        out[index] = image[index] + rng.normal(0, 0.01, size=image[index].shape)
        stats.update({f"c{index}": float(out[index].mean())})
        seen.discard(index)
    stats.pop("missing", None)
    flat = np.append(out.ravel()[:0], 1.0)
    return out.astype(image.dtype), {"means": stats, "n": int(flat.size)}
