"""Image-processing functions of lab_filters_torch.

Every function here that carries a memory-type decorator is registered through the
``openhcs.functions`` entry point in pyproject.toml, under the key
``lab_torch:<function name>``. The first parameter is always ``image``, a
(C, Y, X) stack; give every other parameter a default and describe it in the docstring.

Everything is written with torch operations, so it runs where the tensor is (CPU or GPU). Each
channel is filtered on its own: a ``(C, Y, X)`` stack is treated as a batch of ``C``
single-channel images.
"""

import math

import torch
import torch.nn.functional as F
from openhcs_plugins import memory


def _as_batch(image: torch.Tensor) -> torch.Tensor:
    """(C, Y, X) -> (C, 1, Y, X) float32: one single-channel image per channel."""
    return image.to(torch.float32).unsqueeze(1)


def _gaussian_kernel(sigma: float, device: torch.device) -> torch.Tensor:
    radius = max(1, math.ceil(3.0 * sigma))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    kernel = torch.exp(-(x * x) / (2.0 * sigma * sigma))
    return kernel / kernel.sum()


# `memory.torch` is the decorator; the plain name `torch` is PyTorch itself.
@memory.torch
def gaussian_denoise(image, sigma: float = 1.0):
    """Smooth each channel with a separable Gaussian convolution (``conv2d``).

    Args:
        image: The input stack, a 3D torch tensor (C, Y, X), on the CPU or a GPU.
        sigma: Standard deviation of the Gaussian in pixels, > 0.

    Returns:
        A float32 tensor of the same shape; edges are reflected, so the mean is kept.
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be > 0 pixels, got {sigma}")
    batch = _as_batch(image)
    kernel = _gaussian_kernel(sigma, batch.device)
    radius = kernel.numel() // 2
    # Reflect padding needs the padding to be smaller than the plane.
    mode = "reflect" if min(batch.shape[-2:]) > radius else "replicate"
    rows = F.conv2d(F.pad(batch, (radius, radius, 0, 0), mode=mode), kernel.view(1, 1, 1, -1))
    both = F.conv2d(F.pad(rows, (0, 0, radius, radius), mode=mode), kernel.view(1, 1, -1, 1))
    return both.squeeze(1)


@memory.torch
def median_denoise(image, size: int = 3):
    """Replace each pixel by the median of its ``size`` x ``size`` neighbourhood.

    Removes salt-and-pepper noise and hot pixels while keeping edges sharper than a blur.

    Args:
        image: The input stack, a 3D torch tensor (C, Y, X).
        size: Odd window side in pixels (3, 5, ...).

    Returns:
        A float32 tensor of the same shape (edges replicated).
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"size must be an odd number of pixels >= 1, got {size}")
    batch = _as_batch(image)
    radius = size // 2
    padded = F.pad(batch, (radius, radius, radius, radius), mode="replicate")
    windows = F.unfold(padded, kernel_size=size)  # (C, size*size, Y*X)
    medians = windows.median(dim=1).values
    return medians.view(image.shape)


@memory.torch
def normalize_range(image, low: float = 1.0, high: float = 99.8):
    """Scale each channel so that its ``low`` and ``high`` percentiles become 0 and 1.

    Args:
        image: The input stack, a 3D torch tensor (C, Y, X).
        low: Lower percentile (0-100), mapped to 0.
        high: Upper percentile (0-100, above ``low``), mapped to 1.

    Returns:
        A float32 tensor of the same shape, clipped to [0, 1]; a flat channel becomes 0.
    """
    if not 0.0 <= low < high <= 100.0:
        raise ValueError(f"need 0 <= low < high <= 100, got low={low}, high={high}")
    stack = image.to(torch.float32)
    flat = stack.reshape(stack.shape[0], -1)
    # torch.quantile refuses more than 2**24 values; sorting has no such limit.
    ordered = flat.sort(dim=1).values
    last = flat.shape[1] - 1
    lo = ordered[:, round(low / 100.0 * last)].view(-1, 1, 1)
    hi = ordered[:, round(high / 100.0 * last)].view(-1, 1, 1)
    span = hi - lo
    scaled = (stack - lo) / torch.where(span > 0, span, torch.ones_like(span))
    return torch.where(span > 0, scaled, torch.zeros_like(scaled)).clamp(0.0, 1.0)


@memory.torch
def sobel_edges(image, normalize: bool = False):
    """Gradient magnitude of each channel with the 3x3 Sobel kernels.

    Args:
        image: The input stack, a 3D torch tensor (C, Y, X).
        normalize: Divide each channel by its largest magnitude (so edges lie in [0, 1]).

    Returns:
        A float32 tensor of the same shape, ``sqrt(gx**2 + gy**2)``, zero on flat areas.
    """
    batch = _as_batch(image)
    gx = torch.tensor(
        [[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]], device=batch.device
    ).view(1, 1, 3, 3)
    gy = gx.transpose(2, 3)
    padded = F.pad(batch, (1, 1, 1, 1), mode="replicate")
    magnitude = torch.sqrt(F.conv2d(padded, gx) ** 2 + F.conv2d(padded, gy) ** 2).squeeze(1)
    if normalize:
        peak = magnitude.amax(dim=(1, 2), keepdim=True)
        magnitude = magnitude / torch.where(peak > 0, peak, torch.ones_like(peak))
    return magnitude
