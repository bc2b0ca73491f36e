"""OpenCL set-up for pyclesperanto: point the loader at pocl's CPU device before anyone looks.

pyclesperanto lists OpenCL devices once, when it is first imported; the ICD loader it bundles
reads ``OCL_ICD_FILENAMES`` (a driver library) and ``OCL_ICD_VENDORS`` (a folder of ``.icd``
files, default ``/etc/OpenCL/vendors``) at that moment. A machine without a GPU driver has no
device unless ``OCL_ICD_FILENAMES`` already names pocl's library (installed by the
``pocl-binary-distribution`` wheel, the ``pyclesperanto`` extra) when that import happens.

So :func:`configure_opencl` runs when ``openhcs_plugins`` is imported (the CLI, the Python API,
registry calls, the pytest plugin and the isolated worker all import it before any plugin or
user module could import pyclesperanto). It only reads the file system (no numpy, no OpenCL),
and it never overrides what the user set or the system's own drivers.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import sys

__all__ = [
    "ICD_FILENAMES",
    "ICD_VENDORS",
    "configure_opencl",
    "diagnose_no_device",
    "find_pocl_library",
    "system_icds",
]

ICD_FILENAMES = "OCL_ICD_FILENAMES"
ICD_VENDORS = "OCL_ICD_VENDORS"
_DEFAULT_VENDORS = "/etc/OpenCL/vendors"
_LIBRARY_SUFFIXES = (".so", ".dylib", ".dll")
#: pyclesperanto's compiled backends (one is enough).
_BACKENDS = ("pyclesperanto_opencl", "pyclesperanto_cuda", "pyclesperanto_metal")

#: Set by :func:`configure_opencl` when it set the variable after pyclesperanto was imported
#: (too late for this process: its device list is already empty).
_set_too_late = False


def _is_library(name: str) -> bool:
    return name.startswith("libpocl") and any(s in name for s in _LIBRARY_SUFFIXES)


def find_pocl_library() -> str | None:
    """The ``libpocl`` shared library that pocl-binary-distribution installed, or None.

    The wheel installs it as ``pyopencl/.libs/libpocl-<hash>.so`` next to its package
    ``pocl_binary_distribution`` (found with ``importlib.util.find_spec``, which imports
    nothing); other layouts are looked up in the distribution's file list.
    """
    try:
        spec = importlib.util.find_spec("pocl_binary_distribution")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return None
    site = os.path.dirname(os.path.dirname(spec.origin))
    for folder in (os.path.join(site, "pyopencl", ".libs"), os.path.dirname(spec.origin)):
        found = sorted(
            p
            for p in glob.glob(os.path.join(folder, "libpocl*"))
            if _is_library(os.path.basename(p))
        )
        if found:
            return found[0]
    from importlib import metadata  # slower (tens of ms): only for a layout not seen above

    try:
        files = metadata.files("pocl-binary-distribution") or []
    except metadata.PackageNotFoundError:
        return None
    for entry in files:
        if _is_library(entry.name):
            path = str(entry.locate())
            if os.path.isfile(path):
                return path
    return None


def system_icds() -> list[str]:
    """The OpenCL drivers registered on this system (``OCL_ICD_VENDORS`` or
    ``/etc/OpenCL/vendors``): the ``.icd`` files the loader reads."""
    vendors = os.environ.get(ICD_VENDORS) or _DEFAULT_VENDORS
    if os.path.isfile(vendors):
        return [vendors]
    return sorted(glob.glob(os.path.join(vendors, "*.icd")))


def configure_opencl() -> str | None:
    """Point the OpenCL loader at pocl's CPU device when nothing else is configured.

    Sets ``OCL_ICD_FILENAMES`` to :func:`find_pocl_library` when the variable is unset (or
    empty) and the system registers no OpenCL driver of its own, so pyclesperanto finds a
    device on a machine without a GPU. A value the user set, and the system's drivers, are
    left alone. Returns the value in effect, or None when the loader will use the system's
    drivers (or there is nothing to use).

    It must run before pyclesperanto is first imported; ``import openhcs_plugins`` runs it.
    """
    global _set_too_late
    current = os.environ.get(ICD_FILENAMES)
    if current:
        return current
    if system_icds():
        return None
    path = find_pocl_library()
    if path is not None:
        os.environ[ICD_FILENAMES] = path
        _set_too_late = "pyclesperanto" in sys.modules
    return path


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def diagnose_no_device() -> str:
    """Why pyclesperanto has no OpenCL device here, and the exact command that fixes it.

    Call it when pyclesperanto imported without a device (no ``pyclesperanto.create``); it
    names what is missing (pyclesperanto, its OpenCL backend, an OpenCL driver) and never
    asks to install what is installed.
    """
    pip = "python -m pip install"
    if not _installed("pyclesperanto"):
        return f"pyclesperanto is not installed: {pip} 'openhcs-plugins[pyclesperanto]'"
    if not any(_installed(backend) for backend in _BACKENDS):
        return (
            "pyclesperanto is installed without a compiled backend (pyclesperanto-opencl): "
            f"{pip} 'pyclesperanto[opencl]'"
        )
    icd = os.environ.get(ICD_FILENAMES)
    pocl = find_pocl_library()
    where = f"{ICD_FILENAMES}={icd}" if icd else f"{ICD_FILENAMES} is unset"
    if _set_too_late:
        return (
            f"pyclesperanto was imported before {ICD_FILENAMES} was set, so it found no OpenCL "
            f"device ({where}); import openhcs_plugins before pyclesperanto, or start Python "
            f"with: export {ICD_FILENAMES}={icd}"
        )
    if icd:
        missing = [p for p in icd.split(os.pathsep) if p and not os.path.isfile(p)]
        if missing:
            fix = (
                f"unset {ICD_FILENAMES} to use pocl's CPU device ({pocl})"
                if pocl
                else f"unset {ICD_FILENAMES} and install pocl's CPU device: "
                f"{pip} pocl-binary-distribution"
            )
            return (
                f"found no OpenCL device ({where}): {', '.join(missing)} does not exist; "
                f"{fix}, or point it at an installed OpenCL driver"
            )
        return (
            f"found no OpenCL device ({where}): the loader could not open that driver; "
            f"see why with: OCL_ICD_DEBUG=7 python -c 'import pyclesperanto'"
        )
    icds = system_icds()
    if icds:
        fix = (
            f"or use pocl's CPU device: export {ICD_FILENAMES}={pocl}"
            if pocl
            else f"or install pocl's CPU device: {pip} pocl-binary-distribution"
        )
        return (
            f"found no OpenCL device ({where}): the system's OpenCL drivers "
            f"({', '.join(icds)}) report none; check them with `clinfo`, {fix}"
        )
    if pocl is None:
        return (
            f"found no OpenCL device ({where}): no OpenCL driver is installed; install pocl's "
            f"CPU device with: {pip} pocl-binary-distribution (or a GPU's OpenCL driver)"
        )
    return (
        f"found no OpenCL device ({where}) although pocl is installed ({pocl}); start Python "
        f"with: export {ICD_FILENAMES}={pocl}"
    )
