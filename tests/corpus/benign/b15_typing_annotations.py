from typing import Dict, List, Optional, Sequence, Tuple, Union

from openhcs_plugins.memory import numpy
import numpy as np

Number = Union[int, float]


def _weights(count: int, weights: Optional[Sequence[float]]) -> np.ndarray:
    if weights is None:
        return np.full(count, 1.0 / count)
    array = np.asarray(weights, dtype=np.float64)
    return array / array.sum()


@numpy
def weighted_sum(
    image: np.ndarray,
    weights: Optional[List[float]] = None,
    offset: Number = 0,
) -> Tuple[np.ndarray, Dict[str, float]]:
    """Weighted sum of the channels, as a (1, Y, X) image."""
    w = _weights(image.shape[0], weights)
    total = np.tensordot(w, image.astype(np.float64), axes=1)[np.newaxis] + offset
    return total.astype(np.float32), {"weight_sum": float(w.sum())}
