from openhcs_plugins.memory import tensorflow


@tensorflow
def tf_contrast(image, strength: float = 0.5):
    """Contrast stretch around the mean."""
    import tensorflow as tf

    mean = tf.reduce_mean(image)
    return (image - mean) * (1.0 + strength) + mean
