{%- set mt = cookiecutter.memory_type -%}
"""What the example function does, checked on a small stack (replace with your own tests)."""

import numpy as np
{%- if mt != "numpy" %}
import pytest
{%- endif %}

{%- if mt == "numpy" %}

from {{ cookiecutter.package_name }}.functions import my_filter


def test_my_filter_scales_and_offsets_every_pixel():
    stack = np.arange(2 * 4 * 5, dtype=np.uint16).reshape(2, 4, 5)

    result = my_filter(stack, scale=2.0, offset=1.0)

    assert result.shape == (2, 4, 5)
    assert result.dtype == np.float32
    np.testing.assert_allclose(result, stack * 2.0 + 1.0)
{%- elif mt == "torch" %}

torch = pytest.importorskip("torch")

from {{ cookiecutter.package_name }}.functions import my_filter  # noqa: E402


def test_my_filter_normalises_each_channel_to_the_range():
    stack = np.random.default_rng(0).random((2, 8, 8), dtype=np.float32) * 1000
    stack[1] = 3.0  # a flat channel becomes `low`, not NaN

    result = my_filter(torch.from_numpy(stack), low=0.0, high=1.0)

    assert isinstance(result, torch.Tensor)
    assert tuple(result.shape) == (2, 8, 8)
    assert float(result[0].min()) == 0.0
    assert float(result[0].max()) == 1.0
    assert bool(torch.all(result[1] == 0.0))
{%- elif mt == "tensorflow" %}

tf = pytest.importorskip("tensorflow")

from {{ cookiecutter.package_name }}.functions import my_filter  # noqa: E402


def test_my_filter_stretches_contrast_around_the_channel_mean():
    stack = np.random.default_rng(0).random((2, 8, 8), dtype=np.float32)

    unchanged = my_filter(tf.convert_to_tensor(stack), strength=0.0)
    stretched = my_filter(tf.convert_to_tensor(stack), strength=1.0)

    assert tuple(stretched.shape) == (2, 8, 8)
    np.testing.assert_allclose(np.asarray(unchanged), stack, rtol=1e-6)
    mean = stack.mean(axis=(1, 2), keepdims=True)
    expected = (stack - mean) * 2 + mean
    np.testing.assert_allclose(np.asarray(stretched), expected, rtol=1e-5, atol=1e-6)
{%- elif mt == "jax" %}

jnp = pytest.importorskip("jax.numpy")

from {{ cookiecutter.package_name }}.functions import my_filter  # noqa: E402


def test_my_filter_keeps_each_channels_darkest_and_brightest_pixel():
    stack = np.random.default_rng(0).random((2, 8, 8), dtype=np.float32) * 100

    result = np.asarray(my_filter(jnp.asarray(stack), gamma=0.5))

    assert result.shape == (2, 8, 8)
    np.testing.assert_allclose(result.min(axis=(1, 2)), stack.min(axis=(1, 2)), rtol=1e-5)
    np.testing.assert_allclose(result.max(axis=(1, 2)), stack.max(axis=(1, 2)), rtol=1e-5)
    # gamma < 1 brightens: no pixel gets darker.
    assert np.all(result >= stack - 1e-3)
{%- elif mt == "cupy" %}

cp = pytest.importorskip("cupy")
if not cp.cuda.is_available():
    pytest.skip("CuPy is installed but no CUDA GPU is usable", allow_module_level=True)

from {{ cookiecutter.package_name }}.functions import my_filter  # noqa: E402


def test_my_filter_keeps_only_bright_pixels():
    stack = np.zeros((2, 8, 8), dtype=np.float32)
    stack[:, 4, 4] = 100.0  # one bright pixel per channel

    result = cp.asnumpy(my_filter(cp.asarray(stack), k=2.0))

    assert result.shape == (2, 8, 8)
    assert np.count_nonzero(result) == 2
    assert np.all(result[:, 4, 4] == 100.0)
{%- elif mt == "pyclesperanto" %}

cle = pytest.importorskip("pyclesperanto")
try:  # one tiny kernel: fails when there is no OpenCL device (see README: the `cpu` extra)
    cle.pull(cle.add_image_and_scalar(cle.push(np.zeros((1, 2, 2), np.float32)), scalar=1))
except Exception as error:
    pytest.skip(f"no usable OpenCL device: {error}", allow_module_level=True)

from {{ cookiecutter.package_name }}.functions import my_filter  # noqa: E402


def test_my_filter_blurs_within_each_plane_only():
    stack = np.zeros((2, 9, 9), dtype=np.float32)
    stack[0, 4, 4] = 1.0  # a point in plane 0, nothing in plane 1

    result = np.asarray(cle.pull(my_filter(cle.push(stack), sigma=1.0)))

    assert result.shape == (2, 9, 9)
    assert result[0, 4, 4] < 1.0  # spread out
    assert result[0, 4, 5] > 0.0
    np.testing.assert_allclose(result[0].sum(), 1.0, rtol=1e-2)  # mass is kept
    assert np.all(result[1] == 0.0)  # nothing leaked into the other plane
{%- endif %}
