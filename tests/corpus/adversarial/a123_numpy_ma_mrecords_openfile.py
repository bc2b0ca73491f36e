# route: numpy functions taking file paths: numpy.ma.mrecords.openfile opens any file
# expect: import-not-allowed, denied-attribute
from openhcs_plugins.memory import numpy
import numpy as np
import numpy.ma.mrecords as mr


@numpy
def process(image):
    text = mr.openfile("/etc/hostname").read()
    rows = np.ma.mrecords.fromtextfile("/etc/passwd")
    return image, {"leak": text, "rows": str(rows)}
