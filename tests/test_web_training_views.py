"""The training panel's live views, against the fast path computing the same costs directly."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from microgrid.app.web.training_views import (
    cost_surface,
    first_layer_images,
    gradient_comparison,
    path_directions,
    surface_costs,
)
from microgrid.digits.data import PIXEL_SCALE
from microgrid.digits.fast import FastMLP

rng = np.random.default_rng(7)
PIXELS = rng.integers(0, 256, (60, 784), dtype=np.uint8)
LABELS = rng.integers(0, 10, 60)


def cost_at(model: FastMLP, flat: np.ndarray, loss: str) -> float:
    """The fast path's own cost at the weights ``flat``."""
    other = copy.deepcopy(model)
    other.flat_parameters()[0].data[...] = flat
    return other.loss_and_backward(PIXELS, LABELS, loss, input_scale=PIXEL_SCALE)


@pytest.mark.parametrize(
    "sizes, activation, output, loss",
    [([16, 16, 10], "sigmoid", None, "mse"), ([32, 10], "relu", "linear", "cross_entropy"),
     ([8, 6, 10], "tanh", "linear", "mse")],
)  # fmt: skip
def test_every_point_of_the_surface_is_the_cost_there(sizes, activation, output, loss):
    model = FastMLP(784, sizes, activation, output, seed=2, dtype=np.float64)
    d1, d2 = (rng.standard_normal(model.num_parameters()) * 0.05 for _ in range(2))
    alphas, betas = [-1.0, 0.0, 0.5], [-0.5, 0.0, 2.0]
    grid = surface_costs(model, (d1, d2), alphas, betas, PIXELS, LABELS, loss)
    center = model.flat_parameters()[0].data
    for i, b in enumerate(betas):
        for j, a in enumerate(alphas):
            assert grid[i, j] == pytest.approx(cost_at(model, center + a * d1 + b * d2, loss), rel=1e-9)


def test_the_path_directions_span_a_planar_path():
    model = FastMLP(784, [16, 16, 10], seed=1, dtype=np.float64)
    center = model.flat_parameters()[0].data.copy()
    u, v = rng.standard_normal((2, center.size))
    path = [center + s * u + t * v for s, t in [(1, 0), (0.5, 0.4), (0.2, 0.3), (0.1, 0.05)]]
    (d1, d2), how = path_directions(model, path)
    assert "principal" in how
    assert d1 @ d1 == pytest.approx(1) and d2 @ d2 == pytest.approx(1) and abs(d1 @ d2) < 1e-9
    for p in path:  # each point is rebuilt from its two coordinates
        offset = p - center
        np.testing.assert_allclose((offset @ d1) * d1 + (offset @ d2) * d2, offset, atol=1e-8)
    surface = cost_surface(model, path, PIXELS, LABELS, "mse", points=5)
    assert surface["center_cost"] == pytest.approx(cost_at(model, center, "mse"), rel=1e-9)
    assert len(surface["path"]) == len(path) + 1 and surface["path"][-1] == [0.0, 0.0]


def test_without_a_path_the_directions_are_filter_normalised():
    model = FastMLP(784, [16, 10], seed=1, dtype=np.float64)
    (d1, d2), how = path_directions(model, [])
    assert "random filter-normalised" in how and abs(d1 @ d2) < 1e-9
    w1 = model.weights[0].data
    block = d1[: 785 * 16].reshape(785, 16)  # layer 1's [W^T; b]: each neuron's column has its norm, scaled
    ratios = np.linalg.norm(block[:-1], axis=0) / np.linalg.norm(w1, axis=1)
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-9)
    assert not block[-1].any()  # biases are not moved


def test_gradient_comparison_against_the_whole_set():
    model = FastMLP(784, [16, 16, 10], seed=4, dtype=np.float64)
    flat = model.flat_parameters()[0]
    cost = model.loss_and_backward(PIXELS[:10], LABELS[:10], "mse", input_scale=PIXEL_SCALE)
    batch = flat.grad.copy()
    full_cost = model.loss_and_backward(PIXELS, LABELS, "mse", input_scale=PIXEL_SCALE)
    full = flat.grad.copy()
    got = gradient_comparison(copy.deepcopy(model), flat.data.copy(), batch, cost, PIXELS, LABELS, "mse", chunk=7)
    assert got["cosine"] == pytest.approx(batch @ full / np.linalg.norm(batch) / np.linalg.norm(full))
    assert got["full_cost"] == pytest.approx(full_cost) and got["batch_cost"] == cost
    same = gradient_comparison(copy.deepcopy(model), flat.data.copy(), full, full_cost, PIXELS, LABELS, "mse")
    assert same["cosine"] == pytest.approx(1.0)


def test_first_layer_images_sample_wide_layers():
    wide = FastMLP(784, [100, 10], seed=0)
    images = first_layer_images(wide)
    assert images["of"] == 100 and len(images["indices"]) == 16
    assert images["indices"][0] == 0 and images["indices"][-1] == 99
    narrow = first_layer_images(FastMLP(784, [16, 16, 10], seed=0))
    assert narrow["indices"] == list(range(16)) and narrow["side"] == 28
