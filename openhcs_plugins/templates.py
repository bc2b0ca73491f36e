"""Starter code for a custom function, one template per memory type.

Each template is a complete module: the framework import, the memory-type decorator from
:mod:`openhcs_plugins.memory`, one function ``my_filter(image, ...)`` with a docstring
(Args/Returns), a simple real operation in that framework, and a commented example of returning
``(image, metadata)``. Every template passes :func:`openhcs_plugins.validation.validate_code`.

All six templates use the same function name, :data:`TEMPLATE_FUNCTION_NAME` (``my_filter``):
a template is a starting point to rename, and the editor registers what the user saves. It is
not OpenHCS's ``my_custom_function``: both programs share the functions folder, and OpenHCS
refuses a custom function that collides with its own template's ("conflicts with an ephemeral
declaration"). The
analysis template (:func:`get_analysis_template`, numpy, as in OpenHCS) returns measurements as
an artifact output written as CSV (:mod:`openhcs_plugins.artifacts`).

>>> from openhcs_plugins.templates import get_template_for_memory_type
>>> "@numpy" in get_template_for_memory_type("numpy")
True

These texts are also the functions module of a package generated from the cookiecutter template
(``openhcs-plugins new``); they live here only.
"""

from __future__ import annotations

from openhcs_plugins.memory.types import AVAILABLE_MEMORY_TYPES, MemoryType

__all__ = [
    "ANALYSIS_FUNCTION_NAME",
    "AVAILABLE_MEMORY_TYPES",
    "TEMPLATE_FUNCTION_NAME",
    "get_analysis_template",
    "get_default_template",
    "get_template_for_memory_type",
]

#: The name of the function every template defines.
TEMPLATE_FUNCTION_NAME = "my_filter"

_NUMPY = '''import numpy as np
from openhcs_plugins.memory import numpy


@numpy
def my_filter(image, scale: float = 1.0, offset: float = 0.0):
    """Scale and offset the intensities of an image stack.

    Args:
        image: The input stack, a 3D numpy array (C, Y, X): channels or planes, height, width.
        scale: Factor every pixel is multiplied by.
        offset: Value added after scaling.

    Returns:
        The processed stack, a float32 numpy array of the same shape (C, Y, X).
    """
    # Work in float32 so that scaling a uint16 image cannot overflow.
    processed = image.astype(np.float32) * scale + offset

    # To return measurements as well, return a tuple (image, metadata):
    # metadata = {"mean_intensity": float(np.mean(processed))}
    # return processed, metadata

    return processed
'''

_CUPY = '''import cupy as cp
from openhcs_plugins.memory import cupy


@cupy
def my_filter(image, k: float = 2.0):
    """Keep the bright pixels of each channel (above mean + k * std), set the rest to zero.

    Args:
        image: The input stack, a 3D cupy array (C, Y, X) on the GPU.
        k: How many standard deviations above the channel mean a pixel must be to be kept.

    Returns:
        The thresholded stack, a cupy array of the same shape (C, Y, X).
    """
    mean = cp.mean(image, axis=(1, 2), keepdims=True)
    std = cp.std(image, axis=(1, 2), keepdims=True)
    processed = cp.where(image > mean + k * std, image, 0)

    # To return measurements as well, return a tuple (image, metadata):
    # metadata = {"foreground_pixels": int(cp.count_nonzero(processed))}
    # return processed, metadata

    return processed
'''

# ``torch`` must stay PyTorch, so the decorator is reached through its module.
_TORCH = '''import torch
from openhcs_plugins import memory


# `memory.torch` is the decorator; the plain name `torch` below is PyTorch itself.
@memory.torch
def my_filter(image, low: float = 0.0, high: float = 1.0):
    """Normalise each channel of a stack to the range [low, high].

    Args:
        image: The input stack, a 3D torch tensor (C, Y, X), on the CPU or a GPU.
        low: Value the darkest pixel of each channel becomes.
        high: Value the brightest pixel of each channel becomes.

    Returns:
        The normalised stack, a float32 torch tensor of the same shape (C, Y, X).
    """
    image = image.to(torch.float32)
    minimum = torch.amin(image, dim=(1, 2), keepdim=True)
    maximum = torch.amax(image, dim=(1, 2), keepdim=True)
    # A flat channel (maximum == minimum) becomes `low` instead of dividing by zero.
    span = torch.clamp(maximum - minimum, min=1e-12)
    processed = torch.clamp((image - minimum) / span * (high - low) + low, low, high)

    # To return measurements as well, return a tuple (image, metadata):
    # metadata = {"channel_maximum": maximum.flatten().tolist()}
    # return processed, metadata

    return processed
'''

_TENSORFLOW = '''import tensorflow as tf
from openhcs_plugins.memory import tensorflow


@tensorflow
def my_filter(image, strength: float = 0.5):
    """Stretch the contrast of each channel around its mean intensity.

    Args:
        image: The input stack, a 3D tensorflow tensor (C, Y, X).
        strength: How much to stretch: 0 leaves the image unchanged, 1 doubles the contrast.

    Returns:
        The processed stack, a float32 tensorflow tensor of the same shape (C, Y, X).
    """
    image = tf.cast(image, tf.float32)
    mean = tf.reduce_mean(image, axis=(1, 2), keepdims=True)
    processed = (image - mean) * (1.0 + strength) + mean

    # To return measurements as well, return a tuple (image, metadata):
    # metadata = {"mean_intensity": float(tf.reduce_mean(processed))}
    # return processed, metadata

    return processed
'''

_JAX = '''import jax.numpy as jnp
from openhcs_plugins.memory import jax


@jax
def my_filter(image, gamma: float = 0.5):
    """Gamma-correct each channel: normalise to [0, 1], raise to `gamma`, scale back.

    Args:
        image: The input stack, a 3D jax array (C, Y, X).
        gamma: The exponent; below 1 brightens dark regions, above 1 darkens them.

    Returns:
        The processed stack, a jax array of the same shape (C, Y, X).
    """
    minimum = jnp.min(image, axis=(1, 2), keepdims=True)
    maximum = jnp.max(image, axis=(1, 2), keepdims=True)
    span = jnp.maximum(maximum - minimum, 1e-12)
    processed = jnp.power((image - minimum) / span, gamma) * span + minimum

    # To return measurements as well, return a tuple (image, metadata):
    # metadata = {"mean_intensity": float(jnp.mean(processed))}
    # return processed, metadata

    return processed
'''

_PYCLESPERANTO = '''import pyclesperanto as cle
from openhcs_plugins.memory import pyclesperanto


@pyclesperanto
def my_filter(image, sigma: float = 2.0):
    """Blur each plane of a stack with a Gaussian (no blurring across planes).

    Args:
        image: The input stack, a 3D pyclesperanto array (C, Y, X) on the OpenCL device.
        sigma: Standard deviation of the Gaussian, in pixels, along Y and X.

    Returns:
        The blurred stack, a pyclesperanto array of the same shape (C, Y, X).
    """
    processed = cle.gaussian_blur(image, sigma_x=sigma, sigma_y=sigma, sigma_z=0)

    # To return measurements as well, return a tuple (image, metadata):
    # metadata = {"max_intensity": float(cle.maximum_of_all_pixels(processed))}
    # return processed, metadata

    return processed
'''

_TEMPLATES: dict[MemoryType, str] = {
    MemoryType.NUMPY: _NUMPY,
    MemoryType.CUPY: _CUPY,
    MemoryType.TORCH: _TORCH,
    MemoryType.TENSORFLOW: _TENSORFLOW,
    MemoryType.JAX: _JAX,
    MemoryType.PYCLESPERANTO: _PYCLESPERANTO,
}


#: The name of the function the analysis template defines (OpenHCS's).
ANALYSIS_FUNCTION_NAME = "my_measurement"

_NUMPY_ANALYSIS = '''from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from openhcs_plugins.artifacts import CsvOptions, MaterializationSpec, artifact_outputs
from openhcs_plugins.memory import numpy


@dataclass
class PlaneCount:
    """One row of the CSV: the fields become its columns."""

    plane: int
    objects: int
    mean_area: float
    mean_intensity: float


@numpy
@artifact_outputs(
    ("object_counts", MaterializationSpec(CsvOptions(
        fields=["plane", "objects", "mean_area", "mean_intensity"],
        filename_suffix=".csv",
    )))
)
def my_measurement(image, threshold: float = 0.5, min_area: int = 4):
    """Count bright objects in each plane and measure them.

    Args:
        image: 3D numpy array (C, Y, X).
        threshold: Intensity above which a pixel belongs to an object.
        min_area: Objects smaller than this many pixels are not counted.

    Returns:
        A tuple (image, object_counts): the image unchanged, and one PlaneCount per plane.
        `openhcs-plugins run` writes object_counts as <output>_object_counts.csv beside the
        output image; OpenHCS materializes it the same way.
    """
    rows = []
    for index, plane in enumerate(image):
        labels, count = ndimage.label(plane > threshold)
        areas = np.bincount(labels.ravel())[1:]
        keep = np.flatnonzero(areas >= min_area) + 1
        inside = np.isin(labels, keep)
        rows.append(
            PlaneCount(
                plane=index,
                objects=int(keep.size),
                mean_area=float(areas[keep - 1].mean()) if keep.size else 0.0,
                mean_intensity=float(plane[inside].mean()) if keep.size else 0.0,
            )
        )
    return image, rows
'''


def get_analysis_template(memory_type: str | MemoryType = "numpy") -> str:
    """Return the analysis template: a function that returns ``(image, rows)`` and declares
    the rows as an artifact output written as CSV (OpenHCS's analysis pattern).

    Only numpy has one, as in OpenHCS; any other memory type raises ``ValueError``.
    """
    if MemoryType(memory_type) is not MemoryType.NUMPY:
        raise ValueError(
            f"There is an analysis template for numpy only, not {memory_type!r}; start from "
            "it and convert the image with the memory-type decorator you need."
        )
    return _NUMPY_ANALYSIS


def get_default_template() -> str:
    """Return the default template: a numpy function that scales and offsets intensities."""
    return _NUMPY


def get_template_for_memory_type(memory_type: str | MemoryType) -> str:
    """Return the template for one memory type.

    Args:
        memory_type: One of ``numpy``, ``cupy``, ``torch``, ``tensorflow``, ``jax``,
            ``pyclesperanto`` (a name or a :class:`~openhcs_plugins.memory.MemoryType`).

    Returns:
        The source of a module defining ``my_filter`` for that framework.

    Raises:
        ValueError: ``memory_type`` is not one of the six; the message lists them.
    """
    try:
        key = MemoryType(memory_type)
    except ValueError:
        raise ValueError(
            f"Unknown memory type {memory_type!r}; use one of: " + ", ".join(AVAILABLE_MEMORY_TYPES)
        ) from None
    return _TEMPLATES[key]
