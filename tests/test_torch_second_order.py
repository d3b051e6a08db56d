"""PyTorch as the oracle of second derivatives: random DAGs through torch.autograd.grad(create_graph=True),
and the Hessian of a tiny MLP's loss through torch.autograd.functional.hessian."""

import random

import pytest
from hypothesis import HealthCheck, assume, given, settings

from microgrid import MLP, Value, grad, hessian, hvp, mse
from microgrid.support.testing import expression_dags

torch = pytest.importorskip("torch", reason="PyTorch is the oracle here: pip install torch==2.13.0")
torch.set_default_dtype(torch.float64)
from test_torch_oracle import _torch_apply  # noqa: E402  (the op table of the first-order oracle)


def _torch_dag(dag, ts):
    nodes = list(ts)
    used = set()
    for step in dag.steps:
        nodes.append(_torch_apply(step, nodes))
        used.update(step.args)
    dangling = [nodes[i] for i in range(len(ts), len(nodes)) if i not in used]
    return torch.stack(dangling).sum() if len(dangling) > 1 else nodes[-1]


def _torch_hessian_by_create_graph(out, ts):
    firsts = torch.autograd.grad(out, ts, create_graph=True, allow_unused=True)
    rows = []
    for g in firsts:
        if g is None or not g.requires_grad:
            rows.append([0.0] * len(ts))
            continue
        seconds = torch.autograd.grad(g, ts, retain_graph=True, allow_unused=True)
        rows.append([0.0 if s is None else s.item() for s in seconds])
    return [0.0 if g is None else g.item() for g in firsts], rows


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(expression_dags())
def test_random_dags_second_derivatives_match_torch(dag):
    xs = [Value(x) for x in dag.inputs]
    out = dag(*xs)
    # torch's rule for a**b masks d/da where b == 0 exactly (where(b == 0, 0, b * a**(b-1))), which drops
    # the term a**(b-1) of the second derivative there: at x = 0, d2/dx2 exp(x)**x is 2, torch says 1
    assume(not any(n.op == "**v" and n.parents[1].data == 0.0 for n in out.topological_order()))
    firsts = grad(out, xs, create_graph=True)
    ours = [[r.data for r in grad(g, xs)] for g in firsts]
    ts = [torch.tensor(x, requires_grad=True) for x in dag.inputs]
    t_firsts, theirs = _torch_hessian_by_create_graph(_torch_dag(dag, ts), ts)
    assert [g.data for g in firsts] == pytest.approx(t_firsts, rel=1e-10, abs=1e-10)
    for row, want in zip(ours, theirs):
        assert row == pytest.approx(want, rel=1e-9, abs=1e-9)


def _torch_loss(flat, net, xs, ys):
    """net's MSE with its parameters taken from the 1-D tensor flat, in net.parameters() order."""
    acts = torch.tensor(xs)
    at = 0
    for layer in net.layers:
        fan_in = len(layer.neurons[0].w)
        rows = []
        for _ in layer.neurons:
            rows.append(flat[at : at + fan_in + 1])
            at += fan_in + 1
        wb = torch.stack(rows)
        z = acts @ wb[:, :fan_in].T + wb[:, fan_in]
        acts = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "linear": lambda v: v}[layer.activation](z)
    return ((acts - torch.tensor(ys)) ** 2).sum(dim=1).mean()


@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_hessian_of_a_tiny_mlp_loss_matches_torch_functional_hessian(activation):
    rng = random.Random(5)
    net = MLP(3, [4, 2], activation=activation, output_activation="linear", seed=7)
    xs = [[rng.uniform(-1, 1) for _ in range(3)] for _ in range(5)]
    ys = [[rng.uniform(-1, 1) for _ in range(2)] for _ in range(5)]
    params = net.parameters()
    loss = mse([net(x) for x in xs], ys)
    ours = hessian(loss, params)
    flat = torch.tensor([p.data for p in params])
    assert loss.data == pytest.approx(_torch_loss(flat, net, xs, ys).item(), rel=1e-13)
    theirs = torch.autograd.functional.hessian(lambda f: _torch_loss(f, net, xs, ys), flat)
    assert len(ours) == theirs.shape[0] == 26
    for row, want in zip(ours, theirs.tolist()):
        assert row == pytest.approx(want, rel=1e-10, abs=1e-12)
    v = [rng.uniform(-1, 1) for _ in params]
    assert hvp(loss, params, v) == pytest.approx((theirs @ torch.tensor(v)).tolist(), rel=1e-10, abs=1e-12)
