"""PyTorch as an independent oracle for ops, nets, losses and optimizers."""

import math
import random

import numpy as np
import pytest
from hypothesis import given, settings

from microgrid import MLP, SGD, Adam, Value, cross_entropy, mse
from microgrid.digits.fast import Param
from microgrid.support.testing import expression_dags

torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
torch.set_default_dtype(torch.float64)


def _torch_apply(step, nodes):
    a = [nodes[i] for i in step.args]
    op = step.op
    table = {
        "neg": lambda: -a[0],
        "exp": lambda: torch.exp(a[0]),
        "log": lambda: torch.log(a[0]),
        "tanh": lambda: torch.tanh(a[0]),
        "sigmoid": lambda: torch.sigmoid(a[0]),
        "relu": lambda: torch.relu(a[0]),
        "abs": lambda: torch.abs(a[0]),
        "**": lambda: a[0] ** step.const,
        "+": lambda: a[0] + a[1],
        "-": lambda: a[0] - a[1],
        "*": lambda: a[0] * a[1],
        "/": lambda: a[0] / a[1],
        "**v": lambda: a[0] ** a[1],
        "sum": lambda: torch.stack(a).sum(),
        "logsumexp": lambda: torch.logsumexp(torch.stack(a), 0),
    }
    if op == "dot":
        k = (len(a) - 1) // 2
        return (torch.stack(a[:k]) * torch.stack(a[k : 2 * k])).sum() + a[-1]
    return table[op]()


@settings(max_examples=300)
@given(expression_dags())
def test_random_dags_match_torch(dag):
    xs = [Value(x) for x in dag.inputs]
    out = dag(*xs)
    out.backward()
    ts = [torch.tensor(x, requires_grad=True) for x in dag.inputs]
    nodes = list(ts)
    used = set()
    for step in dag.steps:
        nodes.append(_torch_apply(step, nodes))
        used.update(step.args)
    dangling = [nodes[i] for i in range(len(ts), len(nodes)) if i not in used]
    tout = torch.stack(dangling).sum() if len(dangling) > 1 else nodes[-1]
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12, abs=1e-12)
    for x, t in zip(xs, ts):
        expected = 0.0 if t.grad is None else t.grad.item()
        assert x.grad == pytest.approx(expected, rel=1e-10, abs=1e-10)


def _torch_mlp(net):
    layers = []
    for layer in net.layers:
        w = torch.tensor([[wi.data for wi in n.w] for n in layer.neurons], requires_grad=True)
        b = torch.tensor([n.b.data for n in layer.neurons], requires_grad=True)
        layers.append((w, b, layer.activation))
    return layers


def _torch_forward(layers, x):
    acts = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh, "linear": lambda z: z}
    for w, b, act in layers:
        x = acts[act](x @ w.T + b)
    return x


@pytest.mark.parametrize("activation,loss", [("sigmoid", "mse"), ("relu", "ce"), ("tanh", "mse")])
def test_mlp_gradients_match_torch(activation, loss):
    rng = random.Random(0)
    net = MLP(6, [5, 4, 3], activation=activation, output_activation="linear" if loss == "ce" else None, seed=2)
    xs = [[rng.uniform(-1, 1) for _ in range(6)] for _ in range(4)]
    ys = [rng.randrange(3) for _ in range(4)]
    outs = [net(x) for x in xs]
    value = cross_entropy(outs, ys) if loss == "ce" else mse(outs, ys)
    value.backward()
    layers = _torch_mlp(net)
    z = _torch_forward(layers, torch.tensor(xs))
    if loss == "ce":
        tl = torch.nn.functional.cross_entropy(z, torch.tensor(ys))
    else:
        onehot = torch.nn.functional.one_hot(torch.tensor(ys), 3).double()
        tl = ((z - onehot) ** 2).sum(dim=1).mean()
    tl.backward()
    assert value.data == pytest.approx(tl.item(), rel=1e-12)
    ours = [p.grad for p in net.parameters()]
    theirs = []
    for w, b, _ in layers:
        for j in range(w.shape[0]):
            theirs.extend(w.grad[j].tolist())
            theirs.append(b.grad[j].item())
    assert ours == pytest.approx(theirs, rel=1e-10, abs=1e-13)


@pytest.mark.parametrize("kind", ["sgd", "momentum", "adam"])
def test_optimizers_match_torch(kind):
    start = [0.5, -1.5, 2.0]
    ps = [Value(v) for v in start]
    tp = torch.tensor(start, requires_grad=True)
    if kind == "adam":
        opt, topt = Adam(ps, lr=0.05), torch.optim.Adam([tp], lr=0.05)
    else:
        mu = 0.9 if kind == "momentum" else 0.0
        opt, topt = SGD(ps, lr=0.05, momentum=mu), torch.optim.SGD([tp], lr=0.05, momentum=mu)
    for _ in range(10):
        loss = Value.sum([(p * p * p).tanh() for p in ps])
        opt.zero_grad()
        loss.backward()
        opt.step()
        topt.zero_grad()
        torch.tanh(tp**3).sum().backward()
        topt.step()
    assert [p.data for p in ps] == pytest.approx(tp.tolist(), rel=1e-12, abs=1e-14)


def test_adam_moments_and_arrays_match_torch():
    """Adam keeps m and v as running sums; what it reports, and its steps on arrays, are torch's."""
    rng = np.random.default_rng(3)
    start = rng.standard_normal((4, 3))
    param = Param(start.copy(), "w")
    tp = torch.tensor(start, requires_grad=True)
    opt, topt = Adam([param], lr=0.02, betas=(0.8, 0.99)), torch.optim.Adam([tp], lr=0.02, betas=(0.8, 0.99))
    for _ in range(12):
        grad = rng.standard_normal((4, 3))
        param.grad = grad
        tp.grad = torch.tensor(grad)
        opt.step()
        topt.step()
    state = topt.state[tp]
    assert np.allclose(param.data, tp.detach().numpy(), rtol=1e-12, atol=1e-14)
    assert np.allclose(opt.m[0], state["exp_avg"].numpy(), rtol=1e-12, atol=1e-15)
    assert np.allclose(opt.v[0], state["exp_avg_sq"].numpy(), rtol=1e-12, atol=1e-15)


def test_stable_functions_match_torch_at_extremes():
    for x in (-1e4, -800.0, -30.0, 0.0, 30.0, 800.0, 1e4):
        for name in ("sigmoid", "tanh"):
            v = Value(x)
            out = getattr(v, name)()
            out.backward()
            t = torch.tensor(x, requires_grad=True)
            tout = getattr(torch, name)(t)
            tout.backward()
            assert out.data == pytest.approx(tout.item(), rel=1e-15, abs=0)
            assert v.grad == pytest.approx(t.grad.item(), rel=1e-12, abs=1e-300)
    assert math.isinf(Value(1e4).exp().data)
