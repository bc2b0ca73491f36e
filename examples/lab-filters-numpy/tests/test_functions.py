"""What each function does, checked on small synthetic stacks."""

import numpy as np
import pytest

from lab_filters_numpy.functions import (
    gaussian_blur,
    normalize_percentile,
    subtract_background,
    threshold_otsu,
)


def _spots_on_a_ramp() -> np.ndarray:
    """Two channels of 64x64: a bright illumination ramp with three small square spots."""
    ramp = np.linspace(100.0, 400.0, 64, dtype=np.float32)[None, :].repeat(64, axis=0)
    stack = np.stack([ramp, ramp * 0.5])
    for y, x in ((10, 10), (30, 40), (50, 20)):
        stack[:, y : y + 3, x : x + 3] += 1000.0
    return stack


@pytest.mark.parametrize("method", ["opening", "box"])
def test_subtract_background_removes_the_ramp_and_keeps_the_spots(method):
    stack = _spots_on_a_ramp()

    result = subtract_background(stack, radius=8, method=method)

    assert result.shape == stack.shape and result.dtype == np.float32
    assert result.min() >= 0.0
    background = result[:, 0:5, 50:60]  # far from any spot
    spot = result[:, 31, 41]
    assert np.all(spot > 500.0)
    assert np.all(background.max(axis=(1, 2)) < 0.1 * spot)


def test_subtract_background_with_opening_leaves_a_flat_image_at_zero():
    flat = np.full((1, 32, 32), 250.0, dtype=np.float32)

    np.testing.assert_allclose(subtract_background(flat, radius=4), 0.0)


def test_subtract_background_refuses_unknown_methods_and_bad_radii():
    stack = np.zeros((1, 8, 8), dtype=np.float32)
    with pytest.raises(ValueError, match="method must be one of"):
        subtract_background(stack, method="rolling")
    with pytest.raises(ValueError, match="radius must be >= 1"):
        subtract_background(stack, radius=0)


def test_normalize_percentile_maps_the_percentiles_to_zero_and_one_per_channel():
    rng = np.random.default_rng(1)
    stack = np.stack([rng.normal(100, 10, (32, 32)), rng.normal(5000, 800, (32, 32))])
    stack[0, 0, 0] = 1e6  # a hot pixel does not set the scale

    result = normalize_percentile(stack.astype(np.uint16), low=1.0, high=99.0)

    assert result.dtype == np.float32
    for channel in result:
        assert channel.min() == 0.0 and channel.max() == 1.0
        assert 0.3 < float(np.median(channel)) < 0.7


def test_normalize_percentile_without_clip_keeps_values_beyond_the_percentiles():
    stack = np.arange(101, dtype=np.float32).reshape(1, 1, 101)

    result = normalize_percentile(stack, low=10.0, high=90.0, clip=False)

    np.testing.assert_allclose(result[0, 0, [10, 50, 90]], [0.0, 0.5, 1.0], atol=1e-6)
    assert result.min() < 0.0 and result.max() > 1.0


def test_normalize_percentile_makes_a_flat_channel_zero_not_nan():
    result = normalize_percentile(np.full((1, 4, 4), 7, dtype=np.uint8))

    assert np.all(result == 0.0)


def test_gaussian_blur_spreads_a_point_within_its_channel_and_keeps_its_mass():
    stack = np.zeros((2, 21, 21), dtype=np.float32)
    stack[0, 10, 10] = 1.0

    result = gaussian_blur(stack, sigma=2.0)

    assert result.shape == stack.shape and result.dtype == np.float32
    assert 0.0 < result[0, 10, 10] < 1.0
    assert result[0, 10, 12] > 0.0
    np.testing.assert_allclose(result[0].sum(), 1.0, rtol=1e-4)
    assert np.all(result[1] == 0.0)  # channels are not mixed
    with pytest.raises(ValueError, match="sigma must be > 0"):
        gaussian_blur(stack, sigma=0.0)


def test_threshold_otsu_finds_and_measures_the_spots():
    stack = _spots_on_a_ramp()
    flat = subtract_background(stack, radius=8)

    mask, measurements = threshold_otsu(flat)

    assert mask.shape == stack.shape and mask.dtype == np.uint8
    assert set(np.unique(mask)) == {0, 1}
    assert measurements["objects"] == 6  # three spots in each of two channels
    assert measurements["area"] == 6 * 9
    assert measurements["mean_area"] == 9.0
    assert measurements["channels"] == [{"objects": 3, "area": 27}] * 2
    assert len(measurements["thresholds"]) == 2
    assert mask[0, 31, 41] == 1 and mask[0, 0, 0] == 0


def test_threshold_otsu_drops_objects_smaller_than_min_area():
    stack = np.zeros((1, 20, 20), dtype=np.float32)
    stack[0, 2:6, 2:6] = 1.0  # 16 pixels
    stack[0, 15, 15] = 1.0  # 1 pixel

    mask, measurements = threshold_otsu(stack, min_area=4)

    assert measurements["objects"] == 1 and measurements["area"] == 16
    assert mask[0, 15, 15] == 0 and mask[0, 3, 3] == 1


def test_threshold_otsu_on_an_empty_channel_reports_no_objects():
    mask, measurements = threshold_otsu(np.zeros((1, 8, 8), dtype=np.float32))

    assert not mask.any()
    assert measurements["objects"] == 0 and measurements["mean_area"] == 0.0
