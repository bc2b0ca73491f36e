"""Spectral unmixing by principal components across channels."""

from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def principal_components(image, components: int = 2):
    """Project the channels onto their first principal components."""
    c, y, x = image.shape
    pixels = image.reshape(c, -1).astype(np.float64)
    pixels -= pixels.mean(axis=1, keepdims=True)
    covariance = pixels @ pixels.T / max(pixels.shape[1] - 1, 1)
    values, vectors = np.linalg.eigh(covariance)
    order = np.argsort(values)[::-1][:components]
    projected = vectors[:, order].T @ pixels
    explained = (values[order] / max(values.sum(), 1e-12)).tolist()
    return projected.reshape(len(order), y, x), {"explained_variance": explained}
