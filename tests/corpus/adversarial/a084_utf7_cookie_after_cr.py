# route: a # -*- coding: utf-7 -*- cookie after a lone \r (the tokenizer ends lines there)# coding: utf-7
# expect: encoding
from openhcs_plugins.memory import numpy
import numpy as np


# a harmless comment +AAo-import os+AAo-os.system("id")+AAo-


@numpy
def process(image):
    return image
