from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def svd_denoise(image, rank: int = 5):
    """Low-rank approximation of each plane with numpy.linalg.svd."""
    out = np.empty(image.shape, dtype=np.float32)
    for index, plane in enumerate(image.astype(np.float64)):
        u, s, vt = np.linalg.svd(plane, full_matrices=False)
        k = min(rank, s.size)
        out[index] = (u[:, :k] * s[:k]) @ vt[:k]
    return out
