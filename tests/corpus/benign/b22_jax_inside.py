from openhcs_plugins.memory import jax


@jax
def jax_gamma(image, gamma: float = 0.5):
    """Gamma correction on the [0, 1]-normalised image."""
    import jax.numpy as jnp

    low = jnp.min(image)
    high = jnp.max(image)
    normalized = (image - low) / (high - low + 1e-7)
    return jnp.power(normalized, gamma) * (high - low) + low
