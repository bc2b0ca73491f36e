# route: file I/O without open (tf.print to a file stream)
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import tensorflow as tf
    tf.print(image, output_stream="file:///tmp/leak.txt")
    return image
