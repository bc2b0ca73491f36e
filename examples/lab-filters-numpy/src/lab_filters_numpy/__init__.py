"""lab_filters_numpy: image-processing functions for OpenHCS.

The functions are in :mod:`lab_filters_numpy.functions`, registered through the
``openhcs.functions`` entry point as ``lab_filters:<function name>``. This module
imports no array framework, so listing the functions stays fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lab-filters-numpy")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
