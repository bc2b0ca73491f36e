from openhcs_plugins.memory import torch
import torch as th


@torch
def torch_normalize(image, eps: float = 1e-6):
    """Zero mean, unit variance per channel."""
    mean = image.mean(dim=(1, 2), keepdim=True)
    std = image.std(dim=(1, 2), keepdim=True)
    return (image - mean) / th.clamp(std, min=eps)
