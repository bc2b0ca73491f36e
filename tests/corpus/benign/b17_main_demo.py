from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def invert(image):
    """Invert intensities within the image's own range."""
    return image.max() - image + image.min()


if __name__ == "__main__":
    rng = np.random.default_rng(1)
    demo = rng.integers(0, 255, size=(3, 64, 64)).astype(np.uint8)
    result = invert(demo)
    print("min/max before:", demo.min(), demo.max())
    print("min/max after:", result.min(), result.max())
    for channel in range(result.shape[0]):
        print(channel, float(result[channel].mean()))
