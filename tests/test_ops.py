"""Each op's gradient against a hand-derived formula and against central differences."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from microgrid import Value, gradcheck
from microgrid.support.testing import finite_floats


def grads(f, *xs):
    vs = [Value(x) for x in xs]
    out = f(*vs)
    out.backward()
    return out.data, [v.grad for v in vs]


# (name, f, hand-derived gradient, strategy of points kept off domain edges and kinks)
pos = finite_floats(0.1, 5.0)
anyx = finite_floats(-5.0, 5.0)
offzero = anyx.filter(lambda x: abs(x) > 1e-3)
CASES = {
    "add": (lambda a, b: a + b, lambda a, b: [1.0, 1.0], [anyx, anyx]),
    "sub": (lambda a, b: a - b, lambda a, b: [1.0, -1.0], [anyx, anyx]),
    "mul": (lambda a, b: a * b, lambda a, b: [b, a], [anyx, anyx]),
    "div": (lambda a, b: a / b, lambda a, b: [1 / b, -a / b**2], [anyx, pos]),
    "neg": (lambda a: -a, lambda a: [-1.0], [anyx]),
    "pow_const": (lambda a: a**3, lambda a: [3 * a**2], [anyx]),
    "pow_half": (lambda a: a**0.5, lambda a: [0.5 / math.sqrt(a)], [pos]),
    "pow_value": (lambda a, b: a**b, lambda a, b: [b * a ** (b - 1), a**b * math.log(a)], [pos, finite_floats(-2, 2)]),
    "rpow": (lambda b: 2**b, lambda b: [2**b * math.log(2)], [anyx]),
    "exp": (lambda a: a.exp(), lambda a: [math.exp(a)], [anyx]),
    "log": (lambda a: a.log(), lambda a: [1 / a], [pos]),
    "tanh": (lambda a: a.tanh(), lambda a: [1 - math.tanh(a) ** 2], [anyx]),
    "sigmoid": (
        lambda a: a.sigmoid(),
        lambda a: [math.exp(-a) / (1 + math.exp(-a)) ** 2],
        [anyx],
    ),
    "relu": (lambda a: a.relu(), lambda a: [1.0 if a > 0 else 0.0], [offzero]),
    "abs": (lambda a: a.abs(), lambda a: [1.0 if a > 0 else -1.0], [offzero]),
    "rsub": (lambda a: 1 - a, lambda a: [-1.0], [anyx]),
    "rdiv": (lambda a: 3 / a, lambda a: [-3 / a**2], [pos]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_op_gradient_matches_hand_derivation_and_central_differences(name):
    f, df, strategies = CASES[name]

    @given(st.tuples(*strategies))
    def check(point):
        _, got = grads(f, *point)
        expected = df(*point)
        for g, e in zip(got, expected):
            assert g == pytest.approx(e, rel=1e-12, abs=1e-12)
        assert gradcheck(f, list(point), rtol=1e-5, atol=1e-6)

    check()


def test_hand_values_at_fixed_points():
    assert grads(lambda a, b: a * b + b, 2.0, -3.0)[1] == [-3.0, 3.0]
    assert grads(lambda a: a.relu(), 0.0)[1] == [0.0]
    assert grads(lambda a: a.abs(), 0.0)[1] == [0.0]
    value, g = grads(lambda a: a.sigmoid(), 0.0)
    assert value == 0.5 and g == [0.25]
    value, g = grads(lambda a: (a * a).log(), 3.0)
    assert value == pytest.approx(math.log(9.0)) and g[0] == pytest.approx(2 / 3, rel=1e-15)


def test_exp_overflow_gradient_is_inf():
    x = Value(1000.0)
    x.exp().backward()
    assert x.grad == math.inf


def test_sum_and_logsumexp_gradients():
    xs = [Value(v) for v in (0.1, -2.0, 3.0)]
    Value.sum(xs).backward()
    assert [x.grad for x in xs] == [1.0, 1.0, 1.0]
    ys = [Value(v) for v in (0.1, -2.0, 3.0)]
    Value.logsumexp(ys).backward()
    total = sum(math.exp(v) for v in (0.1, -2.0, 3.0))
    for y, v in zip(ys, (0.1, -2.0, 3.0)):
        assert y.grad == pytest.approx(math.exp(v) / total, rel=1e-14)


def test_relu_propagates_nan_with_a_consistent_derivative():
    """relu clamps only x <= 0: nan is passed through, and so is its gradient (before: 0.0, 0.0)."""
    value, g = grads(lambda a: a.relu(), math.nan)
    assert math.isnan(value) and g == [1.0]
    assert grads(lambda a: a.relu(), math.inf) == (math.inf, [1.0])
    assert grads(lambda a: a.relu(), -math.inf) == (0.0, [0.0])
    value, g = grads(lambda a: (a * 2.0).relu() + a, math.nan)
    assert math.isnan(value) and g == [3.0]
