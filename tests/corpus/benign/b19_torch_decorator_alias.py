"""A torch function: the decorator is imported under another name, so `import torch` is free."""

from openhcs_plugins.memory import torch as torch_func
import torch
import torch.nn.functional as F


@torch_func
def torch_box_blur(image, kernel_size: int = 3):
    """Mean filter with a square kernel, per channel, using conv2d."""
    weight = torch.ones((1, 1, kernel_size, kernel_size), dtype=image.dtype) / kernel_size**2
    x = image.unsqueeze(1)
    blurred = F.conv2d(x, weight, padding=kernel_size // 2)
    return blurred.squeeze(1)
