"""grad, hessian and hvp: what they return, what they leave alone, and second order on random DAGs."""

import math
import pickle

import pytest
from hypothesis import HealthCheck, event, given, settings

from microgrid import MLP, Value, grad, gradcheck, hessian, hvp, mse
from microgrid.support.gradcheck import GradcheckError, gradgradcheck, numeric_hessian
from microgrid.support.testing import expression_dags


def test_grad_is_backward_without_touching_grad():
    a, b = Value(2.0), Value(-3.0)
    out = (a * b + b.exp()).tanh() * a
    ga, gb = grad(out, [a, b])
    assert a.grad == 0.0 and b.grad == 0.0 and out.grad == 0.0
    out.backward()
    assert (ga.data, gb.data) == (a.grad, b.grad)
    assert ga.is_leaf and gb.is_leaf


def test_inputs_the_output_does_not_depend_on_get_zero():
    x, y, unused = Value(1.5), Value(2.0), Value(7.0)
    for create_graph in (False, True):
        gs = grad(x * x, [x, y, unused], create_graph=create_graph)
        assert [g.data for g in gs] == [3.0, 0.0, 0.0]


def test_grad_by_an_intermediate_node_and_by_the_output_itself():
    x = Value(0.3)
    h = x * 2.0
    out = h.tanh() + h
    (gh,) = grad(out, [h])
    assert gh.data == pytest.approx(1 - math.tanh(0.6) ** 2 + 1)
    for create_graph in (False, True):
        (one,) = grad(out, [out], create_graph=create_graph)
        assert one.data == 1.0 and one is not out


def test_create_graph_results_differentiate_again_with_grad_and_backward():
    x, y = Value(0.7), Value(-1.2)
    f = x * x * y + (x * y).tanh()
    gx, gy = grad(f, [x, y], create_graph=True)
    assert gx.parents and gy.parents
    (gxy,) = grad(gx, [y])
    gx.backward()  # backward of a gradient: d(df/dx)/d each leaf, into .grad
    assert x.grad == pytest.approx(grad(gx, [x])[0].data)
    assert y.grad == pytest.approx(gxy.data)
    t = math.tanh(0.7 * -1.2)
    assert gxy.data == pytest.approx(2 * 0.7 + (1 - t * t) + 0.7 * -1.2 * (-2 * t * (1 - t * t)), rel=1e-12)


def test_a_gradient_is_never_a_node_of_the_original_graph():
    w, x = Value(3.0, label="w"), Value(2.0)
    out = w * x
    (gx,) = grad(out, [x], create_graph=True)
    assert gx is not w and gx.data == 3.0
    (d,) = grad(gx, [w])
    assert d.data == 1.0


def test_a_dot_with_a_weight_used_twice_and_as_an_input():
    """grad(create_graph=True) reads a dot's partials directly and makes a leaf weight's g * x at the dot:
    a weight met a second time (here also as an input) must add up, not replace the first term."""
    w, v, x, b = Value(0.5), Value(-1.5), Value(2.0), Value(0.25)
    f = Value.dot([w, w, v], [x, w, 2.0], b).tanh()  # tanh(w x + w w + 2 v + b)
    t = math.tanh(0.5 * 2.0 + 0.25 + 2 * -1.5 + 0.25)
    s = 1 - t * t  # tanh' at the sum
    gw, gx, gv, gb = grad(f, [w, x, v, b], create_graph=True)
    assert [gw.data, gx.data, gv.data, gb.data] == pytest.approx([s * (2.0 + 2 * 0.5), s * 0.5, 2 * s, s], rel=1e-12)
    dww, dwx = grad(gw, [w, x])  # d/dw and d/dx of s (x + 2 w), with s' = -2 t s
    assert dww.data == pytest.approx(-2 * t * s * (2.0 + 2 * 0.5) ** 2 + 2 * s, rel=1e-12)
    assert dwx.data == pytest.approx(-2 * t * s * 0.5 * (2.0 + 2 * 0.5) + s, rel=1e-12)


def test_constant_local_derivatives_fold_into_floats():
    x, y = Value(1.0), Value(2.0)
    gx, gy = grad(3 * x - y + 4, [x, y], create_graph=True)
    assert (gx.data, gy.data) == (3.0, -1.0)
    assert gy.is_leaf  # -1 from "-" and 1 from "+" are floats: no node was made for them
    assert [g.data for g in grad(gx, [x, y])] == [0.0, 0.0]


def test_hessian_and_hvp():
    a, b = Value(2.0), Value(3.0)
    f = a * a * b + b.log()
    h = hessian(f, [a, b])
    assert h == [[6.0, 4.0], [4.0, pytest.approx(-1 / 9)]]
    assert hvp(f, [a, b], [1.0, 2.0]) == pytest.approx([6 + 8, 4 - 2 / 9])
    assert hvp(f, [a, b], [0.0, 0.0]) == [0.0, 0.0]
    with pytest.raises(ValueError, match="3 entries for 2 inputs"):
        hvp(f, [a, b], [1.0, 2.0, 3.0])


def _mlp_loss(net, ws):
    """The net's MSE on two samples, with its parameters replaced by ws (in net.parameters() order)."""
    outs = []
    for x in ([0.5, -1.0], [-0.3, 0.8]):
        it = iter(ws)
        acts = [Value(v) for v in x]
        for layer in net.layers:
            zs = [Value.dot([next(it) for _ in neuron.w], acts, next(it)) for neuron in layer.neurons]
            acts = [z.tanh() for z in zs] if layer.activation == "tanh" else zs
        outs.append(acts)
    return mse(outs, [[1.0], [0.0]])


def test_hessian_of_a_small_mlp_is_symmetric_and_matches_central_differences():
    net = MLP(2, [3, 1], activation="tanh", output_activation="linear", seed=4)
    params = net.parameters()
    loss = mse([net([0.5, -1.0]), net([-0.3, 0.8])], [[1.0], [0.0]])
    assert loss.data == _mlp_loss(net, params).data  # the rebuild is the same function
    h = hessian(loss, params)
    n = len(params)
    assert all(h[i][j] == pytest.approx(h[j][i], rel=1e-12, abs=1e-15) for i in range(n) for j in range(n))
    num = numeric_hessian(lambda *ws: _mlp_loss(net, ws), [p.data for p in params], eps=1e-5)
    for row, want in zip(h, num):
        assert row == pytest.approx(want, rel=1e-5, abs=1e-7)


def test_errors_name_what_was_wrong():
    x = Value(1.0)
    with pytest.raises(TypeError, match="output must be a Value"):
        grad(1.0, [x])
    with pytest.raises(TypeError, match="a single Value"):
        grad(x * 2, x)
    with pytest.raises(TypeError, match="input 1 must be a Value, got float"):
        grad(x * 2, [x, 2.0])


def test_a_deep_chain_needs_no_recursion():
    x = Value(1.0)
    y = x
    for _ in range(20_000):
        y = (y * 0.5).tanh() + 0.5
    (g,) = grad(y, [x], create_graph=True)
    (g2,) = grad(g, [x])
    assert math.isfinite(g2.data)


def test_create_graph_gradients_pickle():
    x = Value(0.4, label="x")
    (g,) = grad(x.tanh() * x, [x], create_graph=True)
    again = pickle.loads(pickle.dumps(g))
    assert again.data == g.data
    leaf = next(n for n in again.topological_order() if n.label == "x")
    (d,) = grad(again, [leaf])
    assert d.data == pytest.approx(grad(g, [x])[0].data, rel=1e-15)


def test_gradgradcheck_explains_a_wrong_second_derivative(monkeypatch):
    from dataclasses import replace

    from microgrid.ops import OPS, number

    # a rule that reads the float out of its input: right on floats, but on Values a constant, so d2 = 0
    monkeypatch.setitem(OPS, "tanh", replace(OPS["tanh"], partials=lambda x, out: (1.0 - number(out) ** 2,)))
    assert gradcheck(lambda a: a.tanh(), [0.5])  # first order still right
    with pytest.raises(GradcheckError) as err:
        gradgradcheck(lambda a: a.tanh(), [Value(0.5, label="w")])
    msg = str(err.value)
    assert "second derivative d2/d(w) d(w) (at w = 0.5)" in msg
    assert "grad(create_graph=True) gives 0.0" in msg and "no relu/abs kink" in msg
    with pytest.raises(ValueError, match="order must be 1 or 2"):
        gradcheck(lambda a: a, [1.0], order=3)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(expression_dags())
def test_random_dags_second_derivatives_match_central_differences(dag):
    event(f"inputs: {len(dag.inputs)}")
    assert gradcheck(dag, dag.inputs, order=2, eps=1e-5, rtol=1e-4, atol=1e-5)
