"""{{ cookiecutter.package_name }}: image-processing functions for OpenHCS.

The functions are in :mod:`{{ cookiecutter.package_name }}.functions`, registered through the
``openhcs.functions`` entry point as ``{{ cookiecutter.namespace }}:<function name>``. This module
imports no array framework, so listing the functions stays fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("{{ cookiecutter.project_slug }}")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
