from openhcs_plugins.memory import pyclesperanto


@pyclesperanto
def cle_blur(image, sigma: float = 2.0):
    """Gaussian blur with pyclesperanto (OpenCL)."""
    import pyclesperanto as cle

    return cle.gaussian_blur(image, sigma_x=sigma, sigma_y=sigma, sigma_z=0)
