"""What each function does, checked on small synthetic stacks."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lab_filters_torch.functions import (  # noqa: E402
    gaussian_denoise,
    median_denoise,
    normalize_range,
    sobel_edges,
)


def test_gaussian_denoise_spreads_a_point_within_its_channel_and_keeps_its_mass():
    stack = torch.zeros((2, 21, 21))
    stack[0, 10, 10] = 1.0

    result = gaussian_denoise(stack, sigma=1.5)

    assert isinstance(result, torch.Tensor) and result.dtype == torch.float32
    assert tuple(result.shape) == (2, 21, 21)
    assert 0.0 < float(result[0, 10, 10]) < 1.0
    assert float(result[0, 10, 12]) > 0.0
    assert abs(float(result[0].sum()) - 1.0) < 1e-4
    assert bool(torch.all(result[1] == 0.0))  # channels are not mixed


def test_gaussian_denoise_reduces_noise_on_a_flat_image():
    noisy = 100.0 + 10.0 * torch.randn((1, 64, 64), generator=torch.Generator().manual_seed(0))

    smoothed = gaussian_denoise(noisy, sigma=2.0)

    assert float(smoothed.std()) < 0.3 * float(noisy.std())
    assert abs(float(smoothed.mean()) - float(noisy.mean())) < 0.5


def test_gaussian_denoise_accepts_a_numpy_stack_and_a_tiny_plane():
    # The decorator converts numpy input; a plane smaller than the kernel still works.
    result = gaussian_denoise(np.ones((1, 3, 3), dtype=np.uint16), sigma=3.0)

    np.testing.assert_allclose(result.numpy(), 1.0, rtol=1e-6)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        gaussian_denoise(torch.zeros((1, 4, 4)), sigma=0)


def test_median_denoise_removes_hot_pixels_and_keeps_a_step_edge():
    stack = torch.zeros((1, 16, 16))
    stack[0, :, 8:] = 50.0  # a vertical edge
    stack[0, 4, 3] = 1000.0  # a hot pixel on the dark side

    result = median_denoise(stack, size=3)

    assert float(result[0, 4, 3]) == 0.0
    assert torch.equal(result, torch.where(torch.arange(16) >= 8, 50.0, 0.0).expand(1, 16, 16))
    with pytest.raises(ValueError, match="odd number"):
        median_denoise(stack, size=4)


def test_normalize_range_maps_the_percentiles_per_channel_and_ignores_hot_pixels():
    values = torch.arange(1000, dtype=torch.float32).reshape(1, 10, 100)
    stack = torch.cat([values, values * 3 + 7])
    stack[0, 0, 0] = 1e9

    result = normalize_range(stack, low=1.0, high=99.0)

    for channel in result:
        assert float(channel.min()) == 0.0 and float(channel.max()) == 1.0
        assert abs(float(channel.median()) - 0.5) < 0.02


def test_normalize_range_makes_a_flat_channel_zero():
    result = normalize_range(torch.full((2, 4, 4), 3.0))

    assert bool(torch.all(result == 0.0))
    with pytest.raises(ValueError, match="low < high"):
        normalize_range(torch.zeros((1, 2, 2)), low=50, high=10)


def test_sobel_edges_are_zero_on_flat_areas_and_strongest_on_the_edge():
    stack = torch.zeros((1, 8, 8))
    stack[0, :, 4:] = 1.0

    raw = sobel_edges(stack)
    normalized = sobel_edges(stack, normalize=True)

    assert float(raw[0, 4, 0]) == 0.0 and float(raw[0, 4, 7]) == 0.0
    assert float(raw[0, 4, 3]) == float(raw[0, 4, 4]) == 4.0
    assert float(normalized.max()) == 1.0
