"""The Value type: construction, operators, graph structure, backward semantics, errors."""

import math
import pickle
import subprocess
import sys

import pytest

from microgrid import Value, no_grad
from microgrid.engine import is_grad_enabled


def test_construction_converts_numbers_to_float():
    assert Value(3).data == 3.0 and type(Value(3).data) is float
    assert Value(True).data == 1.0
    assert Value(2.5, label="w").label == "w"
    assert Value(1.0).grad == 0.0


def test_numpy_scalars_are_accepted():
    np = pytest.importorskip("numpy")
    assert Value(np.float32(0.5)).data == 0.5
    assert Value(np.int64(7)).data == 7.0
    assert Value(np.bool_(True)).data == 1.0
    assert type(Value(np.float64(1.5)).data) is float


@pytest.mark.parametrize("bad", ["1.0", None, [1.0], 1 + 2j, {1: 2}])
def test_non_numbers_raise_type_error_naming_the_type(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(bad)


def test_numpy_array_is_rejected():
    np = pytest.importorskip("numpy")
    with pytest.raises(TypeError, match="ndarray"):
        Value(np.array([1.0, 2.0]))
    with pytest.raises(TypeError, match="ndarray"):
        Value(1.0) * np.array([1.0, 2.0])


@pytest.mark.parametrize("bad", ["x", None, [1]])
def test_operators_reject_non_numbers(bad):
    with pytest.raises(TypeError, match=type(bad).__name__):
        Value(1.0) + bad
    with pytest.raises(TypeError, match=type(bad).__name__):
        bad * Value(1.0)


def test_reflected_operators_values_and_grads():
    v = Value(3.0)
    assert (2 * v).data == 6.0
    assert (1 - v).data == -2.0
    assert (3 / v).data == 1.0
    assert (2 + v).data == 5.0
    out = 2**v
    assert out.data == 8.0
    out.backward()
    assert v.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)
    v.grad = 0.0
    (3 / v).backward()
    assert v.grad == pytest.approx(-3.0 / 9.0, rel=1e-15)


def test_parents_are_an_ordered_tuple_and_fan_out_keeps_both_edges():
    a = Value(3.0)
    c = a * a
    assert c.parents == (a, a) and c.op == "*"
    c.backward()
    assert a.grad == 6.0  # 2a: both edges counted


def test_fan_out_through_sums():
    a = Value(1.5)
    b = a + a
    c = b + b
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_backward_twice_accumulates_leaves_and_recomputes_intermediates():
    x = Value(2.0, label="x")
    y = x * x
    z = y.tanh()
    z.backward()
    first_x, first_y = x.grad, y.grad
    z.backward()
    assert y.grad == first_y  # non-leaf: recomputed, not accumulated
    assert x.grad == 2 * first_x  # leaf: accumulated, as in PyTorch
    assert first_x == pytest.approx((1 - math.tanh(4.0) ** 2) * 4.0, rel=1e-14)


def test_backward_seed_and_root_grad():
    x = Value(3.0)
    y = x * 2.0
    y.backward(0.5)
    assert y.grad == 0.5 and x.grad == 1.0


def test_million_op_chain_backpropagates_under_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000
    x = Value(1.0)
    y = x
    for _ in range(1_000_000):
        y = -y
    y.backward()
    assert x.grad == 1.0  # (-1)**1e6


def test_topological_order_puts_parents_first():
    a, b = Value(1.0), Value(2.0)
    c = a * b
    d = c + a
    e = d * c
    order = e.topological_order()
    pos = {id(n): i for i, n in enumerate(order)}
    assert len(order) == 5 and order[-1] is e
    for node in order:
        for p in node.parents:
            assert pos[id(p)] < pos[id(node)]


def test_no_grad_records_no_parents_and_restores():
    a = Value(2.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        b = a * 3 + 1
        assert b.is_leaf and b.data == 7.0
    assert is_grad_enabled()
    c = a * 3
    assert c.parents[0] is a


def test_no_grad_restores_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            Value(1.0) / 0
    assert is_grad_enabled()


def test_repr_shows_data_grad_op_label():
    z = Value(1.0)
    a = z.sigmoid()
    a.label = "a"
    a.backward()
    assert repr(a) == "Value(data=0.7311, grad=1.0000, op='sigmoid', label='a')"
    assert repr(Value(2.0)) == "Value(data=2.0000, grad=0.0000)"


def test_slots_no_instance_dict():
    assert not hasattr(Value(1.0), "__dict__")


def test_pickle_round_trip_keeps_structure_values_and_grads():
    a = Value(0.5, label="a")
    b = Value(-1.5, label="b")
    c = (a * b + a).tanh() ** 2
    c.backward()
    c2 = pickle.loads(pickle.dumps(c))
    assert c2.data == c.data and c2.grad == c.grad and c2.op == "**"
    order = c2.topological_order()
    a2 = next(n for n in order if n.label == "a")
    assert a2.grad == a.grad
    a2.grad = 0.0
    c2.backward()
    assert a2.grad == a.grad  # the rebuilt graph backpropagates the same


def test_stable_functions_at_extremes():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).tanh().data == 1.0
    assert Value(-1000.0).tanh().data == -1.0
    assert Value(1000.0).exp().data == math.inf
    for x in (-1e4, -700.0, -1.0, 0.0, 1.0, 700.0, 1e4):
        s = Value(x)
        out = s.sigmoid()
        out.backward()
        assert 0.0 <= out.data <= 1.0 and math.isfinite(s.grad)
        t = Value(x)
        out = t.tanh()
        out.backward()
        assert math.isfinite(t.grad)


def test_sigmoid_gradient_at_large_inputs_is_tiny_not_nan():
    x = Value(-40.0)
    x.sigmoid().backward()
    expected = math.exp(-40.0) / (1 + math.exp(-40.0)) ** 2
    assert x.grad == pytest.approx(expected, rel=1e-12)


def test_logsumexp_stable_over_the_whole_range():
    xs = [Value(1e4), Value(-1e4), Value(0.0)]
    out = Value.logsumexp(xs)
    assert out.data == 1e4
    out.backward()
    assert [x.grad for x in xs] == [1.0, 0.0, 0.0]
    ys = [Value(v) for v in (1.0, 2.0, 3.0)]
    out = Value.logsumexp(ys)
    assert out.data == pytest.approx(math.log(math.e + math.e**2 + math.e**3), rel=1e-15)


def test_log_of_non_positive_raises_value_error_naming_the_value():
    z = Value(-2.0, label="z")
    with pytest.raises(ValueError, match=r"log\(\) needs a positive input, got -2\.0 \(node 'z'\)"):
        z.log()
    with pytest.raises(ValueError, match="0.0"):
        Value(0.0).log()


def test_value_exponent_needs_positive_base():
    with pytest.raises(ValueError, match=r"positive base.*-3\.0"):
        Value(-3.0) ** Value(2.0)
    with pytest.raises(ValueError, match="positive base"):
        0 ** Value(2.0)


def test_division_by_zero_names_the_node():
    d = Value(0.0, label="d")
    with pytest.raises(ZeroDivisionError, match="'d'"):
        Value(1.0) / d
    with pytest.raises(ZeroDivisionError):
        1 / Value(0.0)


def test_pow_domain_errors():
    with pytest.raises(ValueError, match="negative base"):
        Value(-8.0, label="q") ** 0.5
    with pytest.raises(ZeroDivisionError):
        Value(0.0) ** -1


def test_pow_overflow_gives_inf():
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf


def test_sum_is_exact_when_finite_and_inf_or_nan_when_not():
    assert Value.sum([Value(1e16), Value(1.0), Value(-1e16)]).data == 1.0  # left to right: 0.0
    assert Value.sum([Value(0.1)] * 10).data == 1.0  # left to right: 0.9999999999999999
    assert Value.sum([Value(1e308), Value(1e308)]).data == math.inf  # fsum: OverflowError
    assert math.isnan(Value.sum([Value(math.inf), Value(-math.inf)]).data)  # fsum: ValueError


def test_division_gradient_does_not_square_the_denominator():
    a, b = Value(1.0), Value(1e-200)
    (a / b).backward()  # before: ZeroDivisionError (b * b underflows to 0)
    assert (a.grad, b.grad) == (1e200, -math.inf)  # -1/b**2 overflows
    a, b = Value(1e200), Value(1e200)
    (a / b).backward()  # before: b.grad 0.0 (b * b overflows to inf)
    assert (a.grad, b.grad) == (1e-200, -1e-200)


def test_pow_gradient_at_zero_is_the_ieee_product():
    x = Value(0.0)
    (x**0.5 * 0.0).backward()  # 0.5 * 0**-0.5 * 0 = 0.5 * inf * 0 (before: inf)
    assert math.isnan(x.grad)
    x = Value(0.0)
    (x**0.5).backward()
    assert x.grad == math.inf
    for exponent in (-1, -math.inf):  # before: ** -inf gave inf while ** -1 raised
        with pytest.raises(ZeroDivisionError, match="negative power"):
            Value(0.0) ** exponent


def test_dot_is_one_node_with_2n_plus_1_parents():
    w = [Value(float(i)) for i in range(784)]
    x = [0.5] * 784
    b = Value(1.0)
    out = Value.dot(w, x, b)
    assert out.op == "dot" and len(out.parents) == 2 * 784 + 1
    assert out.data == pytest.approx(0.5 * sum(range(784)) + 1.0, rel=1e-15)
    out.backward()
    assert all(wi.grad == 0.5 for wi in w) and b.grad == 1.0
    assert [p.grad for p in out.parents[784:1568]] == [float(i) for i in range(784)]


def test_dot_rejects_length_mismatch():
    with pytest.raises(ValueError, match="3 inputs for 2 weights"):
        Value.dot([Value(1.0), Value(2.0)], [1.0, 2.0, 3.0])


def test_import_microgrid_loads_no_heavy_modules():
    code = (
        "import sys, microgrid, microgrid.nn, microgrid.losses, microgrid.optim, microgrid.support.gradcheck;"
        "print(','.join(m for m in ('numpy', 'graphviz', 'hypothesis') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_pickle_deep_graph_and_shared_parameters():
    from microgrid import MLP, mse

    x = Value(1.5, label="x")
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y2 = pickle.loads(pickle.dumps(y))
    order = y2.topological_order()
    assert y2.data == 1.5 and len(order) == 200_001  # 100,000 products, their constants, and x
    x2 = next(n for n in order if n.label == "x")
    y2.backward()
    assert x2.grad == 1.0
    net = MLP(3, [2], seed=0)
    loss = mse(net([1.0, 2.0, 3.0]), 1)
    net2, loss2 = pickle.loads(pickle.dumps((net, loss)))
    leaves = {id(n) for n in loss2.topological_order() if n.is_leaf}
    assert all(id(p) in leaves for p in net2.parameters())  # the graph still uses the model's own parameters
