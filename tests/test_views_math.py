"""The math behind the page's views (issue 25), each held to a second computation.

- a matrix cell of the fast path's dC0/dW(l) against the scalar engine's chain for that
  weight (the product of the local derivatives) and its Value.grad;
- the gradient of an output by the input pixels against central differences;
- the fast path's exact Hessian-vector product against the scalar engine's ``hvp``, and
  its top eigenvalue against the eigenvalues of a dense Hessian;
- a replayed snapshot against the model as it was at that step.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from microgrid import hessian, hvp
from microgrid.digits.curvature import hessian_vector_product, top_eigenpairs
from microgrid.digits.example_gradient import example_gradients
from microgrid.digits.fast import FastMLP
from microgrid.digits.input_ascent import ascend, input_gradient, noise_reading
from microgrid.digits.replay import Replay
from microgrid.digits.train import accuracy
from microgrid.losses import cross_entropy, mse
from microgrid.nn import MLP
from microgrid.support.weight_chain import ExampleGraph

NETS = [
    ("sigmoid", "sigmoid", "mse"),
    ("relu", "linear", "cross_entropy"),
    ("tanh", "sigmoid", "mse"),
    ("tanh", "linear", "cross_entropy"),
]


def _data(nin: int, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.random((n, nin)), rng.integers(0, 3, n)


def _scalar_to_flat(mlp: MLP, values: list[float]) -> np.ndarray:
    """Numbers in mlp.parameters() order (per neuron: weights, then bias) -> FastMLP's flat layout."""
    blocks, at = [], 0
    for layer in mlp.layers:
        block = np.empty((layer.nin + 1, layer.nout))
        for j in range(layer.nout):
            block[:, j] = values[at : at + layer.nin + 1]
            at += layer.nin + 1
        blocks.append(block.ravel())
    return np.concatenate(blocks)


# -- 1. the matrix cell and the scalar chain -------------------------------------------------


@pytest.mark.parametrize("activation, output, loss", NETS)
def test_matrix_cell_equals_scalar_chain_product_and_value_grad(activation, output, loss):
    mlp = MLP(12, [5, 4, 3], activation, output, seed=3)
    fast = FastMLP.from_scalar(mlp)
    x, labels = _data(12, 1, seed=4)
    cost, grad_w, _ = example_gradients(fast, x[0], int(labels[0]), loss)
    graph = ExampleGraph(mlp, x[0].tolist(), int(labels[0]), loss)
    assert graph.cost.data == pytest.approx(cost, rel=1e-12)
    for layer in (1, 2, 3):
        rows, cols = grad_w[layer - 1].shape
        for j, k in ((0, 0), (rows - 1, cols - 1), (rows // 2, cols // 3)):
            found = graph.chain(layer, j, k)
            cell = grad_w[layer - 1][j, k]
            assert found["product"] == pytest.approx(cell, rel=1e-9, abs=1e-15)
            assert found["engine"] == pytest.approx(cell, rel=1e-9, abs=1e-15)
            assert found["nodes"][0]["name"] == f"w_{j},{k}({layer})"
            assert found["nodes"][-1]["name"] == "C0"
            # the first edge's local derivative is a_k(l-1), the input the weight multiplies
            a_prev = x[0][k] if layer == 1 else graph.acts[layer - 1][k].data
            assert found["edges"][0]["local"] == pytest.approx(a_prev, rel=1e-12)


def test_output_layer_chain_is_the_notes_chain_to_c0():
    """For the notes' net and the output layer: a(L-1) x sigma'(z) x 1 x 2(a - y) x 1."""
    mlp = MLP(6, [3, 2], "sigmoid", seed=1)
    x = [0.1, 0.9, 0.3, 0.0, 0.5, 0.7]
    graph = ExampleGraph(mlp, x, 1, "mse")
    found = graph.chain(2, 1, 0)
    a_prev = graph.acts[1][0].data
    a = graph.acts[2][1].data
    hand = [a_prev, a * (1 - a), 1.0, 2 * (a - 1.0), 1.0]
    assert [e["local"] for e in found["edges"]] == pytest.approx(hand, rel=1e-12)
    assert found["fan"] is None
    names = ["w_1,0(2)", "z_1(2)", "a_1(2)", "a_1(2) - y_1", "(a_1(2) - y_1)²", "C0"]
    assert [n["name"] for n in found["nodes"]] == names


def test_hidden_chain_fans_out_and_its_terms_sum_to_the_grad():
    mlp = MLP(6, [3, 2], "sigmoid", seed=1)
    graph = ExampleGraph(mlp, [0.2] * 6, 0, "mse")
    found = graph.chain(1, 2, 5)
    assert found["fan"]["node"] == "a_2(1)"
    assert len(found["fan"]["terms"]) == 2
    assert found["fan"]["sum"] == pytest.approx(graph.acts[1][2].grad, rel=1e-12)
    for term, z in zip(found["fan"]["terms"], graph.zs[2]):
        assert term["local"] == mlp.layers[1].neurons[int(term["to"][2])].w[2].data
        assert term["grad"] == z.grad


def test_chain_refuses_a_weight_that_is_not_there():
    graph = ExampleGraph(MLP(4, [2, 2], seed=0), [0.0] * 4, 0)
    with pytest.raises(ValueError, match="layer 1 has weights w_jk with j < 2 and k < 4"):
        graph.chain(1, 2, 0)
    with pytest.raises(ValueError, match=r"layer must be in \[1, 2\]"):
        graph.chain(3, 0, 0)


# -- 2. the input gradient ----------------------------------------------------------------------


@pytest.mark.parametrize("activation, output, loss", NETS)
@pytest.mark.parametrize("score", ["output", "log_softmax"])
def test_input_gradient_matches_central_differences(activation, output, loss, score):
    fast = FastMLP(20, [8, 6, 10], activation, output, seed=2)
    image = np.random.default_rng(5).random(20)
    value, grad = input_gradient(fast, image, 7, score)
    h = 1e-6
    for pixel in (0, 3, 11, 19):
        up, down = image.copy(), image.copy()
        up[pixel] += h
        down[pixel] -= h
        numeric = (input_gradient(fast, up, 7, score)[0] - input_gradient(fast, down, 7, score)[0]) / (2 * h)
        assert grad[pixel] == pytest.approx(numeric, rel=1e-5, abs=1e-9)
    out = fast(image[None])[0]
    expected = out[7] if score == "output" else out[7] - math.log(np.exp(out).sum())
    assert value == pytest.approx(expected, rel=1e-12)


def test_input_gradient_matches_the_scalar_engine():
    mlp = MLP(9, [4, 3], "sigmoid", seed=0)
    x = [0.1 * i for i in range(9)]
    inputs = [v for v in x]
    from microgrid import Value, grad

    values = [Value(v) for v in inputs]
    out = mlp(values)[2]
    expected = [g.data for g in grad(out, values)]
    _, found = input_gradient(FastMLP.from_scalar(mlp), np.array(x), 2, "output")
    assert found == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_ascent_raises_the_score_and_keeps_pixels_in_range():
    fast = FastMLP(784, [16, 16, 10], "sigmoid", seed=0, init="normal")
    image, scores = ascend(fast, np.zeros(784), 4, steps=15, rate=0.05)
    assert scores[-1] > scores[0]
    assert image.min() >= 0.0 and image.max() <= 1.0
    assert fast(image[None])[0, 4] == pytest.approx(scores[-1], rel=1e-12)


def test_noise_reading_is_the_networks_own_answer():
    fast = FastMLP(784, [16, 10], "sigmoid", seed=0)
    read = noise_reading(fast, seed=3, count=4)
    images = np.array(read["images"])
    assert images.shape == (4, 784) and 0 <= images.min() and images.max() <= 1
    out = fast(images)
    assert read["digits"] == out.argmax(axis=1).tolist()
    assert read["confidence"] == pytest.approx(out.max(axis=1), abs=1e-4)  # pixels rounded to 4 places


def test_input_gradient_refuses_a_bad_digit_or_score():
    fast = FastMLP(4, [3], seed=0)
    with pytest.raises(ValueError, match=r"digit must be in \[0, 3\), got 3"):
        input_gradient(fast, np.zeros(4), 3)
    with pytest.raises(ValueError, match="score must be one of output, log_softmax, got 'x'"):
        input_gradient(fast, np.zeros(4), 0, "x")


# -- 3. curvature ----------------------------------------------------------------------------


@pytest.mark.parametrize("activation, output, loss", NETS)
def test_fast_hvp_matches_the_scalar_engine_hvp(activation, output, loss):
    mlp = MLP(5, [4, 3], activation, output, seed=7)
    fast = FastMLP.from_scalar(mlp)
    x, labels = _data(5, 6, seed=8)
    rows = [[float(v) for v in row] for row in x]
    ys = [int(y) for y in labels]
    params = mlp.parameters()
    vector = np.random.default_rng(9).standard_normal(len(params))
    cost = mse([mlp(r) for r in rows], ys) if loss == "mse" else cross_entropy([mlp(r) for r in rows], ys)
    expected = _scalar_to_flat(mlp, hvp(cost, params, vector.tolist()))
    value, gradient, found = hessian_vector_product(fast, x, labels, loss, _scalar_to_flat(mlp, vector.tolist()))
    assert value == pytest.approx(cost.data, rel=1e-12)
    scale = np.abs(expected).max()
    assert np.abs(found - expected).max() <= 1e-6 * scale
    fast.loss_and_backward(x, labels, loss)
    assert gradient == pytest.approx(fast.flat_parameters()[0].grad, rel=1e-10, abs=1e-14)


def test_top_eigenvalues_match_a_dense_hessian():
    mlp = MLP(4, [5, 3], "sigmoid", seed=2)
    fast = FastMLP.from_scalar(mlp)
    x, labels = _data(4, 10, seed=3)
    cost = mse([mlp([float(v) for v in r]) for r in x], [int(y) for y in labels])
    params = mlp.parameters()
    dense = np.array(hessian(cost, params))
    eig = np.linalg.eigvalsh(dense)
    by_size = eig[np.argsort(-np.abs(eig))]

    def product(v: np.ndarray) -> np.ndarray:
        return hessian_vector_product(fast, x, labels, "mse", v)[2]

    values, vectors, used = top_eigenpairs(product, fast.num_parameters(), 2, iterations=500, tol=1e-12)
    assert values == pytest.approx(by_size[:2], rel=1e-6)
    # the vector is an eigenvector (in the flat layout): H v = lambda v
    top = vectors[:, 0]
    assert product(top) == pytest.approx(values[0] * top, abs=1e-6 * abs(values[0]))


def test_top_eigenpair_of_a_known_matrix_and_warm_start():
    rng = np.random.default_rng(0)
    basis, _ = np.linalg.qr(rng.standard_normal((30, 30)))
    spectrum = np.linspace(-1.0, 1.0, 30)
    spectrum[-1], spectrum[-2] = 9.0, 4.0
    matrix = basis @ np.diag(spectrum) @ basis.T
    values, vectors, used = top_eigenpairs(lambda v: matrix @ v, 30, 2, iterations=200, tol=1e-12)
    assert values == pytest.approx([9.0, 4.0], rel=1e-9)
    again, _, used_again = top_eigenpairs(lambda v: matrix @ v, 30, 2, start=vectors, tol=1e-9)
    assert again == pytest.approx([9.0, 4.0], rel=1e-8) and used_again < used


def test_hvp_refuses_a_vector_of_the_wrong_size():
    fast = FastMLP(3, [2], seed=0)
    with pytest.raises(ValueError, match=r"the vector must have shape \(8,\)"):
        hessian_vector_product(fast, np.zeros((1, 3)), np.array([0]), "mse", np.zeros(7))


# -- 4. replay ---------------------------------------------------------------------------------


def test_replay_keeps_at_most_its_limit_spread_over_the_run():
    replay = Replay(parameters=10, limit=8)
    for step in range(0, 1001):
        replay.add(step, np.full(10, float(step)), cost=1.0 / (step + 1))
    assert len(replay) <= 8
    assert replay.steps == sorted(replay.steps) and replay.steps[-1] >= 1000 - replay.every
    gaps = set(np.diff(replay.steps).tolist())
    assert gaps == {replay.every}
    for position, step in enumerate(replay.steps):
        assert replay.weights(position)[0] == step
        assert replay.costs[position] == pytest.approx(1.0 / (step + 1))
    assert replay.steps[0] == 0  # the starting weights stay


def test_replay_is_bounded_in_bytes_for_the_notes_net():
    notes = FastMLP(784, [16, 16, 10], dtype=np.float32)
    replay = Replay(notes.num_parameters(), itemsize=4)
    for step in range(5000):
        replay.add(step, notes.flat_parameters()[0].data, 0.0)
    assert len(replay) <= 200 and replay.nbytes < 30_000_000
    big = Replay(203_530, itemsize=4)  # the bundled 784-256-10 reader: fewer snapshots
    assert big.limit * 203_530 * 4 <= 30_000_000


def test_a_replayed_step_is_the_model_saved_at_that_step():
    rng = np.random.default_rng(0)
    x, labels = rng.random((200, 784)), rng.integers(0, 10, 200)
    model = FastMLP(784, [16, 16, 10], seed=0)
    replay = Replay(model.num_parameters(), itemsize=8, limit=10)
    saved = {}
    flat = model.flat_parameters()[0]
    for step in range(1, 41):
        model.loss_and_backward(x[step % 4 :: 4], labels[step % 4 :: 4])
        flat.data -= 3.0 * flat.grad
        replay.add(step, flat.data, 0.0)
        saved[step] = copy.deepcopy(model)
    for position, step in enumerate(replay.steps):
        again = replay.model(position, model)
        assert accuracy(again, x, labels) == accuracy(saved[step], x, labels)
        assert np.array_equal(again.flat_parameters()[0].data, saved[step].flat_parameters()[0].data)
    with pytest.raises(IndexError, match="position must be in"):
        replay.weights(len(replay))
