"""The Value-written derivatives (microgrid.derivatives): the same as backward()'s float rules,
and right to second order: every op's Hessian against hand formulas and central differences,
tanh's derivatives up to order 6 against their closed forms."""

import math

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from microgrid import Value, grad, gradcheck, hessian, ops
from microgrid.custom_ops import BUILTIN_OPS
from microgrid.derivatives import PARTIALS
from microgrid.support.testing import OPS, expression_dags, finite_floats

PER_OP = settings(max_examples=min(settings.default.max_examples, 500))  # 34 tests: 500 cases each in CI


def test_both_tables_cover_the_same_ops():
    assert set(OPS) == set(BUILTIN_OPS)
    assert set(BUILTIN_OPS) <= set(PARTIALS)
    assert set(ops.BACKWARD) == set(PARTIALS)


@pytest.mark.parametrize("op", sorted(BUILTIN_OPS))
@PER_OP
@given(data=st.data())
def test_float_rule_and_value_rule_agree(op, data):
    """On every node of random DAGs made of ``op``: ops.BACKWARD[op](node, g) == PARTIALS[op](node) * g."""
    dag = data.draw(expression_dags(ops=[op], min_steps=1, max_steps=4))
    assume(any(step.op == op for step in dag.steps))
    g = data.draw(finite_floats(-3.0, 3.0))
    out = dag(*[Value(x) for x in dag.inputs])
    seen = 0
    for node in out.topological_order():
        if not node._prev:
            continue
        floats = ops.BACKWARD[node._op](node, g)
        partials = PARTIALS[node._op](node)
        assert len(floats) == len(partials) == len(node._prev)
        for f, d in zip(floats, partials):
            value = d.data if isinstance(d, Value) else d
            assert f == pytest.approx(value * g, rel=1e-12, abs=1e-14), (node._op, f, value * g)
        seen += node._op == op
    assert seen >= 1


def _softmax_hessian(*xs):
    m = max(xs)
    e = [math.exp(x - m) for x in xs]
    p = [v / sum(e) for v in e]
    return [[(p[i] if i == j else 0.0) - p[i] * p[j] for j in range(len(xs))] for i in range(len(xs))]


def _powv_hessian(a, b):
    la = math.log(a)
    mixed = a ** (b - 1) * (1 + b * la)
    return [[b * (b - 1) * a ** (b - 2), mixed], [mixed, a**b * la * la]]


pos = finite_floats(0.2, 4.0)
anyx = finite_floats(-3.0, 3.0)
offzero = anyx.filter(lambda x: abs(x) > 1e-3)
# name: (f on Values, hand-derived Hessian on floats, strategy of each input)
SECOND = {
    "+": (lambda a, b: a + b, lambda a, b: [[0, 0], [0, 0]], [anyx, anyx]),
    "-": (lambda a, b: a - b, lambda a, b: [[0, 0], [0, 0]], [anyx, anyx]),
    "*": (lambda a, b: a * b, lambda a, b: [[0, 1], [1, 0]], [anyx, anyx]),
    "/": (lambda a, b: a / b, lambda a, b: [[0, -1 / b**2], [-1 / b**2, 2 * a / b**3]], [anyx, pos]),
    "neg": (lambda a: -a, lambda a: [[0]], [anyx]),
    "** 3": (lambda a: a**3, lambda a: [[6 * a]], [anyx]),
    "** 0.5": (lambda a: a**0.5, lambda a: [[-0.25 * a**-1.5]], [pos]),
    "** -2": (lambda a: a**-2, lambda a: [[6 * a**-4]], [pos]),
    "**v": (lambda a, b: a**b, _powv_hessian, [pos, anyx]),
    "exp": (lambda a: a.exp(), lambda a: [[math.exp(a)]], [anyx]),
    "log": (lambda a: a.log(), lambda a: [[-1 / a**2]], [pos]),
    "tanh": (lambda a: a.tanh(), lambda a: [[-2 * math.tanh(a) * (1 - math.tanh(a) ** 2)]], [anyx]),
    "sigmoid": (
        lambda a: a.sigmoid(),
        lambda a: [[(s := 1 / (1 + math.exp(-a))) * (1 - s) * (1 - 2 * s)]],
        [anyx],
    ),
    "relu": (lambda a: a.relu(), lambda a: [[0]], [offzero]),
    "abs": (lambda a: a.abs(), lambda a: [[0]], [offzero]),
    "dot": (
        lambda w1, w2, x1, x2, b: Value.dot([w1, w2], [x1, x2], b),
        lambda *_: [[1 if {i, j} in ({0, 2}, {1, 3}) else 0 for j in range(5)] for i in range(5)],
        [anyx] * 5,
    ),
    "sum": (lambda a, b, c: Value.sum([a, b, c]), lambda *_: [[0] * 3] * 3, [anyx] * 3),
    "logsumexp": (lambda a, b, c: Value.logsumexp([a, b, c]), _softmax_hessian, [anyx] * 3),
}


def test_every_op_has_a_second_derivative_case():
    assert {name.split()[0] for name in SECOND} == set(BUILTIN_OPS)


@pytest.mark.parametrize("name", list(SECOND))
@PER_OP
@given(data=st.data())
def test_second_derivatives_match_hand_formulas_and_central_differences(name, data):
    f, hand, strategies = SECOND[name]
    point = [data.draw(s) for s in strategies]
    xs = [Value(x) for x in point]
    h = hessian(f(*xs), xs)
    expected = hand(*point)
    for row, want in zip(h, expected):
        assert row == pytest.approx(want, rel=1e-10, abs=1e-12)
    assert gradcheck(f, point, order=2, eps=1e-6, rtol=1e-5, atol=1e-6)


TANH_DERIVATIVES = [  # d^k/dx^k tanh(x) as polynomials in t = tanh(x), derived by hand: d/dx P(t) = P'(t) (1 - t^2)
    lambda t: 1 - t**2,
    lambda t: -2 * t + 2 * t**3,
    lambda t: -2 + 8 * t**2 - 6 * t**4,
    lambda t: 16 * t - 40 * t**3 + 24 * t**5,
    lambda t: 16 - 136 * t**2 + 240 * t**4 - 120 * t**6,
    lambda t: -272 * t + 1232 * t**3 - 1680 * t**5 + 720 * t**7,
]


@given(finite_floats(-4.0, 4.0))
def test_tanh_derivatives_up_to_order_6_match_the_closed_forms(x0):
    x = Value(x0)
    d = x.tanh()
    t = math.tanh(x0)
    for k, closed in enumerate(TANH_DERIVATIVES, start=1):
        (d,) = grad(d, [x], create_graph=True)
        assert d.data == pytest.approx(closed(t), rel=1e-9, abs=1e-9), f"order {k}"


def test_tanh_sixth_derivative_at_a_known_point():
    x = Value(0.5)
    d = x.tanh()
    for _ in range(6):
        (d,) = grad(d, [x], create_graph=True)
    t = math.tanh(0.5)
    assert d.data == pytest.approx(-272 * t + 1232 * t**3 - 1680 * t**5 + 720 * t**7, rel=1e-12)
