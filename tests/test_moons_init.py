"""micrograd's two-moons demo with the default initialisation, and micrograd's own init.

The demo: ``MLP(2, [16, 16, 1], "relu", "linear")``, hinge loss + 1e-4 L2, full-batch SGD
with lr 1.0 - 0.9 k/K for K steps, ``two_moons(100, noise=0.1, seed=s)``, the net seeded
with the same s, seeds 0-9 and 1337. The scalar engine takes tens of seconds per run, so
the eleven seeds run on a NumPy transcription of the same step (written out by hand
here), which one slow test checks against the scalar engine.
"""

import random

import numpy as np
import pytest

from microgrid import MLP, Value
from microgrid.digits.fast import FastMLP
from microgrid.init import init_layer
from microgrid.support.toys import two_moons

SEEDS = [*range(10), 1337]


def _net(seed: int, init: str) -> MLP:
    return MLP(2, [16, 16, 1], activation="relu", output_activation="linear", init=init, seed=seed)


def scalar_moons(seed: int, init: str, steps: int) -> tuple[float, MLP]:
    """micrograd's demo on the scalar engine: (training accuracy after the last step, the net)."""
    xs, ys = two_moons(100, noise=0.1, seed=seed)
    model = _net(seed, init)
    params = model.parameters()
    for k in range(steps):
        scores = [model(x)[0] for x in xs]
        data_loss = Value.sum([(1 - y * s).relu() for y, s in zip(ys, scores)]) * (1 / len(xs))
        loss = data_loss + 1e-4 * Value.sum([p * p for p in params])
        model.zero_grad()
        loss.backward()
        for p in params:
            p.data -= (1.0 - 0.9 * k / steps) * p.grad
    return sum((model(x)[0].data > 0) == (y > 0) for x, y in zip(xs, ys)) / len(xs), model


def numpy_moons(seed: int, init: str, steps: int) -> tuple[float, list[np.ndarray]]:
    """The same training, the backward pass written out by hand in NumPy (float64)."""
    xs, ys = two_moons(100, noise=0.1, seed=seed)
    x, y = np.array(xs), np.array(ys)[:, None]
    w1, b1, w2, b2, w3, b3 = (p.data.copy() for p in FastMLP.from_scalar(_net(seed, init)).parameters())
    n = len(x)
    for k in range(steps):
        z1 = x @ w1.T + b1
        z2 = np.maximum(z1, 0) @ w2.T + b2
        s = np.maximum(z2, 0) @ w3.T + b3
        ds = -y * ((1 - y * s) > 0) / n  # d(mean hinge)/ds
        dz2 = ds @ w3 * (z2 > 0)
        dz1 = dz2 @ w2 * (z1 > 0)
        grads = [dz1.T @ x, dz1.sum(0), dz2.T @ np.maximum(z1, 0), dz2.sum(0), ds.T @ np.maximum(z2, 0), ds.sum(0)]
        lr = 1.0 - 0.9 * k / steps
        w1, b1, w2, b2, w3, b3 = (
            p - lr * (g + 2e-4 * p) for p, g in zip((w1, b1, w2, b2, w3, b3), grads)
        )  # L2: d(1e-4 p^2)/dp = 2e-4 p
    s = np.maximum(np.maximum(x @ w1.T + b1, 0) @ w2.T + b2, 0) @ w3.T + b3
    return float(np.mean((s > 0) == (y > 0))), [w1, b1, w2, b2, w3, b3]


def separated(init: str, steps: int) -> list[int]:
    return [seed for seed in SEEDS if numpy_moons(seed, init, steps)[0] == 1.0]


def test_default_init_separates_every_seed_in_500_steps():
    assert separated("default", 500) == SEEDS


def test_in_micrograds_100_steps_two_seeds_end_one_point_short():
    """Why the default cannot do it in 100 steps: seeds 4 and 6 end at 99 of 100 points,
    and micrograd's own uniform(-1, 1) init does no better on these points (seed 6)."""
    assert [seed for seed in SEEDS if seed not in separated("default", 100)] == [4, 6]
    assert [numpy_moons(seed, "default", 100)[0] for seed in (4, 6)] == [0.99, 0.99]
    assert [seed for seed in SEEDS if seed not in separated("uniform", 100)] == [6]


@pytest.mark.slow
def test_the_numpy_transcription_is_the_scalar_engine():
    accuracy, model = scalar_moons(4, "default", 100)
    expected_accuracy, expected = numpy_moons(4, "default", 100)
    assert accuracy == expected_accuracy
    for mine, theirs in zip(FastMLP.from_scalar(model).parameters(), expected):
        np.testing.assert_allclose(mine.data, theirs, rtol=1e-9, atol=1e-12)


def test_uniform_init_is_micrograds():
    weights, biases = init_layer(16, 16, "relu", "uniform", random.Random(0))
    rng = random.Random(0)
    assert weights == [[rng.uniform(-1.0, 1.0) for _ in range(16)] for _ in range(16)]
    assert biases == [0.0] * 16


def test_both_engines_draw_the_same_uniform_weights():
    fast = FastMLP.from_scalar(MLP(2, [16, 1], "relu", "linear", init="uniform", seed=3))
    drawn = FastMLP(2, [16, 1], "relu", "linear", init="uniform", seed=3)
    for a, b in zip(fast.parameters(), drawn.parameters()):
        np.testing.assert_array_equal(a.data, b.data)
