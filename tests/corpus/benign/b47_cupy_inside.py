from openhcs_plugins.memory import cupy


@cupy
def cupy_threshold(image, sigma: float = 1.0):
    """Mean + sigma * std threshold on the GPU."""
    import cupy as cp
    from cupyx.scipy import ndimage as cndi

    smooth = cndi.gaussian_filter(image, sigma=(0, sigma, sigma))
    level = cp.mean(smooth) + sigma * cp.std(smooth)
    return cp.where(smooth > level, image, 0)
