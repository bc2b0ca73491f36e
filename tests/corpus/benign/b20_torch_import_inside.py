from openhcs_plugins.memory import torch


@torch(output_type="numpy", contract="PURE_3D")
def torch_max_pool(image, kernel_size: int = 3):
    """Max pooling with stride 1 (a grey dilation); returns numpy."""
    import torch
    import torch.nn.functional as F

    x = image.unsqueeze(0)
    pooled = F.max_pool2d(x, kernel_size=kernel_size, stride=1, padding=kernel_size // 2)
    return pooled.squeeze(0).to(torch.float32)
