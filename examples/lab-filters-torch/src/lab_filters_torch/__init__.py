"""lab_filters_torch: image-processing functions for OpenHCS.

The functions are in :mod:`lab_filters_torch.functions`, registered through the
``openhcs.functions`` entry point as ``lab_torch:<function name>``. This module
imports no array framework, so listing the functions stays fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("lab-filters-torch")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
