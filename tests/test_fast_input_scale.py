"""The fast path's input scale is written for every batch, not once per cached workspace."""

from __future__ import annotations

import numpy as np
import pytest

from microgrid.digits.data import PIXEL_SCALE
from microgrid.digits.fast import FastMLP


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_uint8_pixels_with_a_scale_are_the_pixels_divided_by_255_in_any_order(dtype):
    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (20, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 20)
    scaled = pixels / 255.0

    def fresh(x, scale=1.0):
        model = FastMLP(784, [16, 10], "sigmoid", seed=1, dtype=dtype)
        cost = model.loss_and_backward(x, labels, "mse", input_scale=scale)
        return cost, model.flat_parameters()[0].grad.copy()

    truth_cost, truth_grad = fresh(scaled)
    model = FastMLP(784, [16, 10], "sigmoid", seed=1, dtype=dtype)  # one model: one workspace for 20 rows
    for x, scale in [(pixels, PIXEL_SCALE), (scaled, 1.0), (pixels, PIXEL_SCALE), (scaled * 2, 0.5)]:
        cost = model.loss_and_backward(x, labels, "mse", input_scale=scale)
        assert cost == pytest.approx(truth_cost, rel=1e-5)
        np.testing.assert_allclose(model.flat_parameters()[0].grad, truth_grad, rtol=1e-4, atol=1e-6)
