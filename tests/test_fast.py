"""FastMLP against the scalar engine, central differences and PyTorch."""

import random

import numpy as np
import pytest

from microgrid import MLP, SGD, Adam
from microgrid.digits.crosscheck import compare_gradients, compare_training, random_architecture
from microgrid.digits.data import load_mnist, to_inputs
from microgrid.digits.fast import FastMLP


@pytest.fixture(scope="module")
def batch():
    d = load_mnist()
    return to_inputs(d.train_images[:200]), d.train_labels[:200].astype(np.int64)


def test_same_seed_same_weights_as_scalar():
    scalar = MLP(784, [16, 16, 10], seed=5)
    fast = FastMLP(784, [16, 16, 10], seed=5)
    assert fast.num_parameters() == 13_002
    assert np.array_equal(FastMLP.from_scalar(scalar).weights[1].data, fast.weights[1].data)
    back = fast.to_scalar()
    assert [p.data for p in back.parameters()] == [p.data for p in scalar.parameters()]


@pytest.mark.parametrize(
    "activation,output,loss",
    [("sigmoid", None, "mse"), ("relu", "linear", "cross_entropy"), ("tanh", "sigmoid", "mse")],
)
def test_notes_network_gradients_equal_scalar_engine(batch, activation, output, loss):
    x, y = batch
    mlp = MLP(784, [16, 16, 10], activation, output, seed=1)
    result = compare_gradients(mlp, x[:10], y[:10], loss)
    assert result.loss <= 1e-10 and result.gradient <= 1e-10


def test_random_architectures_match_scalar_engine(batch):
    x, y = batch
    rng = random.Random(123)
    for _ in range(8):
        mlp, loss = random_architecture(rng)
        g = compare_gradients(mlp, x[:10], y[:10], loss)
        assert g.gradient <= 1e-10, mlp
        t = compare_training(mlp, x, y, loss, steps=20, batch=10)
        assert t.weights <= 1e-9 and t.loss <= 1e-10, mlp


def test_gradient_against_central_differences():
    rng = np.random.default_rng(0)
    x = rng.random((6, 5))
    y = rng.integers(0, 3, 6)
    for loss in ("mse", "cross_entropy"):
        net = FastMLP(5, [4, 3], "tanh", "sigmoid", seed=3)
        net.loss_and_backward(x, y, loss)
        w = net.weights[0]
        analytic = w.grad.copy()
        eps = 1e-6
        for j, k in [(0, 0), (1, 3), (3, 4)]:
            w.data[j, k] += eps
            up = net.loss_and_backward(x, y, loss)
            w.data[j, k] -= 2 * eps
            down = net.loss_and_backward(x, y, loss)
            w.data[j, k] += eps
            assert analytic[j, k] == pytest.approx((up - down) / (2 * eps), rel=1e-6, abs=1e-10)


def test_optimizers_step_numpy_params_like_values():
    from microgrid import mse

    x = np.array([[0.5, -1.0, 2.0]])
    for make in (lambda p: SGD(p, lr=0.1, momentum=0.5), lambda p: Adam(p, lr=0.1)):
        scalar_net = MLP(3, [2], "tanh", seed=0)
        fast_net = FastMLP.from_scalar(scalar_net)
        fast_opt, scalar_opt = make(fast_net.parameters()), make(scalar_net.parameters())
        for _ in range(3):
            fast_net.loss_and_backward(x, np.array([1]), "mse")
            fast_opt.step()
            scalar_net.zero_grad()
            mse(scalar_net(x[0].tolist()), 1).backward()
            scalar_opt.step()
        stepped = [p.data for p in fast_net.to_scalar().parameters()]
        assert stepped != [p.data for p in MLP(3, [2], "tanh", seed=0).parameters()]
        assert [p.data for p in scalar_net.parameters()] == pytest.approx(stepped, rel=1e-12)


def test_float32_is_close_to_float64(batch):
    x, y = batch
    a = FastMLP(784, [16, 10], "relu", "linear", seed=0)
    b = FastMLP(784, [16, 10], "relu", "linear", seed=0, dtype=np.float32)
    assert a.loss_and_backward(x, y, "cross_entropy") == pytest.approx(
        b.loss_and_backward(x, y, "cross_entropy"), rel=1e-5
    )
    assert b.weights[0].grad.dtype == np.float32


def test_shape_and_label_errors():
    net = FastMLP(4, [3])
    with pytest.raises(ValueError, match=r"shape \(n, 4\), got \(2, 5\)"):
        net(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="labels must be in"):
        net.loss_and_backward(np.zeros((2, 4)), np.array([0, 3]))
    with pytest.raises(ValueError, match="unknown loss"):
        net.loss_and_backward(np.zeros((2, 4)), np.array([0, 1]), "hinge")
    with pytest.raises(ValueError, match="dtype"):
        FastMLP(4, [3], dtype=np.int32)


def test_matches_torch(batch):
    torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
    x, y = batch
    net = FastMLP(784, [32, 10], "sigmoid", "linear", seed=4)
    value = net.loss_and_backward(x[:50], y[:50], "cross_entropy")
    w1 = torch.tensor(net.weights[0].data, requires_grad=True)
    b1 = torch.tensor(net.biases[0].data, requires_grad=True)
    w2 = torch.tensor(net.weights[1].data, requires_grad=True)
    b2 = torch.tensor(net.biases[1].data, requires_grad=True)
    z = torch.sigmoid(torch.tensor(x[:50]) @ w1.T + b1) @ w2.T + b2
    loss = torch.nn.functional.cross_entropy(z, torch.tensor(y[:50]))
    loss.backward()
    assert value == pytest.approx(loss.item(), rel=1e-12)
    assert np.allclose(net.weights[0].grad, w1.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert np.allclose(net.biases[1].grad, b2.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_params_are_views_of_one_flat_vector_and_assignment_writes_into_them():
    net = FastMLP(5, [4, 3], "tanh", seed=2)
    (flat,) = net.flat_parameters()
    assert flat.data.shape == flat.grad.shape == (net.num_parameters(),)
    w2 = net.weights[1]
    w2.data = np.full((3, 4), 0.25)  # assignment keeps the storage: the flat vector sees it
    assert np.shares_memory(w2.data, flat.data) and np.count_nonzero(flat.data == 0.25) >= 12
    w2.data -= 0.25  # in place, through the property
    assert not w2.data.any()
    net.biases[0].grad = 1.5  # a number fills the array
    assert np.array_equal(net.biases[0].grad, np.full(4, 1.5)) and np.shares_memory(net.biases[0].grad, flat.grad)
    with pytest.raises(ValueError, match=r"W1.data has shape \(4, 5\), cannot assign an array of shape \(5, 4\)"):
        net.weights[0].data = np.zeros((5, 4))


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.3, momentum=0.9), lambda p: Adam(p, lr=0.01)])
def test_optimizer_over_the_flat_vector_equals_per_array(batch, make):
    x, y = batch
    per_array, flat = (FastMLP(784, [16, 10], "relu", "linear", seed=7) for _ in range(2))
    opt_a, opt_b = make(per_array.parameters()), make(flat.flat_parameters())
    for step in range(5):
        xb, yb = x[step * 20 : (step + 1) * 20], y[step * 20 : (step + 1) * 20]
        per_array.loss_and_backward(xb, yb, "cross_entropy")
        flat.loss_and_backward(xb, yb, "cross_entropy")
        opt_a.step()
        opt_b.step()
    for a, b in zip(per_array.parameters(), flat.parameters()):
        assert np.array_equal(a.data, b.data), a.name  # elementwise formulas: the same numbers


def test_uint8_pixels_with_input_scale_equal_float_inputs():
    d = load_mnist()
    pixels = d.train_images[:30].reshape(30, 784)
    labels = d.train_labels[:30]
    a, b = FastMLP(784, [16, 16, 10], seed=3), FastMLP(784, [16, 16, 10], seed=3)
    la = a.loss_and_backward(to_inputs(d.train_images[:30]), labels, "mse")
    lb = b.loss_and_backward(pixels, labels, "mse", input_scale=1 / 255)
    assert lb == pytest.approx(la, rel=1e-13)
    for pa, pb in zip(a.parameters(), b.parameters()):
        assert np.allclose(pb.grad, pa.grad, rtol=1e-11, atol=1e-15), pa.name
    assert np.array_equal(
        a.predict(to_inputs(d.test_images)), b.predict(d.test_images.reshape(-1, 784), input_scale=1 / 255)
    )


def test_reused_buffers_do_not_leak_between_batch_sizes(batch):
    x, y = batch
    net = FastMLP(784, [12, 10], "sigmoid", seed=1)
    first = net.loss_and_backward(x[:10], y[:10], "mse"), [p.grad.copy() for p in net.parameters()]
    net.loss_and_backward(x[10:17], y[10:17], "mse")  # another batch size, then the first again
    again = net.loss_and_backward(x[:10], y[:10], "mse"), [p.grad.copy() for p in net.parameters()]
    assert first[0] == again[0] and all(np.array_equal(g, h) for g, h in zip(first[1], again[1]))
    fresh = FastMLP(784, [12, 10], "sigmoid", seed=1)
    assert fresh.loss_and_backward(x[10:17], y[10:17], "mse") == net.loss_and_backward(x[10:17], y[10:17], "mse")


@pytest.mark.parametrize("how", ["deepcopy", "pickle"])
def test_a_copy_is_a_model_of_its_own_with_views_of_its_own_vector(batch, how):
    import copy
    import pickle

    x, y = batch
    net = FastMLP(784, [16, 10], "relu", "linear", seed=6, dtype=np.float32)
    net.loss_and_backward(x[:20], y[:20], "cross_entropy")
    twin = copy.deepcopy(net) if how == "deepcopy" else pickle.loads(pickle.dumps(net))
    assert repr(twin) == repr(net)
    assert all(
        np.array_equal(a.data, b.data) and np.array_equal(a.grad, b.grad)
        for a, b in zip(net.parameters(), twin.parameters())
    )
    SGD(twin.flat_parameters(), lr=0.5).step()  # moves the twin's weights, through its own flat vector
    assert not np.array_equal(twin.weights[0].data, net.weights[0].data)
    assert np.shares_memory(twin.weights[0].data, twin.flat_parameters()[0].data)
    assert not np.shares_memory(twin.weights[0].data, net.flat_parameters()[0].data)
    assert twin.loss_and_backward(x[:20], y[:20], "cross_entropy") < net.loss_and_backward(
        x[:20], y[:20], "cross_entropy"
    )


def test_input_errors_name_the_problem():
    net = FastMLP(4, [3])
    with pytest.raises(ValueError, match="real numbers as inputs, got an array of dtype <U1"):
        net(np.array([["a", "b", "c", "d"]]))
    with pytest.raises(ValueError, match="input_scale must be a finite non-zero number, got 0.0"):
        net.loss_and_backward(np.zeros((2, 4)), np.array([0, 1]), input_scale=0.0)
    assert net.predict(np.zeros((0, 4))).shape == (0,)


def test_forward_all_returns_new_rows_every_call(batch):
    x, _ = batch
    net = FastMLP(784, [16, 10], "relu", "linear", seed=1)
    first = net.forward_all(x[:5])
    second = net.forward_all(x[5:10])
    assert [a.shape for a in first] == [(5, 784), (5, 16), (5, 10)]
    assert not np.shares_memory(first[-1], second[-1])
    w1, b1, w2, b2 = (p.data for p in net.parameters())
    hidden = np.maximum(x[:5] @ w1.T + b1, 0)  # the row-form equations, one expression each
    assert np.allclose(first[1], hidden, rtol=1e-13, atol=1e-15)
    assert np.allclose(first[2], hidden @ w2.T + b2, rtol=1e-13, atol=1e-15)


def _scalar_mse_grads(mlp, x, target_rows):
    """Loss and every gradient, in FastMLP's W/b order, from the scalar engine's mse with target rows."""
    from microgrid import mse

    mlp.zero_grad()
    cost = mse([mlp(row) for row in x.tolist()], target_rows.tolist())
    cost.backward()
    grads = []
    for layer in mlp.layers:
        grads.append(np.array([[p.grad for p in neuron.w] for neuron in layer.neurons]))
        grads.append(np.array([neuron.b.grad for neuron in layer.neurons]))
    return cost.data, grads


@pytest.mark.parametrize("rows", ["one-hot", "arbitrary"])
def test_mse_with_target_rows_matches_the_scalar_engine(batch, rows):
    """Target rows (n, k) take their own code path in the fast MSE: checked against the scalar engine."""
    x, y = batch
    x, y = x[:8], y[:8]
    targets = np.eye(10)[y] if rows == "one-hot" else np.random.default_rng(3).random((8, 10))
    mlp = MLP(784, [6, 10], "tanh", "sigmoid", seed=7)
    fast = FastMLP.from_scalar(mlp)
    value = fast.loss_and_backward(x, targets, "mse")
    expected, grads = _scalar_mse_grads(mlp, x, targets)
    assert value == pytest.approx(expected, rel=1e-12)
    for p, g in zip(fast.parameters(), grads):
        assert np.allclose(p.grad, g, rtol=1e-9, atol=1e-13), p.name
    if rows == "one-hot":  # and the same as giving the labels
        labels_value = fast.loss_and_backward(x, y, "mse")
        assert labels_value == pytest.approx(value, rel=1e-14)


def test_predict_in_chunks_equals_row_by_row(batch):
    """predict() runs batch_size rows at a time: more rows than that must give every row's own answer."""
    x, _ = batch
    net = FastMLP(784, [16, 10], "relu", "linear", seed=2)
    one_by_one = np.array([int(np.argmax(net(row[None])[0])) for row in x[:53]])
    for batch_size in (1, 7, 10, 52, 53, 1000):
        assert np.array_equal(net.predict(x[:53], batch_size=batch_size), one_by_one), batch_size
    assert len(set(one_by_one.tolist())) > 2  # a check that could fail: not one class everywhere


def test_workspace_cache_stays_correct_past_four_batch_sizes(batch):
    """Six batch sizes in turn evict and rebuild the cached workspaces; every result must still be
    that of a model with no cache at all (a fresh deep copy)."""
    import copy

    x, y = batch
    net = FastMLP(784, [12, 10], "sigmoid", seed=1)
    for n in [3, 5, 7, 9, 11, 13, 3, 13, 5, 11, 7, 9, 3]:
        fresh = copy.deepcopy(net)
        assert not fresh._workspaces
        expected = fresh.loss_and_backward(x[:n], y[:n], "mse"), [p.grad.copy() for p in fresh.parameters()]
        value = net.loss_and_backward(x[:n], y[:n], "mse")
        assert value == expected[0], n
        assert all(np.array_equal(p.grad, g) for p, g in zip(net.parameters(), expected[1])), n
        assert len(net._workspaces) <= 4


@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_compare_training_sees_an_optimizer_bug(batch, monkeypatch, momentum):
    """compare_training steps one engine with microgrid's SGD and the other by hand, so a wrong
    optimizer shows up as a weight difference (it used to step both with the same code)."""
    x, y = batch
    mlp = MLP(784, [8, 10], "sigmoid", seed=3)
    good = compare_training(mlp, x, y, "mse", steps=10, batch=10, lr=0.5, momentum=momentum)
    assert good.weights <= 1e-9 and good.loss <= 1e-10
    original = SGD.step

    def wrong_step(self):  # momentum ignored, or a step twice too long without it
        if momentum:
            self.momentum = 0.0
        else:
            self.lr *= 2
        original(self)

    monkeypatch.setattr(SGD, "step", wrong_step)
    mlp = MLP(784, [8, 10], "sigmoid", seed=3)
    assert compare_training(mlp, x, y, "mse", steps=10, batch=10, lr=0.5, momentum=momentum).weights > 1e-3
