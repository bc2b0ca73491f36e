from openhcs_plugins.memory import memory_types


@memory_types("torch", "numpy")
def torch_to_numpy_threshold(image, level: float = 0.5):
    """Threshold in torch, return numpy (the decorator converts the output)."""
    import torch

    return (image > level * torch.max(image)).to(torch.uint8)
