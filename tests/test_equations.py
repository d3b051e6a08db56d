"""The notes' equations (digits/equations.py) against the scalar engine, and the fast path against them."""

import itertools

import numpy as np
import pytest

from microgrid import MLP
from microgrid.digits import equations
from microgrid.digits.fast import FastMLP
from microgrid.digits.fast_kernels import FORWARD
from microgrid.digits.train import scalar_batch_loss

ACTIVATIONS = ["sigmoid", "relu", "tanh", "linear"]
CASES = [(h, o, "mse") for h, o in itertools.product(ACTIVATIONS, ACTIVATIONS)]
CASES += [(h, "linear", "cross_entropy") for h in ACTIVATIONS]


def by_the_equations(model: FastMLP, x: np.ndarray, labels: np.ndarray, loss: str):
    weights = [w.data.astype(np.float64) for w in model.weights]
    biases = [b.data.astype(np.float64) for b in model.biases]
    a = equations.forward(weights, biases, model.activations, x.astype(np.float64))
    cost, output_gradient = equations.cost_and_output_gradient(a[-1], labels, loss)
    grad_w, grad_b = equations.backward(weights, model.activations, a, output_gradient)
    return cost, grad_w, grad_b


def close(a, b, tolerance):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = max(np.abs(a).max(), np.abs(b).max(), 1e-300)
    return np.abs(a - b).max() / scale <= tolerance


@pytest.mark.parametrize("hidden,output,loss", CASES)
def test_the_equations_give_the_scalar_engines_gradients(hidden, output, loss):
    rng = np.random.default_rng(7)
    x, labels = rng.random((5, 6)), rng.integers(0, 3, 5)
    mlp = MLP(6, [4, 5, 3], hidden, output, seed=3)
    cost = scalar_batch_loss(mlp, x, labels, loss)
    fast = FastMLP.from_scalar(mlp)
    by_hand, grad_w, grad_b = by_the_equations(fast, x, labels, loss)
    assert abs(by_hand - cost) <= 1e-13 * max(1.0, abs(cost))
    for layer, neurons in enumerate(mlp.layers):
        scalar_w = np.array([[p.grad for p in n.w] for n in neurons.neurons])
        scalar_b = np.array([n.b.grad for n in neurons.neurons])
        assert close(grad_w[layer], scalar_w, 1e-12) and close(grad_b[layer], scalar_b, 1e-12), layer


@pytest.mark.parametrize("hidden,output,loss", CASES)
@pytest.mark.parametrize("pixels", [False, True], ids=["floats", "uint8-pixels"])
def test_the_fast_path_computes_the_equations(hidden, output, loss, pixels):
    """float64: the fast path's cost and every gradient equal the plain equations to 1e-12,
    for real inputs and for uint8 pixels read through input_scale."""
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 256, (12, 20)).astype(np.uint8)
    x, scale = (raw, 1 / 255) if pixels else (rng.standard_normal((12, 20)), 1.0)
    labels = rng.integers(0, 4, 12)
    model = FastMLP(20, [7, 6, 4], hidden, output, seed=2)
    cost = model.loss_and_backward(x, labels, loss, input_scale=scale)
    by_hand, grad_w, grad_b = by_the_equations(model, x * scale, labels, loss)
    assert abs(cost - by_hand) <= 1e-12 * max(1.0, abs(by_hand))
    for w, b, gw, gb in zip(model.weights, model.biases, grad_w, grad_b):
        assert close(w.grad, gw, 1e-12) and close(b.grad, gb, 1e-12)


@pytest.mark.parametrize("sizes", [[784, 16, 16, 10], [784, 256, 10]], ids=["notes", "best"])
def test_float32_fast_path_matches_the_equations_in_float64(sizes):
    rng = np.random.default_rng(4)
    x, labels = rng.integers(0, 256, (100, 784)).astype(np.uint8), rng.integers(0, 10, 100)
    activation, output, loss = ("sigmoid", None, "mse") if len(sizes) == 4 else ("relu", "linear", "cross_entropy")
    model = FastMLP(784, sizes[1:], activation, output, seed=0, dtype=np.float32)
    cost = model.loss_and_backward(x, labels, loss, input_scale=1 / 255)
    by_hand, grad_w, grad_b = by_the_equations(model, x / 255, labels, loss)
    assert abs(cost - by_hand) <= 1e-5 * max(1.0, abs(by_hand))
    for w, b, gw, gb in zip(model.weights, model.biases, grad_w, grad_b):
        assert close(w.grad, gw, 1e-4) and close(b.grad, gb, 1e-4)


@pytest.mark.parametrize("name", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_each_forward_kernel_is_sigma_of_s_z(name, dtype):
    rng = np.random.default_rng(0)
    z = (rng.standard_normal((9, 7)) * 20).astype(dtype)
    z[0, :3] = [0.0, -0.0, np.nan]
    for scale in (1.0, 1 / 255, 3.7):
        out, scratch = np.empty_like(z), np.empty_like(z)
        with np.errstate(over="ignore"):
            FORWARD[name](z, out, scratch, scale)
            expected = equations.SIGMA[name](z * dtype(scale))
        assert np.allclose(out, expected, rtol=4 * np.finfo(dtype).eps, atol=0, equal_nan=True), (name, scale)
        assert np.isnan(out[0, 2])  # NaN in, NaN out: never hidden
