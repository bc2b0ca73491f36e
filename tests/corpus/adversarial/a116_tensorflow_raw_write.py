# route: file I/O without open (tf.raw_ops.WriteFile)
# expect: import-not-allowed
from openhcs_plugins.memory import numpy
import numpy as np


@numpy
def process(image):
    import tensorflow as tf
    tf.raw_ops.WriteFile(filename="/tmp/pwned", contents="x")
    return image
