"""Neuron, Layer, MLP: shapes, counts, init, determinism, errors, a tiny net that learns."""

import math
import random
import statistics

import pytest

from microgrid import MLP, SGD, Layer, Neuron, Value, mse


def test_notes_network_has_13002_parameters_and_says_so():
    net = MLP(784, [16, 16, 10])
    assert net.num_parameters() == 784 * 16 + 16 + 16 * 16 + 16 + 16 * 10 + 10 == 13_002
    assert "13,002 parameters" in repr(net)
    assert net.sizes == [784, 16, 16, 10]


def test_layer_always_returns_a_list():
    out = Layer(3, 1)([1.0, 2.0, 3.0])
    assert isinstance(out, list) and len(out) == 1
    assert isinstance(MLP(2, [1])([0.5, 0.5]), list)


def test_neuron_computes_sigma_of_weighted_sum():
    n = Neuron(3, "sigmoid", seed=1)
    x = [0.5, -1.0, 2.0]
    z = sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data
    assert n(x).data == pytest.approx(1 / (1 + math.exp(-z)), rel=1e-14)
    for act, f in [("relu", lambda z: max(0.0, z)), ("tanh", math.tanh), ("linear", lambda z: z)]:
        n = Neuron(3, act, seed=1)
        assert n(x).data == pytest.approx(f(z), rel=1e-14, abs=0.0)


def test_seed_makes_init_deterministic():
    a = [p.data for p in MLP(5, [4, 3], seed=7).parameters()]
    b = [p.data for p in MLP(5, [4, 3], seed=7).parameters()]
    c = [p.data for p in MLP(5, [4, 3], seed=8).parameters()]
    assert a == b and a != c


@pytest.mark.parametrize(
    "activation,init,expected_std",
    [("sigmoid", "default", 1 / math.sqrt(400)), ("relu", "default", math.sqrt(2 / 400)), ("sigmoid", "normal", 1.0)],
)
def test_init_scales(activation, init, expected_std):
    layer = Layer(400, 50, activation, init=init, seed=3)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert statistics.pstdev(weights) == pytest.approx(expected_std, rel=0.05)
    biases = [n.b.data for n in layer.neurons]
    if init == "default":
        assert biases == [0.0] * 50
    else:
        assert statistics.pstdev(biases) > 0.5


def test_output_activation_defaults_to_hidden_activation():
    net = MLP(2, [3, 2], activation="relu")
    assert net.layers[-1].activation == "relu"
    assert MLP(2, [3, 2], "relu", "linear").layers[-1].activation == "linear"


def test_zero_grad_clears_every_parameter():
    net = MLP(3, [4, 2])
    mse(net([1.0, 2.0, 3.0]), [0.0, 1.0]).backward()
    assert any(p.grad != 0 for p in net.parameters())
    net.zero_grad()
    assert all(p.grad == 0 for p in net.parameters())


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="unknown activation 'softmax'"):
        MLP(2, [3], activation="softmax")
    with pytest.raises(ValueError, match="positive ints"):
        MLP(2, [0, 3])
    with pytest.raises(ValueError, match="unknown init"):
        MLP(2, [3], init="xavier")
    with pytest.raises(ValueError, match="expects 3 inputs, got 2"):
        MLP(3, [2])([1.0, 2.0])
    with pytest.raises(TypeError, match="sequence"):
        MLP(3, [2])("abc")
    with pytest.raises(TypeError, match="str"):
        MLP(1, [2])(["a"])


def test_xor_learns():
    data = [([0.0, 0.0], 0.0), ([0.0, 1.0], 1.0), ([1.0, 0.0], 1.0), ([1.0, 1.0], 0.0)]
    net = MLP(2, [4, 1], activation="tanh", output_activation="sigmoid", seed=0)
    opt = SGD(net.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for _ in range(300):
        loss = mse([net(x) for x, _ in data], [[y] for _, y in data])
        net.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.data)
    assert losses[-1] < 0.01 < losses[0]
    assert [round(net(x)[0].data) for x, _ in data] == [0, 1, 1, 0]


def test_parameters_are_values_in_fixed_order():
    net = MLP(2, [2, 1], seed=0)
    params = net.parameters()
    assert all(isinstance(p, Value) for p in params)
    assert params[:3] == [*net.layers[0].neurons[0].w, net.layers[0].neurons[0].b]


def test_scalar_net_trains_on_random_seeded_data():
    rng = random.Random(0)
    xs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(20)]
    ys = [[1.0 if sum(x) > 0 else 0.0] for x in xs]
    net = MLP(3, [5, 1], seed=1)
    opt = SGD(net.parameters(), lr=1.0, momentum=0.9)
    first = None
    for _ in range(100):
        loss = mse([net(x) for x in xs], ys)
        first = first or loss.data
        net.zero_grad()
        loss.backward()
        opt.step()
    assert loss.data < first / 2


def test_numpy_rows_are_accepted_and_matrices_rejected():
    np = pytest.importorskip("numpy")
    net = MLP(3, [2], seed=0)
    row = np.array([0.1, 0.2, 0.3])
    assert [v.data for v in net(row)] == [v.data for v in net([0.1, 0.2, 0.3])]
    with pytest.raises(ValueError, match=r"flat sequence of 3 inputs, got shape \(1, 3\)"):
        net(np.zeros((1, 3)))
